package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/ywtg/hub/auth"
)

// TestCommunityStaffSeesOnlyItsCommunity tries every query path with a
// key scoped to 长虹社区 against the cases, people and places of 新华社区.
func TestCommunityStaffSeesOnlyItsCommunity(t *testing.T) {
	srv := newCityServer(t, 40)
	// Global IDs of things outside the scope, read without a principal.
	var out struct {
		Region struct {
			ID    string
			Cases struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		People struct {
			Edges []struct{ Node struct{ ID, Name string } }
		}
	}
	srv.MustData(t, `{ region(code: "420606001002") { id cases(first: 1) { edges { node { id } } } }
		people { edges { node { id name } } } }`, nil, &out)
	otherRegion, otherCase := out.Region.ID, out.Region.Cases.Edges[0].Node.ID
	var li string
	for _, e := range out.People.Edges {
		if e.Node.Name == "李*" {
			li = e.Node.ID
		}
	}

	srv.As(&auth.Principal{ID: "key:9", Role: auth.Staff, RegionCode: "420606001001"})
	var d struct {
		Cases     struct{ TotalCount int }
		CaseStats []struct{ Count int }
		ByGroup   []struct {
			Key   []struct{ Value string }
			Count int
		}
		Regions struct {
			TotalCount int
			Edges      []struct{ Node struct{ Code string } }
		}
		Other *struct{ Code string }
		City  *struct{ Code string }
		Own   *struct {
			Stats     struct{ OpenCases, ClosedCases int }
			Ancestors []struct{ Code string }
		}
		Node      *struct{ ID string }
		OtherCase *struct{ ID string }
		OtherPers *struct{ ID string }
		People    struct {
			Edges []struct{ Node struct{ Name string } }
		}
		Stations struct {
			Edges []struct{ Node struct{ Name string } }
		}
		Orgs struct {
			Edges []struct{ Node struct{ Name string } }
		}
	}
	srv.MustData(t, `query($r: ID!, $c: ID!, $p: ID!) {
		cases { totalCount }
		caseStats(groupBy: []) { count }
		byGroup: caseStats(groupBy: [COMMUNITY]) { key { value } count }
		regions(first: 100) { totalCount edges { node { code } } }
		other: region(code: "420606001002") { code }
		city: region(code: "420600") { code }
		own: region(code: "420606001001") { stats { openCases closedCases } ancestors { code } }
		node(id: $r) { id }
		otherCase: node(id: $c) { id }
		otherPers: node(id: $p) { id }
		people { edges { node { name } } }
		stations: serviceStations { edges { node { name } } }
		orgs: partyOrgs { edges { node { name } } }
	}`, map[string]any{"r": otherRegion, "c": otherCase, "p": li}, &d)
	if d.Cases.TotalCount != 20 || d.CaseStats[0].Count != 20 {
		t.Fatalf("cases %d, stats %+v; want 20 of the community's own", d.Cases.TotalCount, d.CaseStats)
	}
	if len(d.ByGroup) != 1 || d.ByGroup[0].Key[0].Value != "420606001001" || d.ByGroup[0].Count != 20 {
		t.Fatalf("grouped stats = %+v", d.ByGroup)
	}
	if d.Regions.TotalCount != 3 { // the community and its two grids
		t.Fatalf("regions = %+v", d.Regions)
	}
	if d.Other != nil || d.City != nil || d.Node != nil || d.OtherCase != nil || d.OtherPers != nil {
		t.Fatalf("outside the scope leaked: %+v %+v %+v %+v %+v", d.Other, d.City, d.Node, d.OtherCase, d.OtherPers)
	}
	if d.Own == nil || d.Own.Stats.OpenCases+d.Own.Stats.ClosedCases != 20 || len(d.Own.Ancestors) != 0 {
		t.Fatalf("own region = %+v", d.Own)
	}
	if len(d.People.Edges) != 1 || d.People.Edges[0].Node.Name != "张*" {
		t.Fatalf("people = %+v", d.People)
	}
	if len(d.Stations.Edges) != 1 || len(d.Orgs.Edges) != 2 {
		t.Fatalf("stations %+v, orgs %+v", d.Stations, d.Orgs)
	}
	// Quarantine holds raw payloads: administrators only.
	r := srv.Do(t, `{ quarantine { totalCount } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
		t.Fatalf("quarantine as staff: %+v", r.Errors)
	}
}

func TestPartnerScopes(t *testing.T) {
	srv := newCityServer(t, 5)
	srv.As(&auth.Principal{ID: "key:7", Role: auth.Partner, Scopes: []string{"cases:read"}})
	var d struct{ Cases struct{ TotalCount int } }
	srv.MustData(t, `{ cases { totalCount } }`, nil, &d)
	if d.Cases.TotalCount != 5 {
		t.Fatalf("partner with cases:read sees %d cases", d.Cases.TotalCount)
	}
	for _, q := range []string{`{ people { edges { cursor } } }`, `{ regions { totalCount } }`, `{ partyOrgs { edges { cursor } } }`} {
		r := srv.Do(t, q, nil)
		if len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
			t.Fatalf("%s: %+v", q, r.Errors)
		}
	}
}

// TestRoleMatrix runs every read path as every role and checks what each
// may see: staff and region-bound partners their subtree, the rest the
// city; partners only their types; quarantine and audit for admins.
func TestRoleMatrix(t *testing.T) {
	srv := newCityServer(t, 40)
	paths := map[string]string{
		"cases":      `{ x: cases { totalCount } }`,
		"caseStats":  `{ x: caseStats(groupBy: []) { count } }`,
		"regions":    `{ x: regions(first: 100) { totalCount } }`,
		"people":     `{ x: people { edges { cursor } } }`,
		"party":      `{ x: partyOrgs { edges { cursor } } }`,
		"stations":   `{ x: serviceStations { edges { cursor } } }`,
		"sources":    `{ x: sources { name } }`,
		"quarantine": `{ x: quarantine { totalCount } }`,
		"audit":      `{ x: auditLog { edges { cursor } } }`,
	}
	// count is what the path shows: a number for counted paths, the length
	// of a list otherwise; -1 for FORBIDDEN.
	count := func(p *auth.Principal, q string) int {
		srv.As(p)
		r := srv.Do(t, q, nil)
		if len(r.Errors) > 0 {
			if r.Errors[0].Code() == "FORBIDDEN" {
				return -1
			}
			t.Fatalf("%+v on %s: %+v", p, q, r.Errors)
		}
		var d struct{ X json.RawMessage }
		json.Unmarshal(r.Data, &d)
		var n struct {
			TotalCount *int
			Edges      []any
		}
		var list []struct{ Count *int }
		if json.Unmarshal(d.X, &list) == nil {
			if len(list) == 1 && list[0].Count != nil {
				return *list[0].Count
			}
			return len(list)
		}
		json.Unmarshal(d.X, &n)
		if n.TotalCount != nil {
			return *n.TotalCount
		}
		return len(n.Edges)
	}
	roles := map[string]*auth.Principal{
		"admin":   {ID: "a", Role: auth.Admin},
		"analyst": {ID: "b", Role: auth.Analyst},
		"viewer":  {ID: "c", Role: auth.Viewer},
		"staff":   {ID: "d", Role: auth.Staff, RegionCode: "420606001001"},
		"partner": {ID: "e", Role: auth.Partner, RegionCode: "420606001002", Scopes: []string{"cases:read", "regions:read"}},
	}
	want := map[string]map[string]int{
		//          cases caseStats regions people party stations sources quarantine audit
		"admin":   {"cases": 40, "caseStats": 40, "regions": 9, "people": 2, "party": 3, "stations": 1, "sources": 3, "quarantine": 0, "audit": 0},
		"analyst": {"cases": 40, "caseStats": 40, "regions": 9, "people": 2, "party": 3, "stations": 1, "sources": 3, "quarantine": -1, "audit": -1},
		"viewer":  {"cases": 40, "caseStats": 40, "regions": 9, "people": 2, "party": 3, "stations": 1, "sources": 3, "quarantine": -1, "audit": -1},
		"staff":   {"cases": 20, "caseStats": 20, "regions": 3, "people": 1, "party": 2, "stations": 1, "sources": 3, "quarantine": -1, "audit": -1},
		"partner": {"cases": 20, "caseStats": 20, "regions": 3, "people": -1, "party": -1, "stations": -1, "sources": 3, "quarantine": -1, "audit": -1},
	}
	for role, p := range roles {
		for path, q := range paths {
			if got := count(p, q); got != want[role][path] {
				t.Errorf("%s × %s: %d, want %d", role, path, got, want[role][path])
			}
		}
	}
}
