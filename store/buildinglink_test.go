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

// TestPruneBuildingLinksOfTheGivenKinds: links whose record is gone (from
// before migration 053) are dropped for the kinds asked, and only for them.
func TestPruneBuildingLinksOfTheGivenKinds(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(2))
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `INSERT INTO building_link (record_type, record_id, address, confidence, names_compound)
		SELECT 'CASE', c.id, c.address, 0, false FROM "case" c
		UNION ALL VALUES ('CASE', -1, '甲', 0, false), ('PARTY_MEMBER', -1, '乙', 0, false), ('SERVICE_STATION', -1, '丙', 0, false)`); err != nil {
		t.Fatal(err)
	}
	left := func() string {
		t.Helper()
		var s string
		if err := st.Pool().QueryRow(ctx, `SELECT string_agg(record_type || ':' || sign(record_id), ' ' ORDER BY record_type, record_id) FROM building_link`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, step := range []struct {
		kinds  []string
		pruned int64
		left   string
	}{
		{[]string{store.LinkPartyMember}, 1, "CASE:-1 CASE:1 CASE:1 SERVICE_STATION:-1"},
		{[]string{store.LinkServiceStation, store.LinkCase}, 2, "CASE:1 CASE:1"},
		{[]string{store.LinkPartyMember, store.LinkServiceStation, store.LinkCase}, 0, "CASE:1 CASE:1"},
	} {
		n, err := st.PruneBuildingLinks(store.Unscoped(ctx), step.kinds)
		if err != nil {
			t.Fatal(err)
		}
		if got := left(); n != step.pruned || got != step.left {
			t.Fatalf("prune %v: %d pruned, %q left; want %d, %q", step.kinds, n, got, step.pruned, step.left)
		}
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
