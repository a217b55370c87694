package resolve_test

import (
	"context"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// zhangAccepted seeds 张三 and a hotline reporter an analyst says is her
// (a run merges the reporter's person into 张三's and writes the
// history), and returns a resolver over them.
func zhangAccepted(t *testing.T) (context.Context, *store.Store, *resolve.PersonResolver) {
	t.Helper()
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	repKey, _ := storetest.SeedHotlineZhang(t, st)
	if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchPerson, Accept: true, DecidedBy: "test",
		A: repKey, B: "governance/RESIDENT/R1"}); err != nil {
		t.Fatal(err)
	}
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	return ctx, st, resolve.NewPersonResolver(st, cfg)
}

// TestPersonResolverWritesAgainAfterADeadlock: the database refuses the
// first write of a resolution's history with a deadlock's code, as when the
// sync engine writes the same rows beside it; the resolution is written
// again and lands once, and the next run finds nothing to do.
func TestPersonResolverWritesAgainAfterADeadlock(t *testing.T) {
	ctx, st, r := zhangAccepted(t)
	dbtest.RefuseFirstWrite(t, st, "person_history", "INSERT")
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

// TestPersonResolverFoldsReportsAlike: 张三 reports three cases under his
// citizen ID, three records alike that resolution holds as one. A fourth
// report joins them as a copy standing where they stand (the sync put it
// at his ID's person): the incremental run takes it without answering
// his cluster, and it stands for 张三's person as the first three do. A decision naming one of them (the hotline
// reporter, who gives 张三's name and phone without an ID, is not the
// second report's person) takes that record out of the fold, and the
// rejection holds: the hotline reporter leaves 张三's person. A full
// resolution afterwards moves no record.
func TestPersonResolverFoldsReportsAlike(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	hotline, _ := storetest.SeedHotlineZhang(t, st)
	cs := storetest.ZhangReports(4)
	storetest.SeedCases(t, st, cs[:3])
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	r := resolve.NewPersonResolver(st, cfg)
	res, err := r.Run(ctx, nil)
	if err != nil || !res.Full {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	if res.Distinct != res.Records-2 {
		t.Errorf("first run: %d records, %d distinct (want the three reports as one)", res.Records, res.Distinct)
	}
	personOf := func(key string) (person int64, matched string) {
		t.Helper()
		if err := st.Pool().QueryRow(ctx, `SELECT person_id, matched_by FROM person_link
			WHERE source || '/' || role || '/' || source_id = $1`, key).Scan(&person, &matched); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return person, matched
	}
	resident, _ := personOf("governance/RESIDENT/R1")
	report := func(i int) string { return "citymgmt/REPORTER/" + cs[i].SourceID }
	for i := range 3 {
		if p, m := personOf(report(i)); p != resident || m != "ID_HASH" {
			t.Errorf("report %d stands for %d (%s), 张三 is %d", i, p, m, resident)
		}
	}
	if p, _ := personOf(hotline); p != resident {
		t.Fatalf("the hotline reporter stands for %d, 张三 is %d: the fixture links them", p, resident)
	}

	storetest.SeedCases(t, st, cs[3:])
	res, err = r.Run(ctx, nil)
	if err != nil || res.Full || res.Changed != 1 {
		t.Fatalf("run after a fourth report: %+v, %v", res, err)
	}
	if res.Records != 0 || res.Persons != 0 {
		t.Errorf("run after a fourth report resolved %d records, %d persons (want none: the report is a copy of the three, "+
			"standing with them, and moves no field of 张三's golden record)", res.Records, res.Persons)
	}
	if p, m := personOf(report(3)); p != resident || m != "ID_HASH" {
		t.Errorf("the fourth report stands for %d (%s), 张三 is %d", p, m, resident)
	}

	if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchPerson, Accept: false, DecidedBy: "test",
		A: hotline, B: report(1)}); err != nil {
		t.Fatal(err)
	}
	res, err = r.Run(ctx, nil)
	if err != nil || res.Full {
		t.Fatalf("run after the rejection: %+v, %v", res, err)
	}
	if p, _ := personOf(hotline); p == resident {
		t.Errorf("the rejection of the second report did not hold: the hotline reporter stands for 张三 (%d)", p)
	}
	for i := range 4 {
		if p, _ := personOf(report(i)); p != resident {
			t.Errorf("after the rejection report %d stands for %d, 张三 is %d", i, p, resident)
		}
	}
	before := map[string]int64{}
	for _, k := range []string{hotline, report(0), report(1), report(2), report(3), "governance/RESIDENT/R1"} {
		before[k], _ = personOf(k)
	}
	full, err := resolve.ResolvePersons(ctx, st, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if full.Relinked != 0 || full.Made != 0 || full.Golden != 0 {
		t.Errorf("a full resolution after the incremental runs changed something: %+v", full.PersonsApplied)
	}
	for k, p := range before {
		if now, _ := personOf(k); now != p {
			t.Errorf("a full resolution moved %s from %d to %d", k, p, now)
		}
	}
}

// TestGoldenRecordsWrittenWhenTheyChange: a run whose record changed only
// in its timestamp, a report the golden record takes no field from,
// answers nothing and leaves 张三's golden record unwritten; when another
// writer (the sync engine, writing the person of a record's ID with that
// record's values) overwrites it, the next run writes it again, though no
// record changed; resolution's own writes are not taken for another
// writer's.
func TestGoldenRecordsWrittenWhenTheyChange(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedHotlineZhang(t, st)
	cs := storetest.ZhangReports(1)
	storetest.SeedCases(t, st, cs)
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	r := resolve.NewPersonResolver(st, cfg)
	if res, err := r.Run(ctx, nil); err != nil || !res.Full {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	var zhang int64
	if err := st.Pool().QueryRow(ctx, `SELECT person_id FROM person_link WHERE source = 'governance' AND role = 'RESIDENT' AND source_id = 'R1'`).
		Scan(&zhang); err != nil {
		t.Fatal(err)
	}
	state := func() (name string, dirty int) {
		t.Helper()
		if err := st.Pool().QueryRow(ctx, `SELECT (SELECT name FROM person WHERE id = $1), (SELECT count(*) FROM person_golden_dirty)`, zhang).
			Scan(&name, &dirty); err != nil {
			t.Fatal(err)
		}
		return name, dirty
	}
	if name, dirty := state(); name != "张三" || dirty != 0 {
		t.Fatalf("after the first run 张三's person is named %q, %d golden records marked changed (want none: resolution wrote them)", name, dirty)
	}
	retimed := cs[0]
	retimed.UpdatedAt, retimed.SourceUpdatedAt = retimed.UpdatedAt.Add(time.Hour), retimed.SourceUpdatedAt.Add(time.Hour)
	retimed.PayloadHash = append([]byte{9}, retimed.PayloadHash...)
	storetest.SeedCases(t, st, []canon.Case{retimed})
	res, err := r.Run(ctx, nil)
	if err != nil || res.Full || res.Changed != 1 || res.Persons != 0 || res.Records != 0 || res.Golden != 0 {
		t.Fatalf("run after a report was retimed: %+v, %v; want nothing answered or written (the golden record takes no field from a report)", res, err)
	}
	// The sync engine writes a record's values over the golden record.
	if _, err := st.Pool().Exec(ctx, `UPDATE person SET name = '張三' WHERE id = $1`, zhang); err != nil {
		t.Fatal(err)
	}
	if _, dirty := state(); dirty != 1 {
		t.Fatalf("%d golden records marked changed after another writer's update, want 1", dirty)
	}
	res, err = r.Run(ctx, nil)
	if err != nil || res.Full || res.Changed != 0 || res.Unchanged != 0 || res.Golden != 1 {
		t.Fatalf("run after the golden record was overwritten: %+v, %v; want it written again", res, err)
	}
	if name, dirty := state(); name != "张三" || dirty != 0 {
		t.Fatalf("after the run 张三's person is named %q, %d golden records marked changed", name, dirty)
	}
	if res, err := r.Run(ctx, nil); err != nil || res.Changed != 0 || res.Persons != 0 {
		t.Fatalf("run with nothing changed: %+v, %v", res, err)
	}
}

// TestFullResolutionLeavesOutWhatTheStoreHolds: a full resolution by a
// new resolver (a restart) of a store that holds its result writes no
// person: every golden record and merge is as the plan says, and the
// resolver knows them as written (a new report next is answered and left
// unwritten; a report retimed or copied is not answered: the golden record
// takes no field from it). A golden record another writer changed and a merge
// undone are each written again, and only they.
func TestFullResolutionLeavesOutWhatTheStoreHolds(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	repKey, _ := storetest.SeedHotlineZhang(t, st)
	cs := storetest.ZhangReports(2)
	storetest.SeedCases(t, st, cs)
	if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchPerson, Accept: true, DecidedBy: "test",
		A: repKey, B: "governance/RESIDENT/R1"}); err != nil {
		t.Fatal(err)
	}
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	first, err := resolve.NewPersonResolver(st, cfg).Run(ctx, nil)
	if err != nil || !first.Full || first.Merged == 0 || first.Golden == 0 || first.Changed != first.Records {
		t.Fatalf("first run: %+v, %v (want merges and golden records written, every record new)", first, err)
	}
	persons := func() string {
		t.Helper()
		var s string
		if err := st.Pool().QueryRow(ctx, `SELECT string_agg(concat_ws(' ', id, name, gender, birth_date, encode(phone_hash, 'hex'),
				provenance, merged_into, updated_at), E'\n' ORDER BY id) || (SELECT count(*) FROM person_history)
			FROM person`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := persons()

	r := resolve.NewPersonResolver(st, cfg)
	res, err := r.Run(ctx, nil)
	if err != nil || !res.Full || res.Changed != 0 || res.Persons == 0 || res.Unchanged != res.Persons || res.Golden != 0 || res.Merged != 0 || res.Relinked != 0 {
		t.Fatalf("full run of a store that holds its result: %+v, %v; want every person left out", res, err)
	}
	if after := persons(); after != before {
		t.Fatalf("persons before the run:\n%s\nafter:\n%s", before, after)
	}
	retimed := cs[0]
	// Later than every report: the reporter's latest.
	retimed.UpdatedAt, retimed.SourceUpdatedAt = retimed.UpdatedAt.Add(24*time.Hour), retimed.SourceUpdatedAt.Add(24*time.Hour)
	retimed.PayloadHash = append([]byte{9}, retimed.PayloadHash...)
	storetest.SeedCases(t, st, []canon.Case{retimed})
	if res, err := r.Run(ctx, nil); err != nil || res.Full || res.Changed != 1 || res.Persons != 0 || res.Records != 0 {
		t.Fatalf("run after a report was retimed: %+v, %v; want nothing answered (the golden record takes no field from a report)", res, err)
	}
	// A new report by 张三 with his birth date mistyped: a record of its
	// own in his cluster (by his ID), less trusted than the register's.
	report := storetest.ZhangReports(3)[2]
	typo := *report.Reporter
	typo.BirthDate = typo.BirthDate.AddDate(0, 0, 1)
	report.Reporter = &typo
	storetest.SeedCases(t, st, []canon.Case{report})
	if res, err := r.Run(ctx, nil); err != nil || res.Full || res.Changed != 1 || res.Persons != 1 || res.Unchanged != 1 || res.Golden != 0 {
		t.Fatalf("run after a new report: %+v, %v; want its person answered and left unwritten", res, err)
	}
	// Another report from his phone: a copy added to the reports' copies,
	// standing where they stand, is not answered.
	copied := storetest.ZhangReports(4)[3]
	storetest.SeedCases(t, st, []canon.Case{copied})
	if res, err := r.Run(ctx, nil); err != nil || res.Full || res.Changed != 1 || res.Persons != 0 || res.Records != 0 {
		t.Fatalf("run after a report copied: %+v, %v; want nothing answered", res, err)
	}

	var zhang, merged int64
	if err := st.Pool().QueryRow(ctx, `SELECT person_id FROM person_link WHERE source = 'governance' AND role = 'RESIDENT' AND source_id = 'R1'`).
		Scan(&zhang); err != nil {
		t.Fatal(err)
	}
	if err := st.Pool().QueryRow(ctx, `SELECT min(id) FROM person WHERE merged_into = $1`, zhang).Scan(&merged); err != nil {
		t.Fatal(err)
	}
	// Each by itself: the merge undone, then the golden record changed.
	for _, step := range []struct {
		sql           string
		golden, merge int
	}{
		{`UPDATE person SET merged_into = NULL WHERE id = $2 AND $1 > 0`, 0, 1},
		{`UPDATE person SET name = '張三' WHERE id = $1 AND $2 > 0`, 1, 0},
	} {
		if _, err := st.Pool().Exec(ctx, step.sql, zhang, merged); err != nil {
			t.Fatal(err)
		}
		res, err := resolve.NewPersonResolver(st, cfg).Run(ctx, nil)
		if err != nil || !res.Full || res.Unchanged != res.Persons-1 || res.Golden != step.golden || res.Merged != step.merge {
			t.Fatalf("full run after %s: %+v, %v; want %d golden records and %d merges written, nothing else", step.sql, res, err, step.golden, step.merge)
		}
	}
	var name string
	var into *int64
	if err := st.Pool().QueryRow(ctx, `SELECT (SELECT name FROM person WHERE id = $1), (SELECT merged_into FROM person WHERE id = $2)`,
		zhang, merged).Scan(&name, &into); err != nil {
		t.Fatal(err)
	}
	if name != "张三" || into == nil || *into != zhang {
		t.Fatalf("after the runs 张三's person is named %q, person %d merged into %v (want %d)", name, merged, into, zhang)
	}
}

// TestPersonResolverSaysWhenItWrites: the function WhenWriting sets is
// called once per run that writes, when the run's matching is done and
// before its write: at the call the merge it writes is not stored yet.
func TestPersonResolverSaysWhenItWrites(t *testing.T) {
	ctx, st, r := zhangAccepted(t)
	merges := func() int {
		t.Helper()
		var n int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM person_history WHERE kind = 'MERGED'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var calls, mergesThen int
	r.WhenWriting(func() { calls++; mergesThen = merges() })
	res, err := r.Run(ctx, nil)
	if err != nil || res.Merged != 1 {
		t.Fatalf("run: %+v, %v", res, err)
	}
	if calls != 1 || mergesThen != 0 || merges() != 1 {
		t.Fatalf("told %d times, with %d merges stored then (want once, before the merge: 0), %d after", calls, mergesThen, merges())
	}
}
