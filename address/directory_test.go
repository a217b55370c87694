package address_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
)

// reference is an in-memory address.Source whose content and version the
// test changes.
type reference struct {
	mu      sync.Mutex
	version string
	ref     address.Reference
	fail    error
	loads   atomic.Int32
}

func (r *reference) AddressVersion(context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version, r.fail
}

func (r *reference) AddressReference(context.Context) (address.Reference, error) {
	r.loads.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ref, r.fail
}

func (r *reference) set(version string, compounds ...address.Compound) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.version = version
	r.ref = address.Reference{Regions: []address.Region{
		{Code: "420606", Name: "樊城区", Level: canon.LevelDistrict},
		{Code: "420606001", Name: "汉江街道", Level: canon.LevelStreet, ParentCode: "420606"},
		{Code: "420606001001", Name: "长虹社区", Level: canon.LevelCommunity, ParentCode: "420606001"},
		{Code: "420606001001001", Name: "第一网格", Level: canon.LevelGrid, ParentCode: "420606001001"},
	}, Compounds: compounds}
}

func compoundOf(t *testing.T, d *address.Directory, raw string) string {
	t.Helper()
	g, err := d.Gazetteer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return g.Match(address.Parse(raw)).CompoundID
}

// eventually polls until f holds or a few seconds passed.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("%s: not within 5 s", what)
}

func TestDirectoryFollowsTheReference(t *testing.T) {
	src := &reference{}
	src.set("v1", address.Compound{ID: "1", Name: "幸福小区", GridCode: "420606001001001"})
	d := address.NewDirectory(src, 20*time.Millisecond, nil)

	if got := compoundOf(t, d, "幸福小区3栋"); got != "1" {
		t.Fatalf("compound %q, want 1", got)
	}
	if compoundOf(t, d, "铁路新村1栋") != "" {
		t.Fatal("unknown compound matched")
	}

	// Unchanged version: no reload, however often it is checked.
	time.Sleep(30 * time.Millisecond)
	compoundOf(t, d, "幸福小区")
	time.Sleep(30 * time.Millisecond)
	compoundOf(t, d, "幸福小区")
	if n := src.loads.Load(); n != 1 {
		t.Fatalf("%d loads of an unchanged reference, want 1", n)
	}

	// A new compound arrives: a stale directory still answers at once with
	// the old gazetteer and picks the new one up in the background.
	src.set("v2", address.Compound{ID: "1", Name: "幸福小区", GridCode: "420606001001001"},
		address.Compound{ID: "2", Name: "铁路新村", GridCode: "420606001001001"})
	eventually(t, "new compound matched", func() bool { return compoundOf(t, d, "铁路新村1栋") == "2" })

	// A failing source keeps the last good gazetteer in use.
	src.mu.Lock()
	src.fail = errors.New("database down")
	src.mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	for range 3 {
		if got := compoundOf(t, d, "铁路新村"); got != "2" {
			t.Fatalf("compound %q after a failed refresh, want the last good match 2", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDirectoryFirstLoadFailsClearly(t *testing.T) {
	src := &reference{fail: errors.New("database down")}
	d := address.NewDirectory(src, time.Minute, nil)
	if _, err := d.Gazetteer(context.Background()); err == nil {
		t.Fatal("no error without a reference")
	}
	src.mu.Lock()
	src.fail = nil
	src.mu.Unlock()
	src.set("v1")
	// The failure is not cached: the next call loads.
	if _, err := d.Gazetteer(context.Background()); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestDirectoryLoadsOnceForConcurrentFirstCalls(t *testing.T) {
	src := &reference{}
	src.set("v1")
	d := address.NewDirectory(src, time.Minute, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Gazetteer(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := src.loads.Load(); n != 1 {
		t.Fatalf("%d loads for concurrent first calls, want 1", n)
	}
}

func TestDirectoryCurrentNeverWaits(t *testing.T) {
	var none *address.Directory
	if none.Current() != nil {
		t.Fatal("a nil directory has a gazetteer")
	}
	src := &reference{}
	src.set("v1", address.Compound{ID: "1", Name: "幸福小区", GridCode: "420606001001001"})
	d := address.NewDirectory(src, time.Minute, nil)
	// The first call starts the build and answers nil; a later one has it.
	d.Current()
	eventually(t, "first build", func() bool { return d.Current() != nil })
	if m := d.Current().Match(address.Parse("幸福小区1栋")); m.GridCode != "420606001001001" {
		t.Fatalf("match %+v", m)
	}
	if n := src.loads.Load(); n != 1 {
		t.Fatalf("%d loads, want 1", n)
	}
}

// Synced data may name one building twice (3 and 3栋, from two sources):
// the directory keeps the first and builds its gazetteer anyway.
func TestDirectoryKeepsTheFirstOfBuildingsNumberedAlike(t *testing.T) {
	src := &reference{}
	src.set("v1", address.Compound{ID: "1", Name: "幸福小区", GridCode: "420606001001001", Buildings: []address.Building{
		{ID: "10", Number: "3"}, {ID: "11", Number: "3栋"}, {ID: "12", Number: "三号楼"}, {ID: "13", Number: "4"},
	}})
	d := address.NewDirectory(src, time.Minute, nil)
	g, err := d.Gazetteer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]string{"幸福小区3栋2单元": "10", "幸福小区三幢": "10", "幸福小区4号楼": "13"} {
		if got := g.Match(address.Parse(raw)).BuildingID; got != want {
			t.Errorf("%s: building %q, want %q", raw, got, want)
		}
	}
}

// TestRefreshAndFollow: without a TTL the directory does not look for
// changes by itself; Refresh makes it current at once, and Follow rebuilds
// after the change generation moved (and only then: an unchanged
// generation costs no version query), or every poll while it is unknown.
func TestRefreshAndFollow(t *testing.T) {
	ref := &reference{}
	ref.set("1", address.Compound{ID: "C1", Name: "幸福小区", GridCode: "420606001001001"})
	d := address.NewDirectory(ref, 0, nil)
	if got := compoundOf(t, d, "幸福小区1栋"); got != "C1" {
		t.Fatalf("first build: %q", got)
	}
	ref.set("2", address.Compound{ID: "C1", Name: "幸福小区", GridCode: "420606001001001"},
		address.Compound{ID: "C2", Name: "金色佳苑", GridCode: "420606001001001"})
	time.Sleep(20 * time.Millisecond)
	if got := compoundOf(t, d, "金色佳苑1栋"); got != "" {
		t.Fatalf("without a TTL the directory refreshed by itself: %q", got)
	}
	if _, err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := compoundOf(t, d, "金色佳苑1栋"); got != "C2" {
		t.Fatalf("after Refresh: %q", got)
	}

	var gen atomic.Uint64
	var live atomic.Bool
	live.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var polls atomic.Int64
	go d.Follow(ctx, func() (uint64, bool) { polls.Add(1); return gen.Load(), live.Load() }, 5*time.Millisecond)
	// The first poll records the generation: once a second one has
	// begun, the first is done (counted by polls, not by sleeping, which
	// a loaded machine may outlast).
	eventually(t, "the first poll", func() bool { return polls.Load() >= 2 })
	loads := ref.loads.Load()
	ref.set("3", address.Compound{ID: "C3", Name: "翡翠华庭", GridCode: "420606001001001"})
	seen := polls.Load()
	eventually(t, "two more polls", func() bool { return polls.Load() >= seen+2 })
	if got := compoundOf(t, d, "翡翠华庭1栋"); got != "" || ref.loads.Load() != loads {
		t.Fatalf("rebuilt although the generation did not move: %q, %d loads", got, ref.loads.Load()-loads)
	}
	gen.Add(1)
	eventually(t, "the change is seen", func() bool { return compoundOf(t, d, "翡翠华庭1栋") == "C3" })

	live.Store(false)
	ref.set("4", address.Compound{ID: "C4", Name: "阳光雅苑", GridCode: "420606001001001"})
	eventually(t, "polled while the generation is unknown", func() bool { return compoundOf(t, d, "阳光雅苑1栋") == "C4" })
}
