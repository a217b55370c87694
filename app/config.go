// Package app builds the hub from its typed configuration: the store, the
// sources and their connectors (the demo systems' in demo mode), the sync
// engine, the incident regrouping, the GraphQL handler and the HTTP server.
// Package main keeps the command line (commands, flags, help) and calls it;
// benchmarks and tests import it to run what the hub runs.
//
// Every environment variable is read here, into Config (LoadConfig); the
// only other variables the hub reads are those a sources file names for
// its secrets (*_env), resolved when the file is checked (Prepare).
package app

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
)

// EnvVar documents one environment variable; the table drives --help.
type EnvVar struct {
	Name, Default, Help string
}

// EnvVars are the hub's variables, in the order --help lists them.
var EnvVars = []EnvVar{
	{"DATABASE_URL", "", "PostgreSQL URL of the hub store. Unset: an embedded PostgreSQL in $HUB_DATA_DIR/pg."},
	{"HUB_ADDR", "127.0.0.1:8080", "Listen address of the HTTP server (port 0 picks a free port)."},
	{"HUB_DATA_DIR", "./.hub", "Embedded PostgreSQL data and other local state."},
	{"HUB_SOURCES", "", "Path to the sources configuration (YAML). Unset: the built-in demo sources."},
	{"HUB_REGIONS", "", "Path to the region and grid layer (GeoJSON FeatureCollection, WGS-84), loaded at start. Unset: the demo city's layer in demo mode, else none."},
	{"HUB_SYNC_INTERVAL", "15s", "Pause between incremental passes of each demo source (configured sources set their own interval)."},
	{"HUB_DEMO_LIVE_RATE", "3", "Live changes per second made by the demo source systems; 0 for none."},
	{"HUB_DEMO_SCALE", "small", "Size of the demo city: small, medium or city."},
	{"HUB_SEED", "1", "Seed of the demo city; same seed, same data."},
	{"HUB_LOG_LEVEL", "info", "Log level: debug, info, warn or error. Logs are JSON lines on stderr."},
	{"HUB_MAX_BODY_BYTES", "1048576", "Largest accepted GraphQL request body, in bytes."},
	{"HUB_SHUTDOWN_TIMEOUT", "20s", "How long a graceful shutdown waits for in-flight requests."},
	{"HUB_PII_KEY", "", "Master key (hex, 32+ bytes) for hashing and sealing personal data; required with HUB_SOURCES. Demo mode generates one in HUB_DATA_DIR."},
	{"HUB_JWT_SECRET", "", "Secret (32+ characters) to accept HS256 bearer JWTs; claims sub, role, region, scope. Never logged."},
	{"HUB_JWKS_FILE", "", "Path to a JSON Web Key Set to accept RS256/ES256 bearer JWTs."},
	{"HUB_TRUSTED_DOCUMENTS", "off", "off, or only: then non-admin principals may run only the operations in HUB_TRUSTED_DOCUMENTS_DIR."},
	{"HUB_TRUSTED_DOCUMENTS_DIR", "", "Directory of registered operations (*.graphql), identified by the SHA-256 of their text."},
	{"HUB_INTROSPECTION_ROLES", "", "Comma-separated roles that may introspect the schema; empty for every role."},
	{"HUB_ANONYMOUS_ROLE", "viewer in demo mode, else none", "Role of requests without credentials: admin, analyst, staff, partner, viewer or none (401)."},
	{"HUB_RATE_LIMIT", "50", "Requests per second per principal (token bucket, burst twice that); 0 disables."},
	{"HUB_MAX_DEPTH", "12", "Deepest selection nesting a GraphQL operation may have."},
	{"HUB_MAX_COMPLEXITY", "100000", "Highest estimated cost of a GraphQL operation (list fields multiply by their page size)."},
	{"HUB_MAX_ALIASES", "30", "Most aliased fields in one GraphQL operation."},
	{"HUB_MAX_ROOT_FIELDS", "30", "Most fields at the top of a GraphQL operation, fragments expanded."},
	{"HUB_MAX_FIELDS", "500", "Most fields of a GraphQL operation, fragments expanded (and of each fragment)."},
	{"HUB_MAX_INTROSPECTION_DEPTH", "20", "Deepest selection nesting under __schema and __type, counted from them (the standard introspection query needs 15)."},
	{"HUB_RESPONSE_CACHE_MB", "64", "Memory for kept query answers, served again until the data changes; 0 disables the cache."},
	{"HUB_RESPONSE_CACHE_TTL", "5s", "Longest a kept answer is served (bounds what depends on the clock, such as overdue)."},
	{"HUB_MAX_CONCURRENT_QUERIES", "4 × GOMAXPROCS", "GraphQL requests executed at once; more wait up to HUB_QUEUE_TIMEOUT, then get 503 OVERLOADED. The database pool gets this many connections plus 8 (at least 16); entity resolution has six of its own."},
	{"HUB_QUEUE_TIMEOUT", "100ms", "Longest a GraphQL request waits for an execution slot before 503 OVERLOADED with Retry-After."},
	{"HUB_QUERY_TIMEOUT", "10s", "Deadline of an admitted GraphQL request; also PostgreSQL's statement_timeout of the API's statements."},
	{"HUB_CHANGES_RETENTION", "30d", "How long the change log keeps a change (Query.changes, subscriptions); older cursors get CURSOR_EXPIRED. Days (30d) or a duration (720h)."},
	{"HUB_MAX_SUBSCRIPTIONS", "100", "Open subscriptions per principal."},
	{"HUB_SCORE_PRESETS", "", "Path to composite-score presets (JSON list of {name, description, terms: [{rate, weight, inverse}]}), served beside the shipped CITY_MGMT and GRID_GOV (Indicators.score)."},
}

// Config is the validated runtime configuration.
type Config struct {
	DatabaseURL     string
	Addr            string
	DataDir         string
	Sources         string
	Regions         string
	DemoScale       string
	Seed            int64
	LogLevel        slog.Level
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	SyncInterval    time.Duration
	DemoLiveRate    float64
	AnonymousRole   auth.Role
	RateLimit       float64
	MaxDepth        int
	MaxComplexity   int
	MaxAliases      int
	MaxRootFields   int
	MaxFields       int
	MaxIntroDepth   int
	CacheBytes      int64
	CacheTTL        time.Duration
	MaxConcurrent   int
	QueueTimeout    time.Duration
	QueryTimeout    time.Duration
	ChangesKeep     time.Duration
	MaxSubs         int
	ScorePresets    map[string]store.ScorePreset // nil: the shipped ones
	// PIIKey is HUB_PII_KEY's master key; nil when unset (demo mode
	// generates one, see PIIKeys).
	PIIKey []byte
	// JWTSecret (HUB_JWT_SECRET) and JWKSFile (HUB_JWKS_FILE) enable
	// bearer JWTs; both empty: none.
	JWTSecret string
	JWKSFile  string
	// TrustedOnly (HUB_TRUSTED_DOCUMENTS=only) lets non-admin principals
	// run only the operations in TrustedDir (HUB_TRUSTED_DOCUMENTS_DIR).
	TrustedOnly bool
	TrustedDir  string
	// IntrospectionRoles (HUB_INTROSPECTION_ROLES); empty: every role.
	IntrospectionRoles []auth.Role

	piiKeyGiven bool // HUB_PII_KEY set, valid or not
}

// LoadConfig reads and validates the environment; every problem is
// reported, not just the first, each starting with its variable's name.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, e := range EnvVars {
			if e.Name == name {
				return e.Default
			}
		}
		return ""
	}
	var errs []error
	c := Config{
		DatabaseURL: get("DATABASE_URL"),
		Addr:        get("HUB_ADDR"),
		DataDir:     get("HUB_DATA_DIR"),
		Sources:     get("HUB_SOURCES"),
		Regions:     get("HUB_REGIONS"),
		DemoScale:   get("HUB_DEMO_SCALE"),
	}
	if c.DatabaseURL != "" {
		// pgx's own parser: what it accepts is what the store will open.
		if _, err := pgx.ParseConfig(c.DatabaseURL); err != nil {
			errs = append(errs, errors.New("DATABASE_URL: not a usable postgres:// URL or key=value DSN (host, port, options)"))
		}
	}
	if err := CheckAddr(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("HUB_ADDR %q: %w", c.Addr, err))
	}
	switch c.DemoScale {
	case "small", "medium", "city":
	default:
		errs = append(errs, fmt.Errorf("HUB_DEMO_SCALE %q: want small, medium or city", c.DemoScale))
	}
	var err error
	if c.Seed, err = strconv.ParseInt(get("HUB_SEED"), 10, 64); err != nil {
		errs = append(errs, fmt.Errorf("HUB_SEED %q: want an integer", get("HUB_SEED")))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("HUB_LOG_LEVEL"))); err != nil {
		errs = append(errs, fmt.Errorf("HUB_LOG_LEVEL %q: want debug, info, warn or error", get("HUB_LOG_LEVEL")))
	}
	if c.MaxBodyBytes, err = strconv.ParseInt(get("HUB_MAX_BODY_BYTES"), 10, 64); err != nil || c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("HUB_MAX_BODY_BYTES %q: want an integer of at least 1024", get("HUB_MAX_BODY_BYTES")))
	}
	if c.DemoLiveRate, err = strconv.ParseFloat(get("HUB_DEMO_LIVE_RATE"), 64); err != nil || c.DemoLiveRate < 0 {
		errs = append(errs, fmt.Errorf("HUB_DEMO_LIVE_RATE %q: want changes per second, 0 for none", get("HUB_DEMO_LIVE_RATE")))
	}
	if c.SyncInterval, err = time.ParseDuration(get("HUB_SYNC_INTERVAL")); err != nil || c.SyncInterval < time.Second {
		errs = append(errs, fmt.Errorf("HUB_SYNC_INTERVAL %q: want a duration of at least 1s", get("HUB_SYNC_INTERVAL")))
	}
	if c.ShutdownTimeout, err = time.ParseDuration(get("HUB_SHUTDOWN_TIMEOUT")); err != nil || c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("HUB_SHUTDOWN_TIMEOUT %q: want a positive duration such as 20s", get("HUB_SHUTDOWN_TIMEOUT")))
	}
	positive := func(name string, dst *int) {
		n, err := strconv.Atoi(get(name))
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s %q: want a positive integer", name, get(name)))
		}
		*dst = n
	}
	anon := getenv("HUB_ANONYMOUS_ROLE")
	if strings.TrimSpace(anon) == "" {
		anon = string(auth.None)
		if c.Sources == "" {
			anon = string(auth.Viewer) // demo mode: the playground works out of the box
		}
	}
	if c.AnonymousRole, err = auth.ParseRole(anon); err != nil {
		errs = append(errs, fmt.Errorf("HUB_ANONYMOUS_ROLE: %w", err))
	} else if c.AnonymousRole != auth.None {
		// The anonymous principal passes auth.Validate like any other: a
		// role that needs a region (staff) cannot be anonymous.
		if err := auth.Validate(&auth.Principal{ID: "anonymous", Role: c.AnonymousRole}); err != nil {
			errs = append(errs, fmt.Errorf("HUB_ANONYMOUS_ROLE %s: %w", c.AnonymousRole, err))
		}
	}
	if c.RateLimit, err = strconv.ParseFloat(get("HUB_RATE_LIMIT"), 64); err != nil || c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("HUB_RATE_LIMIT %q: want a number of requests per second, 0 for none", get("HUB_RATE_LIMIT")))
	}
	positive("HUB_MAX_DEPTH", &c.MaxDepth)
	positive("HUB_MAX_COMPLEXITY", &c.MaxComplexity)
	positive("HUB_MAX_ALIASES", &c.MaxAliases)
	positive("HUB_MAX_ROOT_FIELDS", &c.MaxRootFields)
	positive("HUB_MAX_FIELDS", &c.MaxFields)
	positive("HUB_MAX_INTROSPECTION_DEPTH", &c.MaxIntroDepth)
	if mb, err := strconv.ParseInt(get("HUB_RESPONSE_CACHE_MB"), 10, 64); err != nil || mb < 0 || mb > 1<<20 {
		errs = append(errs, fmt.Errorf("HUB_RESPONSE_CACHE_MB %q: want megabytes, 0 to disable", get("HUB_RESPONSE_CACHE_MB")))
	} else {
		c.CacheBytes = mb << 20
	}
	if c.CacheTTL, err = time.ParseDuration(get("HUB_RESPONSE_CACHE_TTL")); err != nil || c.CacheTTL <= 0 {
		errs = append(errs, fmt.Errorf("HUB_RESPONSE_CACHE_TTL %q: want a positive duration such as 5s", get("HUB_RESPONSE_CACHE_TTL")))
	}
	if c.ChangesKeep, err = parseDays(get("HUB_CHANGES_RETENTION")); err != nil || c.ChangesKeep < time.Minute {
		errs = append(errs, fmt.Errorf("HUB_CHANGES_RETENTION %q: want days such as 30d or a duration of at least 1m such as 720h", get("HUB_CHANGES_RETENTION")))
	}
	if path := get("HUB_SCORE_PRESETS"); path != "" {
		if data, err := os.ReadFile(path); err != nil {
			errs = append(errs, fmt.Errorf("HUB_SCORE_PRESETS: %w", err))
		} else if c.ScorePresets, err = store.LoadScorePresets(data); err != nil {
			errs = append(errs, fmt.Errorf("HUB_SCORE_PRESETS %s: %w", path, err))
		}
	}
	if c.MaxSubs, err = strconv.Atoi(strings.TrimSpace(get("HUB_MAX_SUBSCRIPTIONS"))); err != nil || c.MaxSubs <= 0 || c.MaxSubs > 100000 {
		errs = append(errs, fmt.Errorf("HUB_MAX_SUBSCRIPTIONS %q: want a whole number from 1 to 100000", get("HUB_MAX_SUBSCRIPTIONS")))
	}
	c.MaxConcurrent = 4 * runtime.GOMAXPROCS(0)
	if v := strings.TrimSpace(getenv("HUB_MAX_CONCURRENT_QUERIES")); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n <= 0 || n > 10000 {
			errs = append(errs, fmt.Errorf("HUB_MAX_CONCURRENT_QUERIES %q: want a positive integer", v))
		} else {
			c.MaxConcurrent = n
		}
	}
	if c.QueueTimeout, err = time.ParseDuration(get("HUB_QUEUE_TIMEOUT")); err != nil || c.QueueTimeout < 0 {
		errs = append(errs, fmt.Errorf("HUB_QUEUE_TIMEOUT %q: want a duration such as 100ms, 0 to refuse at once", get("HUB_QUEUE_TIMEOUT")))
	}
	if c.QueryTimeout, err = time.ParseDuration(get("HUB_QUERY_TIMEOUT")); err != nil || c.QueryTimeout < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("HUB_QUERY_TIMEOUT %q: want a duration of at least 100ms", get("HUB_QUERY_TIMEOUT")))
	}
	if v := strings.TrimSpace(getenv("HUB_PII_KEY")); v != "" {
		c.piiKeyGiven = true
		if master, err := hex.DecodeString(v); err != nil {
			errs = append(errs, errors.New("HUB_PII_KEY: not hex (want 64 or more hex digits, e.g. from `openssl rand -hex 32`)"))
		} else if _, err := pii.NewKeys(master); err != nil {
			errs = append(errs, fmt.Errorf("HUB_PII_KEY: %w", err))
		} else {
			c.PIIKey = master
		}
	}
	c.JWTSecret, c.JWKSFile = getenv("HUB_JWT_SECRET"), strings.TrimSpace(getenv("HUB_JWKS_FILE"))
	switch mode := strings.TrimSpace(getenv("HUB_TRUSTED_DOCUMENTS")); mode {
	case "", "off":
	case "only":
		c.TrustedOnly, c.TrustedDir = true, strings.TrimSpace(getenv("HUB_TRUSTED_DOCUMENTS_DIR"))
		if c.TrustedDir == "" {
			errs = append(errs, errors.New(`HUB_TRUSTED_DOCUMENTS "only" needs HUB_TRUSTED_DOCUMENTS_DIR`))
		}
	default:
		errs = append(errs, fmt.Errorf("HUB_TRUSTED_DOCUMENTS %q: want off or only", mode))
	}
	for _, r := range splitList(getenv("HUB_INTROSPECTION_ROLES")) {
		role, err := auth.ParseRole(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("HUB_INTROSPECTION_ROLES: %w", err))
			continue
		}
		c.IntrospectionRoles = append(c.IntrospectionRoles, role)
	}
	return c, errors.Join(errs...)
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// LogValue shows the configuration with secrets masked (the personal-data
// key and the JWT secret are never shown).
func (c Config) LogValue() slog.Value {
	db := "embedded"
	if c.DatabaseURL != "" {
		db = redactURL(c.DatabaseURL)
	}
	return slog.GroupValue(
		slog.String("database", db), slog.String("addr", c.Addr), slog.String("data_dir", c.DataDir),
		slog.String("sources", c.Sources), slog.String("demo_scale", c.DemoScale), slog.Int64("seed", c.Seed),
		slog.String("log_level", c.LogLevel.String()), slog.String("anonymous_role", string(c.AnonymousRole)),
		slog.Float64("rate_limit", c.RateLimit), slog.Int("max_concurrent_queries", c.MaxConcurrent),
		slog.Duration("queue_timeout", c.QueueTimeout), slog.Duration("query_timeout", c.QueryTimeout))
}

// redactURL hides the password of a database URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "(key=value DSN, not shown)"
	}
	return u.Redacted()
}

// parseDays reads a duration that may also be given in days ("30d").
func parseDays(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if d, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("invalid days %q", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}
