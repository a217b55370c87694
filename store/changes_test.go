package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
)

// Every table of the hub's data notifies its changes: a table added later
// without the trigger would let caches serve what it no longer holds.
func TestEveryDataTableNotifiesItsChanges(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	rows, err := st.Pool().Query(ctx, `SELECT t.tablename FROM pg_tables t
		WHERE t.schemaname = current_schema() AND NOT EXISTS (
			SELECT 1 FROM pg_trigger g WHERE g.tgrelid = format('%I', t.tablename)::regclass AND g.tgname = 'notify_changed')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var silent []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		silent = append(silent, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"api_key", "audit_log", "case_address_queue", "deferred_index", "incident_regroup_queue", "person_golden_dirty", "person_resolve_queue", "resolution_epoch", "schema_version"}; !slices.Equal(silent, want) {
		t.Fatalf("tables without the notify_changed trigger: %v, want only %v", silent, want)
	}
}

func TestChangesMoveOnCommitOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := dbtest.NewStore(t)
	ch := st.WatchChanges(ctx)
	<-ch.Listening()
	gen, ok := ch.Current()
	if !ok {
		t.Fatal("listening, but the generation is not known")
	}
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO category (code, name, kind, level) VALUES ('ZZ01', '测试', 'EVENT', 1)`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if g, _ := ch.Current(); g != gen {
		t.Fatal("the generation moved before the commit")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for g, _ := ch.Current(); g == gen; g, _ = ch.Current() {
		if time.Now().After(deadline) {
			t.Fatal("the commit was not seen")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	for _, ok := ch.Current(); ok; _, ok = ch.Current() {
		if time.Now().After(deadline) {
			t.Fatal("still live after the watch ended")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestTriggerJoinsPlannedPerStatement: the statement triggers that join a
// statement's old and new rows plan the join for each statement. A plan
// kept from a first statement that changed no row was a nested loop, and
// a later statement of the same connection changing 30,000 rows then
// compared every old row with every new one (about 40 s on a 2-core
// machine, where the join planned for its rows takes well under one):
// each update must finish within a statement timeout far above the
// latter and far below the former. Persons (their golden records marked
// changed) and their source records (the resolve queue) are updated so.
func TestTriggerJoinsPlannedPerStatement(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	// As a resolver holding its state has it: changes are queued.
	if _, err := st.BeginResolution(ctx, store.PersonResolutionKind); err != nil {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(w *store.Writer) error {
		return w.UpsertSource(ctx, canon.Source{Name: "citymgmt", Kind: canon.SourceREST, Description: "数字城管"})
	}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO person (record_key, name) SELECT 'citymgmt/REPORTER/' || g, '张三' FROM generate_series(1, 30000) g`,
		`INSERT INTO person_link (person_id, role, name, source, source_id, payload_hash)
			SELECT id, 'REPORTER', name, 'citymgmt', split_part(record_key, '/', 3), '\x00' FROM person`,
		`DELETE FROM person_resolve_queue`,
	} {
		if _, err := st.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, table := range []string{"person", "person_link"} {
		// A connection of its own, whose trigger functions plan their
		// queries first for a statement that changes nothing.
		conn, err := pgx.ConnectConfig(ctx, st.Pool().Config().ConnConfig.Copy())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		for _, q := range []string{
			`SET LOCAL statement_timeout = '5s'`,
			`UPDATE ` + table + ` SET name = name WHERE false`,
			`UPDATE ` + table + ` SET name = '李四'`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		var marked int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM person_golden_dirty) + (SELECT count(*) FROM person_resolve_queue)`).
			Scan(&marked); err != nil || marked != 30000 {
			t.Fatalf("%s: %d persons marked changed or records queued, %v; want 30000", table, marked, err)
		}
	}
}
