package store_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestRecordsWithoutAValidIDAreKept: a resident whose ID failed validation
// and a hotline reporter known by name and phone are stored, each with a
// person of its own (no ID hash), matched by nothing yet; a later version
// of the record keeps that person.
func TestRecordsWithoutAValidIDAreKept(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st, dsn := dbtest.NewStoreDSN(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	wang := canon.PersonRef{Name: "王五", NameMasked: pii.MaskName("王五"), Gender: canon.Male,
		BirthDate: time.Date(1970, 2, 3, 0, 0, 0, 0, time.UTC), PhoneHash: []byte("phone:13700003333"), PhoneMasked: "137****3333"}
	res := &canon.Resident{Provenance: storetest.Prov("governance", "R3", "r3"), Person: wang, HouseholdSourceID: "H1",
		GridCode: "420606001001001", Residence: canon.Registered, Relation: "配偶"}
	if r := storetest.Upsert(t, st, res); r.Written != 1 {
		t.Fatalf("resident without ID: %+v", r)
	}
	reporter := canon.PersonRef{Name: "赵六", NameMasked: pii.MaskName("赵六"), PhoneHash: []byte("phone:13600004444"),
		PhoneMasked: "136****4444", Address: "樊城区长虹社区幸福小区3栋"}
	cs := storetest.MakeCases(2)
	cs[0].Reporter = &reporter
	storetest.SeedCases(t, st, cs)

	find := func(name string) *store.Person {
		t.Helper()
		page, err := st.People(ctx, store.PersonFilter{Name: name}, store.PageArgs{})
		if err != nil || len(page.Edges) != 1 {
			t.Fatalf("people named %s: %+v, %v", name, page.Edges, err)
		}
		return page.Edges[0].Node
	}
	w := find("王五")
	if w.IDHash != nil || w.IDMasked != "" || len(w.Roles) != 1 || w.Roles[0] != canon.RoleResident {
		t.Fatalf("resident without ID: %+v", w)
	}
	z := find("赵六")
	if len(z.Roles) != 1 || z.Roles[0] != canon.RoleReporter {
		t.Fatalf("reporter: %+v", z)
	}
	page, err := st.Cases(ctx, store.CaseQuery{Filter: store.CaseFilter{ReporterID: &z.ID}})
	if err != nil || len(page.Edges) != 1 || page.Edges[0].Node.Provenance.SourceID != cs[0].SourceID {
		t.Fatalf("cases of the reporter: %+v, %v", page.Edges, err)
	}
	pool := dbtest.Pool(t, dsn)
	var matched, addr string
	if err := pool.QueryRow(ctx, `SELECT matched_by, address FROM person_link WHERE source = 'citymgmt' AND role = 'REPORTER'
		AND source_id = $1`, cs[0].SourceID).Scan(&matched, &addr); err != nil || matched != "NONE" || addr != reporter.Address {
		t.Fatalf("reporter link: %s %q, %v", matched, addr, err)
	}
	if err := pool.QueryRow(ctx, `SELECT matched_by FROM person_link WHERE source = 'governance' AND role = 'RESIDENT'
		AND source_id = 'R1'`).Scan(&matched); err != nil || matched != "ID_HASH" {
		t.Fatalf("resident with ID: %s, %v", matched, err)
	}
	// A new version of the record keeps its person.
	res.Provenance = storetest.Prov("governance", "R3", "r3 v2")
	res.Person.PhoneHash, res.Person.PhoneMasked = []byte("phone:13700005555"), "137****5555"
	storetest.Upsert(t, st, res)
	if w2 := find("王五"); w2.ID != w.ID || *w2.PhoneMasked != "137****5555" {
		t.Fatalf("second version: person %d (was %d), phone %v", w2.ID, w.ID, w2.PhoneMasked)
	}
}

// TestPersonResolveQueue: the store queues a person record for resolution
// when it is stored, when a field resolution compares changes, when it is
// deleted, and when a party member's home is linked to another building;
// resolution's own writes (the record's person, how it was matched) queue
// nothing; taking the queue at the positions read leaves a later change;
// emptying person_link asks for everything ('*').
func TestPersonResolveQueue(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	// As a resolver holding its state has it: changes are queued.
	if _, err := st.BeginResolution(ctx, store.PersonResolutionKind); err != nil {
		t.Fatal(err)
	}
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	read := func() store.PersonQueue {
		t.Helper()
		q, err := st.PersonResolveQueue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	take := func(q store.PersonQueue) {
		t.Helper()
		if err := st.InTx(ctx, func(w *store.Writer) error { _, err := w.TakePersonQueue(ctx, q, false); return err }); err != nil {
			t.Fatal(err)
		}
	}
	want := func(step string, keys ...string) {
		t.Helper()
		q := read()
		got := map[string]bool{}
		for _, k := range q.Keys {
			got[k] = true
		}
		if len(got) != len(keys) {
			t.Fatalf("%s: queued %v, want %v", step, q.Keys, keys)
		}
		for _, k := range keys {
			if !got[k] {
				t.Fatalf("%s: queued %v, want %v", step, q.Keys, keys)
			}
		}
		take(q)
	}
	want("stored", "governance/RESIDENT/R1", "governance/RESIDENT/R2", "governance/GRID_WORKER/W1", "party/PARTY_MEMBER/D1")
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := st.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE person_link SET matched_by = 'PROBABILISTIC', person_id = person_id WHERE source_id = 'R1'`)
	want("resolution's own write")
	exec(`UPDATE person_link SET phone_hash = sha256(phone_hash) WHERE source_id = 'R2'`)
	want("a phone changed", "governance/RESIDENT/R2")
	exec(`INSERT INTO building_link (record_type, record_id, address, building_id, confidence, names_compound)
		SELECT 'PARTY_MEMBER', m.id, '幸福小区3栋', (SELECT min(id) FROM building), 1, true
		FROM party_member m WHERE m.source_id = 'D1'`)
	want("a member's home linked", "party/PARTY_MEMBER/D1")
	exec(`UPDATE building_link SET resolved_at = now() WHERE record_type = 'PARTY_MEMBER'`)
	want("a home link confirmed")
	exec(`DELETE FROM person_link WHERE source_id = 'W1'`)
	want("deleted", "governance/GRID_WORKER/W1")

	// A change after the read stays queued when the read is taken.
	exec(`UPDATE person_link SET name = '张 三' WHERE source_id = 'R1'`)
	q := read()
	exec(`UPDATE person_link SET name = '張三' WHERE source_id = 'R1'`)
	take(q)
	want("changed again after the read", "governance/RESIDENT/R1")

	exec(`TRUNCATE person_link CASCADE`)
	want("emptied", "*")
}

// TestMergeLeavesAPersonARecordStandsFor: a partial resolution that names,
// among the persons merged into its survivor, one that a record it leaves
// out still stands for (the person made for one of its records, kept by
// another cluster) does not merge it; once the last record standing for
// it moves to the survivor, it is merged.
func TestMergeLeavesAPersonARecordStandsFor(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st, dsn := dbtest.NewStoreDSN(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	pool := dbtest.Pool(t, dsn)
	link := func(key string) (id, person int64) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT id, person_id FROM person_link WHERE source || '/' || role || '/' || source_id = $1`,
			key).Scan(&id, &person); err != nil {
			t.Fatal(err)
		}
		return id, person
	}
	r1, zhang := link("governance/RESIDENT/R1")
	r2, li := link("governance/RESIDENT/R2")
	mergedInto := func() *int64 {
		t.Helper()
		var into *int64
		if err := pool.QueryRow(ctx, `SELECT merged_into FROM person WHERE id = $1`, li).Scan(&into); err != nil {
			t.Fatal(err)
		}
		return into
	}
	apply := func(records ...store.ResolvedRecord) {
		t.Helper()
		plan := store.PersonResolution{Partial: true,
			Persons: []store.ResolvedPerson{{ID: zhang, Merged: []int64{li}, Name: "张三", NameMasked: pii.MaskName("张三")}},
			Records: append([]store.ResolvedRecord{{Key: "governance/RESIDENT/R1", LinkID: r1, MatchedBy: "ID_HASH"}}, records...)}
		if err := st.InTx(ctx, func(w *store.Writer) error { _, err := w.ApplyPersonResolution(ctx, plan); return err }); err != nil {
			t.Fatal(err)
		}
	}
	apply()
	if into := mergedInto(); into != nil {
		t.Fatalf("李四's person %d was merged into %d while R2 still stands for it", li, *into)
	}
	apply(store.ResolvedRecord{Key: "governance/RESIDENT/R2", LinkID: r2, MatchedBy: "DECISION"})
	if into := mergedInto(); into == nil || *into != zhang {
		t.Fatalf("李四's person %d, no record standing for it, merged into %v; want %d", li, into, zhang)
	}
}

// TestPartialResolutionChangesTheEvidence: a full resolution replaces the
// evidence, writing only the pairs that differ; a partial one writes its
// pairs over what is held, deletes the pairs it says are gone and those
// of the records removed, and keeps the rest.
func TestPartialResolutionChangesTheEvidence(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	apply := func(r store.PersonResolution) {
		t.Helper()
		if err := st.InTx(ctx, func(w *store.Writer) error { _, err := w.ApplyPersonResolution(ctx, r); return err }); err != nil {
			t.Fatal(err)
		}
	}
	held := func() map[[2]string]string {
		t.Helper()
		rows, err := st.Pool().Query(ctx, `SELECT record_a, record_b, outcome || ' ' || total FROM person_match`)
		if err != nil {
			t.Fatal(err)
		}
		m := map[[2]string]string{}
		var a, b, v string
		if _, err := pgx.ForEachRow(rows, []any{&a, &b, &v}, func() error { m[[2]string{a, b}] = v; return nil }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	pair := func(a, b, outcome string, total float64) store.PersonPair {
		return store.PersonPair{A: a, B: b, Outcome: outcome, Total: total, Fields: []byte(`[]`)}
	}
	apply(store.PersonResolution{Pairs: []store.PersonPair{pair("a", "b", "REVIEW", 3), pair("a", "c", "LINKED", 12),
		pair("b", "d", "LINKED", 11), pair("c", "e", "REVIEW", 4)}})
	apply(store.PersonResolution{Partial: true, Pairs: []store.PersonPair{pair("a", "b", "LINKED", 3), pair("d", "e", "REVIEW", 5),
		pair("c", "e", "LINKED", 6)}, Gone: [][2]string{{"a", "c"}}, Removed: []string{"b"}})
	want := map[[2]string]string{{"a", "b"}: "LINKED 3", {"c", "e"}: "LINKED 6", {"d", "e"}: "REVIEW 5"}
	if got := held(); !maps.Equal(got, want) {
		t.Fatalf("evidence after a partial resolution: %v, want %v", got, want)
	}
	// A full resolution: pairs kept as they are (not rewritten: the
	// row's version stays), changed, new and gone.
	version := func(a, b string) string {
		t.Helper()
		var x string
		if err := st.Pool().QueryRow(ctx, `SELECT xmin::text FROM person_match WHERE record_a = $1 AND record_b = $2`, a, b).Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	kept := version("a", "b")
	apply(store.PersonResolution{Pairs: []store.PersonPair{pair("a", "b", "LINKED", 3), pair("c", "e", "REVIEW", 7), pair("x", "y", "REVIEW", 2)}})
	want = map[[2]string]string{{"a", "b"}: "LINKED 3", {"c", "e"}: "REVIEW 7", {"x", "y"}: "REVIEW 2"}
	if got := held(); !maps.Equal(got, want) {
		t.Fatalf("evidence after a full resolution: %v, want %v", got, want)
	}
	if v := version("a", "b"); v != kept {
		t.Fatalf("a pair the full resolution holds as it was was written again (version %s, was %s)", v, kept)
	}
	apply(store.PersonResolution{})
	if got := held(); len(got) != 0 {
		t.Fatalf("evidence after a full resolution of no pairs: %v", got)
	}
}

// TestMergeMovesThePersonsMergedBefore: a person merged into one that is
// merged in turn names the new survivor, with a MERGED entry for the move
// (merged_into is not indexed: the entries find the persons merged into
// one), so that a global ID names the survivor in one step.
func TestMergeMovesThePersonsMergedBefore(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st, dsn := dbtest.NewStoreDSN(t)
	pool := dbtest.Pool(t, dsn)
	var x, y, z int64
	for _, id := range []*int64{&x, &y, &z} {
		if err := pool.QueryRow(ctx, `INSERT INTO person (record_key, name, name_masked)
			VALUES (gen_random_uuid()::text, '王五', '王*') RETURNING id`).Scan(id); err != nil {
			t.Fatal(err)
		}
	}
	merge := func(survivor, merged int64) {
		t.Helper()
		plan := store.PersonResolution{Partial: true, Persons: []store.ResolvedPerson{
			{ID: survivor, Merged: []int64{merged}, Name: "王五", NameMasked: pii.MaskName("王五")}}}
		if err := st.InTx(ctx, func(w *store.Writer) error { _, err := w.ApplyPersonResolution(ctx, plan); return err }); err != nil {
			t.Fatal(err)
		}
	}
	merge(y, x)
	merge(z, y)
	rows, err := pool.Query(ctx, `SELECT id, merged_into FROM person WHERE id = ANY($1) ORDER BY id`, []int64{x, y, z})
	if err != nil {
		t.Fatal(err)
	}
	into := map[int64]*int64{}
	for rows.Next() {
		var id int64
		var m *int64
		if err := rows.Scan(&id, &m); err != nil {
			t.Fatal(err)
		}
		into[id] = m
	}
	if into[x] == nil || *into[x] != z || into[y] == nil || *into[y] != z || into[z] != nil {
		t.Fatalf("merged into: x %v, y %v, z %v; want z, z and none", into[x], into[y], into[z])
	}
	rows, err = pool.Query(ctx, `SELECT person_id || ' ' || kind || ' ' || other_id FROM person_history ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	history, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{fmt.Sprint(x, " MERGED ", y), fmt.Sprint(y, " MERGED ", z), fmt.Sprint(x, " MERGED ", z)}; !slices.Equal(history, want) {
		t.Fatalf("history %q, want %q", history, want)
	}
}

// TestPersonLinksOfReadsAsPersonLinks: the records read by key are those
// of the read of everything, field for field, for every kind — a resident
// (its household's building), a party member with its home linked (the
// home's building), a grid worker, reporters with and without a valid
// ID — whatever person_link row the caller names for it; and a key that
// names nothing, or is not a record key, reads nothing.
func TestPersonLinksOfReadsAsPersonLinks(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	hotline, _ := storetest.SeedHotlineZhang(t, st)
	cs := storetest.ZhangReports(1)
	storetest.SeedCases(t, st, cs)
	for _, q := range []string{
		`UPDATE household SET building_id = (SELECT min(id) FROM building) WHERE source_id = 'H1'`,
		`INSERT INTO building_link (record_type, record_id, address, building_id, confidence, names_compound)
			SELECT 'PARTY_MEMBER', m.id, '幸福小区3栋', (SELECT max(id) FROM building), 1, true
			FROM party_member m WHERE m.source_id = 'D1'`,
		// Records standing for a person other than their own, as
		// resolution leaves them: the own person is read, not the one
		// they stand for.
		`UPDATE person_link SET person_id = (SELECT person_id FROM person_link WHERE source_id = 'R2') WHERE role = 'REPORTER'`,
	} {
		if _, err := st.Pool().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	all, err := st.PersonLinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]store.PersonLink{}
	var keys []string
	for _, l := range all {
		byKey[l.Key] = l
		keys = append(keys, l.Key)
	}
	for _, k := range []string{"governance/RESIDENT/R1", "party/PARTY_MEMBER/D1", "governance/GRID_WORKER/W1", hotline,
		"citymgmt/REPORTER/" + cs[0].SourceID} {
		if _, ok := byKey[k]; !ok {
			t.Fatalf("no record %s among %v", k, keys)
		}
	}
	if r1, d1 := byKey["governance/RESIDENT/R1"], byKey["party/PARTY_MEMBER/D1"]; r1.BuildingID == nil || d1.BuildingID == nil || *r1.BuildingID == *d1.BuildingID {
		t.Fatalf("the fixture's dwellings: resident %v, party member %v (want two buildings)", r1.BuildingID, d1.BuildingID)
	}
	if h, z := byKey[hotline], byKey["citymgmt/REPORTER/"+cs[0].SourceID]; h.OwnID == h.PersonID || z.OwnID == z.PersonID || h.OwnID == z.OwnID {
		t.Fatalf("the fixture's reporters: %+v, %+v (want each standing for a person not its own)", h, z)
	}
	show := func(l store.PersonLink) string {
		building, birth := "none", "none"
		if l.BuildingID != nil {
			building = fmt.Sprint(*l.BuildingID)
		}
		if l.Birth != nil {
			birth = l.Birth.Format(time.DateOnly)
		}
		l.BuildingID, l.Birth = nil, nil
		return fmt.Sprintf("%+v building %s birth %s", l, building, birth)
	}
	// Own persons known as they are, unknown, or known under another ID
	// hash (looked up; of a record without one, under one), each from its
	// own row, another record's, a row that is gone or none: the read is
	// the read of everything.
	known := map[string]store.KnownOwn{}
	for i, l := range all {
		var kn store.KnownOwn
		switch {
		case l.IDHash == nil && i%2 == 0:
			kn = store.KnownOwn{Own: l.OwnID}
		case l.IDHash == nil:
			kn = store.KnownOwn{IDHash: []byte("another"), Own: l.OwnID + 1000}
		case i%3 == 0:
			kn = store.KnownOwn{IDHash: l.IDHash, Own: l.OwnID}
		case i%3 == 1:
			kn = store.KnownOwn{IDHash: []byte("another"), Own: l.OwnID + 1000}
		}
		switch i % 4 {
		case 0:
			kn.Link = l.ID
		case 1:
			kn.Link = all[(i+1)%len(all)].ID
		case 2:
			kn.Link = 1 << 40
		}
		known[l.Key] = kn
	}
	for _, kn := range []map[string]store.KnownOwn{nil, known} {
		some, err := st.PersonLinksOf(ctx, append(slices.Clone(keys), "governance/RESIDENT/nobody", "not a key"), kn)
		if err != nil {
			t.Fatal(err)
		}
		if len(some) != len(all) {
			t.Fatalf("read by key %d records, %d in all", len(some), len(all))
		}
		read := map[string]bool{}
		for _, l := range some {
			read[l.Key] = true
		}
		if len(read) != len(all) {
			t.Fatalf("read by key %d distinct records, %d in all", len(read), len(all))
		}
		for _, l := range some {
			if got, want := show(l), show(byKey[l.Key]); got != want {
				t.Errorf("%s read by key (%d known):\n%s\nin the read of everything:\n%s", l.Key, len(kn), got, want)
			}
		}
	}
	// An own person known under the record's ID hash, or of a record
	// known without one, is taken as known.
	z := byKey["citymgmt/REPORTER/"+cs[0].SourceID]
	some, err := st.PersonLinksOf(ctx, []string{z.Key}, map[string]store.KnownOwn{z.Key: {IDHash: z.IDHash, Own: 424242}})
	if err != nil || len(some) != 1 || some[0].OwnID != 424242 {
		t.Fatalf("a known own person under the same ID hash: %+v, %v", some, err)
	}
	if byKey[hotline].IDHash != nil {
		t.Fatalf("the hotline reporter has an ID hash: %+v", byKey[hotline])
	}
	some, err = st.PersonLinksOf(ctx, []string{hotline}, map[string]store.KnownOwn{hotline: {Own: 424243}})
	if err != nil || len(some) != 1 || some[0].OwnID != 424243 {
		t.Fatalf("a known own person of a record without an ID hash: %+v, %v", some, err)
	}
}

// TestDerivedWritesDoNotWaitForTheDisk: a transaction of InDerivedTx runs
// with synchronous_commit off and commits; InTx's keep the server's
// setting.
func TestDerivedWritesDoNotWaitForTheDisk(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	for _, q := range []string{
		`CREATE TABLE commit_seen (n serial, setting text)`,
		`CREATE FUNCTION note_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO commit_seen (setting) VALUES (current_setting('synchronous_commit'));
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER note_commit AFTER DELETE ON person_resolve_queue FOR EACH STATEMENT EXECUTE FUNCTION note_commit()`,
		`INSERT INTO person_resolve_queue (record_key) VALUES ('a/REPORTER/1'), ('a/REPORTER/2')`,
	} {
		if _, err := st.Pool().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	q, err := st.PersonResolveQueue(ctx)
	if err != nil || len(q.Keys) != 2 {
		t.Fatalf("queue: %+v, %v", q, err)
	}
	// Each take advances the epoch from the one before it.
	one := func(i int) store.PersonQueue {
		return store.PersonQueue{Keys: q.Keys[i : i+1], Seqs: q.Seqs[i : i+1], Epoch: q.Epoch + int64(i)}
	}
	if err := st.InDerivedTx(ctx, func(w *store.Writer) error { _, err := w.TakePersonQueue(ctx, one(0), false); return err }); err != nil {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(w *store.Writer) error { _, err := w.TakePersonQueue(ctx, one(1), false); return err }); err != nil {
		t.Fatal(err)
	}
	var server string
	if err := st.Pool().QueryRow(ctx, `SHOW synchronous_commit`).Scan(&server); err != nil {
		t.Fatal(err)
	}
	var seen []string
	rows, err := st.Pool().Query(ctx, `SELECT setting FROM commit_seen ORDER BY n`)
	if err != nil {
		t.Fatal(err)
	}
	if seen, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	left, err := st.PersonResolveQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{"off", server}) || server == "off" || len(left.Keys) != 0 {
		t.Fatalf("synchronous_commit in a derived and a plain write: %v (the server's: %s); %d keys left queued", seen, server, len(left.Keys))
	}
}

// TestResolutionInputCopiedAsBound: a resolution whose golden records and
// evidence go to the server by COPY (a first resolution: many rows)
// writes what it writes from array parameters — every golden field, the
// phone taken from another person, the evidence, a pair gone.
func TestResolutionInputCopiedAsBound(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	written := func(copyAbove int) (persons, evidence []string) {
		t.Helper()
		store.SetCopyRowsAbove(t, copyAbove)
		st, dsn := dbtest.NewStoreDSN(t)
		storetest.SeedRegions(t, st)
		storetest.SeedPeople(t, st)
		pool := dbtest.Pool(t, dsn)
		var zhang, li int64
		for key, id := range map[string]*int64{"governance/RESIDENT/R1": &zhang, "governance/RESIDENT/R2": &li} {
			if err := pool.QueryRow(ctx, `SELECT person_id FROM person_link WHERE source || '/' || role || '/' || source_id = $1`, key).Scan(id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := pool.Exec(ctx, `INSERT INTO person_match (record_a, record_b, outcome, total, fields) VALUES ('x', 'y', 'REVIEW', 1, '[]')`); err != nil {
			t.Fatal(err)
		}
		var liPhone []byte
		if err := pool.QueryRow(ctx, `SELECT phone_hash FROM person WHERE id = $1`, li).Scan(&liPhone); err != nil || liPhone == nil {
			t.Fatalf("李四's phone: %v, %v", liPhone, err)
		}
		birth := time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC)
		plan := store.PersonResolution{
			Persons: []store.ResolvedPerson{
				{ID: zhang, Current: true, Name: "张三丰", NameMasked: pii.MaskName("张三丰"), Gender: "MALE", Birth: &birth,
					PhoneFrom: li, PhoneHash: liPhone, Provenance: map[string]string{"name": "governance/RESIDENT/R1", "phone": "governance/RESIDENT/R2"}},
				{ID: li, Current: true, Name: "李四", NameMasked: pii.MaskName("李四")},
			},
			Pairs: []store.PersonPair{
				{A: "governance/RESIDENT/R1", B: "governance/RESIDENT/R2", Outcome: "REVIEW", Total: 7.5,
					Fields: []byte(`[{"field":"name","level":"SIMILAR","weight":2.5}]`)},
			},
		}
		// Twice in one transaction: the second finds its input tables
		// made by the first, and writes nothing more.
		if err := st.InTx(ctx, func(w *store.Writer) error {
			if _, err := w.ApplyPersonResolution(ctx, plan); err != nil {
				return err
			}
			again, err := w.ApplyPersonResolution(ctx, plan)
			if err == nil && again.Golden != 0 {
				err = fmt.Errorf("the same resolution applied again wrote %d golden records", again.Golden)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var tookPhone bool
		if err := pool.QueryRow(ctx, `SELECT phone_hash = $2 FROM person WHERE id = $1`, zhang, liPhone).Scan(&tookPhone); err != nil || !tookPhone {
			t.Fatalf("张三丰's golden record did not take 李四's phone (copied above %d rows): %v", copyAbove, err)
		}
		rows, err := pool.Query(ctx, `SELECT concat_ws(' ', name, name_masked, gender, birth_date, encode(phone_hash, 'hex'), provenance)
			FROM person WHERE id = ANY($1) ORDER BY id`, []int64{zhang, li})
		if err != nil {
			t.Fatal(err)
		}
		if persons, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
		rows, err = pool.Query(ctx, `SELECT concat_ws(' ', record_a, record_b, outcome, total, fields) FROM person_match ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		if evidence, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
		return persons, evidence
	}
	boundPersons, boundEvidence := written(1000)
	copiedPersons, copiedEvidence := written(0)
	zhang := slices.IndexFunc(boundPersons, func(p string) bool { return strings.HasPrefix(p, "张三丰 ") })
	if len(boundPersons) != 2 || zhang < 0 || !strings.Contains(boundPersons[zhang], "MALE 1980-05-01") ||
		!strings.Contains(boundPersons[zhang], `"phone": "governance/RESIDENT/R2"`) {
		t.Fatalf("golden records from arrays: %q", boundPersons)
	}
	if len(boundEvidence) != 1 || !strings.Contains(boundEvidence[0], "REVIEW 7.5") {
		t.Fatalf("evidence from arrays: %q", boundEvidence)
	}
	if !slices.Equal(copiedPersons, boundPersons) || !slices.Equal(copiedEvidence, boundEvidence) {
		t.Fatalf("copied:\n%q\n%q\nbound:\n%q\n%q", copiedPersons, copiedEvidence, boundPersons, boundEvidence)
	}
}
