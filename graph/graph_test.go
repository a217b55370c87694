package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// newServer seeds the fixture city with n cases and serves it.
func newServer(t *testing.T, n int) (*graphtest.Server, *store.Store) {
	t.Helper()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	if n > 0 {
		storetest.SeedCases(t, st, storetest.MakeCases(n))
	}
	return graphtest.New(t, st), st
}

type regionJSON struct {
	ID        string `json:"id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Level     string `json:"level"`
	Parent    *regionJSON
	Ancestors []regionJSON
	Centroid  *struct{ Lat, Lng float64 }
	Boundary  *struct {
		Type        string
		Coordinates [][][]float64
	}
	Children struct {
		TotalCount int
		Edges      []struct{ Node regionJSON }
	}
}

func TestRegionQueries(t *testing.T) {
	srv, _ := newServer(t, 0)
	var d struct {
		Regions struct {
			TotalCount int
			Edges      []struct {
				Cursor string
				Node   regionJSON
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	srv.MustData(t, `{ regions(level: GRID, first: 3) { totalCount edges { cursor node { id code name level
		parent { code } ancestors { code } centroid { lat lng } boundary } } pageInfo { hasNextPage endCursor } } }`, nil, &d)
	if d.Regions.TotalCount != 4 || len(d.Regions.Edges) != 3 || !d.Regions.PageInfo.HasNextPage {
		t.Fatalf("regions page = %+v", d.Regions)
	}
	g := d.Regions.Edges[0].Node
	if g.Code != "420606001001001" || g.Level != "GRID" || g.Parent.Code != "420606001001" || len(g.Ancestors) != 4 || g.Ancestors[0].Code != "420600" {
		t.Fatalf("first grid = %+v", g)
	}
	if g.Boundary == nil || g.Boundary.Type != "Polygon" || g.Boundary.Coordinates[0][0][0] != 112.0 || g.Centroid == nil {
		t.Fatalf("grid geometry = %+v %+v", g.Boundary, g.Centroid)
	}

	var one struct {
		Region *regionJSON
		ByID   *regionJSON
		None   *regionJSON
	}
	srv.MustData(t, `query($id: ID!) { region(code: "420606001") { id name children(first: 10) { totalCount edges { node { code } } } }
		byID: region(id: $id) { code } none: region(code: "000") { code } }`, map[string]any{"id": g.ID}, &one)
	if one.Region.Name != "汉江街道" || one.Region.Children.TotalCount != 2 || one.ByID.Code != g.Code || one.None != nil {
		t.Fatalf("region lookups = %+v", one)
	}

	var nodes struct {
		Nodes []*struct {
			Typename string `json:"__typename"`
			ID       string
		}
	}
	srv.MustData(t, `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`,
		map[string]any{"ids": []string{g.ID, "UmVnaW9uOjk5OTk5", one.Region.ID}}, &nodes)
	if len(nodes.Nodes) != 3 || nodes.Nodes[0].ID != g.ID || nodes.Nodes[1] != nil || nodes.Nodes[2].Typename != "Region" {
		t.Fatalf("nodes = %+v", nodes.Nodes)
	}
}

func TestErrorsCarryCodes(t *testing.T) {
	srv, _ := newServer(t, 3)
	tests := []struct {
		name, query, code string
	}{
		{"page too large", `{ cases(first: 501) { edges { cursor } } }`, "BAD_USER_INPUT"},
		{"negative page", `{ regions(first: -1) { edges { cursor } } }`, "BAD_USER_INPUT"},
		{"bad cursor", `{ cases(after: "xyz") { edges { cursor } } }`, "BAD_USER_INPUT"},
		{"malformed id", `{ node(id: "###") { id } }`, "BAD_USER_INPUT"},
		{"id of the wrong type", `{ regions(parent: "Q2FzZTox") { totalCount } }`, "BAD_USER_INPUT"},
		{"time without offset", `{ cases(filter: {reportedFrom: "2026-10-01 09:00:00"}) { totalCount } }`, "BAD_USER_INPUT"},
		{"empty window", `{ cases(filter: {reportedFrom: "2026-10-02T00:00:00+08:00", reportedTo: "2026-10-01T00:00:00+08:00"}) { totalCount } }`, "BAD_USER_INPUT"},
		{"unknown field", `{ cases { nope } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"syntax", `{ cases {`, "GRAPHQL_PARSE_FAILED"},
		{"region without key", `{ region { id } }`, "BAD_USER_INPUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := srv.Do(t, tc.query, nil)
			if len(r.Errors) == 0 || r.Errors[0].Code() != tc.code {
				t.Fatalf("errors = %+v, want code %s", r.Errors, tc.code)
			}
		})
	}
}

type caseJSON struct {
	ID         string
	SourceID   string
	Status     string
	Overdue    bool
	ReportedAt string
	Category   *struct{ Code, Name string }
	Grid       *struct{ Code string }
	Source     struct{ Name, Kind string }
	Timeline   []struct{ Status, Actor string }
	Provenance struct {
		SourceID    string
		PayloadHash string
		Source      struct{ Name string }
	}
}

type casesJSON struct {
	Cases struct {
		TotalCount int
		Edges      []struct{ Node caseJSON }
		PageInfo   struct {
			HasNextPage bool
			EndCursor   string
		}
	}
}

func TestCasesWalkAndFilters(t *testing.T) {
	srv, st := newServer(t, 130)
	seen := map[string]bool{}
	after := ""
	for {
		var d casesJSON
		vars := map[string]any{}
		if after != "" {
			vars["after"] = after
		}
		srv.MustData(t, `query($after: String) { cases(first: 50, after: $after, orderBy: {field: REPORTED_AT, direction: ASC}) {
			edges { node { id sourceId reportedAt } } pageInfo { hasNextPage endCursor } } }`, vars, &d)
		for _, e := range d.Cases.Edges {
			if seen[e.Node.ID] {
				t.Fatalf("case %s served twice", e.Node.SourceID)
			}
			seen[e.Node.ID] = true
		}
		if !d.Cases.PageInfo.HasNextPage {
			break
		}
		after = d.Cases.PageInfo.EndCursor
	}
	if len(seen) != 130 {
		t.Fatalf("walk saw %d cases, want 130", len(seen))
	}

	community, err := st.RegionByCode(store.Unscoped(context.Background()), "420606001001")
	if err != nil {
		t.Fatal(err)
	}
	var d casesJSON
	srv.MustData(t, `query($r: ID) { cases(filter: {region: $r, status: [CLOSED], category: ["SJ05"]}, first: 500) {
		totalCount edges { node { status grid { code } category { code name } source { name kind } } } } }`,
		map[string]any{"r": regionID(t, srv, community.Code)}, &d)
	if d.Cases.TotalCount != len(d.Cases.Edges) || d.Cases.TotalCount == 0 {
		t.Fatalf("totalCount %d, edges %d", d.Cases.TotalCount, len(d.Cases.Edges))
	}
	for _, e := range d.Cases.Edges {
		c := e.Node
		if c.Status != "CLOSED" || c.Grid.Code[:12] != community.Code || c.Category.Code != "SJ0501" || c.Source.Kind != "OPEN311" {
			t.Fatalf("case outside filter: %+v", c)
		}
	}
}

// A filter on a category class names the unified codes it matches in its
// statement (the class and its minor classes, from the request's category
// table), which PostgreSQL plans faster than a lookup of the classes; a
// class the table does not have matches no case.
func TestCategoryFiltersNameTheirCodes(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(40))
	srv := graphtest.New(t, st)
	count := func(class string) (int, graphtest.Response) {
		t.Helper()
		var d struct{ Cases struct{ TotalCount int } }
		r := srv.MustData(t, `query($c: [String!]) { cases(filter: {category: $c}) { totalCount } }`, map[string]any{"c": []string{class}}, &d)
		return d.Cases.TotalCount, r
	}
	major, r := count("SJ05")
	minor, _ := count("SJ0501")
	if major == 0 || major != minor {
		t.Fatalf("cases of SJ05: %d, of its minor class SJ0501: %d; want the same, some", major, minor)
	}
	named := false
	for _, sql := range r.SQLText {
		if strings.Contains(sql, `"case"`) {
			named = strings.Contains(sql, "c.category_code = ANY(") && !strings.Contains(sql, "FROM category")
		}
	}
	if !named {
		t.Fatalf("the count's statement does not name the codes: %v", r.SQLText)
	}
	if n, _ := count("NOPE"); n != 0 {
		t.Fatalf("cases of a class the table does not have: %d", n)
	}
}

func regionID(t *testing.T, srv *graphtest.Server, code string) string {
	t.Helper()
	var d struct{ Region struct{ ID string } }
	srv.MustData(t, `query($c: String) { region(code: $c) { id } }`, map[string]any{"c": code}, &d)
	return d.Region.ID
}

func TestCaseNodeAndProvenance(t *testing.T) {
	srv, _ := newServer(t, 5)
	var d casesJSON
	srv.MustData(t, `{ cases(first: 1, orderBy: {field: REPORTED_AT, direction: ASC}) { edges { node { id sourceId overdue
		timeline { status actor } provenance { sourceId payloadHash source { name } } } } } }`, nil, &d)
	c := d.Cases.Edges[0].Node
	if c.SourceID != "C00000" || c.Provenance.SourceID != "C00000" || c.Provenance.Source.Name != "citymgmt" || len(c.Provenance.PayloadHash) != 64 {
		t.Fatalf("case = %+v", c)
	}
	if len(c.Timeline) != 2 || c.Timeline[0].Status != "REPORTED" || c.Timeline[0].Actor != "监督员王五" {
		t.Fatalf("timeline = %+v", c.Timeline)
	}
	var n struct{ Node *caseJSON }
	srv.MustData(t, `query($id: ID!) { node(id: $id) { ... on Case { sourceId reportedAt } } }`, map[string]any{"id": c.ID}, &n)
	if n.Node == nil || n.Node.SourceID != "C00000" || n.Node.ReportedAt != "2026-10-01T09:00:00+08:00" {
		t.Fatalf("node = %+v", n.Node)
	}
}

// TestStatementsAreBoundedByDepthNotBreadth proves the loaders work: a page
// of cases with their category, grid, grid parent, source and timeline costs
// the same number of statements for 5 cases as for 200.
func TestStatementsAreBoundedByDepthNotBreadth(t *testing.T) {
	srv, _ := newServer(t, 200)
	q := `query($n: Int) { cases(first: $n) { edges { node { id category { name } grid { code parent { name } }
		source { name } timeline { status } provenance { source { kind } } } } } }`
	var small, large casesJSON
	// The first request reads the reference tables the server then holds.
	srv.MustData(t, q, map[string]any{"n": 1}, &small)
	a := srv.MustData(t, q, map[string]any{"n": 5}, &small)
	b := srv.MustData(t, q, map[string]any{"n": 200}, &large)
	if len(large.Cases.Edges) != 200 {
		t.Fatalf("got %d cases", len(large.Cases.Edges))
	}
	if a.Statements != b.Statements || b.Statements > 3 {
		t.Fatalf("statements: %d for 5 cases, %d for 200; want equal and at most 3\n%q\n%q", a.Statements, b.Statements, a.SQL, b.SQL)
	}
}

// TestTotalCountOnlyWhenAsked checks that the count query runs only when
// the client selects totalCount.
func TestTotalCountOnlyWhenAsked(t *testing.T) {
	srv, _ := newServer(t, 10)
	var d casesJSON
	without := srv.MustData(t, `{ cases { edges { node { id } } } }`, nil, &d)
	with := srv.MustData(t, `{ cases { totalCount edges { node { id } } } }`, nil, &d)
	if with.Statements != without.Statements+1 || d.Cases.TotalCount != 10 {
		t.Fatalf("statements without totalCount %d, with %d (count %d)", without.Statements, with.Statements, d.Cases.TotalCount)
	}
}

func TestSources(t *testing.T) {
	srv, _ := newServer(t, 0)
	var d struct {
		Sources []struct {
			Name, Kind, Status                                string
			RecordsFetched, RecordsStored, RecordsQuarantined int
			LastSyncedAt, LastError                           *string
		}
	}
	srv.MustData(t, `{ sources { name kind status lastSyncedAt recordsFetched recordsStored recordsQuarantined lastError } }`, nil, &d)
	if len(d.Sources) != 1 || d.Sources[0].Name != "citymgmt" || d.Sources[0].Kind != "OPEN311" || d.Sources[0].Status != "NEVER_SYNCED" {
		t.Fatalf("sources = %+v", d.Sources)
	}
}

func TestConvertCoordinates(t *testing.T) {
	srv, _ := newServer(t, 0)
	var d struct {
		Gcj, Back struct{ Lat, Lng float64 }
	}
	srv.MustData(t, `{ gcj: convertCoordinates(lat: 32.0, lng: 112.1, from: WGS84, to: GCJ02) { lat lng }
		back: convertCoordinates(lat: 32.0, lng: 112.1, from: WGS84, to: BD09) { lat lng } }`, nil, &d)
	if d.Gcj.Lat == 32.0 || d.Gcj.Lng == 112.1 || d.Back.Lat <= d.Gcj.Lat {
		t.Fatalf("conversions = %+v", d)
	}
	var r struct{ R struct{ Lat, Lng float64 } }
	srv.MustData(t, `query($lat: Float!, $lng: Float!) { r: convertCoordinates(lat: $lat, lng: $lng, from: GCJ02, to: WGS84) { lat lng } }`,
		map[string]any{"lat": d.Gcj.Lat, "lng": d.Gcj.Lng}, &r)
	if dLat, dLng := r.R.Lat-32.0, r.R.Lng-112.1; dLat*dLat+dLng*dLng > 1e-12 {
		t.Fatalf("round trip = %+v", r.R)
	}
	if e := srv.Do(t, `{ convertCoordinates(lat: 48.85, lng: 2.35, from: WGS84, to: GCJ02) { lat } }`, nil); len(e.Errors) == 0 || e.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("outside China: %+v", e.Errors)
	}
	// A GCJ-02 position on the edge of China's rectangle that no WGS-84
	// position maps to is refused, not answered unchanged.
	if e := srv.Do(t, `{ convertCoordinates(lat: 40.0, lng: 73.661, from: GCJ02, to: WGS84) { lat lng } }`, nil); len(e.Errors) == 0 || e.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("edge of China: %+v", e)
	}
}
