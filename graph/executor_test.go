package graph_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

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
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(40))
	srv := graphtest.New(t, st)

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
