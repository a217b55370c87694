package syncer_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/governance"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
	"github.com/ywtg/hub/syncer"
)

// breaker is a connector that fails the pulls after the first n once
// armed: a complete re-pull cut short by an outage.
type breaker struct {
	connectors.Connector
	mu    sync.Mutex
	armed bool
	left  int
}

func (b *breaker) arm(n int) { b.mu.Lock(); b.armed, b.left = true, n; b.mu.Unlock() }

func (b *breaker) disarm() { b.mu.Lock(); b.armed = false; b.mu.Unlock() }

func (b *breaker) Pull(ctx context.Context, req connectors.Request) (connectors.Batch, error) {
	b.mu.Lock()
	fail := b.armed && b.left <= 0
	if b.armed {
		b.left--
	}
	b.mu.Unlock()
	if fail {
		return connectors.Batch{}, errors.New("connection reset by peer")
	}
	return b.Connector.Pull(ctx, req)
}

// readiness records what the engine said about each source.
type readiness struct {
	mu      sync.Mutex
	reasons map[string]string // absent: ready
	changed chan struct{}
}

func newReadiness() *readiness {
	return &readiness{reasons: map[string]string{}, changed: make(chan struct{}, 100)}
}

func (r *readiness) ready(s string) {
	r.mu.Lock()
	delete(r.reasons, s)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *readiness) notReady(s, reason string) {
	r.mu.Lock()
	r.reasons[s] = reason
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *readiness) reason(s string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	why, ok := r.reasons[s]
	return why, ok
}

// TestSourceResetIsDetectedAndReconciled syncs the simulated governance and
// Open311 systems, lets them change live, and then replaces them by
// systems restored to an older state — the city as generated, without the
// live changes, on the same addresses. Both reject the hub's cursors; the
// engine records the reset on the source, reports it not ready and
// re-pulls it completely. A re-pull cut short deletes nothing; the next one
// completes, deletes exactly the records the restored systems no longer
// hold, clears the reset, and the sources are ready again: the store then
// matches a store synced from the restored systems alone.
func TestSourceResetIsDetectedAndReconciled(t *testing.T) {
	ctx := context.Background()
	clock := city.NewManualClock(city.DefaultReference)
	sysA, layer := startSystems(t, sim.Options{Seed: 3, Clock: clock})
	keys, _ := pii.NewKeys([]byte("sync integration test key 32 byt"))
	times := normalize.Times{Now: func() time.Time { return clock.Now().Add(time.Hour) }, Min: time.Date(1949, 10, 1, 0, 0, 0, 0, time.UTC)}
	connectorsFor := func(govURL, open311URL string) (*breaker, *breaker) {
		gov := governance.New(governance.Config{Name: "governance", Endpoint: govURL, ClientID: sysA.ClientID, ClientSecret: sysA.ClientSecret,
			Mapper: &governance.Mapper{Source: "governance", Keys: keys, Layer: layer, Times: times, Now: time.Now}})
		cm := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: open311URL + "/open311/v2", Format: "json", Layer: layer, Times: times})
		return &breaker{Connector: gov}, &breaker{Connector: cm}
	}
	gov, cm := connectorsFor(sysA.GovURL, sysA.Open311URL)
	st := referenceStore(t, layer)
	rd := newReadiness()
	opts := syncer.Options{DownAfter: 3, BatchSize: 500, MaxBackoff: 50 * time.Millisecond, Ready: rd.ready, NotReady: rd.notReady}
	e, err := syncer.New(st, []syncer.Source{{Connector: gov, Interval: time.Hour}, {Connector: cm, Interval: time.Hour}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.SyncOnce(ctx, "", false); err != nil {
		t.Fatal(err)
	}
	// Live changes: new cases, events, residents; the hub follows them.
	for range 10 {
		clock.Advance(time.Hour)
		if _, err := sysA.Step(ctx, 40); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := e.SyncOnce(ctx, "", false); err != nil || res["citymgmt"].Counts.Fetched == 0 || res["governance"].Counts.Fetched == 0 {
		t.Fatalf("pass after live changes: %+v, %v", res, err)
	}
	generatedCases := len(sysA.City.CityCases) // grows with the live changes
	casesA := scalar(t, st, `SELECT count(*) FROM "case" WHERE source = 'citymgmt'`)

	// The systems are restored to their state before the live changes, on
	// the same addresses.
	govAddr, o311Addr := strings.TrimPrefix(sysA.GovURL, "http://"), strings.TrimPrefix(sysA.Open311URL, "http://")
	if err := sysA.Close(); err != nil {
		t.Fatal(err)
	}
	sysB, _ := startSystems(t, sim.Options{Seed: 3, Clock: city.NewManualClock(city.DefaultReference), GovAddr: govAddr, Open311Addr: o311Addr})
	if len(sysB.City.CityCases) >= generatedCases {
		t.Fatalf("the restored system holds %d cases, not fewer than the %d of the live one", len(sysB.City.CityCases), generatedCases)
	}
	vanished := generatedCases - len(sysB.City.CityCases)

	// The first pass detects the reset; its re-pull is cut short.
	cm.arm(3)
	res, err := e.Pass(ctx, cm, false)
	if err == nil || !res.Reset || !res.Repulled {
		t.Fatalf("pass over the restored Open311 system: %+v, %v; want a detected reset and a failed re-pull", res, err)
	}
	if why, ok := rd.reason("citymgmt"); !ok || !strings.Contains(why, "reset") {
		t.Fatalf("citymgmt readiness during the re-pull: %q, %v", why, ok)
	}
	src := sourceRow(t, st, "citymgmt")
	if !src.ResyncPending || src.ResetReason == nil || !strings.Contains(*src.ResetReason, "after_id") || src.ResetDetectedAt == nil {
		t.Fatalf("source after the detected reset: pending %v, reason %v", src.ResyncPending, src.ResetReason)
	}
	if n := scalar(t, st, `SELECT count(*) FROM "case" WHERE source = 'citymgmt'`); n != casesA {
		t.Fatalf("an interrupted re-pull changed the number of cases %d → %d: it must delete nothing", casesA, n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM sync_run WHERE id = $1 AND full_pull AND status = 'FAILED'`, res.RunID); n != 1 {
		t.Fatal("the run that detected the reset is not recorded as a failed full pull")
	}
	cm.disarm()

	// The engine runs: the owed re-pull starts again and completes, the
	// governance system's reset is detected and re-pulled in one pass.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.Run(runCtx) }()
	deadline := time.After(60 * time.Second)
	for {
		_, cmWaits := rd.reason("citymgmt")
		_, govWaits := rd.reason("governance")
		if !cmWaits && !govWaits && !sourceRow(t, st, "citymgmt").ResyncPending && !sourceRow(t, st, "governance").ResyncPending &&
			sourceRow(t, st, "governance").ResetDetectedAt != nil {
			break
		}
		select {
		case <-rd.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("sources not ready again after the reset: %v", rd.reasons)
		}
	}
	stop()
	<-done
	for _, name := range []string{"citymgmt", "governance"} {
		src := sourceRow(t, st, name)
		if src.Status != store.SourceOK || src.ResyncPending || src.ResetReason == nil {
			t.Fatalf("%s after recovery: status %s, pending %v, reason %v", name, src.Status, src.ResyncPending, src.ResetReason)
		}
		t.Logf("%s reset: %s", name, *src.ResetReason)
	}
	got := scalar(t, st, `SELECT count(*) FROM "case" WHERE source = 'citymgmt'`)
	if casesA-got != vanished {
		t.Fatalf("cases %d → %d after reconciling; the restored system lost %d", casesA, got, vanished)
	}
	checkLedger(t, st)

	// The store now holds what a store synced from the restored systems
	// alone holds.
	fresh := referenceStore(t, layer)
	gov2, cm2 := connectorsFor(sysB.GovURL, sysB.Open311URL)
	e2, err := syncer.New(fresh, []syncer.Source{{Connector: gov2}, {Connector: cm2}}, syncer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e2.SyncOnce(ctx, "", false); err != nil {
		t.Fatal(err)
	}
	if a, b := recordsFingerprint(t, st), recordsFingerprint(t, fresh); a != b {
		ra, rb := recordKeys(t, st), recordKeys(t, fresh)
		var only []string
		for k := range ra {
			if !rb[k] {
				only = append(only, "reconciled store only: "+k)
			}
		}
		for k := range rb {
			if !ra[k] {
				only = append(only, "fresh store only: "+k)
			}
		}
		if len(only) > 10 {
			only = only[:10]
		}
		t.Fatalf("after the reconciling re-pull the store differs from one synced from the restored systems alone: %v", only)
	}
}

func recordKeys(t *testing.T, st *store.Store) map[string]bool {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT t || ' ' || source || ' ' || source_id || ' ' || encode(payload_hash, 'hex')
		FROM (SELECT 'c' AS t, source, source_id, payload_hash FROM "case"
			UNION ALL SELECT 'r', source, source_id, payload_hash FROM resident
			UNION ALL SELECT 'h', source, source_id, payload_hash FROM household
			UNION ALL SELECT 'w', source, source_id, payload_hash FROM grid_worker) x`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range keys {
		out[k] = true
	}
	return out
}

func sourceRow(t *testing.T, st *store.Store, name string) *store.Source {
	t.Helper()
	list, err := st.SourcesByName(store.Unscoped(context.Background()), []string{name})
	if err != nil || len(list) != 1 || list[0] == nil {
		t.Fatalf("source %s: %v", name, err)
	}
	return list[0]
}

// recordsFingerprint digests the source records a store holds: ids and
// payload hashes.
func recordsFingerprint(t *testing.T, st *store.Store) string {
	t.Helper()
	var fp string
	if err := st.Pool().QueryRow(context.Background(), `SELECT coalesce(md5(string_agg(t || source || source_id || encode(payload_hash, 'hex'), ',' ORDER BY t, source, source_id)), '')
		FROM (SELECT 'c' AS t, source, source_id, payload_hash FROM "case"
			UNION ALL SELECT 'r', source, source_id, payload_hash FROM resident
			UNION ALL SELECT 'h', source, source_id, payload_hash FROM household
			UNION ALL SELECT 'w', source, source_id, payload_hash FROM grid_worker) x`).Scan(&fp); err != nil {
		t.Fatal(err)
	}
	return fp
}

// caseLog is a source of cases paged by position that refuses a position
// beyond its end, as a restored system refuses an id it no longer has;
// backfills, when set, makes it a backfilling channel of that source.
type caseLog struct {
	name, backfills string
	mu              sync.Mutex
	cases           []*canon.Case
	onPull          func() // called before each pull, when set
}

func (s *caseLog) Describe() connectors.Description {
	return connectors.Description{Name: s.name, Kind: canon.SourceOpen311, Streams: []string{"requests"},
		Backfills: s.backfills, History: s.backfills != ""}
}

func (s *caseLog) set(cases []change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cases = s.cases[:0]
	for _, c := range cases {
		s.cases = append(s.cases, c.c)
	}
}

func (s *caseLog) Pull(_ context.Context, req connectors.Request) (connectors.Batch, error) {
	if s.onPull != nil {
		s.onPull()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pos := 0
	if req.Cursor != "" {
		pos, _ = strconv.Atoi(req.Cursor)
	}
	if pos > len(s.cases) {
		return connectors.Batch{}, fmt.Errorf("position %d of %d: %w", pos, len(s.cases), connectors.ErrCursorRejected)
	}
	end := min(pos+req.Limit, len(s.cases))
	b := connectors.Batch{Fetched: end - pos, Next: strconv.Itoa(end), More: end < len(s.cases)}
	for _, c := range s.cases[pos:end] {
		b.Records = append(b.Records, c)
	}
	return b, nil
}

// TestReconcileGivesBackfilledHistoryBack: the complete re-pull of a reset
// live source deletes what it no longer holds, including cases only its
// backfilling export delivered; the export then reads everything again, so
// those come back, and the cases the live source lost stay gone.
func TestReconcileGivesBackfilledHistoryBack(t *testing.T) {
	ctx := context.Background()
	st, all, live, archive := liveAndArchive(t)
	archive.set(append(append([]change{}, all[:5]...), all[25:]...)) // five archive-only cases
	e := newCaseEngine(t, st, live, archive)
	if _, err := e.SyncOnce(ctx, "", false); err != nil {
		t.Fatal(err)
	}
	ids := func() int { return scalar(t, st, `SELECT count(*) FROM "case" WHERE source = 'citymgmt'`) }
	if n := ids(); n != 25 {
		t.Fatalf("%d cases after the first pass, want 25", n)
	}
	live.set(all[:15]) // restored: five live cases vanished
	res, err := e.Pass(ctx, live, false)
	if err != nil || !res.Reset || len(res.Reconciled[canon.RecordCase]) != 10 {
		t.Fatalf("pass over the restored source: %+v, %v; want a reset reconciling 10 cases", res, err)
	}
	if _, err := e.Pass(ctx, archive, false); err != nil {
		t.Fatal(err)
	}
	if n := ids(); n != 20 {
		t.Fatalf("%d cases after the export read again, want 15 live and 5 archive-only", n)
	}
	for _, c := range all[15:25] {
		if n := scalar(t, st, `SELECT count(*) FROM "case" WHERE source = 'citymgmt' AND source_id = $1`, c.c.SourceID); n != 0 {
			t.Fatalf("case %s, gone from the restored source, is back", c.c.SourceID)
		}
	}
	checkLedger(t, st)
}

// liveAndArchive is a store with the regions seeded, 30 city-management
// cases, a live source serving the first 20 of them and its backfilling
// export, serving none yet.
func liveAndArchive(t *testing.T) (st *store.Store, all []change, live, archive *caseLog) {
	t.Helper()
	st = dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	all = casesFor("citymgmt", 30, 0)
	live = &caseLog{name: "citymgmt"}
	live.set(all[:20])
	return st, all, live, &caseLog{name: "citymgmt-archive", backfills: "citymgmt"}
}

func newCaseEngine(t *testing.T, st *store.Store, sources ...*caseLog) *syncer.Engine {
	t.Helper()
	return newCaseEngineWith(t, st, syncer.Options{PageSize: 7, BatchSize: 1}, sources...)
}

// newCaseEngineWith is newCaseEngine with the engine's options.
func newCaseEngineWith(t *testing.T, st *store.Store, o syncer.Options, sources ...*caseLog) *syncer.Engine {
	t.Helper()
	var list []syncer.Source
	for _, s := range sources {
		list = append(list, syncer.Source{Connector: s, Interval: time.Hour})
	}
	e, err := syncer.New(st, list, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestBackfillWaitsForTheSourceItBackfills: in one sync of every source,
// the export starts once the live source's pass has ended, so it inserts
// only the history the live source does not serve (backfilling first
// wrote the cases both deliver twice).
func TestBackfillWaitsForTheSourceItBackfills(t *testing.T) {
	ctx := context.Background()
	st, all, live, archive := liveAndArchive(t)
	live.onPull = func() { time.Sleep(10 * time.Millisecond) }
	archive.set(append(append([]change{}, all[:5]...), all[25:]...)) // five archive-only cases
	var early atomic.Int32
	archive.onPull = func() {
		if scalar(t, st, `SELECT count(*) FROM sync_run WHERE source = 'citymgmt' AND finished_at IS NOT NULL`) == 0 {
			early.Add(1)
		}
	}
	e := newCaseEngine(t, st, live, archive)
	res, err := e.SyncOnce(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if n := early.Load(); n > 0 {
		t.Fatalf("the export pulled %d times before the live source's pass ended", n)
	}
	if c := res["citymgmt-archive"].Counts; c.Stored-c.Unchanged != 5 || c.Unchanged != 5 {
		t.Fatalf("export: %d written, %d unchanged; want its 5 archive-only cases written and the 5 the live source serves left", c.Stored-c.Unchanged, c.Unchanged)
	}
	if n := scalar(t, st, `SELECT count(*) FROM "case" WHERE source = 'citymgmt'`); n != 25 {
		t.Fatalf("%d cases, want 25", n)
	}
	// One source alone runs at once, whichever it is.
	if _, err := e.SyncOnce(ctx, "citymgmt-archive", false); err != nil {
		t.Fatal(err)
	}
}

// TestBackfillPreparedAfterALoad: a live source's first pass that wrote
// PrepareBackfillAbove records or more has the store vacuum "case" before
// the backfill's pass, so that its probes of the cases held read the index
// alone (store.Store.PrepareBackfill); after a smaller pass it does not.
// Either way the backfill writes what it did.
func TestBackfillPreparedAfterALoad(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		above    int
		vacuumed int
	}{{20, 1}, {21, 0}} {
		st, all, live, archive := liveAndArchive(t)
		archive.set(all[:25])
		e := newCaseEngineWith(t, st, syncer.Options{PageSize: 7, BatchSize: 1, PrepareBackfillAbove: tc.above}, live, archive)
		res, err := e.SyncOnce(ctx, "", false)
		if err != nil {
			t.Fatal(err)
		}
		if n := scalar(t, st, `SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = '"case"'::regclass`); n != tc.vacuumed {
			t.Errorf("a live pass of 20 records, preparing from %d: \"case\" vacuumed %d times, want %d", tc.above, n, tc.vacuumed)
		}
		if c := res["citymgmt-archive"].Counts; c.Stored-c.Unchanged != 5 || c.Unchanged != 20 {
			t.Errorf("export: %d written, %d unchanged; want 5 and 20", c.Stored-c.Unchanged, c.Unchanged)
		}
	}
}
