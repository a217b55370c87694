package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/generated"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store/storetest"
)

// caseFieldSelections select each field of Case, with a selection under
// the fields that are objects.
var caseFieldSelections = map[string]string{
	"__typename":        "__typename",
	"id":                "id",
	"source":            "source { name kind }",
	"sourceId":          "sourceId",
	"kind":              "kind",
	"category":          "category { code name }",
	"sourceCategory":    "sourceCategory { code name kind }",
	"title":             "title",
	"description":       "description",
	"status":            "status",
	"tier":              "tier",
	"grid":              "grid { code }",
	"location":          "location { lat lng }",
	"address":           "address",
	"standardAddress":   "standardAddress",
	"addressComponents": "addressComponents { district road roadNumber }",
	"building":          "building { compound number }",
	"reportedAt":        "reportedAt",
	"updatedAt":         "updatedAt",
	"dueAt":             "dueAt",
	"closedAt":          "closedAt",
	"overdue":           "overdue",
	"timeline":          "timeline { at status actor }",
	"incident":          "incident { id title }",
	"reporter":          "reporter { id }",
	"assignee":          "assignee",
	"provenance":        "provenance { source { name } sourceId sourceUpdatedAt fetchedAt payloadHash }",
}

// newFullCaseServer serves the fixture city with cases whose every field
// has a value on some of them: an address, a department, a reporter and
// an incident too.
func newFullCaseServer(t *testing.T) *graphtest.Server {
	t.Helper()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(24)
	for i := range cases {
		if i%2 == 1 {
			cases[i].Address = fmt.Sprintf("樊城区人民路%d号", i)
			cases[i].AssigneeDept = "城管执法局"
			r := storetest.Person("420602199001011234", "张三", "13800000000")
			cases[i].Reporter = &r
		}
	}
	storetest.SeedCases(t, st, cases)
	if _, err := st.Pool().Exec(context.Background(), `WITH x AS (INSERT INTO incident (title) VALUES ('占道经营') RETURNING id)
		UPDATE "case" SET incident_id = (SELECT id FROM x) WHERE source_id IN ('C00001', 'C00002', 'C00005')`); err != nil {
		t.Fatal(err)
	}
	return graphtest.New(t, st)
}

// casesByID decodes a list of cases, each with its id, keyed by the id.
func casesByID(t *testing.T, raw []json.RawMessage) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range raw {
		var id struct{ ID string }
		if err := json.Unmarshal(c, &id); err != nil || id.ID == "" {
			t.Fatalf("case without id: %s", c)
		}
		out[id.ID] = string(c)
	}
	return out
}

// TestCaseListsServeEveryFieldAsTheCaseItself selects each field of Case
// alone in the case lists (Query.cases and Region.cases, which read only
// the columns their selection needs) and holds every case equal to the
// same selection of the case by its ID (node, which reads the whole row).
func TestCaseListsServeEveryFieldAsTheCaseItself(t *testing.T) {
	srv := newFullCaseServer(t)
	def := generated.NewExecutableSchema(generated.Config{}).Schema().Types["Case"]
	for _, f := range def.Fields {
		if _, ok := caseFieldSelections[f.Name]; !ok {
			t.Fatalf("no selection of Case.%s in caseFieldSelections", f.Name)
		}
	}
	for field, sel := range caseFieldSelections {
		t.Run(field, func(t *testing.T) {
			var list struct {
				Cases struct {
					Edges []struct{ Node json.RawMessage }
				}
			}
			srv.MustData(t, `{ cases(first: 100, orderBy: {field: DUE_AT, direction: ASC}) { edges { node { id `+sel+` } } } }`, nil, &list)
			var regions struct {
				Regions struct {
					Edges []struct {
						Node struct {
							Cases struct {
								Edges []struct{ Node json.RawMessage }
							}
						}
					}
				}
			}
			srv.MustData(t, `{ regions(level: GRID, first: 10) { edges { node { cases(first: 100) { edges { node { id `+sel+` } } } } } } }`, nil, &regions)
			var people struct {
				People struct {
					Edges []struct {
						Node struct {
							ReportedCases struct {
								Edges []struct{ Node json.RawMessage }
							}
						}
					}
				}
			}
			srv.MustData(t, `{ people(first: 10) { edges { node { reportedCases(first: 100) { edges { node { id reportedAt `+sel+` } } } } } } }`, nil, &people)
			var fromList, fromRegions, fromPeople []json.RawMessage
			var ids []string
			for _, e := range list.Cases.Edges {
				fromList = append(fromList, e.Node)
			}
			for _, r := range regions.Regions.Edges {
				for _, e := range r.Node.Cases.Edges {
					fromRegions = append(fromRegions, e.Node)
				}
			}
			got := casesByID(t, fromList)
			for id := range got {
				ids = append(ids, id)
			}
			var nodes struct{ Nodes []json.RawMessage }
			srv.MustData(t, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Case { id `+sel+` } } }`, map[string]any{"ids": ids}, &nodes)
			want := casesByID(t, nodes.Nodes)
			if len(want) != 24 {
				t.Fatalf("%d cases by ID, want 24", len(want))
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Query.cases serves\n%v\nthe cases themselves are\n%v", got, want)
			}
			if inRegions := casesByID(t, fromRegions); !reflect.DeepEqual(inRegions, want) {
				t.Fatalf("Region.cases serves\n%v\nthe cases themselves are\n%v", inRegions, want)
			}
			// Person.reportedCases: the reporter's 12 cases, newest first,
			// each as the case itself (with reportedAt also selected).
			var last string
			for _, p := range people.People.Edges {
				for _, e := range p.Node.ReportedCases.Edges {
					var c struct{ ReportedAt string }
					if err := json.Unmarshal(e.Node, &c); err != nil {
						t.Fatal(err)
					}
					if last != "" && c.ReportedAt > last {
						t.Fatalf("reportedCases not newest first: %s after %s", c.ReportedAt, last)
					}
					last = c.ReportedAt
					fromPeople = append(fromPeople, e.Node)
				}
			}
			byPerson := casesByID(t, fromPeople)
			if len(byPerson) != 12 {
				t.Fatalf("Person.reportedCases serves %d cases, want 12", len(byPerson))
			}
			var ids2 []string
			for id := range byPerson {
				ids2 = append(ids2, id)
			}
			srv.MustData(t, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Case { id reportedAt `+sel+` } } }`, map[string]any{"ids": ids2}, &nodes)
			if want := casesByID(t, nodes.Nodes); !reflect.DeepEqual(byPerson, want) {
				t.Fatalf("Person.reportedCases serves\n%v\nthe cases themselves are\n%v", byPerson, want)
			}
		})
	}
}

// reportedBy is the condition of Person.reportedCases on its cases.
var reportedBy = regexp.MustCompile(`\(c\.source, c\.source_id\) IN \(SELECT [^)]*\)`)

// caseStatement is the statement of a response that lists cases.
func caseStatement(t *testing.T, r graphtest.Response) string {
	t.Helper()
	for _, sql := range r.SQLText {
		if strings.Contains(sql, `FROM "case" c`) {
			return sql
		}
	}
	t.Fatalf("no case list among the statements %q", r.SQL)
	return ""
}

// TestCaseListStatementsReadTheSelectedColumns checks the statements the
// case lists run: a selection without location reads neither lat nor lng,
// nor any other column no field selected needs; one with location reads
// them.
func TestCaseListStatementsReadTheSelectedColumns(t *testing.T) {
	srv := newFullCaseServer(t)
	var d json.RawMessage
	for _, q := range []struct {
		name          string
		absent        []string // also not read
		without, with string
	}{
		{"Query.cases", []string{"c.grid_id"}, `{ cases(first: 10) { edges { node { id title status reportedAt category { name } } } } }`,
			`{ cases(first: 10) { edges { node { id title status reportedAt category { name } location { lat lng } } } } }`},
		{"Region.cases", nil, `{ regions(level: GRID, first: 4) { edges { node { cases(first: 10) { edges { node { id title status reportedAt category { name } } } } } } } }`,
			`{ regions(level: GRID, first: 4) { edges { node { cases(first: 10) { edges { node { id title status reportedAt category { name } location { lat lng } } } } } } } }`},
		{"Person.reportedCases", nil, `{ people(first: 4) { edges { node { reportedCases(first: 10) { edges { node { id title status reportedAt category { name } } } } } } } }`,
			`{ people(first: 4) { edges { node { reportedCases(first: 10) { edges { node { id title status reportedAt category { name } location { lat lng } } } } } } } }`},
	} {
		without := caseStatement(t, srv.MustData(t, q.without, nil, &d))
		// The reporter's condition names the case's key, which no column
		// read needs.
		without = reportedBy.ReplaceAllString(without, "")
		for _, col := range append([]string{"c.lat", "c.lng", "c.description", "c.address", "c.payload_hash", "c.orig_datum", "c.source_id"}, q.absent...) {
			if strings.Contains(without, col) {
				t.Errorf("%s without location reads %s:\n%s", q.name, col, without)
			}
		}
		for _, col := range []string{"c.id", "c.title", "c.status", "c.reported_at", "c.category_code"} {
			if !strings.Contains(without, col) {
				t.Errorf("%s does not read %s:\n%s", q.name, col, without)
			}
		}
		if with := caseStatement(t, srv.MustData(t, q.with, nil, &d)); !strings.Contains(with, "c.lat") || !strings.Contains(with, "c.lng") {
			t.Errorf("%s with location does not read lat and lng:\n%s", q.name, with)
		}
	}
	// A fragment on the Node interface and a skipped field count as the
	// executor counts them.
	r := srv.MustData(t, `query($skip: Boolean!) { cases(first: 10) { edges { node { ... on Node { id } ... on Case { title location @skip(if: $skip) { lat } } } } } }`,
		map[string]any{"skip": true}, &d)
	if sql := caseStatement(t, r); strings.Contains(sql, "c.lat") || !strings.Contains(sql, "c.title") {
		t.Errorf("skipped location or fragment title: %s", sql)
	}
	r = srv.MustData(t, `query($skip: Boolean!) { cases(first: 10) { edges { node { ... on Node { id } ... on Case { title location @skip(if: $skip) { lat } } } } } }`,
		map[string]any{"skip": false}, &d)
	if sql := caseStatement(t, r); !strings.Contains(sql, "c.lat") {
		t.Errorf("location not skipped is not read: %s", sql)
	}
}

// TestRegionCasesOfOneFragmentInTwoPlaces selects Region.cases through one
// fragment in two places, with more fields merged into it in the second:
// each place reads what its own selection needs (the query of a field is
// built once per request for each selection it has).
func TestRegionCasesOfOneFragmentInTwoPlaces(t *testing.T) {
	srv := newFullCaseServer(t)
	var d struct {
		Regions struct {
			Edges []struct {
				Node struct {
					Cases struct {
						Edges []struct{ Node struct{ ID, Title string } }
					}
				}
			}
		}
		Region struct {
			Cases struct {
				Edges []struct{ Node struct{ ID, Title string } }
			}
		}
	}
	for _, q := range []string{
		`{ regions(level: GRID, first: 4) { edges { node { ...R } } }
			region(code: "420606001001001") { ...R cases(first: 5) { edges { node { title } } } } }
			fragment R on Region { cases(first: 5) { edges { node { id } } } }`,
		`{ region(code: "420606001001001") { ...R cases(first: 5) { edges { node { title } } } }
			regions(level: GRID, first: 4) { edges { node { ...R } } } }
			fragment R on Region { cases(first: 5) { edges { node { id } } } }`,
	} {
		srv.MustData(t, q, nil, &d)
		if len(d.Region.Cases.Edges) != 5 || len(d.Regions.Edges) != 4 {
			t.Fatalf("%d cases of the region, %d regions", len(d.Region.Cases.Edges), len(d.Regions.Edges))
		}
		for _, e := range d.Region.Cases.Edges {
			if e.Node.ID == "" || e.Node.Title == "" {
				t.Fatalf("a case of the region without its title: %+v", e.Node)
			}
		}
		for _, r := range d.Regions.Edges {
			if len(r.Node.Cases.Edges) != 5 {
				t.Fatalf("a grid with %d cases", len(r.Node.Cases.Edges))
			}
			for _, e := range r.Node.Cases.Edges {
				if e.Node.ID == "" || e.Node.Title != "" {
					t.Fatalf("a case of the page of grids: %+v", e.Node)
				}
			}
		}
	}
}
