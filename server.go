// Command hub is the 一网统管 data hub: it pulls the city's siloed party
// building, grid governance and city management systems into one canonical
// PostgreSQL model and serves it as one GraphQL schema.
//
// server.go is the only place that knows every package: configuration,
// wiring, subcommands, the HTTP server and graceful shutdown.
package main

//go:generate go tool gqlgen generate
//go:generate go run ./graph/internal/execpatch graph/generated/generated.go

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/embedpg"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/partner"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/syncer"
	"github.com/ywtg/hub/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "hub:", err)
		stop()
		os.Exit(1)
	}
}

// database resolves the store's DSN: DATABASE_URL, or the embedded cluster.
// The returned stop function shuts the embedded cluster down (if owned).
func database(ctx context.Context, e *env) (string, func(), error) {
	if e.cfg.DatabaseURL != "" {
		return e.cfg.DatabaseURL, func() {}, nil
	}
	cluster, err := embedpg.Start(ctx, embedpg.Options{Dir: filepath.Join(e.cfg.DataDir, "pg"), Logger: e.log})
	if err != nil {
		return "", nil, err
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cluster.Stop(sctx); err != nil {
			e.log.Error("stop embedded postgres", "err", err)
		}
	}
	return cluster.DSN(), stop, nil
}

// operationPolicy applies HUB_TRUSTED_DOCUMENTS and HUB_INTROSPECTION_ROLES.
func operationPolicy(e *env, c *graph.Config) error {
	switch mode := e.getenv("HUB_TRUSTED_DOCUMENTS"); mode {
	case "", "off":
	case "only":
		dir := e.getenv("HUB_TRUSTED_DOCUMENTS_DIR")
		if dir == "" {
			return errors.New("HUB_TRUSTED_DOCUMENTS=only needs HUB_TRUSTED_DOCUMENTS_DIR")
		}
		docs, err := graph.LoadTrustedDocuments(dir)
		if err != nil {
			return err
		}
		c.Trusted = docs
	default:
		return fmt.Errorf("HUB_TRUSTED_DOCUMENTS %q: want off or only", mode)
	}
	for _, r := range splitList(e.getenv("HUB_INTROSPECTION_ROLES")) {
		role, err := auth.ParseRole(r)
		if err != nil {
			return fmt.Errorf("HUB_INTROSPECTION_ROLES: %w", err)
		}
		c.IntrospectionRoles = append(c.IntrospectionRoles, role)
	}
	return nil
}

// jwtVerifier builds the JWT verifier from HUB_JWT_SECRET and
// HUB_JWKS_FILE; nil when neither is set.
func jwtVerifier(e *env) (*auth.JWTVerifier, error) {
	secret := e.getenv("HUB_JWT_SECRET")
	path := e.getenv("HUB_JWKS_FILE")
	if secret == "" && path == "" {
		return nil, nil
	}
	o := auth.JWTOptions{Secret: []byte(secret), Leeway: 30 * time.Second}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("HUB_JWKS_FILE: %w", err)
		}
		o.JWKS = raw
	}
	return auth.NewJWTVerifier(o)
}

// poolSize is the database pool for HUB_MAX_CONCURRENT_QUERIES: a
// connection per admitted request, 8 for the sync engine (a source holds
// one for its lock and one for its batch) and the audit log, at least 16;
// or the URL's pool_max_conns when it sets one (0 here).
func poolSize(dsn string, maxConcurrent int) int32 {
	if strings.Contains(dsn, "pool_max_conns") {
		return 0
	}
	return int32(max(16, maxConcurrent+8))
}

// watchDatabase keeps /readyz at 503 while the database does not answer a
// ping (on a connection outside the pool, each second, 1 s at most); the
// returned function stops it.
func watchDatabase(ctx context.Context, st *store.Store, ready *web.Readiness, log *slog.Logger) (stop func()) {
	probe := st.NewProbe()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var down bool
	check := func(ctx context.Context) error {
		err := probe.Ping(ctx)
		switch {
		case err != nil && !down && ctx.Err() == nil:
			log.Error("database unreachable", "err", err)
		case err == nil && down:
			log.Info("database reachable again")
		}
		down = err != nil
		return err
	}
	go func() {
		defer close(done)
		web.WatchReadiness(ctx, ready, "database", "the database does not answer", time.Second, time.Second, check)
	}()
	return func() { cancel(); <-done; probe.Close() }
}

// keyLookup resolves API keys through the store.
func keyLookup(st *store.Store) auth.KeyLookup {
	return func(ctx context.Context, hash []byte) (*auth.Principal, error) {
		k, err := st.APIKeyByHash(ctx, hash)
		if err != nil {
			return nil, err
		}
		return &auth.Principal{ID: fmt.Sprintf("key:%d", k.ID), Name: k.Name, Role: auth.Role(k.Role),
			RegionCode: deref(k.RegionCode, ""), Scopes: k.Scopes}, nil
	}
}

// loadRegions reads the reference layer and stores it, parents first.
func loadRegions(ctx context.Context, st *store.Store, path string, log *slog.Logger) (*places.Layer, error) {
	layer, err := places.Load(path)
	if err != nil {
		return nil, err
	}
	if err := st.InTx(ctx, func(w *store.Writer) error { return w.UpsertRegions(ctx, layer.Regions()) }); err != nil {
		return nil, fmt.Errorf("store region layer: %w", err)
	}
	log.Info("region layer loaded", "path", path, "regions", len(layer.Regions()))
	return layer, nil
}

func migrateCmd(ctx context.Context, e *env, args []string) error {
	if _, err := e.flags("migrate", "apply database migrations and exit", args, nil); err != nil {
		return err
	}
	dsn, stopDB, err := database(ctx, e)
	if err != nil {
		return err
	}
	defer stopDB()
	st, err := store.Open(ctx, dsn, store.Options{Logger: e.log})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

func serve(ctx context.Context, e *env, args []string) error {
	if _, err := e.flags("serve", "run the hub: store, sources, GraphQL API", args, nil); err != nil {
		return err
	}
	// Everything the configuration names is checked, and the address
	// bound, before PostgreSQL or any source starts.
	pre, err := preflight(e, true)
	if err != nil {
		return err
	}
	e.pre = pre
	ln := pre.ln
	defer ln.Close()
	log := e.log
	log.Info("starting hub", "config", e.cfg)
	started := time.Now()
	ready := web.NewReadiness()
	ready.Block("store", "migrations not applied yet")

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	dsn, stopDB, err := database(ctx, e)
	if err != nil {
		return err
	}
	defer stopDB()
	st, err := store.Open(ctx, dsn, store.Options{Logger: log, Registry: reg,
		MaxConns: poolSize(dsn, e.cfg.MaxConcurrent), StatementTimeout: e.cfg.QueryTimeout})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	ready.Clear("store")
	defer watchDatabase(ctx, st, ready, log)()

	limits := graph.Limits{MaxDepth: e.cfg.MaxDepth, MaxIntrospectionDepth: e.cfg.MaxIntroDepth, MaxComplexity: e.cfg.MaxComplexity,
		MaxAliases: e.cfg.MaxAliases, MaxRootFields: e.cfg.MaxRootFields, MaxFields: e.cfg.MaxFields}
	keys, err := piiKeys(e)
	if err != nil {
		return err
	}
	srcs, err := buildSources(ctx, e, st, dsn, keys)
	if err != nil {
		return err
	}
	defer srcs.close()
	// Required sources hold readiness until their first sync, and again
	// while DOWN or re-pulled after a reset; optional ones never do.
	// Incidents are regrouped beside the engine; it stops before the store
	// closes.
	incidents := newIncidentRegrouper(st, log)
	regroupCtx, stopRegroup := context.WithCancel(ctx)
	regroupDone := make(chan struct{})
	go func() { defer close(regroupDone); incidents.run(regroupCtx) }()
	defer func() { stopRegroup(); <-regroupDone }()
	engine, err := syncer.New(st, srcs.sources, syncer.Options{Log: log, Registry: reg,
		Ready: func(name string) {
			// Matches against what the first sync brought must not answer
			// "unknown": the address directory is current before ready.
			if _, err := srcs.addresses.Refresh(ctx); err != nil {
				log.Warn("address directory refresh failed", "err", err)
			}
			incidents.passed()
			ready.Clear("sync:" + name)
		},
		NotReady: func(name, why string) {
			if !srcs.optional[name] {
				ready.Block("sync:"+name, why)
			}
		}})
	if err != nil {
		return err
	}
	for _, s := range srcs.sources {
		if name := s.Connector.Describe().Name; !srcs.optional[name] {
			ready.Block("sync:"+name, "first synchronisation not finished")
		}
	}
	syncCtx, stopSync := context.WithCancel(ctx)
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		if err := engine.Run(syncCtx); err != nil {
			log.Error("sync engine stopped", "err", err)
		}
	}()
	// On shutdown the engine stops first: a batch being written commits or
	// rolls back before the store closes.
	defer func() { stopSync(); <-syncDone }()
	gcfg := graph.Config{Store: st, Log: log, Registry: reg, Limits: &limits, PII: keys, RequestID: web.RequestID, Addresses: srcs.addresses,
		ScorePresets: e.cfg.ScorePresets}
	if e.cfg.CacheBytes > 0 {
		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		gcfg.Cache = graph.CacheConfig{Changes: st.WatchChanges(watchCtx), MaxBytes: e.cfg.CacheBytes, TTL: e.cfg.CacheTTL}
	}
	gcfg.Trusted, gcfg.IntrospectionRoles = pre.policy.Trusted, pre.policy.IntrospectionRoles
	// The change log's follower: positions, retention, subscriptions.
	feed := graph.NewFeed(st, graph.FeedOptions{Retention: e.cfg.ChangesKeep, MaxPerPrincipal: e.cfg.MaxSubs, Log: log})
	go feed.Run(ctx)
	authn := auth.New(auth.Options{Keys: keyLookup(st), JWT: pre.jwt, Anonymous: e.cfg.AnonymousRole, Rate: e.cfg.RateLimit})
	gcfg.Feed, gcfg.Authenticate = feed, authn.Authenticate
	gql, err := graph.NewHandler(gcfg)
	if err != nil {
		return fmt.Errorf("graphql handler: %w", err)
	}
	admission, err := web.NewAdmission(web.AdmissionOptions{MaxConcurrent: e.cfg.MaxConcurrent,
		QueueTimeout: e.cfg.QueueTimeout, QueryTimeout: e.cfg.QueryTimeout, Registry: reg})
	if err != nil {
		return err
	}
	h, err := web.NewHandler(web.Options{GraphQL: admission.Wrap(authn.Wrap(gql)), Partner: authn.Wrap(partner.Handler(st, log)), Readiness: ready, Registry: reg, Log: log, MaxBodyBytes: e.cfg.MaxBodyBytes})
	if err != nil {
		return fmt.Errorf("http handler: %w", err)
	}
	srv := web.NewServer(h, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info("hub listening", "url", url, "startup", time.Since(started).String())
	fmt.Fprintf(e.stdout, "hub listening on %s (GraphiQL at %s/, GraphQL at %s/graphql)\n", url, url, url)
	if e.cfg.Sources == "" {
		// Only now that the hub can be reached is a key worth handing out.
		if err := demoAdminKey(ctx, st, e); err != nil {
			log.Error("demo admin key", "err", err)
		}
	}

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), e.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	return nil
}

// syncCmd runs one synchronisation pass and exits, for cron-style
// deployments: `hub sync [--source NAME] [--full]`.
func syncCmd(ctx context.Context, e *env, args []string) error {
	var source string
	var full bool
	if _, err := e.flags("sync", "run one synchronisation pass of every source (or one) and exit", args, func(fs *flag.FlagSet) {
		fs.StringVar(&source, "source", "", "sync only this source")
		fs.BoolVar(&full, "full", false, "re-pull everything instead of the changes since the stored cursor")
	}); err != nil {
		return err
	}
	pre, err := preflight(e, false)
	if err != nil {
		return err
	}
	e.pre = pre
	st, dsn, closeDB, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	keys, err := piiKeys(e)
	if err != nil {
		return err
	}
	srcs, err := buildSources(ctx, e, st, dsn, keys)
	if err != nil {
		return err
	}
	defer srcs.close()
	engine, err := syncer.New(st, srcs.sources, syncer.Options{Log: e.log})
	if err != nil {
		return err
	}
	results, err := engine.SyncOnce(ctx, source, full)
	for name, r := range results {
		fmt.Fprintf(e.stdout, "%s: %s, fetched %d, stored %d (unchanged %d, deleted %d), quarantined %d\n",
			name, r.Status, r.Counts.Fetched, r.Counts.Stored, r.Counts.Unchanged, r.Counts.Deleted, r.Counts.Quarantined)
	}
	if err != nil {
		return err
	}
	inc, err := resolve.RegroupIncidents(store.Unscoped(ctx), st, resolve.DefaultIncidentConfig(), time.Time{})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "incidents: %d of %d cases (created %d, updated %d, removed %d, cases relinked %d)\n",
		inc.Groups, inc.Read, inc.Created, inc.Updated, inc.Removed, inc.CasesChanged)
	return nil
}

// simulateCmd runs the demo source systems standalone until interrupted,
// printing their addresses and credentials.
func simulateCmd(ctx context.Context, e *env, args []string) error {
	var govAddr, o311Addr string
	if _, err := e.flags("simulate", "run the simulated source systems standalone until interrupted", args, func(fs *flag.FlagSet) {
		fs.StringVar(&govAddr, "gov-addr", "127.0.0.1:18081", "listen address of the governance API")
		fs.StringVar(&o311Addr, "open311-addr", "127.0.0.1:18082", "listen address of the Open311 server")
	}); err != nil {
		return err
	}
	scale, err := city.ParseScale(e.cfg.DemoScale)
	if err != nil {
		return err
	}
	// The party system is a database: party_src on the hub's server (the
	// embedded one, or DATABASE_URL's).
	dsn, stopDB, err := database(ctx, e)
	if err != nil {
		return err
	}
	defer stopDB()
	partyDSN, err := demoPartyDatabase(ctx, dsn)
	if err != nil {
		return err
	}
	sys, err := sim.Start(ctx, sim.Options{Seed: uint64(e.cfg.Seed), Scale: scale, DataDir: filepath.Join(e.cfg.DataDir, "simulate"),
		GovAddr: govAddr, Open311Addr: o311Addr, PartyDSN: partyDSN, Logger: e.log})
	if err != nil {
		return err
	}
	defer sys.Close()
	fmt.Fprint(e.stdout, sys.Describe())
	<-ctx.Done()
	return nil
}
