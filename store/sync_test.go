package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestCaseTimelinesFollowTheirCases: a rewritten case gets its new timeline
// only, and a deleted case takes its timeline with it.
func TestCaseTimelinesFollowTheirCases(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(6)
	storetest.SeedCases(t, st, cases)
	events := func() int {
		var n int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM case_event`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := events(); got != 12 {
		t.Fatalf("%d timeline rows after seeding 6 cases of 2 steps, want 12", got)
	}

	// One case changes and gains a step; one is unchanged.
	changed := cases[0]
	changed.Timeline = append(changed.Timeline, canon.CaseEvent{At: storetest.Base.Add(5 * time.Hour), Status: canon.StatusClosed, Tier: canon.TierStreet})
	changed.PayloadHash = []byte("changed")
	res := storetest.SeedCases(t, st, []canon.Case{changed, cases[1]})
	if res.Written != 1 || res.Unchanged != 1 {
		t.Fatalf("rewrite: %+v, want 1 written and 1 unchanged", res)
	}
	if got := events(); got != 13 {
		t.Fatalf("%d timeline rows after a case gained a step, want 13", got)
	}

	err := st.InTx(ctx, func(w *store.Writer) error {
		n, err := w.Delete(ctx, canon.RecordCase, "citymgmt", []string{cases[0].SourceID, cases[2].SourceID})
		if n != 2 {
			t.Errorf("deleted %d cases, want 2", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var orphans int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM case_event e
		WHERE NOT EXISTS (SELECT 1 FROM "case" c WHERE c.id = e.case_id)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if got := events(); got != 8 || orphans != 0 {
		t.Fatalf("after deleting two cases: %d timeline rows (want 8), %d orphaned", got, orphans)
	}
}
