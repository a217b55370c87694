package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/auth"
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

// Database resolves the store's DSN: DATABASE_URL, or the embedded
// cluster in HUB_DATA_DIR/pg. The returned stop function shuts the
// embedded cluster down (if owned).
func Database(ctx context.Context, cfg Config, log *slog.Logger) (string, func(), error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, func() {}, nil
	}
	cluster, err := embedpg.Start(ctx, embedpg.Options{Dir: filepath.Join(cfg.DataDir, "pg"), Logger: log})
	if err != nil {
		return "", nil, err
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cluster.Stop(sctx); err != nil {
			log.Error("stop embedded postgres", "err", err)
		}
	}
	return cluster.DSN(), stop, nil
}

// OpenStore opens the store (joining a running embedded cluster if there
// is one) and applies migrations; close closes both.
func OpenStore(ctx context.Context, cfg Config, log *slog.Logger) (st *store.Store, dsn string, close func(), err error) {
	dsn, stopDB, err := Database(ctx, cfg, log)
	if err != nil {
		return nil, "", nil, err
	}
	st, err = store.Open(ctx, dsn, store.Options{Logger: log})
	if err != nil {
		stopDB()
		return nil, "", nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		stopDB()
		return nil, "", nil, err
	}
	return st, dsn, func() { st.Close(); stopDB() }, nil
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

// resolutionPoolSize is the pool of entity resolution: the incident
// regrouping, the building links and the person resolution each hold one
// connection at a time, and a decision taken in the API resolves on it too.
const resolutionPoolSize = 6

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
		region := ""
		if k.RegionCode != nil {
			region = *k.RegionCode
		}
		return &auth.Principal{ID: fmt.Sprintf("key:%d", k.ID), Name: k.Name, Role: auth.Role(k.Role),
			RegionCode: region, Scopes: k.Scopes}, nil
	}
}

// Serve runs the hub until ctx ends: the store (migrated), the sources
// and their sync engine, the incident regrouping, building links and
// person resolution, the change feed, the GraphQL handler and the HTTP
// server on the address pre bound, then a graceful shutdown. pre is what Prepare checked and bound (with listen);
// stdout gets the lines for the operator (where the hub listens, the demo
// admin key's file).
func Serve(ctx context.Context, cfg Config, pre *Prepared, log *slog.Logger, stdout io.Writer) error {
	if pre == nil || pre.ln == nil {
		return errors.New("serve: the configuration was not prepared with a bound listen address")
	}
	ln := pre.ln
	defer ln.Close()
	log.Info("starting hub", "config", cfg)
	started := time.Now()
	ready := web.NewReadiness()
	ready.Block("store", "migrations not applied yet")

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	dsn, stopDB, err := Database(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopDB()
	st, err := store.Open(ctx, dsn, store.Options{Logger: log, Registry: reg,
		MaxConns: poolSize(dsn, cfg.MaxConcurrent), StatementTimeout: cfg.QueryTimeout})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	ready.Clear("store")
	defer watchDatabase(ctx, st, ready, log)()
	// Entity resolution runs on a pool of its own, without the statement
	// timeout of the API's reads (HUB_QUERY_TIMEOUT): at city scale a full
	// resolution reads a million records and analyzes the tables it joins,
	// an incident regrouping reads every case, the linking of a first load's
	// addresses pages through them all beside the index builds — each
	// statement longer than a request may wait. Under it, serving the city
	// demo, every person resolution failed after every pass.
	work, err := store.Open(ctx, dsn, store.Options{Logger: log, MaxConns: resolutionPoolSize})
	if err != nil {
		return err
	}
	defer work.Close()

	limits := graph.Limits{MaxDepth: cfg.MaxDepth, MaxIntrospectionDepth: cfg.MaxIntroDepth, MaxComplexity: cfg.MaxComplexity,
		MaxAliases: cfg.MaxAliases, MaxRootFields: cfg.MaxRootFields, MaxFields: cfg.MaxFields}
	keys, err := PIIKeys(cfg, log)
	if err != nil {
		return err
	}
	srcs, err := buildSources(ctx, cfg, pre, st, dsn, keys, log)
	if err != nil {
		return err
	}
	defer srcs.close()
	// Required sources hold readiness until their first sync, and again
	// while DOWN or re-pulled after a reset; optional ones never do.
	// Incidents are regrouped beside the engine; it stops before the store
	// closes.
	// One replica resolves (resolutionLease); the lease is given up after
	// the resolvers stop.
	lease := newResolutionLease(st, log)
	defer lease.release()
	incidents := newIncidentRegrouper(work, lease, log)
	regroupCtx, stopRegroup := context.WithCancel(ctx)
	regroupDone := make(chan struct{})
	go func() { defer close(regroupDone); incidents.run(regroupCtx) }()
	defer func() { stopRegroup(); <-regroupDone }()
	// Persons are resolved once the linker has linked the members' homes
	// (their dwellings) in its run, beside its linking of stations and
	// cases: resolved beside the whole run, a first resolution took every
	// member without a dwelling, and the next resolved them again.
	persons := newPersonResolver(work, srcs.addresses, lease, log)
	personCtx, stopPersons := context.WithCancel(ctx)
	personDone := make(chan struct{})
	go func() { defer close(personDone); persons.run(personCtx) }()
	buildings := newBuildingLinker(work, srcs.addresses, lease, log, persons.passed)
	linkCtx, stopLink := context.WithCancel(ctx)
	linkDone := make(chan struct{})
	go func() { defer close(linkDone); buildings.run(linkCtx) }()
	defer func() { stopLink(); <-linkDone }()
	defer func() { stopPersons(); <-personDone }()
	// Building links, incidents and persons are resolved after passes,
	// once every source's first pass has ended (Loaded): resolving after
	// the quickest source's first pass had them read and resolve a growing
	// part of a first load again and again beside it, and the load queue
	// every record it wrote for them (serving the city demo, governance's
	// first pass took 8m04s that way, 3m17s now).
	var loaded atomic.Bool
	resolveAfterPasses := func() {
		incidents.passed()
		buildings.passed() // then persons (homesLinked)
	}
	refreshAddresses := func() {
		// Matches against what the sync brought must not answer
		// "unknown": the address directory is current before ready.
		if _, err := srcs.addresses.Refresh(ctx); err != nil {
			log.Warn("address directory refresh failed", "err", err)
		}
	}
	engine, err := syncer.New(st, srcs.sources, syncer.Options{Log: log, Registry: reg,
		Ready: func(name string) {
			refreshAddresses()
			if loaded.Load() {
				resolveAfterPasses()
			}
			ready.Clear("sync:" + name)
		},
		Loaded: func() {
			refreshAddresses()
			loaded.Store(true)
			resolveAfterPasses()
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
		ScorePresets: cfg.ScorePresets, Persons: persons.res, Incidents: incidents.res, Resolving: lease.held}
	// The change notifications keep the response cache and the reference
	// tables held in memory current; without the cache (as where LISTEN is
	// not delivered) nothing is held across requests.
	if cfg.CacheBytes > 0 {
		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		gcfg.Cache = graph.CacheConfig{Changes: st.WatchChanges(watchCtx), MaxBytes: cfg.CacheBytes, TTL: cfg.CacheTTL}
	}
	gcfg.Trusted, gcfg.IntrospectionRoles = pre.policy.Trusted, pre.policy.IntrospectionRoles
	// The change log's follower: positions, retention, subscriptions.
	feed := graph.NewFeed(st, graph.FeedOptions{Retention: cfg.ChangesKeep, MaxPerPrincipal: cfg.MaxSubs, Log: log})
	go feed.Run(ctx)
	authn := auth.New(auth.Options{Keys: keyLookup(st), JWT: pre.jwt, Anonymous: cfg.AnonymousRole, Rate: cfg.RateLimit})
	gcfg.Feed, gcfg.Authenticate = feed, authn.Authenticate
	gql, err := graph.NewHandler(gcfg)
	if err != nil {
		return fmt.Errorf("graphql handler: %w", err)
	}
	admission, err := web.NewAdmission(web.AdmissionOptions{MaxConcurrent: cfg.MaxConcurrent,
		QueueTimeout: cfg.QueueTimeout, QueryTimeout: cfg.QueryTimeout, Registry: reg})
	if err != nil {
		return err
	}
	h, err := web.NewHandler(web.Options{GraphQL: admission.Wrap(authn.Wrap(gql)), Partner: authn.Wrap(partner.Handler(st, log)), Readiness: ready, Registry: reg, Log: log, MaxBodyBytes: cfg.MaxBodyBytes})
	if err != nil {
		return fmt.Errorf("http handler: %w", err)
	}
	srv := web.NewServer(h, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info("hub listening", "url", url, "startup", time.Since(started).String())
	fmt.Fprintf(stdout, "hub listening on %s (GraphiQL at %s/, GraphQL at %s/graphql)\n", url, url, url)
	if cfg.Sources == "" {
		// Only now that the hub can be reached is a key worth handing out.
		if err := demoAdminKey(ctx, st, cfg.DataDir, stdout, log); err != nil {
			log.Error("demo admin key", "err", err)
		}
	}

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	return nil
}

// SyncOnce runs one synchronisation pass of every source (or of the one
// named source; full re-pulls everything), regroups the incidents, links
// addresses to buildings and resolves persons, printing each source's
// counts, the regrouping, the linking and the resolution to stdout. Beside
// a running hub that holds the resolution lease it leaves the incidents and
// persons to that hub.
func SyncOnce(ctx context.Context, cfg Config, pre *Prepared, log *slog.Logger, stdout io.Writer, source string, full bool) error {
	st, dsn, closeDB, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	keys, err := PIIKeys(cfg, log)
	if err != nil {
		return err
	}
	srcs, err := buildSources(ctx, cfg, pre, st, dsn, keys, log)
	if err != nil {
		return err
	}
	defer srcs.close()
	engine, err := syncer.New(st, srcs.sources, syncer.Options{Log: log})
	if err != nil {
		return err
	}
	results, err := engine.SyncPasses(ctx, source, full)
	for name, r := range results {
		fmt.Fprintf(stdout, "%s: %s, fetched %d, stored %d (unchanged %d, deleted %d), quarantined %d\n",
			name, r.Status, r.Counts.Fetched, r.Counts.Stored, r.Counts.Unchanged, r.Counts.Deleted, r.Counts.Quarantined)
	}
	if err != nil {
		if results != nil {
			err = errors.Join(err, engine.BuildDeferred(ctx))
		}
		return err
	}
	// A running hub that holds the resolution lease resolves what this
	// pass changed after its own next pass; resolving here would overtake
	// its writes and make it resolve everything again.
	lease, err := st.TryResolutionLease(ctx)
	if err != nil {
		return errors.Join(err, engine.BuildDeferred(ctx))
	}
	if lease == nil {
		if err := engine.BuildDeferred(ctx); err != nil {
			return err
		}
		links, err := linkBuildings(ctx, st, srcs.addresses)
		if err != nil {
			return err
		}
		printLinks(stdout, links)
		fmt.Fprintln(stdout, "incidents and persons: left to the running hub, which holds the resolution lease and resolves what this sync changed after its next pass")
		return nil
	}
	defer lease.Release()
	// The incidents are regrouped beside the building links and the
	// persons, as the server does: they share no rows (persons need the
	// links first: a party member's dwelling is its linked home).
	//
	// The indexes a first load deferred are built once the resolution is
	// done with the cases — the incidents regrouped (their write of each
	// case's incident would wait for a build, and writes into every index
	// built) and the cases' addresses linked — and the persons are matched:
	// beside the persons' write, which leaves a core idle, not beside their
	// matching, the longest part of the resolution, which they would slow.
	// Built before the resolution, as the server builds them (the API
	// reads cases), a city's first hub sync took 3m20–3m22 (bench/sync,
	// three runs), 3m00–3m15 once built after the cases' work (three
	// runs).
	type regrouped struct {
		inc resolve.Regrouped
		err error
	}
	var caseWork sync.WaitGroup
	caseWork.Add(3)
	built := make(chan error, 1)
	go func() {
		caseWork.Wait()
		built <- engine.BuildDeferred(ctx)
	}()
	incidents := make(chan regrouped, 1)
	go func() {
		defer caseWork.Done()
		inc, err := resolve.NewIncidentRegrouper(st, resolve.DefaultIncidentConfig()).Full(store.Unscoped(ctx))
		incidents <- regrouped{inc, err}
	}()
	links, pr, took, err := resolvePeople(ctx, st, srcs.addresses, caseWork.Done, caseWork.Done)
	r := <-incidents
	if err := errors.Join(r.err, err, <-built); err != nil {
		return err
	}
	inc := r.inc
	fmt.Fprintf(stdout, "incidents: %d of %d cases (created %d, updated %d, removed %d, cases relinked %d)\n",
		inc.Groups, inc.Read, inc.Created, inc.Updated, inc.Removed, inc.CasesChanged)
	printLinks(stdout, links)
	fmt.Fprintf(stdout, "persons: %d records, %d persons (%d links, %d pairs in review; merged %d, split %d, records relinked %d) in %s (matching %s)\n",
		pr.Records, pr.Persons, pr.Linked, pr.Review, pr.Merged, pr.Split, pr.Relinked,
		took.Round(time.Millisecond), pr.Resolved.Round(time.Millisecond))
	return nil
}

// printLinks prints what a linking of addresses to buildings did.
func printLinks(w io.Writer, links resolve.BuildingsLinked) {
	cases := "the cases changed since the last linking"
	if links.AllCases {
		cases = "every case"
	}
	fmt.Fprintf(w, "building links: %d addresses (%d to a building, %d to a compound only; %s)\n",
		links.Read, links.ToBuilding, links.ToCompound, cases)
}

// resolvePeople links the addresses of the store's records to buildings
// and resolves every person record, and says how long the person
// resolution took. Persons read only the links of members' homes (a
// member's dwelling), so they are resolved once those are linked, beside
// the linking of the stations' and cases' addresses (at city scale a
// million addresses, a minute). casesLinked is called once, when the
// cases' addresses are linked or will not be; personsMatched once, when
// the persons' write begins or there will be none.
func resolvePeople(ctx context.Context, st *store.Store, addresses *address.Directory, casesLinked, personsMatched func()) (resolve.BuildingsLinked, resolve.PersonsResolved, time.Duration, error) {
	casesLinked, personsMatched = sync.OnceFunc(casesLinked), sync.OnceFunc(personsMatched)
	defer casesLinked()
	defer personsMatched()
	g, err := addresses.Refresh(ctx)
	if err != nil {
		return resolve.BuildingsLinked{}, resolve.PersonsResolved{}, 0, err
	}
	ctx = store.Unscoped(ctx)
	homes, err := resolve.LinkBuildings(ctx, st, g, []string{store.LinkPartyMember}, true)
	if err != nil {
		return homes, resolve.PersonsResolved{}, 0, err
	}
	type linked struct {
		links resolve.BuildingsLinked
		err   error
	}
	others := make(chan linked, 1)
	go func() {
		defer casesLinked()
		l, err := resolve.LinkBuildings(ctx, st, g, []string{store.LinkServiceStation, store.LinkCase}, true)
		others <- linked{l, err}
	}()
	pcfg := resolve.DefaultConfig()
	pcfg.Trust = resolve.PersonTrust
	t0 := time.Now()
	persons := resolve.NewPersonResolver(st, pcfg)
	persons.WhenWriting(personsMatched)
	pr, err := persons.Full(ctx, g)
	took := time.Since(t0)
	o := <-others
	return homes.Plus(o.links), pr, took, errors.Join(err, o.err)
}

// linkBuildings links the addresses of every record of the store to
// buildings with the address directory refreshed.
func linkBuildings(ctx context.Context, st *store.Store, addresses *address.Directory) (resolve.BuildingsLinked, error) {
	g, err := addresses.Refresh(ctx)
	if err != nil {
		return resolve.BuildingsLinked{}, err
	}
	links, err := resolve.LinkBuildings(store.Unscoped(ctx), st, g, resolve.LinkKinds(), true)
	return links, err
}

// Simulate runs the demo source systems standalone until ctx ends, on the
// given addresses, printing their addresses and credentials to stdout. The
// party system is a database: party_src on the hub's server (the embedded
// one, or DATABASE_URL's).
func Simulate(ctx context.Context, cfg Config, log *slog.Logger, stdout io.Writer, govAddr, open311Addr string) error {
	scale, err := city.ParseScale(cfg.DemoScale)
	if err != nil {
		return err
	}
	dsn, stopDB, err := Database(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopDB()
	partyDSN, err := DemoPartyDatabase(ctx, dsn)
	if err != nil {
		return err
	}
	sys, err := sim.Start(ctx, sim.Options{Seed: uint64(cfg.Seed), Scale: scale, DataDir: filepath.Join(cfg.DataDir, "simulate"),
		GovAddr: govAddr, Open311Addr: open311Addr, PartyDSN: partyDSN, Logger: log})
	if err != nil {
		return err
	}
	defer sys.Close()
	fmt.Fprint(stdout, sys.Describe())
	<-ctx.Done()
	return nil
}
