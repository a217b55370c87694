package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
)

// Prov builds a provenance whose payload hash is that of payload.
func Prov(source, id, payload string) canon.Provenance {
	sum := sha256.Sum256([]byte(payload))
	return canon.Provenance{Source: source, SourceID: id, SourceUpdatedAt: Base, FetchedAt: Base.Add(time.Hour), PayloadHash: sum[:]}
}

// Person builds a person reference from a (fixture) citizen ID and phone.
func Person(id, name, phone string) canon.PersonRef {
	h := sha256.Sum256([]byte("id:" + id))
	p := sha256.Sum256([]byte("phone:" + phone))
	g := canon.Male
	if (id[16]-'0')%2 == 0 {
		g = canon.Female
	}
	birth, _ := time.Parse("20060102", id[6:14])
	return canon.PersonRef{IDHash: h[:], IDMasked: pii.MaskID(id), Name: name, NameMasked: pii.MaskName(name), Gender: g,
		BirthDate: birth, PhoneHash: p[:], PhoneMasked: pii.MaskPhone(phone)}
}

// Upsert writes records in one transaction.
func Upsert(t testing.TB, st *store.Store, recs ...any) store.UpsertResult {
	t.Helper()
	var res store.UpsertResult
	err := st.InTx(context.Background(), func(w *store.Writer) error {
		var err error
		res, err = w.Upsert(context.Background(), recs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// SeedPeople stores, over SeedRegions, one person of every role in 长虹社区
// (张三: resident, party member, grid worker), a second resident in 新华社区
// (李四), the party organisations above 张三, a 双报到 registration, a red
// post with a volunteer activity, and the sources party and governance.
func SeedPeople(t testing.TB, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(w *store.Writer) error {
		for _, s := range []canon.Source{{Name: "party", Kind: canon.SourceSQL, Description: "党建信息系统"},
			{Name: "governance", Kind: canon.SourceREST, Description: "综治网格化服务管理平台"}} {
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
	zhang := Person("420606198005011234", "张三", "13800001111")
	li := Person("420606199001011245", "李四", "13900002222")
	Upsert(t, st,
		&canon.Household{Provenance: Prov("governance", "H1", "h1"), GridCode: grid, CompoundName: "幸福小区", BuildingNo: "3", Unit: "2", Room: "301",
			AddressRaw: "幸福小区3栋2单元301", Location: &canon.Location{Point: canon.Point{Lat: 31.95, Lng: 112.02}}},
		&canon.Household{Provenance: Prov("governance", "H2", "h2"), GridCode: "420606001002001", CompoundName: "新华苑", BuildingNo: "1", Unit: "1", Room: "101"},
		&canon.Resident{Provenance: Prov("governance", "R1", "r1"), Person: zhang, HouseholdSourceID: "H1", GridCode: grid, Residence: canon.Registered, Relation: "户主"},
		&canon.Resident{Provenance: Prov("governance", "R2", "r2"), Person: li, HouseholdSourceID: "H2", GridCode: "420606001002001", Residence: canon.Floating, Relation: "户主"},
		&canon.GridWorker{Provenance: Prov("governance", "W1", "w1"), Person: zhang, Role: canon.GridWorkerLeader, GridCodes: []string{grid}},
		&canon.PartyOrg{Provenance: Prov("party", "DGW1", "dgw1"), Name: "汉江街道党工委", Kind: canon.OrgWorkingCommittee},
		&canon.PartyOrg{Provenance: Prov("party", "DW1", "dw1"), Name: "长虹社区党委", Kind: canon.OrgCommittee, ParentSourceID: "DGW1", CommunityName: "长虹社区"},
		&canon.PartyOrg{Provenance: Prov("party", "ZB1", "zb1"), Name: "第一网格党支部", Kind: canon.OrgBranch, ParentSourceID: "DW1", GridCode: grid},
		&canon.PartyMember{Provenance: Prov("party", "D1", "d1"), Person: zhang, OrgSourceID: "ZB1", CentralHousehold: true,
			JoinedOn: time.Date(2005, 7, 1, 0, 0, 0, 0, time.UTC), GridCode: grid},
		&canon.DualReport{Provenance: Prov("party", "B1", "b1"), MemberSourceID: "D1", CommunityCode: "420606001001", BranchSourceID: "ZB1", Employer: "襄阳市财政局",
			ReportedOn: time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		&canon.ServiceStation{Provenance: Prov("party", "S1", "s1"), Name: "长虹红色驿站", Kind: canon.StationRedPost, Address: "长虹路8号",
			Location: &canon.Location{Point: canon.Point{Lat: 31.951, Lng: 112.021}, Orig: canon.Point{Lat: 31.957, Lng: 112.032}, OrigDatum: canon.BD09},
			Services: []string{"政策咨询", "爱心理发"}, OpeningHours: "08:30-17:30", CommunityCode: "420606001001"},
		&canon.VolunteerActivity{Provenance: Prov("party", "A1", "a1"), Title: "义务理发", MemberSourceID: "D1", StationSourceID: "S1",
			HeldOn: time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC), Hours: 2.5, Points: 5},
	)
}

// SeedHotlineZhang stores, beside SeedPeople's records (seeded here too),
// one case whose hotline reporter gives 张三's name and phone but no ID,
// and returns the reporter's person record key and the case.
func SeedHotlineZhang(t testing.TB, st *store.Store) (string, canon.Case) {
	t.Helper()
	SeedPeople(t, st)
	zhang := Person("420606198005011234", "张三", "13800001111")
	cs := MakeCases(1)
	cs[0].Reporter = &canon.PersonRef{Name: "张三", NameMasked: pii.MaskName("张三"), PhoneHash: zhang.PhoneHash, PhoneMasked: zhang.PhoneMasked}
	SeedCases(t, st, cs)
	return "citymgmt/REPORTER/" + cs[0].SourceID, cs[0]
}

// ZhangReports returns n cases (not stored) that 张三 of SeedPeople
// reports under his citizen ID, after the hotline case of
// SeedHotlineZhang in MakeCases' order.
func ZhangReports(n int) []canon.Case {
	zhang := Person("420606198005011234", "张三", "13800001111")
	cs := MakeCases(n + 1)[1:]
	for i := range cs {
		cs[i].Reporter = &zhang
	}
	return cs
}
