package graph_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store/storetest"
)

// TestExecutorMatchesUpstream runs a corpus of queries through the
// generated executor's object path for operations that cannot defer
// (graph/generated/deferred.go) and through gqlgen's own path (the same
// query with "defer" in a comment), and requires the same bytes from
// both: data and errors.
func TestExecutorMatchesUpstream(t *testing.T) {
	srv := executorServer(t, 40)

	var ids struct {
		Cases struct {
			Edges []struct{ Node struct{ ID string } }
		}
		Region struct{ ID string }
		People struct {
			Edges []struct {
				Node struct {
					ID              string
					Household       *struct{ ID string }
					GridWorker      *struct{ ID string }
					PartyMembership *struct {
						ID  string
						Org struct{ ID string }
					}
				}
			}
		}
	}
	srv.MustData(t, `{ cases(first: 1) { edges { node { id } } } region(code: "420606001") { id }
		people(first: 500) { edges { node { id household { id } gridWorker { id } partyMembership { id org { id } } } } } }`, nil, &ids)
	vars := map[string]any{"case": ids.Cases.Edges[0].Node.ID, "region": ids.Region.ID}
	for _, e := range ids.People.Edges {
		p := e.Node
		vars["person"] = p.ID
		if p.Household != nil {
			vars["household"] = p.Household.ID
		}
		if p.GridWorker != nil {
			vars["worker"] = p.GridWorker.ID
		}
		if p.PartyMembership != nil {
			vars["member"], vars["org"] = p.PartyMembership.ID, p.PartyMembership.Org.ID
		}
	}
	for _, k := range []string{"person", "household", "worker", "member", "org"} {
		if vars[k] == nil {
			t.Fatalf("the seeded people have no %s", k)
		}
	}

	raw, err := os.ReadFile("testdata/executor_corpus.graphql")
	if err != nil {
		t.Fatal(err)
	}
	queries := strings.Split(string(raw), "\n# ---\n")
	if len(queries) < 10 {
		t.Fatalf("the corpus has %d queries", len(queries))
	}
	withErrors := 0
	for i, q := range queries {
		if strings.Contains(q, "defer") {
			t.Fatalf("query %d names defer, so it would take the upstream path twice", i)
		}
		ours := srv.Do(t, q, vars)
		theirs := srv.Do(t, q+"\n# defer", vars)
		if string(ours.Data) != string(theirs.Data) {
			t.Errorf("query %d: data differ\nexecutor: %s\nupstream: %s", i, ours.Data, theirs.Data)
		}
		a, _ := json.Marshal(ours.Errors)
		b, _ := json.Marshal(theirs.Errors)
		if string(a) != string(b) {
			t.Errorf("query %d: errors differ\nexecutor: %s\nupstream: %s", i, a, b)
		}
		if len(ours.Errors) > 0 {
			withErrors++
		}
		if strings.Contains(string(a), "GRAPHQL_VALIDATION_FAILED") {
			t.Errorf("query %d of the corpus is not valid: %s", i, a)
		}
		if len(ours.Data) < 20 && len(ours.Errors) == 0 {
			t.Errorf("query %d answered almost nothing: %s", i, ours.Data)
		}
	}
	if withErrors < 3 {
		t.Errorf("%d queries of the corpus answered errors, want at least 3", withErrors)
	}
}

// TestExecutorKeepsAccessOfEveryPrincipal runs lists the executor
// marshals in place, with fields it resolves on its fast paths
// (CaseEdge.node, Case.location, Case.provenance, Case.sourceCategory), as
// principals the access rules refuse parts of, and requires the answers
// and errors of gqlgen's own path: a field skipped the middleware only
// where its rule is one checked already.
func TestExecutorKeepsAccessOfEveryPrincipal(t *testing.T) {
	srv := executorServer(t, 20)
	queries := []string{
		`{ cases(first: 10) { edges { cursor node { id title location { lat lng } sourceCategory { code name }
			provenance { sourceId source { name } } category { name } } } pageInfo { hasNextPage } } }`,
		`{ cases(first: 10) { edges { node { id grid { code name parent { name } } } } } }`,
		`{ cases(first: 10) { edges { node { id reporter { name } } } } }`,
		// StandardAddress is @public, the Region its district is not.
		`{ cases(first: 10) { edges { node { id standardAddress { normalized district { name } grid { code } } } } } }`,
		`{ regions(level: GRID, first: 4) { edges { node { code cases(first: 5) { edges { node { id location { lat } } } } } } } }`,
	}
	principals := map[string]*auth.Principal{
		"partner with cases:read":               {ID: "key:1", Role: auth.Partner, Scopes: []string{"cases:read"}},
		"partner with cases:read, regions:read": {ID: "key:2", Role: auth.Partner, Scopes: []string{"cases:read", "regions:read"}},
		"partner with regions:read":             {ID: "key:3", Role: auth.Partner, Scopes: []string{"regions:read"}},
		"staff of a community":                  {ID: "key:4", Role: auth.Staff, RegionCode: "420606001001"},
		"analyst":                               {ID: "key:5", Role: auth.Analyst},
	}
	forbidden := 0
	for name, p := range principals {
		srv.As(p)
		for i, q := range queries {
			ours := srv.Do(t, q, nil)
			theirs := srv.Do(t, q+"\n# defer", nil)
			if string(ours.Data) != string(theirs.Data) {
				t.Errorf("%s, query %d: data differ\nexecutor: %s\nupstream: %s", name, i, ours.Data, theirs.Data)
			}
			// gqlgen's path reports the errors of concurrent fields in
			// the order they happen.
			if a, b := errorSet(ours.Errors), errorSet(theirs.Errors); !slices.Equal(a, b) {
				t.Errorf("%s, query %d: errors differ\nexecutor: %s\nupstream: %s", name, i, a, b)
			}
			for _, e := range ours.Errors {
				if e.Code() == "FORBIDDEN" {
					forbidden++
				}
			}
		}
	}
	if forbidden < 3 {
		t.Errorf("%d answers refused a field, want at least 3: the test reaches no rule", forbidden)
	}
}

// errorSet is each error as JSON, sorted.
func errorSet(errs []graphtest.Error) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		b, _ := json.Marshal(e)
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

// executorServer serves the fixture city's regions and people with n
// cases, for comparing the executor with gqlgen's own path.
func executorServer(t *testing.T, n int) *graphtest.Server {
	t.Helper()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(n))
	return graphtest.New(t, st)
}
