package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/generated"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// nodeScope is the scope a partner needs to read each type that implements
// Node. A Node type missing here fails TestNodeAccess until its access is
// written down.
var nodeScope = map[string]string{
	"Region": "regions:read", "Case": "cases:read", "Incident": "cases:read",
	"Person": "people:read", "Household": "people:read", "GridWorker": "people:read",
	"PartyOrg": "party:read", "PartyMember": "party:read", "ServiceStation": "party:read",
}

// nodeFixture finds, for every Node type, a row inside 长虹社区 (the staff
// jurisdiction of the test) and one outside it. Each query takes the
// jurisdiction's code as $1 and whether the row must lie inside as $2.
var nodeFixture = map[string]string{
	"Region": `SELECT x.id FROM region x WHERE (x.path <@ (SELECT path FROM region WHERE code = $1)) = $2`,
	"Case":   `SELECT x.id FROM "case" x WHERE (x.region_path <@ (SELECT path FROM region WHERE code = $1)) = $2`,
	"Incident": `SELECT x.id FROM incident x WHERE EXISTS (SELECT FROM "case" c WHERE c.incident_id = x.id
		AND (c.region_path <@ (SELECT path FROM region WHERE code = $1)) = $2)`,
	"Person":         `SELECT x.person_id FROM resident x WHERE ` + inJurisdiction("x.grid_id"),
	"Household":      `SELECT x.id FROM household x WHERE ` + inJurisdiction("x.grid_id"),
	"GridWorker":     `SELECT x.worker_id FROM grid_worker_grid x WHERE ` + inJurisdiction("x.grid_id"),
	"PartyOrg":       `SELECT x.id FROM party_org x WHERE ` + inJurisdiction("x.region_id"),
	"PartyMember":    `SELECT x.id FROM party_member x WHERE ` + inJurisdiction("x.region_id"),
	"ServiceStation": `SELECT x.id FROM service_station x WHERE ` + inJurisdiction("x.region_id"),
}

func inJurisdiction(column string) string {
	return `(` + column + ` IN (SELECT id FROM region WHERE path <@ (SELECT path FROM region WHERE code = $1))) = $2`
}

const jurisdiction = "420606001001" // 长虹社区

// newNodeCity is the city of newCityServer with, in 新华社区 as well, a grid
// worker, a party organisation with a member and a service station, and an
// incident on each side, so that every Node type has a row on both sides of
// the staff jurisdiction.
func newNodeCity(t *testing.T) (*store.Store, *graphtest.Server) {
	t.Helper()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(8))
	li := storetest.Person("420606199001011245", "李四", "13900002222")
	storetest.Upsert(t, st,
		&canon.GridWorker{Provenance: storetest.Prov("governance", "W2", "w2"), Person: li, Role: canon.GridWorkerLeader, GridCodes: []string{"420606001002001"}},
		&canon.PartyOrg{Provenance: storetest.Prov("party", "ZB2", "zb2"), Name: "新华第一网格党支部", Kind: canon.OrgBranch, GridCode: "420606001002001"},
		&canon.PartyMember{Provenance: storetest.Prov("party", "D2", "d2"), Person: li, OrgSourceID: "ZB2", GridCode: "420606001002001"},
		&canon.ServiceStation{Provenance: storetest.Prov("party", "S2", "s2"), Name: "新华红色驿站", Kind: canon.StationRedPost, CommunityCode: "420606001002"},
	)
	ctx := context.Background()
	for _, code := range []string{"420606001001", "420606001002"} {
		if _, err := st.Pool().Exec(ctx, `WITH i AS (INSERT INTO incident (title) VALUES ($1) RETURNING id)
			UPDATE "case" SET incident_id = (SELECT id FROM i)
			WHERE id = (SELECT min(id) FROM "case" WHERE region_path <@ (SELECT path FROM region WHERE code = $2))`, "事件 "+code, code); err != nil {
			t.Fatal(err)
		}
	}
	return st, graphtest.New(t, st)
}

// nodeTypes reads the types implementing Node from the executable schema.
func nodeTypes(t *testing.T) []string {
	t.Helper()
	s := generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}).Schema()
	var names []string
	for _, d := range s.GetPossibleTypes(s.Types["Node"]) {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no type implements Node")
	}
	return names
}

type nodeRow struct {
	typ    string
	inside bool
	id     string
}

// TestNodeAccess walks every type implementing Node through node(id) and
// nodes(ids) as every kind of caller: a type a partner's scopes do not open
// is FORBIDDEN (null with the error, before anything is loaded), and a row
// outside a staff's or regional partner's jurisdiction is null, without an
// error that would tell it exists.
func TestNodeAccess(t *testing.T) {
	st, srv := newNodeCity(t)
	ctx := context.Background()
	var rows []nodeRow
	for _, typ := range nodeTypes(t) {
		if _, ok := nodeScope[typ]; !ok {
			t.Errorf("%s implements Node but the test does not say which scope reads it", typ)
			continue
		}
		q, ok := nodeFixture[typ]
		if !ok {
			t.Errorf("%s implements Node but the test has no fixture query for it", typ)
			continue
		}
		for _, inside := range []bool{true, false} {
			var id int64
			if err := st.Pool().QueryRow(ctx, q+" ORDER BY 1 LIMIT 1", jurisdiction, inside).Scan(&id); err != nil {
				t.Fatalf("%s (inside %v): %v", typ, inside, err)
			}
			rows = append(rows, nodeRow{typ, inside, model.GlobalID(typ, id)})
		}
	}
	if t.Failed() {
		return
	}

	type caller struct {
		p        *auth.Principal
		scopes   []string // nil: every type
		regional bool     // sees only the jurisdiction
		unauth   bool     // refused as unauthenticated
	}
	callers := map[string]caller{
		"admin":            {p: &auth.Principal{ID: "a", Role: auth.Admin}},
		"analyst":          {p: &auth.Principal{ID: "b", Role: auth.Analyst}},
		"viewer":           {p: &auth.Principal{ID: "c", Role: auth.Viewer}},
		"anonymous viewer": {p: &auth.Principal{ID: "anonymous", Name: "anonymous", Role: auth.Viewer}},
		"anonymous none":   {p: &auth.Principal{ID: "anonymous", Name: "anonymous", Role: auth.None}, unauth: true},
		"staff":            {p: &auth.Principal{ID: "d", Role: auth.Staff, RegionCode: jurisdiction}, regional: true},
		"staff with pii":   {p: &auth.Principal{ID: "d2", Role: auth.Staff, RegionCode: jurisdiction, Scopes: []string{"pii:read"}}, regional: true},
		"partner none":     {p: &auth.Principal{ID: "e", Role: auth.Partner}, scopes: []string{}},
		"partner regional": {p: &auth.Principal{ID: "f", Role: auth.Partner, RegionCode: jurisdiction,
			Scopes: []string{"cases:read", "regions:read", "people:read", "party:read"}}, scopes: []string{"cases:read", "regions:read", "people:read", "party:read"}, regional: true},
	}
	for _, s := range auth.Scopes {
		callers["partner "+s] = caller{p: &auth.Principal{ID: "p:" + s, Role: auth.Partner, Scopes: []string{s}}, scopes: []string{s}}
	}

	for name, c := range callers {
		srv.As(c.p)
		// want is "ok", "null" (no error) or the error code.
		want := func(r nodeRow) string {
			switch {
			case c.unauth:
				return "UNAUTHENTICATED"
			case c.scopes != nil && !slices.Contains(c.scopes, nodeScope[r.typ]):
				return "FORBIDDEN"
			case c.regional && !r.inside:
				return "null"
			}
			return "ok"
		}
		for _, r := range rows {
			res := srv.Do(t, `query($id: ID!) { node(id: $id) { id __typename } }`, map[string]any{"id": r.id})
			var d struct {
				Node *struct {
					ID       string
					Typename string `json:"__typename"`
				}
			}
			decode(t, res.Data, &d)
			got := "null"
			switch {
			case len(res.Errors) > 0:
				got = res.Errors[0].Code()
				if d.Node != nil {
					t.Errorf("%s × node(%s inside=%v): an error and data %+v", name, r.typ, r.inside, d.Node)
				}
			case d.Node != nil:
				got = "ok"
				if d.Node.ID != r.id || d.Node.Typename != r.typ {
					t.Errorf("%s × node(%s): got %+v", name, r.typ, d.Node)
				}
			}
			if w := want(r); got != w {
				t.Errorf("%s × node(%s inside=%v) = %s, want %s (%+v)", name, r.typ, r.inside, got, w, res.Errors)
			}
		}

		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.id
		}
		res := srv.Do(t, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids})
		if c.unauth {
			if len(res.Errors) == 0 || res.Errors[0].Code() != "UNAUTHENTICATED" || string(res.Data) != "" && string(res.Data) != "null" {
				t.Errorf("%s × nodes: %s %+v", name, res.Data, res.Errors)
			}
			continue
		}
		var d struct{ Nodes []*struct{ ID string } }
		decode(t, res.Data, &d)
		if len(d.Nodes) != len(rows) {
			t.Fatalf("%s × nodes: %d results for %d ids (%+v)", name, len(d.Nodes), len(rows), res.Errors)
		}
		errAt := map[string]string{}
		for _, e := range res.Errors {
			errAt[fmt.Sprint(e.Path)] = e.Code()
		}
		for i, r := range rows {
			got := "null"
			if code, ok := errAt[fmt.Sprint([]any{"nodes", float64(i)})]; ok {
				got = code
				if d.Nodes[i] != nil {
					t.Errorf("%s × nodes[%s]: an error and data", name, r.typ)
				}
			} else if d.Nodes[i] != nil {
				got = "ok"
				if d.Nodes[i].ID != r.id {
					t.Errorf("%s × nodes[%d] = %s, want %s", name, i, d.Nodes[i].ID, r.id)
				}
			}
			if w := want(r); got != w {
				t.Errorf("%s × nodes[%s inside=%v] = %s, want %s", name, r.typ, r.inside, got, w)
			}
		}
	}
}

// TestNodeScopeCheckedBeforeLoading forges IDs of rows that do not exist:
// a partner whose scopes do not open the type is refused all the same, so
// the answer cannot tell whether a row exists.
func TestNodeScopeCheckedBeforeLoading(t *testing.T) {
	_, srv := newNodeCity(t)
	for _, typ := range nodeTypes(t) {
		srv.As(&auth.Principal{ID: "p", Role: auth.Partner})
		for _, id := range []int64{1, 987654321} {
			res := srv.Do(t, `query($id: ID!) { node(id: $id) { __typename } }`, map[string]any{"id": model.GlobalID(typ, id)})
			if len(res.Errors) != 1 || res.Errors[0].Code() != "FORBIDDEN" {
				t.Errorf("forged %s %d: %s %+v", typ, id, res.Data, res.Errors)
			}
		}
	}
}

// decode unmarshals data that may be absent (null).
func decode(t *testing.T, data json.RawMessage, out any) {
	t.Helper()
	if len(data) == 0 {
		return
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}
