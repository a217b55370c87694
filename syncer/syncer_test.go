package syncer_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
	"github.com/ywtg/hub/syncer"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// listSource is a source system held in memory: an append-only change log
// of cases, paged by position. It plays the source, not the database.
type listSource struct {
	name string
	mu   sync.Mutex
	log  []change
	fail error         // returned by Pull while set
	gate chan struct{} // when set, Pull waits on it
}

type change struct {
	c       *canon.Case
	deleted string
	bad     string
}

func (s *listSource) Describe() connectors.Description {
	return connectors.Description{Name: s.name, Kind: canon.SourceOpen311, Streams: []string{"requests"}}
}

func (s *listSource) add(ch ...change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, ch...)
}

func (s *listSource) Pull(ctx context.Context, req connectors.Request) (connectors.Batch, error) {
	s.mu.Lock()
	gate, fail := s.gate, s.fail
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return connectors.Batch{}, ctx.Err()
		}
	}
	if fail != nil {
		return connectors.Batch{}, fail
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pos := 0
	if req.Cursor != "" {
		pos, _ = strconv.Atoi(req.Cursor)
	}
	end := min(pos+req.Limit, len(s.log))
	var b connectors.Batch
	for _, ch := range s.log[pos:end] {
		switch {
		case ch.c != nil:
			b.Records = append(b.Records, ch.c)
		case ch.deleted != "":
			b.Tombstones = append(b.Tombstones, connectors.Tombstone{Type: canon.RecordCase, SourceID: ch.deleted})
		default:
			b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: req.Stream, SourceID: ch.bad,
				Reason: "UNKNOWN_CODE", Field: "service_code", Message: "unknown service code 999999", Raw: []byte(`{"id":"` + ch.bad + `"}`)})
		}
	}
	b.Fetched = end - pos
	b.Next = strconv.Itoa(end)
	b.More = end < len(s.log)
	return b, nil
}

func casesFor(source string, n, from int) []change {
	out := make([]change, n)
	for i, c := range storetest.MakeCases(from + n)[from:] {
		c.Source = source
		out[i] = change{c: &c}
	}
	return out
}

func newEngine(t *testing.T, st *store.Store, pageSize int, sources ...*listSource) *syncer.Engine {
	t.Helper()
	var list []syncer.Source
	for _, s := range sources {
		list = append(list, syncer.Source{Connector: s, Interval: 20 * time.Millisecond})
	}
	e, err := syncer.New(st, list, syncer.Options{PageSize: pageSize, BatchSize: 1, DownAfter: 3, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func scalar(t *testing.T, st *store.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// checkLedger asserts fetched = stored + quarantined for every finished run
// and for the source totals.
func checkLedger(t *testing.T, st *store.Store) {
	t.Helper()
	if n := scalar(t, st, `SELECT count(*) FROM sync_run WHERE finished_at IS NOT NULL AND fetched <> stored + quarantined`); n != 0 {
		t.Fatalf("%d runs break fetched = stored + quarantined", n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM source WHERE records_fetched <> records_stored + records_quarantined`); n != 0 {
		t.Fatalf("%d sources break fetched = stored + quarantined", n)
	}
}

func TestIncrementalSyncWithQuarantineAndTombstones(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	src := &listSource{name: "citymgmt"}
	src.add(casesFor("citymgmt", 250, 0)...)
	src.add(change{bad: "BAD1"}, change{bad: "BAD2"})
	e := newEngine(t, st, 100, src)

	res, err := e.SyncOnce(ctx, "citymgmt", false)
	if err != nil {
		t.Fatal(err)
	}
	r := res["citymgmt"]
	if r.Counts.Fetched != 252 || r.Counts.Stored != 250 || r.Counts.Quarantined != 2 || r.Status != store.SourceOK {
		t.Fatalf("first pass = %+v", r)
	}
	if n := scalar(t, st, `SELECT count(*) FROM "case"`); n != 250 {
		t.Fatalf("%d cases stored", n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM quarantine WHERE reason = 'UNKNOWN_CODE' AND field = 'service_code'`); n != 2 {
		t.Fatalf("%d quarantine entries", n)
	}

	// Nothing new: the next pass reads nothing.
	res, err = e.SyncOnce(ctx, "", false)
	if err != nil || res["citymgmt"].Counts.Fetched != 0 {
		t.Fatalf("idle pass = %+v, %v", res, err)
	}

	// Live changes: an update, a new case, a deletion.
	upd := casesFor("citymgmt", 1, 5)[0]
	upd.c.Title, upd.c.PayloadHash = "已处置", []byte("v2")
	src.add(upd, casesFor("citymgmt", 1, 300)[0], change{deleted: "C00007"})
	res, err = e.SyncOnce(ctx, "citymgmt", false)
	if err != nil {
		t.Fatal(err)
	}
	if c := res["citymgmt"].Counts; c.Fetched != 3 || c.Stored != 3 || c.Deleted != 1 || c.Unchanged != 0 {
		t.Fatalf("incremental pass = %+v", c)
	}
	if n := scalar(t, st, `SELECT count(*) FROM "case"`); n != 250 {
		t.Fatalf("%d cases after +1 -1", n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM "case" WHERE source_id = 'C00005' AND title = '已处置'`); n != 1 {
		t.Fatal("update not applied")
	}

	// A full re-pull rewrites nothing that did not change.
	res, err = e.SyncOnce(ctx, "citymgmt", true)
	if err != nil {
		t.Fatal(err)
	}
	// The log replays: C00005's old version and C00007 are rewritten, then
	// the update and the deletion apply again.
	if c := res["citymgmt"].Counts; c.Fetched != 255 || c.Stored != 253 || c.Unchanged != 249 || c.Deleted != 1 {
		t.Fatalf("full pass = %+v", c)
	}
	checkLedger(t, st)

	if _, err := e.SyncOnce(ctx, "nope", false); canon.ErrorCode(err) != canon.NotFound {
		t.Fatalf("unknown source: %v", err)
	}
}

func TestFailingSourceDegradesThenDownWhileOthersSync(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	bad := &listSource{name: "governance", fail: canon.Errorf(canon.SourceUnavailable, "governance API unreachable after 5 attempts")}
	good := &listSource{name: "citymgmt"}
	good.add(casesFor("citymgmt", 10, 0)...)
	e := newEngine(t, st, 100, bad, good)

	want := []store.SourceStatus{store.SourceDegraded, store.SourceDegraded, store.SourceDown}
	for i, w := range want {
		res, err := e.SyncOnce(ctx, "", false)
		if err == nil || res["governance"].Status != w {
			t.Fatalf("pass %d: governance %v (%v), want %s", i, res["governance"].Status, err, w)
		}
		if res["citymgmt"].Status != store.SourceOK {
			t.Fatalf("pass %d: citymgmt %s", i, res["citymgmt"].Status)
		}
	}
	var lastErr string
	if err := st.Pool().QueryRow(ctx, `SELECT last_error FROM source WHERE name = 'governance'`).Scan(&lastErr); err != nil || lastErr == "" {
		t.Fatalf("last_error = %q, %v", lastErr, err)
	}
	// Recovery catches up and clears the error.
	bad.mu.Lock()
	bad.fail = nil
	bad.mu.Unlock()
	bad.add(casesFor("governance", 5, 0)...)
	res, err := e.SyncOnce(ctx, "governance", false)
	if err != nil || res["governance"].Status != store.SourceOK || res["governance"].Counts.Stored != 5 {
		t.Fatalf("recovery = %+v, %v", res, err)
	}
	checkLedger(t, st)
}

// TestOneReplicaPerSource runs two engines on one database: while one holds
// a source, the other is refused it; once the holder is gone the other
// takes over.
func TestOneReplicaPerSource(t *testing.T) {
	ctx := context.Background()
	dsn := dbtest.NewDSN(t)
	open := func() *store.Store {
		st, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		return st
	}
	stA, stB := open(), open()
	storetest.SeedRegions(t, stA)
	src := &listSource{name: "citymgmt", gate: make(chan struct{})}
	src.add(casesFor("citymgmt", 20, 0)...)
	a, b := newEngine(t, stA, 100, src), newEngine(t, stB, 100, src)
	if err := a.Register(ctx); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { _, err := a.Pass(ctx, src, false); done <- err }()
	// Wait until A holds the lock (its run is RUNNING).
	deadline := time.Now().Add(10 * time.Second)
	for scalar(t, stB, `SELECT count(*) FROM sync_run WHERE status = 'RUNNING'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("engine A never started its run")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := b.Pass(ctx, src, false); !errors.Is(err, syncer.ErrLocked) {
		t.Fatalf("B while A syncs: %v, want ErrLocked", err)
	}
	// A's process dies: its connections drop and PostgreSQL frees the lock.
	if n := scalar(t, stB, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); n != 1 {
		t.Fatalf("terminated %d lock holders, want 1", n)
	}
	close(src.gate)
	if err := <-done; err == nil {
		t.Fatal("A committed after losing its lock")
	}
	// pg_terminate_backend only signals: the lock is free once the
	// backend has exited, which A's error may precede on a loaded machine.
	for deadline := time.Now().Add(10 * time.Second); scalar(t, stB, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`) != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("A's lock was not freed 10 s after its backend was terminated")
		}
	}
	res, err := b.Pass(ctx, src, false)
	if err != nil || res.Counts.Stored != 20 {
		t.Fatalf("B after A died = %+v, %v", res, err)
	}
	if n := scalar(t, stB, `SELECT count(*) FROM sync_run WHERE status = 'ABORTED'`); n != 1 {
		t.Fatalf("A's interrupted run should be ABORTED, found %d", n)
	}
	checkLedger(t, stB)
}

// TestRunMarksSourcesReady: a source is ready once a pass succeeds, not
// ready while DOWN, and ready again once it recovers.
func TestRunMarksSourcesReady(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	good := &listSource{name: "citymgmt"}
	good.add(casesFor("citymgmt", 3, 0)...)
	down := &listSource{name: "party", fail: fmt.Errorf("connection refused")}
	ready, notReady := make(chan string, 100), make(chan string, 100)
	e, err := syncer.New(st, []syncer.Source{{Connector: good, Interval: time.Hour}, {Connector: down, Interval: 10 * time.Millisecond}},
		syncer.Options{DownAfter: 2, MaxBackoff: 20 * time.Millisecond, Ready: func(s string) { ready <- s },
			NotReady: func(s, why string) { notReady <- s + ": " + why }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Run(ctx)
	select {
	case s := <-ready:
		if s != "citymgmt" {
			t.Fatalf("%s reported ready", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the synced source never reported ready")
	}
	select {
	case why := <-notReady:
		if !strings.HasPrefix(why, "party: source DOWN") {
			t.Fatalf("not ready: %s", why)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the failing source was never reported not ready")
	}
	// (Its status may be SYNCING again by now: the next attempt runs.)
	if n := scalar(t, st, `SELECT count(*) FROM source WHERE name = 'party' AND consecutive_failures >= 2`); n != 1 {
		t.Fatal("failing source should have failed DownAfter times when it reports not ready")
	}
	// A DOWN source is never ready; it is once it syncs again.
	select {
	case s := <-ready:
		if s == "party" {
			t.Fatal("a DOWN source reported ready")
		}
	case <-time.After(100 * time.Millisecond):
	}
	down.mu.Lock()
	down.fail = nil
	down.mu.Unlock()
	for recovered := false; !recovered; {
		select {
		case s := <-ready:
			recovered = s == "party"
		case <-time.After(10 * time.Second):
			t.Fatal("the recovered source never reported ready")
		}
	}
}

// A batch that PostgreSQL rolls back as a deadlock's victim (the hub's
// resolution passes update persons and cases beside the sync) is written
// again, and the pass succeeds with every record stored once. The database
// itself refuses the first write of cases here, with the deadlock's code.
func TestBatchRolledBackByADeadlockIsWrittenAgain(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	dbtest.RefuseFirstWrite(t, st, `"case"`, "INSERT")
	src := &listSource{name: "citymgmt"}
	src.add(casesFor("citymgmt", 20, 0)...)
	e := newEngine(t, st, 100, src)
	if err := e.Register(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := e.Pass(ctx, src, false)
	if err != nil || res.Counts.Stored != 20 {
		t.Fatalf("pass after a deadlock = %+v, %v", res, err)
	}
	if n := scalar(t, st, `SELECT count(*) FROM "case"`); n != 20 {
		t.Fatalf("%d cases stored, want 20", n)
	}
	if n := dbtest.WritesSeen(t, st, `"case"`, "INSERT"); n < 2 {
		t.Fatalf("the cases were written %d times: the refusal never happened", n)
	}
	checkLedger(t, st)
}
