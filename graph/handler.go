package graph

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/graph/generated"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
)

// Config tunes the GraphQL handler.
type Config struct {
	Store    *store.Store
	Log      *slog.Logger
	Registry prometheus.Registerer // operation metrics; nil for none
	Limits   *Limits               // nil for DefaultLimits
	PII      *pii.Keys             // for audited unmasking; nil disables it
	// RequestID names the request in audit entries; nil for none.
	RequestID func(context.Context) string
	// Trusted, when set, is the only operations non-admins may run.
	Trusted TrustedDocuments
	// IntrospectionRoles may introspect the schema; nil for every role.
	IntrospectionRoles []auth.Role
	// Addresses serves Query.standardizeAddress; nil builds one over Store
	// that looks for reference changes once a minute.
	Addresses *address.Directory
	// ScorePresets are the composite scores of Indicators.score by name;
	// nil serves the shipped ones (store.ScorePresets).
	ScorePresets map[string]store.ScorePreset
	// Feed drives the subscriptions; nil: subscriptions are refused.
	Feed *Feed
	// Persons resolves persons again after an analyst's decision: the
	// hub's resolver, which holds the resolution between runs; nil
	// resolves every record once per decision.
	Persons *resolve.PersonResolver
	// Incidents regroups incidents after an analyst's decision on two
	// cases: the hub's regrouper, which holds the recent cases between
	// runs. Nil: resolve.RegroupIncidents.
	Incidents *resolve.IncidentRegrouper
	// Resolving tells whether this process resolves now (of the hub's
	// replicas, the one holding the resolution lease). Where it does not,
	// Persons and Incidents hold nothing current: a decision on two person
	// records is stored and applied by the replica that resolves, after
	// its next sync pass; one on two cases regroups their incidents at
	// once without Incidents (resolve.RegroupIncidents). Nil: this
	// process always resolves.
	Resolving func(ctx context.Context) bool
	// Authenticate finds the principal of an Authorization value, for the
	// websocket's connection_init and its re-checks; nil: websockets keep
	// the principal of their upgrade request.
	Authenticate func(ctx context.Context, authorization string) (*auth.Principal, error)
	// Cache keeps query answers until the data changes; its zero value (no
	// Changes) disables it.
	Cache CacheConfig
	// Changes, when set, lets the reference tables (the categories, the
	// region layer) be held in memory across requests, read again after a
	// change to them; nil: each request reads them (Cache.Changes stands
	// in when set).
	Changes *store.Changes
	// LoaderWait is how long a request's loaders collect keys before they
	// run a batch; 0 for DefaultLoaderWait.
	LoaderWait time.Duration
}

// NewHandler returns the /graphql handler: GET and POST, websocket
// subscriptions (graphql-transport-ws), introspection, a parsed-query cache,
// consistent error codes, and per-request dataloaders.
func NewHandler(c Config) (http.Handler, error) {
	if c.Addresses == nil {
		c.Addresses = address.NewDirectory(c.Store, time.Minute, c.Log)
	}
	if c.Changes == nil {
		c.Changes = c.Cache.Changes
	}
	res := &Resolver{Store: c.Store, Log: c.Log, PII: c.PII, Addresses: c.Addresses, persons: c.Persons, incidents: c.Incidents, resolving: c.Resolving, feed: c.Feed, ScorePresets: c.ScorePresets,
		categoryTable: &categoryTable{changes: c.Changes}, regions: c.Store.NewRegionDirectory(c.Changes), loaderWait: c.LoaderWait}
	limits := DefaultLimits
	if c.Limits != nil {
		limits = *c.Limits
	}
	es := generated.NewExecutableSchema(generated.Config{Resolvers: res})
	acc, err := newAccess(es.Schema())
	if err != nil {
		return nil, err
	}
	res.access = acc
	srv := handler.New(costedSchema{es})
	srv.AddTransport(wsTransport{
		init: websocketInit(c.Authenticate), initTimeout: 15 * time.Second, ping: 15 * time.Second,
		operation: func(ctx context.Context) context.Context {
			return context.WithValue(ctx, loadersKey{}, res.newLoaders())
		},
		legacy: transport.Websocket{KeepAlivePingInterval: 15 * time.Second, InitFunc: websocketInit(c.Authenticate)},
		log:    cmp.Or(c.Log, slog.New(slog.DiscardHandler)),
	})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(post{})
	parsed := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(parsed)
	srv.Use(extension.Introspection{})
	srv.Use(&policy{trusted: c.Trusted, introspection: c.IntrospectionRoles})
	srv.Use(persistedQueries{extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)}})
	srv.Use(&limiter{limits: limits, parsed: parsed})
	srv.Use(&auditor{store: c.Store, requestID: c.RequestID})
	srv.Use(acc)
	srv.Use(streamErrors{})
	srv.SetErrorPresenter(errorPresenter(c.Log))
	srv.SetRecoverFunc(recoverFunc(c.Log))
	if c.Registry != nil {
		m, err := newMetrics(c.Registry)
		if err != nil {
			return nil, err
		}
		srv.Use(m)
	}
	if c.Cache.Changes != nil {
		rc, err := newResponseCache(c.Cache, c.Registry)
		if err != nil {
			return nil, err
		}
		srv.Use(rc)
	}
	return withUpgradeCredentials(graphqlOverHTTP(withScope(withLoaders(res, srv)))), nil
}
