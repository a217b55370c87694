package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/graph/generated"
)

// TestEveryConnectionHasTotalCount holds the schema to one shape of list:
// every connection type offers totalCount.
func TestEveryConnectionHasTotalCount(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	n := 0
	for name, def := range schema.Types {
		if !strings.HasSuffix(name, "Connection") {
			continue
		}
		n++
		if f := def.Fields.ForName("totalCount"); f == nil || f.Type.String() != "Int!" {
			t.Errorf("%s has no totalCount: Int!", name)
		}
	}
	if n < 11 {
		t.Fatalf("found %d connection types, want at least 11", n)
	}
}

// TestTotalCountOfEveryConnection asks each connection for its totalCount
// next to a page holding all of its items: the count runs one statement
// more than the page alone, and equals the number of items.
func TestTotalCountOfEveryConnection(t *testing.T) {
	srv := newCityServer(t, 40)
	srv.As(&auth.Principal{ID: "key:1", Role: auth.Admin})
	community := regionID(t, srv, "420606001001")
	var orgs struct {
		PartyOrgs struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	srv.MustData(t, `{ partyOrgs(first: 500) { edges { node { id } } } }`, nil, &orgs)
	if len(orgs.PartyOrgs.Edges) == 0 {
		t.Fatal("the fixture has no party organisations")
	}
	org := orgs.PartyOrgs.Edges[0].Node.ID
	// Each entry: the query with %s where totalCount goes, and the path of
	// the connection in the answer.
	cases := []struct {
		name, query string
		path        []string
		nonEmpty    bool
	}{
		{"people", `{ people(first: 500) { %s edges { cursor } } }`, []string{"people"}, true},
		{"people by region code", `{ people(filter: {regionCode: "420606001001"}, first: 500) { %s edges { cursor } } }`, []string{"people"}, true},
		{"partyOrgs", `{ partyOrgs(first: 500) { %s edges { cursor } } }`, []string{"partyOrgs"}, true},
		{"serviceStations", `{ serviceStations(regionCode: "420606", first: 500) { %s edges { cursor } } }`, []string{"serviceStations"}, true},
		{"syncRuns", `{ syncRuns(first: 500) { %s edges { cursor } } }`, []string{"syncRuns"}, false},
		{"auditLog", `{ auditLog(first: 500) { %s edges { cursor } } }`, []string{"auditLog"}, false},
		{"region buildings", `query($r: ID!) { node(id: $r) { ... on Region { buildings(first: 500) { %s edges { cursor } } } } }`, []string{"node", "buildings"}, true},
		{"region gridWorkers", `query($r: ID!) { node(id: $r) { ... on Region { gridWorkers(first: 500) { %s edges { cursor } } } } }`, []string{"node", "gridWorkers"}, true},
		{"region partyOrgs", `query($r: ID!) { node(id: $r) { ... on Region { partyOrgs(first: 500) { %s edges { cursor } } } } }`, []string{"node", "partyOrgs"}, true},
		{"region serviceStations", `query($r: ID!) { node(id: $r) { ... on Region { serviceStations(first: 500) { %s edges { cursor } } } } }`, []string{"node", "serviceStations"}, true},
		{"org children", `query($o: ID!) { node(id: $o) { ... on PartyOrg { children(first: 500) { %s edges { cursor } } } } }`, []string{"node", "children"}, true},
		{"org members", `query($o: ID!) { node(id: $o) { ... on PartyOrg { members(first: 500) { %s edges { cursor } } } } }`, []string{"node", "members"}, false},
		{"person reportedCases", `{ people(first: 1, filter: {namePrefix: "李"}) { edges { node { reportedCases(first: 500) { %s edges { cursor } } } } } }`, nil, false},
	}
	vars := map[string]any{"r": community, "o": org}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			without := srv.Do(t, strings.Replace(c.query, "%s", "", 1), vars)
			with := srv.Do(t, strings.Replace(c.query, "%s", "totalCount", 1), vars)
			if len(with.Errors) > 0 || len(without.Errors) > 0 {
				t.Fatalf("errors: %+v %+v", with.Errors, without.Errors)
			}
			if with.Statements != without.Statements+1 {
				t.Errorf("statements without totalCount %d, with %d; want one more", without.Statements, with.Statements)
			}
			if c.path == nil {
				return
			}
			var data map[string]any
			if err := json.Unmarshal(with.Data, &data); err != nil {
				t.Fatal(err)
			}
			conn := data
			for _, p := range c.path {
				conn = conn[p].(map[string]any)
			}
			total, edges := int(conn["totalCount"].(float64)), len(conn["edges"].([]any))
			if total != edges || (c.nonEmpty && total == 0) {
				t.Errorf("totalCount %d, edges %d", total, edges)
			}
		})
	}
	// Counting ignores the page: a page of one counts the whole list.
	var d struct{ People struct{ TotalCount int } }
	srv.MustData(t, `{ people(first: 1) { totalCount } }`, nil, &d)
	var all struct {
		People struct{ Edges []struct{ Cursor string } }
	}
	srv.MustData(t, `{ people(first: 500) { edges { cursor } } }`, nil, &all)
	if d.People.TotalCount != len(all.People.Edges) || d.People.TotalCount < 2 {
		t.Fatalf("people(first: 1) totalCount %d, all %d", d.People.TotalCount, len(all.People.Edges))
	}
}

// TestRegionByCode: every filter that takes a region takes its code too,
// with the same answer, and refuses both at once or a malformed code.
func TestRegionByCode(t *testing.T) {
	srv := newCityServer(t, 60)
	id := regionID(t, srv, "420606001001")
	type counts struct {
		Cases, People, PartyOrgs, ServiceStations struct{ TotalCount int }
		CaseStats                                 []struct{ Count int }
	}
	q := `query($f: CaseFilter, $p: PersonFilter, $r: ID, $c: String) {
		cases(filter: $f) { totalCount } caseStats(filter: $f, groupBy: []) { count }
		people(filter: $p) { totalCount } partyOrgs(region: $r, regionCode: $c) { totalCount }
		serviceStations(region: $r, regionCode: $c) { totalCount } }`
	var byID, byCode counts
	srv.MustData(t, q, map[string]any{"f": map[string]any{"region": id}, "p": map[string]any{"region": id}, "r": id}, &byID)
	srv.MustData(t, q, map[string]any{"f": map[string]any{"regionCode": "420606001001"}, "p": map[string]any{"regionCode": "420606001001"},
		"c": "420606001001"}, &byCode)
	if byID.Cases.TotalCount == 0 || byID.People.TotalCount == 0 || byID.PartyOrgs.TotalCount == 0 || byID.ServiceStations.TotalCount == 0 {
		t.Fatalf("the fixture community is empty: %+v", byID)
	}
	if byID.Cases != byCode.Cases || byID.People != byCode.People || byID.PartyOrgs != byCode.PartyOrgs ||
		byID.ServiceStations != byCode.ServiceStations || byID.CaseStats[0] != byCode.CaseStats[0] {
		t.Fatalf("by ID %+v, by code %+v", byID, byCode)
	}
	var all counts
	srv.MustData(t, q, nil, &all)
	if all.Cases.TotalCount <= byCode.Cases.TotalCount {
		t.Fatalf("the community filter did not narrow the cases: %d of %d", byCode.Cases.TotalCount, all.Cases.TotalCount)
	}
	var region struct {
		Region struct{ Cases struct{ TotalCount int } }
	}
	srv.MustData(t, `{ region(code: "420606") { cases(filter: {regionCode: "420606001001"}) { totalCount } } }`, nil, &region)
	if region.Region.Cases.TotalCount != byCode.Cases.TotalCount {
		t.Fatalf("Region.cases with regionCode: %d, want %d", region.Region.Cases.TotalCount, byCode.Cases.TotalCount)
	}
	var none counts
	srv.MustData(t, q, map[string]any{"f": map[string]any{"regionCode": "999999"}, "p": map[string]any{"regionCode": "999999"}, "c": "999999"}, &none)
	if none.Cases.TotalCount != 0 || none.People.TotalCount != 0 || none.PartyOrgs.TotalCount != 0 {
		t.Fatalf("an unknown code matched: %+v", none)
	}
	for _, bad := range []map[string]any{
		{"f": map[string]any{"region": id, "regionCode": "420606001001"}},
		{"p": map[string]any{"region": id, "regionCode": "420606001001"}},
		{"r": id, "c": "420606001001"},
		{"f": map[string]any{"regionCode": "长虹社区"}},
		{"c": "4206' OR '1'='1"},
	} {
		r := srv.Do(t, q, bad)
		if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Errorf("%v: errors %+v, want BAD_USER_INPUT", bad, r.Errors)
		}
	}
}
