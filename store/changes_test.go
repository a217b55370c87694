package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ywtg/hub/dbtest"
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
	if want := []string{"api_key", "audit_log", "incident_regroup_queue", "person_golden_dirty", "person_resolve_queue", "schema_version"}; !slices.Equal(silent, want) {
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
