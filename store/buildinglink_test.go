package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// A record's building link goes with the record (migration 053): deleting
// cases deletes their links, and only theirs — not the link of a member
// whose id is the same —, and so does emptying the table.
func TestBuildingLinksFollowTheirRecords(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(3))
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		if _, err := st.Pool().Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	links := func(kind string) int {
		t.Helper()
		return count(t, st, `SELECT count(*) FROM building_link WHERE record_type = '`+kind+`'`)
	}
	exec(`INSERT INTO building_link (record_type, record_id, address, confidence, names_compound)
		SELECT k, c.id, c.address, 0, false FROM "case" c CROSS JOIN (VALUES ('CASE'), ('PARTY_MEMBER')) AS v(k)`)
	if links("CASE") != 3 || links("PARTY_MEMBER") != 3 {
		t.Fatalf("links written: %d of cases, %d of members", links("CASE"), links("PARTY_MEMBER"))
	}
	exec(`DELETE FROM "case" WHERE id = (SELECT min(id) FROM "case")`)
	if n := count(t, st, `SELECT count(*) FROM building_link l WHERE l.record_type = 'CASE'
		AND NOT EXISTS (SELECT 1 FROM "case" c WHERE c.id = l.record_id)`); n != 0 || links("CASE") != 2 {
		t.Fatalf("after a case deleted: %d case links, %d of them of no case", links("CASE"), n)
	}
	if links("PARTY_MEMBER") != 3 {
		t.Fatalf("a member's link went with a case of the same id: %d left", links("PARTY_MEMBER"))
	}
	exec(`TRUNCATE "case" CASCADE`)
	if links("CASE") != 0 || links("PARTY_MEMBER") != 3 {
		t.Fatalf("after the cases emptied: %d case links, %d member links", links("CASE"), links("PARTY_MEMBER"))
	}
}

// TestCaseAddressQueue: nothing is queued before the first linking of
// cases begins; then each case inserted, or updated in its address or
// grid (not in what else it says), is; until a linking has looked at every
// case, each must (BeginCaseLinking says all); taking the queue deletes
// the entries read, and an entry queued after the read stays.
func TestCaseAddressQueue(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(4)
	for i := range cases[:3] {
		cases[i].Address = fmt.Sprintf("人民路%d号", i+1)
	}
	storetest.SeedCases(t, st, cases[:2])
	ctx := store.Unscoped(context.Background())
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := st.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	queued := func() []int64 {
		t.Helper()
		rows, err := st.Pool().Query(ctx, `SELECT case_id FROM case_address_queue ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	idOf := func(c int) int64 {
		t.Helper()
		var id int64
		if err := st.Pool().QueryRow(ctx, `SELECT id FROM "case" WHERE source_id = $1`, cases[c].SourceID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	begin := func() bool {
		t.Helper()
		all, err := st.BeginCaseLinking(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return all
	}
	exec(`UPDATE "case" SET address = address || '旁'`)
	if q := queued(); len(q) != 0 {
		t.Fatalf("before the first linking: %v queued", q)
	}
	if !begin() || !begin() {
		t.Fatal("before a linking of every case completed, a linking need not look at every case")
	}
	storetest.SeedCases(t, st, cases[2:]) // the fourth without an address
	exec(`UPDATE "case" SET title = title || '（更正）'`)
	exec(`UPDATE "case" SET address = '人民路8号' WHERE id = $1`, idOf(0))
	exec(`UPDATE "case" SET grid_id = NULL WHERE id = $1`, idOf(1))
	if q, want := queued(), []int64{idOf(2), idOf(0), idOf(1)}; !slices.Equal(q, want) {
		t.Fatalf("queued %v, want the case inserted, the case moved and the case regridded: %v", q, want)
	}
	if err := st.CaseAddressesLinked(ctx); err != nil {
		t.Fatal(err)
	}
	if begin() {
		t.Fatal("after a linking of every case, the next must look at every case again")
	}
	q, err := st.CaseAddressQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE "case" SET address = '人民路9号' WHERE id = $1`, idOf(0))
	want := []int64{idOf(0), idOf(1), idOf(2)}
	slices.Sort(want)
	if !slices.Equal(q.IDs, want) || len(q.Seqs) != 3 {
		t.Fatalf("queue read: %+v, want cases %v from 3 entries", q, want)
	}
	if err := st.TakeCaseAddressQueue(ctx, q.Seqs); err != nil {
		t.Fatal(err)
	}
	if left := queued(); !slices.Equal(left, []int64{idOf(0)}) {
		t.Fatalf("after taking the queue read: %v left, want the case changed since: %d", left, idOf(0))
	}
	// The addresses of queued cases are read as they are now, whether
	// linked or not, a case gone left out.
	exec(`INSERT INTO building_link (record_type, record_id, address, confidence, names_compound) VALUES ('CASE', $1, '幸福小区1栋', 0, true)`, idOf(1))
	exec(`DELETE FROM "case" WHERE id = $1`, idOf(2))
	got, err := st.CaseAddresses(ctx, []int64{idOf(1), idOf(0), -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != idOf(0) || got[0].Address != "人民路9号" || got[0].Linked || got[1].ID != idOf(1) || !got[1].Linked {
		t.Fatalf("case addresses: %+v", got)
	}
}

// TestSaveBuildingLinksKeepsCasesNamingACompound: a case's link is stored
// only where its address names a compound (a member's always); saving a
// case's link that is not kept deletes the link the case had.
func TestSaveBuildingLinksKeepsCasesNamingACompound(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(3))
	ctx := store.Unscoped(context.Background())
	rows, err := st.Pool().Query(ctx, `SELECT id FROM "case" ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	stored := func() string {
		t.Helper()
		var s string
		if err := st.Pool().QueryRow(ctx, `SELECT coalesce(string_agg(record_type || ':' || address, ' ' ORDER BY record_type, record_id), '')
			FROM building_link`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := st.SaveBuildingLinks(ctx, []store.BuildingLink{
		{Kind: store.LinkCase, ID: ids[0], Address: "人民路1号"},
		{Kind: store.LinkCase, ID: ids[1], Address: "幸福小区", NamesCompound: true},
		{Kind: store.LinkPartyMember, ID: ids[0], Address: "人民路2号"},
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := stored(), "CASE:幸福小区 PARTY_MEMBER:人民路2号"; got != want {
		t.Fatalf("stored %q, want %q", got, want)
	}
	// The second case moves to a road: its link goes; the third names a
	// road and had none: nothing to delete.
	if err := st.SaveBuildingLinks(ctx, []store.BuildingLink{
		{Kind: store.LinkCase, ID: ids[1], Address: "人民路3号", Linked: true},
		{Kind: store.LinkCase, ID: ids[2], Address: "人民路4号"},
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := stored(), "PARTY_MEMBER:人民路2号"; got != want {
		t.Fatalf("after the case moved to a road: stored %q, want %q", got, want)
	}
}

// AddressesToResolve picks, in id order from after its cursor, the cases
// whose address has no link of their kind, a link to another address, or
// — when retrying — a link to no building although it names a compound;
// a case without an address never, a link of another kind with the same
// id never counts.
func TestAddressesToResolveSkipsCurrentLinks(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(6)
	for i := range cases[:5] {
		cases[i].Address = fmt.Sprintf("人民路%d号", i+1)
	}
	storetest.SeedCases(t, st, cases)
	ctx := store.Unscoped(context.Background())
	rows, err := st.Pool().Query(ctx, `SELECT id FROM "case" ORDER BY source_id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) != 6 {
		t.Fatalf("cases seeded: %v (%v)", ids, err)
	}
	// Case 0: no link of its own (a member's link has its id and address);
	// 1: linked as it reads; 2: linked under an older address; 3: linked
	// to no building although it names a compound; 4: linked to no
	// building, naming none; 5: no address.
	if _, err := st.Pool().Exec(ctx, `INSERT INTO building_link (record_type, record_id, address, confidence, names_compound)
		VALUES ('PARTY_MEMBER', $1, '人民路1号', 0, false), ('CASE', $2, '人民路2号', 0, false),
			('CASE', $3, '人民路九号', 0, false), ('CASE', $4, '人民路4号', 0, true), ('CASE', $5, '人民路5号', 0, false)`,
		ids[0], ids[1], ids[2], ids[3], ids[4]); err != nil {
		t.Fatal(err)
	}
	picked := func(after int64, limit int, retry bool) []int64 {
		t.Helper()
		list, err := st.AddressesToResolve(ctx, store.LinkCase, after, limit, retry)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, a := range list {
			out = append(out, a.ID)
			// Case 0 has no link of its own, the others one.
			if a.Linked != (a.ID != ids[0]) {
				t.Errorf("case %d: linked %v", a.ID, a.Linked)
			}
		}
		return out
	}
	for _, c := range []struct {
		after int64
		limit int
		retry bool
		want  []int64
	}{
		{0, 10, false, []int64{ids[0], ids[2]}},
		{0, 10, true, []int64{ids[0], ids[2], ids[3]}},
		{ids[0], 10, true, []int64{ids[2], ids[3]}},
		{0, 2, true, []int64{ids[0], ids[2]}},
	} {
		if got := picked(c.after, c.limit, c.retry); !slices.Equal(got, c.want) {
			t.Errorf("after %d, limit %d, retry %v: picked %v, want %v", c.after, c.limit, c.retry, got, c.want)
		}
	}
}
