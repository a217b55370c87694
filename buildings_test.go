package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
)

// TestSyncLinksBuildings: `hub sync` leaves the party members' homes of
// the demo city linked to the buildings the governance system knows — one
// building whichever system names it — and holds the links to the
// targets against the simulator's truth (the building of the member's
// household): at least 98% to the right building, none to a building of
// another community. Every service station and case address is resolved
// too (the simulated ones name roads, not compounds: a case's leaves no
// link). A member whose home address changes is linked again by the next
// pass, and so is a case whose address comes to name a building.
func TestSyncLinksBuildings(t *testing.T) {
	t.Parallel()
	ctx := store.Unscoped(context.Background())
	st, sync := syncDemo(t, bytes.Repeat([]byte{0xcd}, 32))
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	regionByCode := map[string]int32{}
	for i, r := range c.Regions {
		regionByCode[r.Code] = int32(i)
	}
	communityOf := func(buildingKey string) int32 { // "grid code/compound/number"
		g, ok := regionByCode[strings.SplitN(buildingKey, "/", 2)[0]]
		if !ok {
			return -1
		}
		return c.Regions[g].Parent
	}
	truth := map[string]string{} // member source id → its home's building key
	for _, m := range c.Members {
		p := &c.People[m.Person]
		b := &c.Buildings[c.Households[p.Household].Building]
		truth[m.ID] = c.Regions[b.Grid].Code + "/" + c.Compounds[b.Compound].Name + "/" + strconv.Itoa(int(b.No))
	}

	type row struct{ member, building string }
	var rows []row
	r, err := st.Pool().Query(ctx, `SELECT m.source_id, coalesce(b.source_id, '') FROM party_member m
		JOIN building_link l ON l.record_type = 'PARTY_MEMBER' AND l.record_id = m.id
		LEFT JOIN building b ON b.id = l.building_id`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var x row
		if err := r.Scan(&x.member, &x.building); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, x)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	var members, unlinked int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM building_link l
		WHERE l.record_type = 'PARTY_MEMBER' AND l.record_id = m.id)) FROM party_member m WHERE m.address_raw <> ''`).Scan(&members, &unlinked); err != nil {
		t.Fatal(err)
	}
	if members < 100 || unlinked != 0 {
		t.Fatalf("%d members with a home address, %d of them not looked at", members, unlinked)
	}
	var known, right, none, otherCommunity int
	for _, x := range rows {
		want, ok := truth[x.member]
		if !ok {
			continue
		}
		known++
		switch {
		case x.building == want:
			right++
		case x.building == "":
			none++
		case communityOf(x.building) != communityOf(want):
			otherCommunity++
			t.Errorf("member %s linked to %s, a building of another community than its home %s", x.member, x.building, want)
		}
	}
	share := float64(right) / float64(known)
	t.Logf("party members' homes: %d known, %.4f to the right building, %d to none, %d to another community", known, share, none, otherCommunity)
	if known < 100 || share < 0.98 || otherCommunity != 0 {
		t.Fatalf("members' homes: %d known, %.4f right (want ≥ 0.98), %d to another community (want 0)", known, share, otherCommunity)
	}
	var stations, stationsLinked int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*), count(l.record_id) FROM service_station x
		LEFT JOIN building_link l ON l.record_type = 'SERVICE_STATION' AND l.record_id = x.id WHERE x.address <> ''`).Scan(&stations, &stationsLinked); err != nil {
		t.Fatal(err)
	}
	if stations == 0 || stationsLinked != stations {
		t.Errorf("service stations: %d addresses, %d resolved", stations, stationsLinked)
	}
	// Every case was looked at (the linking of every case completed, its
	// queue is empty); those naming no compound have no link.
	var epoch int64
	var queued, roads, cases, caseLinks int
	if err := st.Pool().QueryRow(ctx, `SELECT (SELECT epoch FROM resolution_epoch WHERE kind = 'BUILDING_LINK'),
		(SELECT count(*) FROM case_address_queue), (SELECT count(*) FROM "case" WHERE address <> ''),
		(SELECT count(*) FROM building_link WHERE record_type = 'CASE'),
		(SELECT count(*) FROM building_link WHERE record_type = 'CASE' AND NOT names_compound)`).Scan(&epoch, &queued, &cases, &caseLinks, &roads); err != nil {
		t.Fatal(err)
	}
	if epoch != 2 || queued != 0 || roads != 0 || cases == 0 || caseLinks >= cases/2 {
		t.Errorf("cases: linking epoch %d (want 2: every case looked at), %d queued; %d links of %d cases' addresses, %d naming no compound",
			epoch, queued, caseLinks, cases, roads)
	}

	// The API shows the link both ways: the member's home building, and
	// the member among the building's party members.
	var someMember, someBuilding int64
	if err := st.Pool().QueryRow(ctx, `SELECT l.record_id, l.building_id FROM building_link l
		WHERE l.record_type = 'PARTY_MEMBER' AND l.building_id IS NOT NULL ORDER BY l.record_id LIMIT 1`).Scan(&someMember, &someBuilding); err != nil {
		t.Fatal(err)
	}
	srv := graphtest.New(t, st)
	var got struct {
		Node struct {
			ID           string
			HomeBuilding *struct {
				Compound, Number string
				Households       struct{ TotalCount int }
				PartyMembers     struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
		}
	}
	srv.MustData(t, `query($id: ID!) { node(id: $id) { ... on PartyMember { id homeBuilding { compound number
		households { totalCount } partyMembers(first: 500) { edges { node { id } } } } } } }`,
		map[string]any{"id": model.GlobalID("PartyMember", someMember)}, &got)
	var compound, number string
	var households int
	if err := st.Pool().QueryRow(ctx, `SELECT coalesce(c.name, ''), b.number, (SELECT count(*) FROM household h WHERE h.building_id = b.id)
		FROM building b LEFT JOIN compound c ON c.id = b.compound_id WHERE b.id = $1`, someBuilding).Scan(&compound, &number, &households); err != nil {
		t.Fatal(err)
	}
	hb := got.Node.HomeBuilding
	if hb == nil || hb.Compound != compound || hb.Number != number || hb.Households.TotalCount != households {
		t.Fatalf("member %d: homeBuilding %+v, want %s %s with %d households", someMember, hb, compound, number, households)
	}
	found := false
	for _, e := range hb.PartyMembers.Edges {
		found = found || e.Node.ID == got.Node.ID
	}
	if !found {
		t.Fatalf("building %s %s: its party members %+v miss member %s", compound, number, hb.PartyMembers.Edges, got.Node.ID)
	}

	// A changed home address is resolved again: move one member's home
	// into another building of the city and sync.
	var memberID int64
	var old string
	if err := st.Pool().QueryRow(ctx, `SELECT l.record_id, l.address FROM building_link l
		WHERE l.record_type = 'PARTY_MEMBER' AND l.building_id IS NOT NULL ORDER BY l.record_id LIMIT 1`).Scan(&memberID, &old); err != nil {
		t.Fatal(err)
	}
	var other string
	var otherID int64
	if err := st.Pool().QueryRow(ctx, `SELECT h.address_raw, h.building_id FROM household h WHERE h.building_id IS NOT NULL AND
		h.building_id <> (SELECT building_id FROM building_link WHERE record_type = 'PARTY_MEMBER' AND record_id = $1)
		AND h.address_raw LIKE '%区%' ORDER BY h.id LIMIT 1`, memberID).Scan(&other, &otherID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE party_member SET address_raw = $2 WHERE id = $1`, memberID, other); err != nil {
		t.Fatal(err)
	}
	sync()
	var now int64
	if err := st.Pool().QueryRow(ctx, `SELECT coalesce(building_id, 0) FROM building_link WHERE record_type = 'PARTY_MEMBER' AND record_id = $1`,
		memberID).Scan(&now); err != nil {
		t.Fatal(err)
	}
	if now != otherID {
		t.Fatalf("member %d moved from %q to %q: linked to building %d, want %d", memberID, old, other, now, otherID)
	}

	// A case whose address comes to name a building is linked to it by
	// the next sync, and loses the link when it names a road again.
	var caseID int64
	var road string
	if err := st.Pool().QueryRow(ctx, `SELECT id, address FROM "case" WHERE address <> '' ORDER BY id LIMIT 1`).Scan(&caseID, &road); err != nil {
		t.Fatal(err)
	}
	caseBuilding := func() int64 {
		t.Helper()
		var b int64
		if err := st.Pool().QueryRow(ctx, `SELECT coalesce((SELECT coalesce(building_id, 0) FROM building_link
			WHERE record_type = 'CASE' AND record_id = $1), -1)`, caseID).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET address = $2 WHERE id = $1`, caseID, other); err != nil {
		t.Fatal(err)
	}
	sync()
	if b := caseBuilding(); b != otherID {
		t.Fatalf("case %d moved from %q to %q: linked to building %d, want %d", caseID, road, other, b, otherID)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET address = $2 WHERE id = $1`, caseID, road); err != nil {
		t.Fatal(err)
	}
	sync()
	if b := caseBuilding(); b != -1 {
		t.Fatalf("case %d back on %q: link to building %d left", caseID, road, b)
	}
}
