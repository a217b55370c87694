package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/store"
)

// CacheConfig tunes the response cache: the data document of a query is
// kept and served again to callers with the same access, for the same
// document and variables, until the data changes (any committed write, seen
// through the database's notifications on every replica) or TTL passes.
// TTL bounds what depends on the clock rather than on the data (whether an
// open case is overdue now).
type CacheConfig struct {
	Changes  *store.Changes // nil disables the cache
	MaxBytes int64          // total size of the kept documents; 0: 64 MiB
	TTL      time.Duration  // 0: 5s
}

// DefaultCacheBytes and DefaultCacheTTL are the cache's defaults.
const (
	DefaultCacheBytes = 64 << 20
	DefaultCacheTTL   = 5 * time.Second
)

// maxCachedDocument is the largest data document the cache keeps; larger
// answers are rare (a page of 500 with deep selections) and would crowd
// out the many small ones.
const maxCachedDocument = 4 << 20

// responseCache is the gqlgen extension serving cached answers. It is the
// innermost response interceptor: limits, rate limits, the operation
// policy and metrics apply to every request, answered from the cache or not.
//
// An answer is kept only when it is a query's complete success (no errors,
// no extensions, nothing deferred), nothing in it was unmasked (the audit
// log must see every unmasked read) and none of its fields depends on the
// moment (see markVolatile). Identical queries arriving together run once;
// a caller waiting on an answer that could not be kept runs its own.
type responseCache struct {
	changes *store.Changes
	cache   *otter.Cache[string, json.RawMessage]
	served  *prometheus.CounterVec // by result: hit, miss, bypass
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = (*responseCache)(nil)

func newResponseCache(c CacheConfig, reg prometheus.Registerer) (*responseCache, error) {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultCacheBytes
	}
	if c.TTL <= 0 {
		c.TTL = DefaultCacheTTL
	}
	cache, err := otter.New(&otter.Options[string, json.RawMessage]{
		MaximumWeight:    uint64(c.MaxBytes),
		Weigher:          func(k string, v json.RawMessage) uint32 { return uint32(len(k) + len(v)) },
		ExpiryCalculator: otter.ExpiryCreating[string, json.RawMessage](c.TTL),
	})
	if err != nil {
		return nil, err
	}
	served := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hub_graphql_response_cache_total",
		Help: "GraphQL queries by how the response cache answered them: hit (a kept answer), miss (executed and kept), bypass (executed, not cacheable).",
	}, []string{"result"})
	if reg != nil {
		if err := reg.Register(served); err != nil {
			return nil, err
		}
	}
	return &responseCache{changes: c.Changes, cache: cache, served: served}, nil
}

func (c *responseCache) ExtensionName() string                   { return "ResponseCache" }
func (c *responseCache) Validate(graphql.ExecutableSchema) error { return nil }

// errNotKept tells the callers waiting on a load that its answer was not
// kept.
var errNotKept = errors.New("response not cacheable")

// InterceptOperation gives each operation the state its response handler
// needs across calls: a transport calls it until it returns nil (once over
// HTTP, once per part of a deferred answer, until the end over a
// websocket).
func (c *responseCache) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, cacheTurnKey{}, &cacheTurn{}))
}

// cacheTurn is where an operation is in its response stream. The calls of
// one operation's response handler come one after another.
type cacheTurn struct {
	asked  bool // the cache was asked for this operation
	served bool // and answered it: the stream ends there
}

type cacheTurnKey struct{}

func (c *responseCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx) // a request refused before it had an operation
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return next(ctx)
	}
	// An operation asks the cache once. A kept answer is its whole
	// response; after an executed one, the executor's own stream goes on
	// (its end, or the later parts of a deferred answer).
	if turn, ok := ctx.Value(cacheTurnKey{}).(*cacheTurn); ok {
		if turn.served {
			return nil
		}
		if turn.asked {
			return next(ctx)
		}
		turn.asked = true
		resp, hit := c.respond(ctx, oc, next)
		turn.served = hit
		return resp
	}
	resp, _ := c.respond(ctx, oc, next)
	return resp
}

// respond answers an operation from the cache or by running it, and says
// whether the answer came from the cache.
func (c *responseCache) respond(ctx context.Context, oc *graphql.OperationContext, next graphql.ResponseHandler) (*graphql.Response, bool) {
	gen, known := c.changes.Current()
	// Deferred answers come in parts and are never kept (keepable); an
	// operation that defers is answered whole by the HTTP transports.
	if !known || oc.Operation.Operation != ast.Query {
		c.served.WithLabelValues("bypass").Inc()
		return next(ctx), false
	}
	key, err := cacheKey(ctx, oc, gen)
	if err != nil {
		c.served.WithLabelValues("bypass").Inc()
		return next(ctx), false
	}
	var own *graphql.Response
	data, err := c.cache.Get(ctx, key, otter.LoaderFunc[string, json.RawMessage](func(context.Context, string) (json.RawMessage, error) {
		probe := &cacheProbe{}
		own = next(context.WithValue(ctx, cacheProbeKey{}, probe))
		if !keepable(own) || probe.volatile.Load() || len(own.Data) > maxCachedDocument {
			return nil, errNotKept
		}
		// The answer is the one of generation gen, the generation every
		// request waiting on this run began in: they take it even when a
		// change committed meanwhile (it may or may not be in the answer,
		// as it might in a run of their own). It is kept under gen only,
		// which no request beginning after the change was heard asks for.
		// Without the change notifications, nothing is kept.
		if _, ok := c.changes.Current(); !ok {
			return nil, errNotKept
		}
		return own.Data, nil
	}))
	switch {
	case own != nil && err == nil:
		c.served.WithLabelValues("miss").Inc()
		return own, false
	case own != nil:
		c.served.WithLabelValues("bypass").Inc()
		return own, false
	case err == nil:
		c.served.WithLabelValues("hit").Inc()
		return &graphql.Response{Data: data}, true
	default:
		// Another request's run of the same query could not be shared.
		c.served.WithLabelValues("bypass").Inc()
		return next(ctx), false
	}
}

// keepable reports whether a response is a complete success.
func keepable(r *graphql.Response) bool {
	return r != nil && len(r.Data) > 0 && len(r.Errors) == 0 && len(r.Extensions) == 0 &&
		r.HasNext == nil && r.Label == "" && r.Path == nil
}

// cacheKey names an answer: the data generation, what the caller may see
// (role, jurisdiction and scopes; two callers alike in these are answered
// alike), and the operation with its variables.
func cacheKey(ctx context.Context, oc *graphql.OperationContext, gen uint64) (string, error) {
	vars, err := json.Marshal(oc.Variables) // maps encode with sorted keys
	if err != nil {
		return "", err
	}
	h := sha256.New()
	var b [8]byte
	for i := range b {
		b[i] = byte(gen >> (8 * i))
	}
	h.Write(b[:])
	if p := auth.From(ctx); p != nil {
		scopes := slices.Clone(p.Scopes)
		slices.Sort(scopes)
		h.Write([]byte("principal\x00" + string(p.Role) + "\x00" + p.RegionCode + "\x00" + strings.Join(scopes, ",") + "\x00"))
	} else {
		h.Write([]byte("in-process\x00"))
	}
	h.Write([]byte(oc.OperationName + "\x00"))
	h.Write([]byte(oc.RawQuery))
	h.Write([]byte{0})
	h.Write(vars)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// cacheProbe is what the resolvers of one execution tell the cache.
type cacheProbe struct{ volatile atomic.Bool }

type cacheProbeKey struct{}

// markVolatile keeps the answer of the running query out of the response
// cache: a field whose value depends on the moment (a lag), or on a read
// that must be audited each time it happens.
func markVolatile(ctx context.Context) {
	if p, ok := ctx.Value(cacheProbeKey{}).(*cacheProbe); ok {
		p.volatile.Store(true)
	}
}
