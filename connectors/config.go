package connectors

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ywtg/hub/canon"
)

// Config is the sources configuration (HUB_SOURCES): which source systems
// the hub pulls, how to reach them and how often. Secrets are never inline:
// a field ending in _env names the environment variable that holds it.
type Config struct {
	Sources []Source
}

// Source configures one source: the fields every source has, and the
// settings of its connector type.
type Source struct {
	// Name is the hub's name of the source (party, governance, citymgmt…).
	Name string `yaml:"name"`
	// Type selects the connector: a type registered with Register (the
	// hub's are party, governance, open311 and csvdrop).
	Type string `yaml:"type"`
	// Description is shown in Query.sources.
	Description string `yaml:"description"`
	// Interval between incremental passes, e.g. 15s, 5m (default 15s).
	Interval Duration `yaml:"interval"`
	// Optional sources do not hold the hub's readiness: /readyz waits
	// for every other source's first sync and reports them while DOWN or
	// re-pulled after a reset, but not this one. Default false: required.
	Optional bool `yaml:"optional"`
	// Settings are the fields of the source's connector type, decoded into
	// the type's own settings, defaulted and checked.
	Settings Settings `yaml:"-"`
}

// commonFields are the YAML keys of Source; every other key of a source's
// entry belongs to its connector type's settings.
var commonFields = []string{"name", "type", "description", "interval", "optional"}

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

// MarshalYAML writes the duration as "15s".
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

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
// every problem at once. Each source's entry holds the common fields of
// Source and the fields of its type's settings; a field that is neither is
// refused, naming the source.
func ParseConfig(raw []byte, getenv func(string) string) (*Config, error) {
	var doc struct {
		Sources []yaml.Node `yaml:"sources"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("sources config: %w", err)
	}
	var errs []error
	c := &Config{Sources: make([]Source, len(doc.Sources))}
	failed := map[int]bool{}
	for i := range doc.Sources {
		if ok, err := decodeSource(&doc.Sources[i], &c.Sources[i]); err != nil {
			failed[i] = !ok
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("source %d (%s): %w", i+1, c.Sources[i].Name, e))
			}
		}
	}
	// The sources that decoded are checked too: every problem at once.
	if err := c.check(getenv, failed); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// decodeSource decodes one entry: the common fields into s, the rest into
// a new settings value of s.Type, refusing fields the type does not have.
// checkable reports that s can be checked nonetheless (only unknown fields
// were refused).
func decodeSource(n *yaml.Node, s *Source) (checkable bool, err error) {
	if n.Kind != yaml.MappingNode {
		return false, fmt.Errorf("line %d: a source is a mapping of fields (name, type, …)", n.Line)
	}
	common := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	own := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		dst := own
		if slices.Contains(commonFields, n.Content[i].Value) {
			dst = common
		}
		dst.Content = append(dst.Content, n.Content[i], n.Content[i+1])
	}
	if err := common.Decode(s); err != nil {
		return false, err
	}
	spec, ok := lookup(s.Type)
	if !ok {
		return false, fmt.Errorf("type %q is not one of %v", s.Type, Types())
	}
	s.Settings = spec.newSettings()
	known := yamlFields(s.Settings)
	var errs []error
	valid := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	for i := 0; i < len(own.Content); i += 2 {
		if k := own.Content[i]; slices.Contains(known, k.Value) {
			valid.Content = append(valid.Content, k, own.Content[i+1])
		} else {
			errs = append(errs, fmt.Errorf("line %d: field %s is not a setting of %s sources (their fields: %s)",
				k.Line, k.Value, s.Type, strings.Join(append(slices.Clone(commonFields), known...), ", ")))
		}
	}
	if err := valid.Decode(s.Settings); err != nil {
		return false, err
	}
	// The known fields decoded: the settings can still be checked.
	return true, errors.Join(errs...)
}

// yamlFields lists the YAML keys of a settings struct (pointer to struct).
func yamlFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	if t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		out = append(out, name)
	}
	return out
}

// checkNames checks the names: valid, and each used once.
func checkNames(sources []Source) []error {
	errs := make([]error, len(sources))
	seen := map[string]bool{}
	for i, s := range sources {
		switch {
		case !validName.MatchString(s.Name):
			errs[i] = errors.New("name must be lower-case letters, digits, - or _")
		case seen[s.Name]:
			errs[i] = errors.New("name used twice")
		}
		seen[s.Name] = true
	}
	return errs
}

// Check applies the defaults and validates a configuration, its sources'
// settings and what they say of each other (a backfilled source must
// exist); getenv resolves the *_env references. The hub's demo sources,
// built in code, pass the same check as a file. Every problem is reported.
func (c *Config) Check(getenv func(string) string) error { return c.check(getenv, nil) }

// check is Check of the sources not in skip (those that did not decode).
func (c *Config) check(getenv func(string) string, skip map[int]bool) error {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var errs []error
	bad := func(i int, err error) {
		errs = append(errs, fmt.Errorf("source %d (%s): %w", i+1, c.Sources[i].Name, err))
	}
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("no sources configured"))
	}
	for i, err := range checkNames(c.Sources) {
		if err != nil {
			bad(i, err)
		}
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if skip[i] {
			continue
		}
		if s.Interval == 0 {
			s.Interval = Duration(15 * time.Second)
		}
		if time.Duration(s.Interval) < time.Second {
			bad(i, errors.New("interval must be at least 1s"))
		}
		spec, ok := lookup(s.Type)
		switch {
		case !ok:
			bad(i, fmt.Errorf("type %q is not one of %v", s.Type, Types()))
			continue
		case s.Settings == nil:
			s.Settings = spec.newSettings()
		case reflect.TypeOf(s.Settings) != reflect.TypeOf(spec.newSettings()):
			bad(i, fmt.Errorf("settings of type %T are not a %s source's", s.Settings, s.Type))
			continue
		}
		if err := s.Settings.Check(getenv); err != nil {
			for _, e := range unjoin(err) {
				bad(i, e)
			}
		}
	}
	for i, s := range c.Sources {
		if x, ok := s.Settings.(CrossChecker); ok && !skip[i] {
			if err := x.CheckAgainst(c.Sources); err != nil {
				bad(i, err)
			}
		}
	}
	return errors.Join(errs...)
}

// unjoin splits an errors.Join into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Source returns the source of the given name, or false.
func (c *Config) Source(name string) (Source, bool) {
	for _, s := range c.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// CheckDatum is the check every connector type applies to its datum
// setting: empty takes def, else one of WGS84, GCJ02 and BD09.
func CheckDatum(d *canon.Datum, def canon.Datum) error {
	if *d == "" {
		*d = def
	}
	switch *d {
	case canon.WGS84, canon.GCJ02, canon.BD09:
		return nil
	}
	return fmt.Errorf("datum %q is not WGS84, GCJ02 or BD09", *d)
}

// Secret resolves a secret a source names by variable: value when already
// set (sources built in code), else the variable env names, which must be
// set.
func Secret(field, env string, value *string, getenv func(string) string) error {
	if *value != "" {
		return nil
	}
	if env == "" {
		return fmt.Errorf("%s is required", field)
	}
	if *value = getenv(env); *value == "" {
		return fmt.Errorf("%s names %s, which is not set", field, env)
	}
	return nil
}
