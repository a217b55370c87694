package connectors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/pii"
)

// Settings are a connector type's own fields of a source entry: a pointer
// to a struct whose yaml tags name the fields (the sources file's entry
// holds them beside Source's common fields; any other field is refused).
type Settings interface {
	// Check applies the type's defaults and validates the settings;
	// getenv resolves the variables the *_env fields name. It returns
	// every problem (errors.Join), each without the source's name.
	Check(getenv func(string) string) error
}

// CrossChecker is implemented by settings that name other sources of the
// configuration (a CSV export that backfills an Open311 source).
type CrossChecker interface {
	CheckAgainst(sources []Source) error
}

// Deps are what every connector the hub builds shares: the personal-data
// keys, the region layer records are placed on, the address directory
// (placement by address; nil for none), the time normalisers, the clock of
// provenance (nil: time.Now) and the log.
type Deps struct {
	Keys      *pii.Keys
	Layer     *places.Layer
	Addresses *address.Directory
	Times     normalize.Times
	Now       func() time.Time
	Log       *slog.Logger
}

// Builder builds the connector of a source whose settings are S. A
// connector that holds resources (a database pool) implements io.Closer.
type Builder[S Settings] func(ctx context.Context, src Source, settings S, deps Deps) (Connector, error)

// spec is a registered connector type.
type spec struct {
	typ         string
	newSettings func() Settings
	build       func(ctx context.Context, src Source, deps Deps) (Connector, error)
}

// registry holds the connector types, keyed by type name. It is written
// only by the init functions of the connector packages (Register), like
// database/sql's drivers, and read afterwards.
var registry = map[string]spec{}

// Register makes a connector type available to sources files: typ is the
// `type:` that selects it, *S its settings (decoded from the source's own
// fields, then checked) and build its constructor. A connector package
// calls it from its init function, so that importing the package is all a
// build needs to know the type. Registering a type twice panics.
func Register[S any, P interface {
	*S
	Settings
}](typ string, build Builder[P]) {
	if _, dup := registry[typ]; dup || typ == "" || build == nil {
		panic(fmt.Sprintf("connectors: Register %q twice, without a name or without a builder", typ))
	}
	registry[typ] = spec{
		typ:         typ,
		newSettings: func() Settings { return P(new(S)) },
		build: func(ctx context.Context, src Source, deps Deps) (Connector, error) {
			s, ok := src.Settings.(P)
			if !ok {
				return nil, fmt.Errorf("source %s: settings of type %T are not a %s source's", src.Name, src.Settings, typ)
			}
			return build(ctx, src, s, deps)
		},
	}
}

func lookup(typ string) (spec, bool) {
	s, ok := registry[typ]
	return s, ok
}

// Types lists the registered connector types.
func Types() []string {
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// New builds the connector of a checked source (Config.Check) with the
// constructor of its type.
func New(ctx context.Context, src Source, deps Deps) (Connector, error) {
	sp, ok := lookup(src.Type)
	if !ok {
		return nil, fmt.Errorf("source %s: connector type %q is not available in this build (available: %v)", src.Name, src.Type, Types())
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	return sp.build(ctx, src, deps)
}

// NewAll builds the connectors of every source of c, in order. close
// releases what they hold (Close of those that are io.Closers); on an
// error nothing is left open.
func NewAll(ctx context.Context, c *Config, deps Deps) (list []Connector, close func(), err error) {
	close = func() {
		for _, x := range slices.Backward(list) {
			if cl, ok := x.(io.Closer); ok {
				cl.Close()
			}
		}
	}
	for _, s := range c.Sources {
		x, err := New(ctx, s, deps)
		if err != nil {
			close()
			return nil, func() {}, err
		}
		list = append(list, x)
	}
	return list, close, nil
}
