package connectors

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ywtg/hub/canon"
)

// Config is the sources configuration (HUB_SOURCES): which source systems
// the hub pulls, how to reach them and how often. Secrets are never inline:
// a field ending in _env names the environment variable that holds it.
type Config struct {
	Sources []SourceConfig `yaml:"sources"`
}

// SourceConfig configures one source.
type SourceConfig struct {
	// Name is the hub's name of the source (party, governance, citymgmt…).
	Name string `yaml:"name"`
	// Type selects the connector: party (legacy party-building PostgreSQL),
	// governance (grid-governance REST API), open311 (GeoReport v2),
	// csvdrop (directory of GBK CSV exports).
	Type string `yaml:"type"`
	// Description is shown in Query.sources.
	Description string `yaml:"description"`
	// Interval between incremental passes, e.g. 15s, 5m.
	Interval Duration `yaml:"interval"`
	// Endpoint is the base URL of an HTTP source.
	Endpoint string `yaml:"endpoint"`
	// DSNEnv names the variable holding the database URL of an SQL source.
	DSNEnv string `yaml:"dsn_env"`
	// ClientID and ClientSecretEnv are the credentials of a token API.
	ClientID        string `yaml:"client_id"`
	ClientSecretEnv string `yaml:"client_secret_env"`
	// Datum the source publishes coordinates in: WGS84, GCJ02 or BD09.
	Datum canon.Datum `yaml:"datum"`
	// Format of an Open311 endpoint: json, xml or auto (default json; auto
	// asks services.json once and falls back to XML, the spec's mandatory
	// format).
	Format string `yaml:"format"`
	// Paging of an Open311 endpoint: extension (the updated_after/after_id
	// extension), window (start_date/end_date windows, for any GeoReport v2
	// endpoint) or auto (default: probe once whether updated_after is
	// honoured).
	Paging string `yaml:"paging"`
	// Overlap re-read by window paging once caught up (default 24h).
	Overlap Duration `yaml:"overlap"`
	// Dir is the directory of a file-drop source.
	Dir string `yaml:"dir"`
	// Backfills, on a csvdrop source, names the open311 source of the same
	// system: the export's cases fill in that source's history and never
	// overwrite what it delivered. Unset: the export is a source of its own.
	Backfills string `yaml:"backfills"`
	// RateLimit caps requests per second to an HTTP source (default 10).
	RateLimit float64 `yaml:"rate_limit"`
	// Timeout bounds one request (default 30s).
	Timeout Duration `yaml:"timeout"`
	// Optional sources do not hold the hub's readiness: /readyz waits
	// for every other source's first sync and reports them while DOWN or
	// re-pulled after a reset, but not this one. Default false: required.
	Optional bool `yaml:"optional"`
}

// Duration is a time.Duration written as "15s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 15s or 5m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Types lists the connector types a configuration may name.
var Types = []string{"party", "governance", "open311", "csvdrop"}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// LoadConfig reads and validates a sources file. getenv resolves the *_env
// references, which must be set.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sources config: %w", err)
	}
	return ParseConfig(raw, getenv)
}

// ParseConfig parses and validates a sources configuration, reporting
// every problem at once.
func ParseConfig(raw []byte, getenv func(string) string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("sources config: %w", err)
	}
	var errs []error
	bad := func(i int, s SourceConfig, format string, args ...any) {
		errs = append(errs, fmt.Errorf("source %d (%s): %s", i+1, s.Name, fmt.Sprintf(format, args...)))
	}
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("no sources configured"))
	}
	seen := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		if !validName.MatchString(s.Name) {
			bad(i, *s, "name must be lower-case letters, digits, - or _")
		}
		if seen[s.Name] {
			bad(i, *s, "name used twice")
		}
		seen[s.Name] = true
		if s.Interval == 0 {
			s.Interval = Duration(15 * time.Second)
		}
		if time.Duration(s.Interval) < time.Second {
			bad(i, *s, "interval must be at least 1s")
		}
		if s.Timeout == 0 {
			s.Timeout = Duration(30 * time.Second)
		}
		if s.RateLimit == 0 {
			s.RateLimit = 10
		}
		if s.RateLimit < 0 {
			bad(i, *s, "rate_limit must be positive")
		}
		needEnv := func(field, name string) {
			if name == "" {
				bad(i, *s, "%s is required", field)
			} else if getenv(name) == "" {
				bad(i, *s, "%s names %s, which is not set", field, name)
			}
		}
		switch s.Type {
		case "party":
			needEnv("dsn_env", s.DSNEnv)
			if s.Datum == "" {
				s.Datum = canon.BD09
			}
		case "governance":
			if s.Endpoint == "" || s.ClientID == "" {
				bad(i, *s, "endpoint and client_id are required")
			}
			needEnv("client_secret_env", s.ClientSecretEnv)
			if s.Datum == "" {
				s.Datum = canon.BD09
			}
		case "open311":
			if s.Endpoint == "" {
				bad(i, *s, "endpoint is required")
			}
			if s.Format == "" {
				s.Format = "json"
			}
			if s.Format != "json" && s.Format != "xml" && s.Format != "auto" {
				bad(i, *s, "format must be json, xml or auto")
			}
			if s.Paging == "" {
				s.Paging = "auto"
			}
			if s.Paging != "auto" && s.Paging != "extension" && s.Paging != "window" {
				bad(i, *s, "paging must be auto, extension or window")
			}
			if s.Overlap < 0 {
				bad(i, *s, "overlap must not be negative")
			}
			if s.Datum == "" {
				s.Datum = canon.GCJ02
			}
		case "csvdrop":
			if s.Dir == "" {
				bad(i, *s, "dir is required")
			}
			if s.Datum == "" {
				s.Datum = canon.GCJ02
			}
		default:
			bad(i, *s, "type %q is not one of %v", s.Type, Types)
		}
		switch s.Datum {
		case canon.WGS84, canon.GCJ02, canon.BD09:
		default:
			bad(i, *s, "datum %q is not WGS84, GCJ02 or BD09", s.Datum)
		}
		if s.Backfills != "" && s.Type != "csvdrop" {
			bad(i, *s, "backfills applies to csvdrop sources only")
		}
	}
	types := map[string]string{}
	for _, s := range c.Sources {
		types[s.Name] = s.Type
	}
	for i, s := range c.Sources {
		if s.Backfills != "" && s.Type == "csvdrop" && types[s.Backfills] != "open311" {
			bad(i, s, "backfills names %q, which is not an open311 source of this configuration", s.Backfills)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}
