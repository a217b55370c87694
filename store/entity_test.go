package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"maps"
	"testing"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

func count(t *testing.T, st *store.Store, sql string) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestEveryRecordTypeAndLateReferences writes each record type, with
// references arriving in the wrong order, and checks that the golden person
// records merge across sources and roles and every reference resolves.
func TestEveryRecordTypeAndLateReferences(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	ctx := context.Background()
	err := st.InTx(ctx, func(w *store.Writer) error {
		for _, s := range []canon.Source{{Name: "party", Kind: canon.SourceSQL}, {Name: "governance", Kind: canon.SourceREST}} {
			if err := w.UpsertSource(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	grid := "420606001001001"
	zhang := storetest.Person("420606198005011234", "张三", "13800001111")

	// A resident arrives before the household it lives in.
	storetest.Upsert(t, st, &canon.Resident{Provenance: storetest.Prov("governance", "R1", "r1"), Person: zhang, HouseholdSourceID: "H1",
		GridCode: grid, Residence: canon.Registered, Relation: "户主"})
	storetest.Upsert(t, st, &canon.Household{Provenance: storetest.Prov("governance", "H1", "h1"), GridCode: grid, CompoundName: "幸福小区",
		BuildingNo: "3", Unit: "2", Room: "301", AddressRaw: "幸福小区3栋2单元301",
		Location: &canon.Location{Point: canon.Point{Lat: 31.95, Lng: 112.02}}})
	if n := count(t, st, `SELECT count(*) FROM resident r JOIN household h ON h.id = r.household_id
		JOIN building b ON b.id = h.building_id JOIN compound c ON c.id = b.compound_id WHERE c.name = '幸福小区' AND b.number = '3'`); n != 1 {
		t.Fatalf("resident → household → building → compound resolved for %d rows, want 1", n)
	}

	// A member arrives before its organisation, the branch before its parent.
	storetest.Upsert(t, st, &canon.PartyMember{Provenance: storetest.Prov("party", "D1", "d1"), Person: zhang, OrgSourceID: "ZB1", CentralHousehold: true})
	storetest.Upsert(t, st,
		&canon.PartyOrg{Provenance: storetest.Prov("party", "ZB1", "zb1"), Name: "第一网格党支部", Kind: canon.OrgBranch, ParentSourceID: "DW1", GridCode: grid},
		&canon.PartyOrg{Provenance: storetest.Prov("party", "DW1", "dw1"), Name: "长虹社区党委", Kind: canon.OrgCommittee, CommunityName: "长虹社区"})
	if n := count(t, st, `SELECT count(*) FROM party_member m JOIN party_org b ON b.id = m.org_id
		JOIN party_org c ON c.id = b.parent_id JOIN region r ON r.id = c.region_id WHERE r.name = '长虹社区'`); n != 1 {
		t.Fatalf("member → branch → committee → community resolved for %d rows, want 1", n)
	}
	storetest.Upsert(t, st,
		&canon.VolunteerActivity{Provenance: storetest.Prov("party", "A1", "a1"), Title: "义务理发", MemberSourceID: "D1", StationSourceID: "S1", Hours: 2.5, Points: 5},
		&canon.DualReport{Provenance: storetest.Prov("party", "B1", "b1"), MemberSourceID: "D1", CommunityCode: "420606001002", Employer: "襄阳市财政局"},
		&canon.GridWorker{Provenance: storetest.Prov("governance", "W1", "w1"), Person: zhang, Role: canon.GridWorkerLeader, GridCodes: []string{grid, "420606001001002"}})
	storetest.Upsert(t, st, &canon.ServiceStation{Provenance: storetest.Prov("party", "S1", "s1"), Name: "长虹红色驿站", Kind: canon.StationRedPost,
		Services: []string{"政策咨询", "爱心理发"}, CommunityCode: "420606001001"})
	if n := count(t, st, `SELECT count(*) FROM volunteer_activity a JOIN party_member m ON m.id = a.member_id
		JOIN service_station s ON s.id = a.station_id WHERE a.hours = 2.5`); n != 1 {
		t.Fatal("activity references did not resolve")
	}
	if n := count(t, st, `SELECT count(*) FROM dual_report d JOIN party_member m ON m.id = d.member_id JOIN region r ON r.id = d.community_id`); n != 1 {
		t.Fatal("dual report references did not resolve")
	}
	if n := count(t, st, `SELECT count(*) FROM grid_worker_grid`); n != 2 {
		t.Fatalf("grid worker serves %d grids, want 2", n)
	}
	// One person, three roles, three links.
	if n := count(t, st, `SELECT count(*) FROM person`); n != 1 {
		t.Fatalf("%d golden person records, want 1", n)
	}
	if n := count(t, st, `SELECT count(DISTINCT role) FROM person_link`); n != 3 {
		t.Fatalf("%d roles linked, want 3", n)
	}
	if n := count(t, st, `SELECT count(*) FROM person p WHERE name_masked = '张*' AND id_masked = '420606********1234'
		AND EXISTS (SELECT 1 FROM resident r WHERE r.person_id = p.id AND r.household_id IS NOT NULL)`); n != 1 {
		t.Fatal("masked forms or household of the golden record wrong")
	}

	// Re-sending the same records changes nothing.
	res := storetest.Upsert(t, st, &canon.PartyOrg{Provenance: storetest.Prov("party", "ZB1", "zb1"), Name: "第一网格党支部", Kind: canon.OrgBranch, ParentSourceID: "DW1", GridCode: grid})
	if res.Written != 0 || res.Unchanged != 1 {
		t.Fatalf("resend = %+v", res)
	}

	// Tombstones remove records; references to them become NULL.
	err = st.InTx(ctx, func(w *store.Writer) error {
		n, err := w.Delete(ctx, canon.RecordPartyMember, "party", []string{"D1", "missing"})
		if n != 1 {
			t.Errorf("deleted %d members, want 1", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, `SELECT count(*) FROM volunteer_activity WHERE member_id IS NULL AND member_source_id = 'D1'`); n != 1 {
		t.Fatal("activity of a deleted member should keep its source reference with a NULL link")
	}
	if n := count(t, st, `SELECT count(*) FROM person_link WHERE role = 'PARTY_MEMBER'`); n != 0 {
		t.Fatal("person link of a deleted member remains")
	}
}

// TestHouseholdsMakeTheirBuildingsAndCompounds writes households of two
// buildings of one compound and one of a building without compound in a
// batch: each building and compound is made once, the buildings with the
// compound the same batch made. A building whose compound is deleted gets
// the compound back when a later batch makes it again, also when none of
// its own households is in that batch.
func TestHouseholdsMakeTheirBuildingsAndCompounds(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	grid := "420606001001001"
	household := func(id, compound, building, room string) *canon.Household {
		return &canon.Household{Provenance: storetest.Prov("governance", id, id+room), GridCode: grid, CompoundName: compound,
			BuildingNo: building, Room: room, AddressRaw: compound + building + "栋" + room}
	}
	buildings := func() map[string]string {
		t.Helper()
		return pairs(t, st, `SELECT b.number, coalesce(c.name, '-') FROM building b LEFT JOIN compound c ON c.id = b.compound_id
			WHERE b.source = 'governance' AND b.grid_id = (SELECT id FROM region WHERE code = $1)`, grid)
	}
	storetest.Upsert(t, st, household("HB1", "和平小区", "3", "101"), household("HB2", "和平小区", "3", "102"),
		household("HB3", "和平小区", "5", "201"), household("HB4", "", "7", "301"))
	want := map[string]string{"3": "和平小区", "5": "和平小区", "7": "-"}
	if got := buildings(); !maps.Equal(got, want) {
		t.Fatalf("buildings (number → compound) %v, want %v", got, want)
	}
	if n := count(t, st, `SELECT count(*) FROM compound WHERE name = '和平小区'`); n != 1 {
		t.Fatalf("%d compounds 和平小区, want 1", n)
	}

	if _, err := st.Pool().Exec(context.Background(), `DELETE FROM compound WHERE name = '和平小区'`); err != nil {
		t.Fatal(err)
	}
	if got := buildings(); got["3"] != "-" || got["5"] != "-" {
		t.Fatalf("buildings after their compound was deleted: %v", got)
	}
	storetest.Upsert(t, st, household("HB1", "和平小区", "3", "101b"))
	if got := buildings(); !maps.Equal(got, want) {
		t.Fatalf("buildings after the compound was made again: %v, want %v", got, want)
	}
}

func TestCaseReporterLinksPerson(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(2)
	li := storetest.Person("420606199001011235", "李四", "13900002222")
	cases[0].Reporter = &li
	storetest.SeedCases(t, st, cases)
	if n := count(t, st, `SELECT count(*) FROM "case" c JOIN person_link l ON l.source = c.source AND l.source_id = c.source_id AND l.role = 'REPORTER'
		JOIN person p ON p.id = l.person_id WHERE p.name = '李四'`); n != 1 {
		t.Fatal("reporter not linked")
	}
	if n := count(t, st, `SELECT count(*) FROM person_link WHERE role = 'REPORTER'`); n != 1 {
		t.Fatal("reporter link missing")
	}
}

// TestPersonNamedAgainIsNotRewritten: a sealed ID or phone differs at
// every sealing (random nonce), so a record naming a known person with the
// same phone must leave the person's row as it is — neither rewritten nor
// locked (a lock writes the row's xmax) —; a new phone replaces the old
// one with its own sealed value.
func TestPersonNamedAgainIsNotRewritten(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	ctx := context.Background()
	if err := st.InTx(ctx, func(w *store.Writer) error {
		return w.UpsertSource(ctx, canon.Source{Name: "governance", Kind: canon.SourceREST})
	}); err != nil {
		t.Fatal(err)
	}
	sealed := func(s string) []byte { return []byte(s + "|" + t.Name() + "|" + rand.Text()) }
	worker := func(id, phone string) *canon.GridWorker {
		p := storetest.Person("420606199001011234", "张三", phone)
		p.IDSealed, p.PhoneSealed = sealed("id"), sealed(phone)
		return &canon.GridWorker{Provenance: storetest.Prov("governance", id, id+phone), Person: p,
			Role: canon.GridWorkerLeader, GridCodes: []string{"420606001001001"}}
	}
	type row struct {
		xmin, xmax          string
		idSealed, phoneSeal []byte
		phoneMasked         string
	}
	read := func() row {
		t.Helper()
		var r row
		if err := st.Pool().QueryRow(ctx, `SELECT xmin::text, xmax::text, id_sealed, phone_sealed, phone_masked FROM person`).
			Scan(&r.xmin, &r.xmax, &r.idSealed, &r.phoneSeal, &r.phoneMasked); err != nil {
			t.Fatal(err)
		}
		return r
	}
	storetest.Upsert(t, st, worker("W1", "13900001111"))
	first := read()
	// Another record of the same person and phone, sealed anew.
	storetest.Upsert(t, st, worker("W2", "13900001111"))
	if again := read(); again.xmin != first.xmin || again.xmax != first.xmax || !bytes.Equal(again.phoneSeal, first.phoneSeal) || !bytes.Equal(again.idSealed, first.idSealed) {
		t.Fatalf("the person was rewritten or locked by a record naming the same ID and phone: %+v → %+v", first, again)
	}
	// A new phone is taken, with its sealed value.
	w3 := worker("W3", "13700002222")
	storetest.Upsert(t, st, w3)
	moved := read()
	if moved.xmin == first.xmin || !bytes.Equal(moved.phoneSeal, w3.Person.PhoneSealed) || moved.phoneMasked != w3.Person.PhoneMasked {
		t.Fatalf("a new phone was not taken: %+v", moved)
	}
	if !bytes.Equal(moved.idSealed, first.idSealed) {
		t.Fatal("the sealed ID was replaced though the ID is the same")
	}
	if n := count(t, st, `SELECT count(*) FROM person`); n != 1 {
		t.Fatalf("%d persons, want 1", n)
	}
}
