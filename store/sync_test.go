package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestCaseTimelinesFollowTheirCases: a rewritten case gets its new timeline
// only, with the timeline summary the indicators read (its progress_
// columns) written with it; a case sent again without a timeline keeps no
// summary, and a deleted case takes both with it.
func TestCaseTimelinesFollowTheirCases(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(6)
	storetest.SeedCases(t, st, cases)
	counts := func() (steps, summaries int) {
		if err := st.Pool().QueryRow(ctx, `SELECT coalesce(sum(jsonb_array_length(timeline)), 0),
				count(*) FILTER (WHERE progress_filed IS NOT NULL) FROM "case"`).Scan(&steps, &summaries); err != nil {
			t.Fatal(err)
		}
		return steps, summaries
	}
	if steps, sums := counts(); steps != 12 || sums != 6 {
		t.Fatalf("%d timeline steps and %d summaries after seeding 6 cases of 2 steps, want 12 and 6", steps, sums)
	}

	// One case changes and gains a closing step; one is unchanged.
	changed := cases[0]
	closedAt := storetest.Base.Add(5 * time.Hour)
	changed.Timeline = append(changed.Timeline, canon.CaseEvent{At: closedAt, Status: canon.StatusClosed, Tier: canon.TierStreet})
	changed.PayloadHash = []byte("changed")
	res := storetest.SeedCases(t, st, []canon.Case{changed, cases[1]})
	if res.Written != 1 || res.Unchanged != 1 {
		t.Fatalf("rewrite: %+v, want 1 written and 1 unchanged", res)
	}
	if steps, sums := counts(); steps != 13 || sums != 6 {
		t.Fatalf("%d timeline steps and %d summaries after a case gained a step, want 13 and 6", steps, sums)
	}
	var got time.Time
	if err := st.Pool().QueryRow(ctx, `SELECT progress_closed_at FROM "case" WHERE source_id = $1`,
		changed.SourceID).Scan(&got); err != nil || !got.Equal(closedAt) {
		t.Fatalf("summary of the changed case: closed at %v (%v), want %v", got, err, closedAt)
	}
	var id int64
	if err := st.Pool().QueryRow(ctx, `SELECT id FROM "case" WHERE source_id = $1`, changed.SourceID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	tl, err := st.CaseTimelines(store.Unscoped(ctx), []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl[0]) != 3 || tl[0][2].Seq != 3 || tl[0][2].Status != canon.StatusClosed || !tl[0][2].At.Equal(closedAt) ||
		tl[0][2].Tier != canon.TierStreet || tl[0][0].Seq != 1 {
		t.Fatalf("timeline of the changed case: %+v", tl[0])
	}

	// Sent again without a timeline: no steps, no summary.
	bare := cases[3]
	bare.Timeline = nil
	bare.PayloadHash = []byte("bare")
	storetest.SeedCases(t, st, []canon.Case{bare})
	if steps, sums := counts(); steps != 11 || sums != 5 {
		t.Fatalf("%d timeline steps and %d summaries after a case lost its timeline, want 11 and 5", steps, sums)
	}

	err = st.InTx(ctx, func(w *store.Writer) error {
		n, err := w.Delete(ctx, canon.RecordCase, "citymgmt", []string{cases[0].SourceID, cases[2].SourceID})
		if n != 2 {
			t.Errorf("deleted %d cases, want 2", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if steps, sums := counts(); steps != 6 || sums != 3 {
		t.Fatalf("after deleting two cases: %d timeline steps (want 6), %d summaries (want 3)", steps, sums)
	}
}

// TestCaseReferencesAreChecked: "case" has no foreign keys to its grid,
// category and source (migration 023), and keeps their guarantees: a
// batch naming an unknown category or source fails as a key would have
// failed it, writing nothing, and a region, category or source a case
// names cannot be deleted or truncated away, while one no case names can.
// A case's reporter is its REPORTER link (migration 028), whose person
// cannot go while the link holds it.
func TestCaseReferencesAreChecked(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(4)
	cases[1].Reporter = &canon.PersonRef{Name: "张三", PhoneHash: []byte("phone-1")}
	storetest.SeedCases(t, st, cases[:2])
	// The violation must be the one of "case", not of another table's key.
	fkViolation := func(what string, err error, msg string) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23503" || !strings.Contains(pe.Message, msg) {
			t.Fatalf("%s: %v, want a foreign_key_violation saying %q", what, err, msg)
		}
	}
	count := func() int {
		var n int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM "case"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	unknownCat, unknownSource := cases[2], cases[3]
	unknownCat.CategoryCode = "XX9999"
	unknownSource.Source = "nowhere"
	for _, c := range []canon.Case{unknownCat, unknownSource} {
		err := st.InTx(ctx, func(w *store.Writer) error {
			_, err := w.UpsertCases(ctx, []canon.Case{cases[2], c})
			return err
		})
		fkViolation("a batch naming "+c.CategoryCode+" of "+c.Source, err, `on table "case" names`)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d cases after two refused batches, want 2", n)
	}

	for _, stmt := range []string{
		`DELETE FROM region WHERE code = '420606001001001'`,
		`DELETE FROM category WHERE code = 'SJ0201'`,
		`UPDATE category SET code = 'SJ0299' WHERE code = 'SJ0201'`,
		// Their other referencing rows go first, in the same transaction.
		`DELETE FROM person_link WHERE source = 'citymgmt'; DELETE FROM source WHERE name = 'citymgmt'`,
	} {
		_, err := st.Pool().Exec(ctx, stmt)
		fkViolation(stmt, err, "the reference of case.")
	}
	// A case's reporter is its REPORTER link: the person it names cannot
	// go while the link holds it.
	var reporter int64
	if err := st.Pool().QueryRow(ctx, `SELECT person_id FROM person_link
		WHERE role = 'REPORTER' AND source = $1 AND source_id = $2`, cases[1].Source, cases[1].SourceID).Scan(&reporter); err != nil {
		t.Fatal(err)
	}
	_, err := st.Pool().Exec(ctx, `DELETE FROM person WHERE id = $1`, reporter)
	fkViolation("deleting a reporter", err, "person_link")
	// Referenced by no case: free to go.
	if _, err := st.Pool().Exec(ctx, `DELETE FROM region WHERE code = '420606001002002'`); err != nil {
		t.Fatalf("deleting a grid no case names: %v", err)
	}
	// Persons cannot be truncated away from the links that name them
	// (migration 036: CASCADE no longer reaches the links)…
	_, err = st.Pool().Exec(ctx, `TRUNCATE person CASCADE`)
	fkViolation("truncating persons a link names", err, "the reference of person_link.person_id")
	// …but with them, and "case" with its references, they can.
	if _, err := st.Pool().Exec(ctx, `TRUNCATE person, person_link, "case" CASCADE`); err != nil {
		t.Fatalf("truncating persons with their links and the cases: %v", err)
	}
}

// TestQuarantineKeepsOneEntryPerPayload: a batch's entries are written by
// one statement; an entry repeated in it, or quarantined again by a
// retried batch, is kept once with its last reason.
func TestQuarantineKeepsOneEntryPerPayload(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	if err := st.InTx(ctx, func(w *store.Writer) error {
		return w.UpsertSource(ctx, canon.Source{Name: "citymgmt", Kind: canon.SourceREST})
	}); err != nil {
		t.Fatal(err)
	}
	lock, err := st.TryLockSource(ctx, "citymgmt")
	if err != nil || lock == nil {
		t.Fatalf("lock: %v", err)
	}
	defer lock.Release()
	run, err := lock.StartRun(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	entry := func(id, reason string, hash byte) store.QuarantineEntry {
		return store.QuarantineEntry{Stream: "requests", SourceID: id, Reason: reason, Raw: []byte(id), Hash: []byte{hash}}
	}
	for _, batch := range [][]store.QuarantineEntry{
		{entry("R1", "UNKNOWN_CODE", 1), entry("R2", "BAD_ENCODING", 2), entry("R1", "BAD_COORDINATES", 1), entry("R1", "BAD_TIME", 9)},
		{entry("R2", "MISSING_FIELD", 2)},
	} {
		if err := st.InTx(ctx, func(w *store.Writer) error { return w.Quarantine(ctx, run, "citymgmt", batch) }); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.Pool().Query(ctx, `SELECT source_id || ':' || reason FROM quarantine ORDER BY source_id, payload_hash`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"R1:BAD_COORDINATES", "R1:BAD_TIME", "R2:MISSING_FIELD"}; !slices.Equal(got, want) {
		t.Fatalf("quarantine holds %v, want %v", got, want)
	}
}

// TestPersonReferencesAreChecked: the rows that name a person have no
// foreign keys to it (migration 036) and keep their guarantee: a person a
// resident, a link, another person (merged_into) or a history entry names
// cannot be deleted, one nothing names can.
func TestPersonReferencesAreChecked(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	var resident, survivor, merged, free int64
	if err := st.Pool().QueryRow(ctx, `SELECT person_id FROM resident LIMIT 1`).Scan(&resident); err != nil {
		t.Fatal(err)
	}
	for _, id := range []*int64{&survivor, &merged, &free} {
		if err := st.Pool().QueryRow(ctx, `INSERT INTO person (record_key, name, name_masked)
			VALUES (gen_random_uuid()::text, '李四', '李*') RETURNING id`).Scan(id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Pool().Exec(ctx, `WITH m AS (UPDATE person SET merged_into = $1 WHERE id = $2 RETURNING id)
		INSERT INTO person_history (person_id, kind, other_id) SELECT id, 'MERGED', $1 FROM m`, survivor, merged); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   int64
		want string
	}{{resident, "the reference of resident.person_id"}, {survivor, "the reference of person.merged_into"}} {
		_, err := st.Pool().Exec(ctx, `DELETE FROM person WHERE id = $1`, c.id)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23503" || !strings.Contains(pe.Message, c.want) {
			t.Fatalf("deleting person %d: %v, want a foreign_key_violation saying %q", c.id, err, c.want)
		}
	}
	if _, err := st.Pool().Exec(ctx, `DELETE FROM person WHERE id = $1`, free); err != nil {
		t.Fatalf("deleting a person nothing names: %v", err)
	}
	var n int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM person WHERE id = ANY($1)`, []int64{resident, survivor, merged}).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d of the named persons left (%v), want 3", n, err)
	}
}

// TestSyncReferencesAreChecked: residents, households and person links
// have no foreign keys to their source, grid, household and building
// (migration 041) and keep their guarantees: a batch naming an unknown
// source fails as the key did, writing nothing; a source or grid still
// named cannot be deleted; deleting a household or a building clears
// the references to it, as ON DELETE SET NULL did.
func TestSyncReferencesAreChecked(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	fkViolation := func(what string, err error, msg string) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23503" || !strings.Contains(pe.Message, msg) {
			t.Fatalf("%s: %v, want a foreign_key_violation saying %q", what, err, msg)
		}
	}
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := st.Pool().QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count(`SELECT count(*) FROM resident`)
	stray := &canon.Resident{Provenance: storetest.Prov("nowhere", "R9", "r9"), Person: storetest.Person("420606198005011234", "张三", "13800001111"),
		HouseholdSourceID: "H1", GridCode: "420606001001001", Residence: canon.Registered}
	err := st.InTx(ctx, func(w *store.Writer) error { _, err := w.UpsertResidents(ctx, []canon.Resident{*stray}); return err })
	fkViolation("a resident of an unknown source", err, `on table "resident" names sources`)
	if n := count(`SELECT count(*) FROM resident`); n != before {
		t.Fatalf("%d residents after a refused batch, want %d", n, before)
	}

	for stmt, msg := range map[string]string{
		// Compounds and buildings keep their keys to source.
		`DELETE FROM person_link WHERE source = 'governance'; DELETE FROM building WHERE source = 'governance';
			DELETE FROM compound WHERE source = 'governance'; DELETE FROM source WHERE name = 'governance'`: "the reference of resident.source",
		`DELETE FROM building WHERE grid_id = (SELECT id FROM region WHERE code = '420606001002001');
			DELETE FROM compound WHERE grid_id = (SELECT id FROM region WHERE code = '420606001002001');
			DELETE FROM region WHERE code = '420606001002001'`: "the reference of resident.grid_id",
	} {
		_, err := st.Pool().Exec(ctx, stmt)
		fkViolation(stmt, err, msg)
	}

	// A household that goes leaves its residents without one (found
	// again by the fixup when it comes back), and a building that goes
	// leaves its households without one.
	if n := count(`SELECT count(*) FROM resident r JOIN household h ON h.id = r.household_id WHERE h.source_id = 'H1'`); n != 1 {
		t.Fatalf("%d residents of household H1, want 1", n)
	}
	if _, err := st.Pool().Exec(ctx, `DELETE FROM building WHERE id = (SELECT building_id FROM household WHERE source_id = 'H2')`); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM household WHERE source_id = 'H2' AND building_id IS NULL`); n != 1 {
		t.Fatalf("household H2 still names its deleted building")
	}
	if err := st.InTx(ctx, func(w *store.Writer) error {
		_, err := w.Delete(ctx, canon.RecordHousehold, "governance", []string{"H1"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM resident WHERE source_id = 'R1' AND household_id IS NULL`); n != 1 {
		t.Fatalf("resident R1 still names its deleted household")
	}
}
