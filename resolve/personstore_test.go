package resolve_test

import (
	"context"
	"testing"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestPersonResolverWritesAgainAfterADeadlock: the database refuses the
// first write of a resolution's history with a deadlock's code, as when the
// sync engine writes the same rows beside it; the resolution is written
// again and lands once, and the next run finds nothing to do.
func TestPersonResolverWritesAgainAfterADeadlock(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	repKey, _ := storetest.SeedHotlineZhang(t, st)
	// An analyst says the hotline reporter is the resident: the run merges
	// the reporter's person into 张三's and writes the history.
	if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchPerson, Accept: true, DecidedBy: "test",
		A: repKey, B: "governance/RESIDENT/R1"}); err != nil {
		t.Fatal(err)
	}
	dbtest.RefuseFirstWrite(t, st, "person_history", "INSERT")
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	r := resolve.NewPersonResolver(st, cfg)
	res, err := r.Run(ctx, nil)
	if err != nil || !res.Full || res.Merged != 1 {
		t.Fatalf("run after a deadlock: %+v, %v", res, err)
	}
	var merges, queued int
	if err := st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM person_history WHERE kind = 'MERGED'),
		(SELECT count(*) FROM person_resolve_queue)`).Scan(&merges, &queued); err != nil {
		t.Fatal(err)
	}
	writes := dbtest.WritesSeen(t, st, "person_history", "INSERT")
	if writes < 2 || merges != 1 || queued != 0 {
		t.Fatalf("%d history writes (want a refused one and the one that landed), %d merges, %d changes left queued", writes, merges, queued)
	}
	if again, err := r.Run(ctx, nil); err != nil || again.Full || again.Changed != 0 || again.Merged != 0 {
		t.Fatalf("next run: %+v, %v", again, err)
	}
}
