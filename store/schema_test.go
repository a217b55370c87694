package store_test

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/dbtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSchemaGolden describes the migrated database from the catalogs —
// tables, columns, constraints, indexes, triggers — and compares it with
// testdata/schema.golden, the reviewed shape of the database.
func TestSchemaGolden(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t, dbtest.NewDSN(t))
	var b strings.Builder
	section := func(title, sql string) {
		b.WriteString("-- " + title + "\n")
		rows, err := pool.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
	}
	section("extensions", `SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`)
	section("columns", `SELECT table_name || '.' || column_name || ' ' || data_type ||
			CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END ||
			coalesce(' DEFAULT ' || column_default, '') ||
			CASE WHEN is_identity = 'YES' THEN ' IDENTITY' ELSE '' END
		FROM information_schema.columns WHERE table_schema = 'public'
		ORDER BY table_name, ordinal_position`)
	section("constraints", `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1`)
	section("indexes", `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`)
	section("triggers", `SELECT tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`)
	got := b.String()

	const golden = "testdata/schema.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./store -run TestSchemaGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("migrated schema differs from %s; if intended, rerun with -update and review the diff.\n%s", golden, diffLines(string(want), got))
	}
}

// diffLines lists lines only in want (-) or only in got (+).
func diffLines(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
