// Command sync benchmarks the hub's synchronisation path end to end.
//
// It starts the simulated source systems in-process (sim.Start) on a fresh
// database (a new database on the server of DATABASE_URL, or the embedded
// launcher in a temporary directory), runs the initial full sync of every
// source of the demo hub's set (app/demo) through the real connectors and
// sync engine, and reports records/s
// per source and overall, excluding the generation of the city (reported
// apart), then times the entity resolution the hub runs after a pass
// (incidents regrouped beside the addresses linked to buildings and then
// the persons resolved, and the indexes the first load deferred built
// once the cases are regrouped and linked, beside the persons, as hub sync
// runs them) and reports records/s with it. It
// then, pass after pass (-passes), applies changes at the sources and
// times the incremental pass that picks them up, with its resolution, and
// finally copies the canonical rows the sync
// produced into a second, freshly migrated database with raw binary COPY —
// the floor of the write path: same rows, same tables, same indexes. Peak
// RSS (VmHWM) is reset before the sync and read after it. The CPU time of
// the initial sync and of the resolution after it is split between this
// process (the simulators included) and the rest of the machine
// (/proc/stat: PostgreSQL, when the server runs here).
//
//	go run ./bench/sync -scale city
//	go run ./bench/sync -scale medium -cpuprofile sync.prof
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/app/demo"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/embedpg"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/syncer"
)

func main() {
	var o options
	flag.StringVar(&o.scale, "scale", "medium", "synthetic city: small, medium, city (≈1.1M cases, 420k residents)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the synthetic city")
	flag.IntVar(&o.changes, "changes", 1000, "live changes applied at the sources before each incremental pass")
	flag.IntVar(&o.passes, "passes", 3, "incremental passes, each after its own changes")
	flag.DurationVar(&o.pause, "pause", 15*time.Second, "pause before each incremental pass, as between the hub's passes (HUB_SYNC_INTERVAL); 0: none")
	flag.BoolVar(&o.settle, "settle", true, "vacuum and checkpoint the initial load before the incremental passes, as autovacuum and the checkpointer have in a hub that has run for a while")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the initial sync to this file")
	flag.StringVar(&o.resprofile, "resprofile", "", "write a CPU profile of the entity resolution after the initial sync to this file")
	flag.StringVar(&o.incprofile, "incprofile", "", "write a CPU profile of the incremental passes, with their resolution, to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the benchmark databases (DATABASE_URL only)")
	flag.BoolVar(&o.noFloor, "nofloor", false, "skip the raw COPY floor")
	flag.BoolVar(&o.verbose, "v", false, "log the engine's progress")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	scale      string
	seed       uint64
	changes    int
	passes     int
	pause      time.Duration
	settle     bool
	cpuprofile string
	resprofile string
	incprofile string
	keep       bool
	noFloor    bool
	verbose    bool
}

func run(ctx context.Context, o options) error {
	scale, err := city.ParseScale(o.scale)
	if err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	if o.verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	fmt.Printf("load before: %s\n", loadavg())
	srv, err := newServer(ctx, o.keep)
	if err != nil {
		return err
	}
	defer srv.close()
	hubDSN, err := srv.database(ctx, "hub")
	if err != nil {
		return err
	}
	partyDSN, err := srv.database(ctx, "party")
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, hubDSN, store.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	// The figures depend on the server's sizing as much as on the hub
	// (README: a city's server): said with them.
	var version, buffers, walSize, workMem string
	if err := st.Pool().QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('shared_buffers'),
		current_setting('max_wal_size'), current_setting('work_mem')`).Scan(&version, &buffers, &walSize, &workMem); err != nil {
		return fmt.Errorf("server settings: %w", err)
	}
	fmt.Printf("server: PostgreSQL %s, shared_buffers %s, max_wal_size %s, work_mem %s (the hub's writes set their own)\n",
		version, buffers, walSize, workMem)

	t0 := time.Now()
	sys, err := sim.Start(ctx, sim.Options{Seed: o.seed, Scale: scale, PartyDSN: partyDSN, LiveRate: -1, Logger: log})
	if err != nil {
		return err
	}
	defer sys.Close()
	c := sys.City
	fmt.Printf("city %s (seed %d): %d grids, %d residents, %d party members, %d governance events, %d city-management cases\n",
		scale, o.seed, len(c.Grids), len(c.People), len(c.Members), len(c.GovEvents), len(c.CityCases))
	fmt.Printf("source systems started in %s (generation, party database load, CSV export; not counted below), peak RSS %s\n",
		time.Since(t0).Round(time.Millisecond), procStatus("VmHWM"))

	t1 := time.Now()
	layer, err := places.Load(sys.LayerPath)
	if err != nil {
		return err
	}
	if err := st.InTx(ctx, func(w *store.Writer) error {
		if err := w.UpsertRegions(ctx, layer.Regions()); err != nil {
			return err
		}
		return w.UpsertTaxonomy(ctx, normalize.Categories(), normalize.Mappings())
	}); err != nil {
		return fmt.Errorf("reference data: %w", err)
	}
	fmt.Printf("region layer (%d regions) and taxonomy loaded in %s\n", len(layer.Regions()), time.Since(t1).Round(time.Millisecond))

	master := make([]byte, 32)
	rand.Read(master)
	keys, err := pii.NewKeys(master)
	if err != nil {
		return err
	}
	// The demo hub's source set over the simulators, built as the hub
	// builds it (without the address directory: placement by code and
	// position only).
	demoSet, err := demo.Sources(sys, 15*time.Second)
	if err != nil {
		return err
	}
	list, closeConnectors, err := connectors.NewAll(ctx, demoSet, connectors.Deps{Keys: keys, Layer: layer, Times: normalize.DefaultTimes(), Log: log})
	if err != nil {
		return err
	}
	defer closeConnectors()
	var sources []syncer.Source
	for _, c := range list {
		sources = append(sources, syncer.Source{Connector: c})
	}
	engine, err := syncer.New(st, sources, syncer.Options{Log: log})
	if err != nil {
		return err
	}
	if err := engine.Register(ctx); err != nil {
		return err
	}

	// Initial sync.
	resetPeakRSS()
	stopProfile, err := startProfile(o.cpuprofile)
	if err != nil {
		return err
	}
	fmt.Printf("\ninitial sync (load %s)\n", loadavg())
	cpu := readCPU()
	initial, err := pass(ctx, engine, sources)
	stopProfile()
	if err != nil {
		return err
	}
	syncCPU := cpuSince(cpu)
	syncPeak := procStatus("VmHWM")
	total := report(initial)
	fmt.Printf("peak RSS during the sync: %s (the simulators' city is in this process too)\n", syncPeak)
	fmt.Printf("CPU of the sync: %s\n", syncCPU)
	res := &resolution{st: st}
	stopProfile, err = startProfile(o.resprofile)
	if err != nil {
		return err
	}
	cpu = readCPU()
	_, err = res.after(ctx, total)
	stopProfile()
	if err != nil {
		return err
	}
	fmt.Printf("  CPU of the resolution: %s\n", cpuSince(cpu))

	// Incremental passes, each after changes at the sources. With -settle
	// the initial load is first vacuumed and written out, as in a hub that
	// has run for a while autovacuum and the checkpointer have long done:
	// otherwise the passes timed right after the load pay for the
	// checkpoint the load started (writing its pages throughout them) and
	// for the first reads of its rows (hint bits, heap fetches an
	// index-only scan would skip).
	if o.settle {
		t0 := time.Now()
		for _, q := range []string{"VACUUM (ANALYZE)", "CHECKPOINT"} {
			if _, err := st.Pool().Exec(ctx, q); err != nil {
				return fmt.Errorf("settle the initial load: %s: %w", q, err)
			}
		}
		fmt.Printf("\ninitial load vacuumed and checkpointed in %s (untimed)\n", time.Since(t0).Round(time.Millisecond))
	}
	stopProfile, err = startProfile(o.incprofile)
	if err != nil {
		return err
	}
	var incTook, incResolved time.Duration
	for n := 1; o.changes > 0 && n <= o.passes; n++ {
		time.Sleep(o.pause)
		changes, err := sys.Step(ctx, o.changes)
		if err != nil {
			return fmt.Errorf("live changes: %w", err)
		}
		ops := map[string]int{}
		for _, ch := range changes {
			ops[ch.Op.String()]++
		}
		fmt.Printf("\nincremental sync %d of %d after %d changes at the sources %v (load %s)\n", n, o.passes, len(changes), ops, loadavg())
		inc, err := pass(ctx, engine, sources)
		if err != nil {
			return err
		}
		t := report(inc)
		resolved, err := res.after(ctx, t)
		if err != nil {
			return err
		}
		incTook, incResolved = incTook+t.took, incResolved+resolved
	}
	if incTook > 0 {
		fmt.Printf("\nincremental passes: %s of sync, %s of entity resolution after them: %.1f%% of the passes' time\n",
			incTook.Round(time.Millisecond), incResolved.Round(time.Millisecond), 100*incResolved.Seconds()/incTook.Seconds())
	}

	stopProfile()

	if !o.noFloor {
		floorDSN, err := srv.database(ctx, "floor")
		if err != nil {
			return err
		}
		fmt.Printf("\nraw COPY floor (load %s)\n", loadavg())
		rows, took, err := copyFloor(ctx, hubDSN, floorDSN)
		if err != nil {
			return fmt.Errorf("raw COPY floor: %w", err)
		}
		fmt.Printf("  %d canonical rows (of %d fetched records) copied in %s: %.0f records/s\n",
			rows, total.fetched, took.Round(time.Millisecond), float64(total.fetched)/took.Seconds())
		fmt.Printf("  sync / raw COPY: %.2fx the time\n", total.took.Seconds()/took.Seconds())
	}
	fmt.Printf("\nload after: %s\n", loadavg())
	return nil
}

// outcome is one source's pass.
type outcome struct {
	name string
	res  syncer.Result
	took time.Duration
}

type totals struct {
	fetched int
	took    time.Duration
}

// pass syncs every source once as hub sync does (SyncPasses: side by
// side, a backfilling source after the source it backfills), timing each;
// the indexes a first load deferred are built during the resolution after
// it (resolution.after).
func pass(ctx context.Context, e *syncer.Engine, sources []syncer.Source) ([]outcome, error) {
	start := time.Now()
	res, err := e.SyncPasses(ctx, "", false)
	all := time.Since(start)
	if err != nil {
		return nil, err
	}
	out := make([]outcome, 0, len(sources)+1)
	for _, s := range sources {
		n := s.Connector.Describe().Name
		out = append(out, outcome{name: n, res: res[n], took: res[n].Took})
	}
	out = append(out, outcome{name: "all", took: all})
	return out, nil
}

func report(list []outcome) totals {
	var t totals
	fmt.Printf("  %-16s %9s %9s %9s %9s %8s %11s %10s\n", "source", "fetched", "written", "unchanged", "quarant.", "deleted", "duration", "records/s")
	for _, o := range list {
		c := o.res.Counts
		if o.name == "all" {
			c = store.BatchCounts{}
			for _, x := range list[:len(list)-1] {
				c.Fetched += x.res.Counts.Fetched
				c.Stored += x.res.Counts.Stored
				c.Unchanged += x.res.Counts.Unchanged
				c.Quarantined += x.res.Counts.Quarantined
				c.Deleted += x.res.Counts.Deleted
			}
			t = totals{fetched: c.Fetched, took: o.took}
		}
		fmt.Printf("  %-16s %9d %9d %9d %9d %8d %11s %10.0f\n", o.name, c.Fetched, c.Stored-c.Unchanged-c.Deleted, c.Unchanged,
			c.Quarantined, c.Deleted, o.took.Round(time.Millisecond), float64(c.Fetched)/o.took.Seconds())
	}
	return t
}

// resolution is the entity resolution the hub runs beside the engine after
// its passes (app), as hub sync runs it: the incidents regrouped from the
// cases written since the last regrouping (every case the first time),
// beside the addresses of members' homes linked to buildings (every
// address not linked as it reads, retrying those that found no building
// whenever the known buildings changed) and then the persons resolved, whose dwellings are those
// buildings and what the address directory finds for the addresses they
// state, beside the linking of the stations' and cases' addresses.
type resolution struct {
	st        *store.Store
	addresses *address.Directory
	linked    *address.Gazetteer // the gazetteer of the last full linking
	incidents *resolve.IncidentRegrouper
	persons   *resolve.PersonResolver
}

// after runs the resolution after a pass and reports it, and the pass's
// records/s with it included: the two run side by side, and the pass
// waits for the later. It returns how long the resolution took.
func (r *resolution) after(ctx context.Context, pass totals) (time.Duration, error) {
	ctx = store.Unscoped(ctx)
	t0 := time.Now()
	incidents := make(chan error, 1)
	var regrouped string
	if r.incidents == nil {
		r.incidents = resolve.NewIncidentRegrouper(r.st, resolve.DefaultIncidentConfig())
	}
	// The indexes a first load deferred are built once the incidents are
	// regrouped, the cases' addresses linked and the persons matched,
	// beside the persons' write, as hub sync builds them (app.SyncOnce);
	// with none deferred the build returns at once.
	var caseWork sync.WaitGroup
	caseWork.Add(3)
	built := make(chan error, 1)
	go func() {
		caseWork.Wait()
		t1 := time.Now()
		names, err := r.st.BuildDeferredIndexes(ctx)
		if len(names) > 0 {
			fmt.Printf("  deferred indexes (%d) built in %s, from %s into the resolution\n", len(names),
				time.Since(t1).Round(time.Millisecond), t1.Sub(t0).Round(time.Millisecond))
		}
		built <- err
	}()
	go func() {
		defer caseWork.Done()
		inc, err := r.incidents.Run(ctx)
		if err != nil {
			incidents <- fmt.Errorf("regroup incidents: %w", err)
			return
		}
		regrouped = fmt.Sprintf("  incidents regrouped in %s: %d cases written, %d compared, %d incidents, cases relinked %d\n",
			time.Since(t0).Round(time.Millisecond), inc.Changed, inc.Read, inc.Groups, inc.CasesChanged)
		incidents <- nil
	}()
	if r.persons == nil {
		cfg := resolve.DefaultConfig()
		cfg.Trust = resolve.PersonTrust
		r.persons = resolve.NewPersonResolver(r.st, cfg)
		r.addresses = address.NewDirectory(r.st, 0, nil)
	}
	g, err := r.addresses.Refresh(ctx)
	if err != nil {
		caseWork.Add(-2) // the cases' addresses will not be linked, nor the persons matched
		return 0, errors.Join(<-incidents, fmt.Errorf("address directory: %w", err), <-built)
	}
	full := g != r.linked
	homes, err := resolve.LinkBuildings(ctx, r.st, g, []string{store.LinkPartyMember}, full)
	if err != nil {
		caseWork.Add(-2) // the cases' addresses will not be linked, nor the persons matched
		return 0, errors.Join(<-incidents, fmt.Errorf("link buildings: %w", err), <-built)
	}
	linked := time.Since(t0)
	type othersLinked struct {
		links resolve.BuildingsLinked
		took  time.Duration
		err   error
	}
	others := make(chan othersLinked, 1)
	go func() {
		defer caseWork.Done()
		l, err := resolve.LinkBuildings(ctx, r.st, g, []string{store.LinkServiceStation, store.LinkCase}, full)
		others <- othersLinked{l, time.Since(t0) - linked, err}
	}()
	matched := sync.OnceFunc(caseWork.Done)
	r.persons.WhenWriting(matched)
	pr, perr := r.persons.Run(ctx, g)
	matched()
	persons := time.Since(t0) - linked
	o := <-others
	if err := errors.Join(<-incidents, perr, o.err, <-built); err != nil {
		return 0, fmt.Errorf("resolve: %w", err)
	}
	if full {
		r.linked = g
	}
	links := homes.Plus(o.links)
	fmt.Print(regrouped)
	fmt.Printf("  building links in %s (members' homes %s, then stations and cases %s beside the persons): %d addresses read (full %v, every case %v), %d to a building, %d to a compound only\n",
		(linked + o.took).Round(time.Millisecond), linked.Round(time.Millisecond), o.took.Round(time.Millisecond), links.Read, full, links.AllCases, links.ToBuilding, links.ToCompound)
	kind := "changed"
	if pr.Full {
		kind = "in full"
	}
	fmt.Printf("  persons resolved %s in %s (analyzing %s, reading %s, matching %s, writing %s): %d records changed, %d resolved again, %d persons (%d left as written, %d overwritten by the sync; made %d, merged %d, split %d, records relinked %d, golden records written %d)\n",
		kind, persons.Round(time.Millisecond), pr.Analyzed.Round(time.Millisecond), pr.Read.Round(time.Millisecond), pr.Resolved.Round(time.Millisecond), pr.Written.Round(time.Millisecond),
		pr.Changed, pr.Records, pr.Persons, pr.Unchanged, pr.Overwritten, pr.Made, pr.Merged, pr.Split, pr.Relinked, pr.Golden)
	resolved := time.Since(t0)
	took := pass.took + resolved
	fmt.Printf("  sync with entity resolution: %s, %.0f records/s (resolution %s, %.0f%% of the pass)\n", took.Round(time.Millisecond),
		float64(pass.fetched)/took.Seconds(), resolved.Round(time.Millisecond), 100*resolved.Seconds()/pass.took.Seconds())
	return resolved, nil
}

// referenceTables are loaded before a sync, not by it.
var referenceTables = map[string]bool{"source": true, "region": true, "category": true, "category_mapping": true, "schema_version": true}

// derivedTables are written by the database itself — triggers on the
// loaded tables (the change log) or a migration —
// so the floor does not load them again.
var derivedTables = map[string]bool{"change_log": true, "change_pending": true, "change_horizon": true, "resolution_epoch": true,
	"case_address_queue": true}

// copyFloor dumps every non-empty table of the synced database with binary
// COPY (untimed), then loads them into a freshly migrated database in
// foreign-key order and times the load of the tables the sync wrote.
func copyFloor(ctx context.Context, fromDSN, toDSN string) (int64, time.Duration, error) {
	from, err := pgx.Connect(ctx, fromDSN)
	if err != nil {
		return 0, 0, err
	}
	defer from.Close(ctx)
	st, err := store.Open(ctx, toDSN, store.Options{})
	if err != nil {
		return 0, 0, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return 0, 0, err
	}
	st.Close()
	to, err := pgx.Connect(ctx, toDSN)
	if err != nil {
		return 0, 0, err
	}
	defer to.Close(ctx)

	order, err := tableOrder(ctx, from)
	if err != nil {
		return 0, 0, err
	}
	dir, err := os.MkdirTemp("", "hub-bench-copy-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	type dump struct {
		table, cols, path string
		rows              int64
	}
	var dumps []dump
	for _, t := range order {
		if derivedTables[t] {
			continue
		}
		cols, err := copyColumns(ctx, from, t)
		if err != nil {
			return 0, 0, err
		}
		path := filepath.Join(dir, t)
		f, err := os.Create(path)
		if err != nil {
			return 0, 0, err
		}
		tag, err := from.PgConn().CopyTo(ctx, f, fmt.Sprintf(`COPY %s (%s) TO STDOUT (FORMAT binary)`, pgx.Identifier{t}.Sanitize(), cols))
		f.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("dump %s: %w", t, err)
		}
		if tag.RowsAffected() > 0 {
			dumps = append(dumps, dump{table: t, cols: cols, path: path, rows: tag.RowsAffected()})
		}
	}
	var rows int64
	var took time.Duration
	for _, d := range dumps {
		f, err := os.Open(d.path)
		if err != nil {
			return 0, 0, err
		}
		t := time.Now()
		_, err = to.PgConn().CopyFrom(ctx, f, fmt.Sprintf(`COPY %s (%s) FROM STDIN (FORMAT binary)`, pgx.Identifier{d.table}.Sanitize(), d.cols))
		f.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("load %s: %w", d.table, err)
		}
		if !referenceTables[d.table] {
			took += time.Since(t)
			rows += d.rows
			fmt.Printf("    %-20s %9d rows %10s\n", d.table, d.rows, time.Since(t).Round(time.Millisecond))
		}
	}
	return rows, took, nil
}

// tableOrder lists the public tables, referenced tables before the tables
// that reference them.
func tableOrder(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT c.relname, coalesce(array_agg(DISTINCT r.relname) FILTER (WHERE r.relname IS NOT NULL AND r.oid <> c.oid), '{}')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'f'
		LEFT JOIN pg_class r ON r.oid = k.confrelid
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		GROUP BY c.relname ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	deps := map[string][]string{}
	var names []string
	for rows.Next() {
		var name string
		var refs []string
		if err := rows.Scan(&name, &refs); err != nil {
			return nil, err
		}
		deps[name] = refs
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Strings(names)
	var order []string
	done := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if done[n] {
			return
		}
		done[n] = true
		for _, d := range deps[n] {
			visit(d)
		}
		order = append(order, n)
	}
	for _, n := range names {
		visit(n)
	}
	return order, nil
}

// copyColumns lists the columns COPY can write (not generated ones).
func copyColumns(ctx context.Context, conn *pgx.Conn, table string) (string, error) {
	rows, err := conn.Query(ctx, `SELECT quote_ident(attname) FROM pg_attribute
		WHERE attrelid = ('public.' || quote_ident($1))::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
		ORDER BY attnum`, table)
	if err != nil {
		return "", err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("columns of %s: %w", table, err)
	}
	return strings.Join(cols, ", "), nil
}

// server hands out fresh databases on DATABASE_URL's server or on an
// embedded cluster.
type server struct {
	admin   string // DSN of a database to create others from
	cluster *embedpg.Cluster
	tmp     string
	prefix  string
	created []string
	keep    bool
}

func newServer(ctx context.Context, keep bool) (*server, error) {
	s := &server{prefix: fmt.Sprintf("hubsyncbench_%d", time.Now().UnixNano()), keep: keep}
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		s.admin = dsn
		return s, nil
	}
	dir, err := os.MkdirTemp("", "hub-bench-sync-")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755)
	s.tmp = dir
	c, err := embedpg.Start(ctx, embedpg.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.cluster, s.admin = c, c.DSN()
	return s, nil
}

// database creates a new database and returns its DSN.
func (s *server) database(ctx context.Context, suffix string) (string, error) {
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", s.admin, err)
	}
	defer conn.Close(ctx)
	name := s.prefix + "_" + suffix
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	s.created = append(s.created, name)
	u, err := url.Parse(s.admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func (s *server) close() {
	if s.cluster != nil {
		s.cluster.Stop(context.Background())
		os.RemoveAll(s.tmp)
		return
	}
	if s.keep {
		fmt.Printf("databases kept: %s\n", strings.Join(s.created, ", "))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	for _, name := range s.created {
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
}

func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// procStatus reads one line of /proc/self/status, e.g. VmHWM.
func procStatus(key string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}

// resetPeakRSS restarts VmHWM from the current RSS (Linux clear_refs 5).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}
