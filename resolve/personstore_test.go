package resolve_test

import (
	"context"
	"testing"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/pii"
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
	storetest.SeedPeople(t, st)
	zhang := storetest.Person("420606198005011234", "张三", "13800001111")
	cs := storetest.MakeCases(1)
	cs[0].Reporter = &canon.PersonRef{Name: "张三", NameMasked: pii.MaskName("张三"), PhoneHash: zhang.PhoneHash, PhoneMasked: zhang.PhoneMasked}
	storetest.SeedCases(t, st, cs)
	// An analyst says the hotline reporter is the resident: the run merges
	// the reporter's person into 张三's and writes the history.
	if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchPerson, Accept: true, DecidedBy: "test",
		A: "citymgmt/REPORTER/" + cs[0].SourceID, B: "governance/RESIDENT/R1"}); err != nil {
		t.Fatal(err)
	}
	// A sequence, not a table: the refused transaction rolls back its
	// writes, not nextval.
	if _, err := st.Pool().Exec(ctx, `CREATE SEQUENCE history_writes;
		CREATE FUNCTION refuse_first_history() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('history_writes') = 1 THEN
				RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected';
			END IF;
			RETURN NULL;
		END $$;
		CREATE TRIGGER refuse_first_history AFTER INSERT ON person_history FOR EACH STATEMENT EXECUTE FUNCTION refuse_first_history()`); err != nil {
		t.Fatal(err)
	}
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	r := resolve.NewPersonResolver(st, cfg)
	res, err := r.Run(ctx, nil)
	if err != nil || !res.Full || res.Merged != 1 {
		t.Fatalf("run after a deadlock: %+v, %v", res, err)
	}
	var writes, merges, queued int
	if err := st.Pool().QueryRow(ctx, `SELECT (SELECT last_value FROM history_writes),
		(SELECT count(*) FROM person_history WHERE kind = 'MERGED'), (SELECT count(*) FROM person_resolve_queue)`).Scan(&writes, &merges, &queued); err != nil {
		t.Fatal(err)
	}
	if writes < 2 || merges != 1 || queued != 0 {
		t.Fatalf("%d history writes (want a refused one and the one that landed), %d merges, %d changes left queued", writes, merges, queued)
	}
	if again, err := r.Run(ctx, nil); err != nil || again.Full || again.Changed != 0 || again.Merged != 0 {
		t.Fatalf("next run: %+v, %v", again, err)
	}
}
