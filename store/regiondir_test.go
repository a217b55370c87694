package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// regionKeys names regions with their fields but the boundary ("-" for
// nil), for comparing answers.
func regionKeys(list []*store.Region) string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = "-"
		if r != nil {
			out[i] = fmt.Sprintf("%s#%d %s %s %v %v %v %v %s", r.Code, r.ID, r.Name, r.Level, r.Path, deref(r.ParentID),
				deref(r.CentroidLat), deref(r.CentroidLng), r.UpdatedAt)
		}
	}
	return fmt.Sprint(out)
}

func pageKeys(p store.Page[*store.Region]) string {
	return fmt.Sprint(regionKeys(p.Nodes()), p.PageInfo.HasNextPage, p.PageInfo.End)
}

// TestRegionDirectoryAnswersAsTheStatements reads the region layer through
// a directory that holds it in memory and through the store's statements,
// in every scope (city-wide, a community, a grid, an unknown region): by
// id, by code, listed by level and parent page by page, children and
// counts give the same answers, and the memory side runs no statement.
func TestRegionDirectoryAnswersAsTheStatements(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	// Grids enough that a grid's path extends another's as a string
	// ("1.2.3.5.9" and "1.2.3.5.91"), which a scope must not confuse.
	var more []canon.Region
	for i := range 100 {
		more = append(more, canon.Region{Code: fmt.Sprintf("420606001001%03d", 100+i), Name: "网格", Level: canon.LevelGrid, ParentCode: "420606001001"})
	}
	if err := st.InTx(context.Background(), func(w *store.Writer) error { return w.UpsertRegions(context.Background(), more) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := st.WatchChanges(ctx)
	<-changes.Listening()
	dir := st.NewRegionDirectory(changes)

	all, err := st.Regions(store.Unscoped(ctx), store.RegionQuery{Page: store.PageArgs{First: ptr(500)}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	var codes []string
	for _, r := range all.Nodes() {
		ids, codes = append(ids, r.ID), append(codes, r.Code)
	}
	if len(ids) != 109 {
		t.Fatalf("%d regions seeded, want 109", len(ids))
	}
	ids, codes = append(ids, 1<<40), append(codes, "999999")
	levels := append([]*canon.RegionLevel{nil}, func() (out []*canon.RegionLevel) {
		for _, l := range canon.RegionLevels {
			out = append(out, &l)
		}
		return out
	}()...)

	// Warm the directory, then count what the memory side runs.
	if _, err := dir.ByID(store.Unscoped(ctx), ids[:1]); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []string{"", "420600", "420606001001", "420606001001001", "420606001001002", "420606001002002", "999"} {
		t.Run("scope="+scope, func(t *testing.T) {
			sqlCtx := store.WithScope(ctx, store.Scope{RegionCode: scope})
			memCtx, counter := store.WithStatementCounter(sqlCtx)
			byID, err := dir.ByID(memCtx, ids)
			want, err2 := st.RegionsByID(sqlCtx, ids)
			same(t, "ByID", err, err2, regionKeys(byID), regionKeys(want))
			byCode, err := dir.ByCode(memCtx, codes)
			want, err2 = st.RegionsByCode(sqlCtx, codes)
			same(t, "ByCode", err, err2, regionKeys(byCode), regionKeys(want))
			for _, code := range codes {
				one, err := dir.ByCodeOne(memCtx, code)
				wantOne, err2 := st.RegionByCode(sqlCtx, code)
				if canon.ErrorCode(err) != canon.ErrorCode(err2) || regionKeys([]*store.Region{one}) != regionKeys([]*store.Region{wantOne}) {
					t.Errorf("ByCodeOne(%s): %v %v, statement %v %v", code, one, err, wantOne, err2)
				}
			}
			parents := append([]*int64{nil}, func() (out []*int64) {
				for i := range ids {
					out = append(out, &ids[i])
				}
				return out
			}()...)
			for _, level := range levels {
				for _, parent := range parents {
					q := store.RegionQuery{Level: level, ParentID: parent, Page: store.PageArgs{First: ptr(7)}}
					name := fmt.Sprintf("List(level %v, parent %v)", deref(level), deref(parent))
					// Walk every page with the memory side's cursors,
					// each page read by both.
					for range 20 {
						got, err := dir.List(memCtx, q)
						want, err2 := st.Regions(sqlCtx, q)
						same(t, name, err, err2, pageKeys(got), pageKeys(want))
						n, err := dir.Count(memCtx, q)
						wantN, err2 := st.CountRegions(sqlCtx, q)
						same(t, name+" count", err, err2, n, wantN)
						if !got.PageInfo.HasNextPage {
							break
						}
						q.Page.After = got.PageInfo.End
					}
				}
			}
			for _, first := range []int{0, 1, 3} {
				got, err := dir.Children(memCtx, ids, store.PageArgs{First: ptr(first)})
				want, err2 := st.RegionChildren(sqlCtx, ids, store.PageArgs{First: ptr(first)})
				if err != nil || err2 != nil || len(got) != len(want) {
					t.Fatalf("Children: %v %v, %d pages against %d", err, err2, len(got), len(want))
				}
				for i := range got {
					same(t, fmt.Sprintf("Children(%d, first %d)", ids[i], first), nil, nil, pageKeys(got[i]), pageKeys(want[i]))
				}
			}
			if n := counter.Count(); n != 0 {
				t.Errorf("the directory ran %d statements while current: %v", n, counter.Statements())
			}
		})
	}
}

// TestRegionDirectoryFailsClosedAndFollowsChanges: a read without an access
// value is refused on the memory side as by the statements; a region
// written is seen once its notification has arrived; and a write to the
// data, not to a reference table, leaves the held regions (and their
// generation) alone.
func TestRegionDirectoryFailsClosedAndFollowsChanges(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := st.WatchChanges(ctx)
	<-changes.Listening()
	for name, dir := range map[string]*store.RegionDirectory{"memory": st.NewRegionDirectory(changes), "statements": st.NewRegionDirectory(nil)} {
		if _, err := dir.ByID(store.Unscoped(ctx), []int64{1}); err != nil {
			t.Fatal(err)
		}
		reads := map[string]func(context.Context) error{
			"ByID":      func(ctx context.Context) error { _, err := dir.ByID(ctx, []int64{1}); return err },
			"ByCode":    func(ctx context.Context) error { _, err := dir.ByCode(ctx, []string{"420600"}); return err },
			"ByCodeOne": func(ctx context.Context) error { _, err := dir.ByCodeOne(ctx, "420600"); return err },
			"List":      func(ctx context.Context) error { _, err := dir.List(ctx, store.RegionQuery{}); return err },
			"Children":  func(ctx context.Context) error { _, err := dir.Children(ctx, []int64{1}, store.PageArgs{}); return err },
			"Count":     func(ctx context.Context) error { _, err := dir.Count(ctx, store.RegionQuery{}); return err },
		}
		for read, call := range reads {
			if err := call(ctx); !errors.Is(err, store.ErrNoScope) {
				t.Errorf("%s %s without an access value: %v, want ErrNoScope", name, read, err)
			}
		}
	}

	dir := st.NewRegionDirectory(changes)
	unscoped := store.Unscoped(ctx)
	if _, err := dir.ByCodeOne(unscoped, "420606001001003"); canon.ErrorCode(err) != canon.NotFound {
		t.Fatalf("an unwritten grid: %v, want NotFound", err)
	}
	refGen, _ := changes.ReferenceCurrent()
	gen, _ := changes.Current()
	if err := st.InTx(ctx, func(w *store.Writer) error {
		_, err := w.UpsertCases(ctx, storetest.MakeCases(1))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the case's notification", func() bool { g, _ := changes.Current(); return g > gen })
	if g, _ := changes.ReferenceCurrent(); g != refGen {
		t.Errorf("a case written moved the reference generation from %d to %d", refGen, g)
	}
	if err := st.InTx(ctx, func(w *store.Writer) error {
		return w.UpsertRegions(ctx, []canon.Region{{Code: "420606001001003", Name: "第三网格", Level: canon.LevelGrid, ParentCode: "420606001001"}})
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new grid", func() bool {
		r, err := dir.ByCodeOne(unscoped, "420606001001003")
		return err == nil && r.Name == "第三网格"
	})
	community, err := dir.ByCodeOne(unscoped, "420606001001")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := dir.Count(unscoped, store.RegionQuery{ParentID: &community.ID}); err != nil || n != 3 {
		t.Errorf("the community's grids after the write: %d, %v; want 3", n, err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not arrive in 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func same[T comparable](t *testing.T, what string, err, wantErr error, got, want T) {
	t.Helper()
	if (err == nil) != (wantErr == nil) || canon.ErrorCode(err) != canon.ErrorCode(wantErr) {
		t.Errorf("%s: error %v, statement's %v", what, err, wantErr)
		return
	}
	if got != want {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
