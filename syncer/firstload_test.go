package syncer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
	"github.com/ywtg/hub/syncer"
)

// caseIndexCount counts the indexes "case" has now.
func caseIndexCount(t *testing.T, st *store.Store) int {
	t.Helper()
	return scalar(t, st, `SELECT count(*) FROM pg_indexes WHERE tablename = 'case'`)
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A first load writes "case" with only its keys (and the incident's), and
// the engine builds the other indexes once every source's first pass has
// ended — a source that fails, or one that loads quickly and passes again
// and again, does not end the load of another early. It says so once
// (Loaded), for the work that reads the whole store after passes.
func TestFirstLoadBuildsTheDeferredIndexesWhenEveryFirstPassHasEnded(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	whole := caseIndexCount(t, st)
	gate := make(chan struct{})
	loading := &listSource{name: "citymgmt", gate: gate}
	loading.add(casesFor("citymgmt", 30, 0)...)
	down := &listSource{name: "party", fail: fmt.Errorf("connection refused")}
	quick := &listSource{name: "governance"}
	quick.add(casesFor("governance", 5, 0)...)
	var mu sync.Mutex
	var loaded int
	readyBefore := map[string]int{} // passes that succeeded before Loaded
	e, err := syncer.New(st, []syncer.Source{{Connector: loading, Interval: time.Hour}, {Connector: down, Interval: 10 * time.Millisecond},
		{Connector: quick, Interval: 10 * time.Millisecond}},
		syncer.Options{DownAfter: 2, MaxBackoff: 20 * time.Millisecond,
			Ready: func(name string) {
				mu.Lock()
				defer mu.Unlock()
				if loaded == 0 {
					readyBefore[name]++
				}
			},
			Loaded: func() {
				mu.Lock()
				defer mu.Unlock()
				loaded++
			}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	go func() {
		defer close(done)
		e.Run(ctx)
	}()

	waitFor(t, "the failing source's first pass", func() bool {
		return scalar(t, st, `SELECT count(*) FROM source WHERE name = 'party' AND consecutive_failures >= 1`) == 1
	})
	if n := caseIndexCount(t, st); n != 3 {
		t.Fatalf("case has %d indexes while a first pass still loads, want its 2 keys and the incident's", n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM deferred_index WHERE table_name = 'case'`); n != whole-3 {
		t.Fatalf("%d index definitions of case kept, want %d", n, whole-3)
	}
	waitFor(t, "the quick source's passes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return readyBefore["governance"] >= 3
	})
	mu.Lock()
	if loaded != 0 {
		t.Errorf("Loaded told while a first pass still loads")
	}
	mu.Unlock()

	close(gate)
	waitFor(t, "the deferred indexes", func() bool {
		return caseIndexCount(t, st) == whole && scalar(t, st, `SELECT count(*) FROM deferred_index`) == 0
	})
	if n := scalar(t, st, `SELECT count(*) FROM "case"`); n != 35 {
		t.Fatalf("%d cases loaded, want 35", n)
	}
	passes := func() int { return scalar(t, st, `SELECT count(*) FROM sync_run WHERE source = 'governance'`) }
	after := passes()
	waitFor(t, "more passes", func() bool { return passes() >= after+3 })
	mu.Lock()
	defer mu.Unlock()
	if loaded != 1 {
		t.Fatalf("Loaded told %d times, want once", loaded)
	}
}

// SyncOnce (hub sync) defers and builds alike, within its pass; a store
// that holds cases keeps its indexes.
func TestSyncOnceBuildsTheIndexesItDeferred(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	whole := caseIndexCount(t, st)
	gate := make(chan struct{})
	src := &listSource{name: "citymgmt", gate: gate}
	src.add(casesFor("citymgmt", 20, 0)...)
	e := newEngine(t, st, 10, src)
	errc := make(chan error, 1)
	go func() {
		_, err := e.SyncOnce(ctx, "", false)
		errc <- err
	}()
	waitFor(t, "the indexes deferred", func() bool { return caseIndexCount(t, st) == 3 })
	close(gate)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n := caseIndexCount(t, st); n != whole {
		t.Fatalf("case has %d indexes after the pass, want %d", n, whole)
	}

	src.mu.Lock()
	src.gate = make(chan struct{})
	src.mu.Unlock()
	src.add(casesFor("citymgmt", 5, 20)...)
	go func() {
		_, err := e.SyncOnce(ctx, "", false)
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond) // the pass waits on its source
	if n := caseIndexCount(t, st); n != whole {
		t.Fatalf("case has %d indexes while a pass adds to it, want %d", n, whole)
	}
	close(src.gate)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, st, `SELECT count(*) FROM "case"`); n != 25 {
		t.Fatalf("%d cases, want 25", n)
	}
}

// SyncPasses (what hub sync runs) leaves the indexes a first load
// deferred to the caller: the cases are loaded without them, and
// BuildDeferred builds them, once; it returns at once with none deferred.
func TestSyncPassesLeaveTheBuildToTheCaller(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	whole := caseIndexCount(t, st)
	src := &listSource{name: "citymgmt"}
	src.add(casesFor("citymgmt", 20, 0)...)
	e := newEngine(t, st, 10, src)
	res, err := e.SyncPasses(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := res["citymgmt"].Counts.Stored; got != 20 {
		t.Fatalf("%d cases stored, want 20", got)
	}
	if n := caseIndexCount(t, st); n != 3 {
		t.Fatalf("case has %d indexes after the passes, want the 3 a load keeps", n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM deferred_index`); n != whole-3 {
		t.Fatalf("%d definitions kept, want %d", n, whole-3)
	}
	if err := e.BuildDeferred(ctx); err != nil {
		t.Fatal(err)
	}
	if n := caseIndexCount(t, st); n != whole {
		t.Fatalf("case has %d indexes after BuildDeferred, want %d", n, whole)
	}
	if n := scalar(t, st, `SELECT count(*) FROM deferred_index`); n != 0 {
		t.Fatalf("%d definitions left after the build", n)
	}
	if err := e.BuildDeferred(ctx); err != nil {
		t.Fatalf("BuildDeferred with none deferred: %v", err)
	}
	if _, err := e.SyncPasses(ctx, "nope", false); canon.ErrorCode(err) != canon.NotFound {
		t.Fatalf("SyncPasses of an unknown source: %v, want not found", err)
	}
}
