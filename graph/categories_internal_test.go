package graph

import (
	"context"
	"testing"
	"time"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestCategoryTableFollowsChanges checks that the category table is read
// once while the notifications are followed, read again after a change,
// and read by every request without them.
func TestCategoryTableFollowsChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(store.Unscoped(context.Background()))
	defer cancel()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	changes := st.WatchChanges(ctx)
	<-changes.Listening()

	// read reads the table as a request would, and counts its statements.
	read := func(table *categoryTable) (map[string]*store.Category, int64) {
		t.Helper()
		rctx, c := store.WithStatementCounter(ctx)
		m, err := table.read(rctx, st)
		if err != nil {
			t.Fatal(err)
		}
		return m, c.Count()
	}
	shared := &categoryTable{changes: changes}
	first, n := read(shared)
	if n != 1 || len(first) == 0 {
		t.Fatalf("the first read ran %d statements for %d categories, want 1 for some", n, len(first))
	}
	if _, n := read(shared); n != 0 {
		t.Fatalf("a read with nothing changed ran %d statements", n)
	}

	gen, _ := changes.Current()
	if _, err := st.Pool().Exec(ctx, `INSERT INTO category (code, name, kind, level) VALUES ('ZZ01', '测试', 'EVENT', 1)`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for g, _ := changes.Current(); g == gen; g, _ = changes.Current() {
		if time.Now().After(deadline) {
			t.Fatal("the change was not seen")
		}
		time.Sleep(2 * time.Millisecond)
	}
	after, n := read(shared)
	if n != 1 || after["ZZ01"] == nil || first["ZZ01"] != nil {
		t.Fatalf("after a change: %d statements, new category %v (before %v)", n, after["ZZ01"], first["ZZ01"])
	}

	for _, table := range []*categoryTable{nil, {}} {
		for range 2 {
			if m, n := read(table); n != 1 || m["ZZ01"] == nil {
				t.Fatalf("without notifications a read ran %d statements", n)
			}
		}
	}
}
