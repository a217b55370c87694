package store_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// indexesOf reads the definitions of the indexes of the tables, by name.
func indexesOf(t *testing.T, st *store.Store, tables ...string) map[string]string {
	t.Helper()
	return pairs(t, st, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = ANY($1)`, tables)
}

// pairs reads the two text columns of a query's rows as a map from the
// first to the second.
func pairs(t *testing.T, st *store.Store, sql string, args ...any) map[string]string {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFirstLoadDefersTheSecondaryIndexes(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	tables := slices.Sorted(maps.Keys(store.LoadIndexes))
	whole := indexesOf(t, st, tables...)
	var deferrable []string
	for _, names := range store.LoadIndexes {
		for _, name := range names {
			if whole[name] == "" {
				t.Fatalf("index %s, to defer, does not exist", name)
			}
			deferrable = append(deferrable, name)
		}
	}
	slices.Sort(deferrable)

	dropped, err := st.DeferIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(dropped)
	if !slices.Equal(dropped, deferrable) {
		t.Fatalf("deferred %v, want %v", dropped, deferrable)
	}
	// What stays: the keys the upserts conflict on, and the index of a
	// case's incident (regrouping beside the load, the incidents'
	// foreign key).
	if left := slices.Sorted(maps.Keys(indexesOf(t, st, "case"))); !slices.Equal(left, []string{"case_incident_idx", "case_pkey", "case_source_source_id_key"}) {
		t.Fatalf("indexes of case during the load: %v, want its keys and the incident's", left)
	}

	// The load writes, rewrites and searches as it would with the indexes.
	cases := storetest.MakeCases(30)
	if res := storetest.SeedCases(t, st, cases); res.Written != 30 {
		t.Fatalf("load = %+v", res)
	}
	cases[3].Title, cases[3].PayloadHash = "已更新", []byte("changed")
	if res := storetest.SeedCases(t, st, cases); res.Written != 1 || res.Unchanged != 29 {
		t.Fatalf("reload = %+v, want 1 written", res)
	}
	page, err := st.Cases(ctx, store.CaseQuery{Filter: store.CaseFilter{Text: "已更新"}})
	if err != nil || len(page.Edges) != 1 {
		t.Fatalf("text search during the load = %d rows, %v", len(page.Edges), err)
	}
	// Residents, households, persons and their links, of every role.
	storetest.SeedPeople(t, st)
	var residents int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM resident r JOIN person p ON p.id = r.person_id
		JOIN household h ON h.id = r.household_id`).Scan(&residents); err != nil || residents == 0 {
		t.Fatalf("residents with their person and household during the load: %d, %v", residents, err)
	}

	// A table that holds rows keeps its indexes (and one whose indexes
	// are deferred already has none to drop).
	if again, err := st.DeferIndexes(ctx); err != nil || len(again) != 0 {
		t.Fatalf("deferred again: %v, %v; want none", again, err)
	}

	built, err := st.BuildDeferredIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(built)
	if !slices.Equal(built, deferrable) {
		t.Fatalf("built %v, want %v", built, deferrable)
	}
	if got := indexesOf(t, st, tables...); !maps.Equal(got, whole) {
		t.Fatalf("indexes after the load:\n%v\nwant as migrated:\n%v", got, whole)
	}
	var left int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM deferred_index`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("definitions left: %d, %v", left, err)
	}
	if built, err := st.BuildDeferredIndexes(ctx); err != nil || len(built) != 0 {
		t.Fatalf("built again: %v, %v; want none", built, err)
	}
}

// A hub stopped during a first load builds the indexes it deferred when it
// starts again: migrating finds the schema whole.
func TestMigrateBuildsTheIndexesAStoppedLoadDeferred(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	tables := slices.Sorted(maps.Keys(store.LoadIndexes))
	whole := indexesOf(t, st, tables...)
	if dropped, err := st.DeferIndexes(ctx); err != nil || len(dropped) == 0 {
		t.Fatalf("deferred %v, %v", dropped, err)
	}
	// One of them built by hand meanwhile: its definition is dropped,
	// the index left as it is.
	if _, err := st.Pool().Exec(ctx, `CREATE INDEX case_status_idx ON "case" (status, reported_at)`); err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := indexesOf(t, st, tables...); !maps.Equal(got, whole) {
		t.Fatalf("indexes after migrating:\n%v\nwant:\n%v", got, whole)
	}
}

// The engine asks to defer at every start while the API may be reading:
// a table that holds rows is not locked, and an empty one read by a
// transaction that holds on to it keeps its indexes rather than queueing
// every read behind the drop.
func TestDeferringWaitsForNoReader(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	whole := indexesOf(t, st, "case")
	reading := func() pgx.Tx {
		t.Helper()
		tx, err := st.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tx.Rollback(context.Background()) })
		if _, err := tx.Exec(ctx, `SELECT count(*) FROM "case"`); err != nil {
			t.Fatal(err)
		}
		return tx
	}

	tx := reading()
	if dropped, err := st.DeferIndexes(ctx); err == nil || len(dropped) != 0 {
		t.Fatalf("deferred %v, %v while a reader holds the empty table; want a lock timeout", dropped, err)
	}
	if got := indexesOf(t, st, "case"); !maps.Equal(got, whole) {
		t.Fatalf("indexes after a deferral that could not lock: %v", got)
	}
	tx.Rollback(ctx)

	storetest.SeedCases(t, st, storetest.MakeCases(3))
	reading()
	if dropped, err := st.DeferIndexes(ctx); err != nil || len(dropped) != 0 {
		t.Fatalf("deferred %v, %v for a table that holds rows; want nothing, and no wait on the reader", dropped, err)
	}
}
