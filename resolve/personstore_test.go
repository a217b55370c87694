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

// TestPersonResolverFollowsWhatItMoved: decisions move a record that did
// not change — an acceptance links the hotline reporter to 张三, a
// rejection splits it off, an acceptance brings it back — and each
// incremental run starts from where the run before put it; no record
// stands for a merged person.
func TestPersonResolverFollowsWhatItMoved(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	repKey, _ := storetest.SeedHotlineZhang(t, st)
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	r := resolve.NewPersonResolver(st, cfg)
	if res, err := r.Run(ctx, nil); err != nil || !res.Full {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	persons := func() (rep, zhang int64) {
		t.Helper()
		if err := st.Pool().QueryRow(ctx, `SELECT
				(SELECT person_id FROM person_link WHERE source || '/' || role || '/' || source_id = $1),
				(SELECT person_id FROM person_link WHERE source = 'governance' AND role = 'RESIDENT' AND source_id = 'R1')`,
			repKey).Scan(&rep, &zhang); err != nil {
			t.Fatal(err)
		}
		var stale int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM person_link l JOIN person p ON p.id = l.person_id
			WHERE p.merged_into IS NOT NULL`).Scan(&stale); err != nil || stale != 0 {
			t.Fatalf("%d records stand for a merged person, %v", stale, err)
		}
		return rep, zhang
	}
	decide := func(accept bool) {
		t.Helper()
		if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchPerson, Accept: accept, DecidedBy: "test",
			A: repKey, B: "governance/RESIDENT/R1"}); err != nil {
			t.Fatal(err)
		}
		if res, err := r.Run(ctx, nil); err != nil || res.Full || res.Records == 0 {
			t.Fatalf("run after the decision (accept %v): %+v, %v", accept, res, err)
		}
	}
	for _, accept := range []bool{true, false, true} {
		decide(accept)
		if rep, zhang := persons(); (rep == zhang) != accept {
			t.Fatalf("accepted %v: the reporter stands for %d, 张三 for %d", accept, rep, zhang)
		}
	}
}
