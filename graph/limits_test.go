package graph_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/generated"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store/storetest"
)

// fanOut is a document of n fragments, each spreading the next one twice:
// under 2 KB of text for n = 60, but 2^60 fields when expanded. nested
// puts the two spreads one level deeper each time, so that the expansion
// is also n levels deep.
func fanOut(n int, nested bool) string {
	var b strings.Builder
	b.WriteString("query { regions(first: 1) { edges { node { ...F0 } } } }\n")
	for i := range n {
		if nested {
			fmt.Fprintf(&b, "fragment F%d on Region { code parent { ...F%d ...F%d } }\n", i, i+1, i+1)
		} else {
			fmt.Fprintf(&b, "fragment F%d on Region { code ...F%d ...F%d }\n", i, i+1, i+1)
		}
	}
	fmt.Fprintf(&b, "fragment F%d on Region { name }\n", n)
	return b.String()
}

func TestLimitsOfFragmentFanOut(t *testing.T) {
	srv, _ := newServer(t, 0)
	for _, nested := range []bool{false, true} {
		q := fanOut(60, nested)
		r := srv.Do(t, q, nil)
		if len(r.Errors) != 1 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" || r.Statements != 0 {
			t.Fatalf("fan-out (nested %v, %d bytes): %+v after %d statements, want QUERY_TOO_COMPLEX before any", nested, len(q), r.Errors, r.Statements)
		}
	}
	// A small fan-out is an ordinary query, and its cost is counted per
	// expanded field: 2^3 spreads of the innermost fragment.
	if r := srv.Do(t, fanOut(3, false), nil); len(r.Errors) > 0 {
		t.Fatalf("a fan-out of 3: %+v", r.Errors)
	}
}

// BenchmarkLimitsOfFragmentFanOut measures the refusal of a 60-level
// fan-out through the whole handler (parse, limits, presentation).
func BenchmarkLimitsOfFragmentFanOut(b *testing.B) {
	st := dbtest.NewStore(b)
	h, err := graph.NewHandler(graph.Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	for _, nested := range []bool{false, true} {
		body := fmt.Sprintf(`{"query":%q}`, fanOut(60, nested))
		b.Run(fmt.Sprintf("nested=%v", nested), func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, postJSON(body))
				if !strings.Contains(rec.Body.String(), "QUERY_TOO_COMPLEX") {
					b.Fatal(rec.Body.String())
				}
			}
		})
	}
}

// BenchmarkValidationOfFragmentFanOut validates a 60-level fan-out with
// gqlparser's rules (the limiter refuses it before, but validation must not
// be exponential either: its walker and the overlapping-fields rule visit
// each fragment once).
func BenchmarkValidationOfFragmentFanOut(b *testing.B) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	for _, nested := range []bool{false, true} {
		q := fanOut(60, nested)
		b.Run(fmt.Sprintf("nested=%v", nested), func(b *testing.B) {
			for b.Loop() {
				doc, err := parser.ParseQuery(&ast.Source{Input: q})
				if err != nil {
					b.Fatal(err)
				}
				if errs := validator.ValidateWithRules(schema, doc, rules.NewDefaultRules()); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
		})
	}
}

func postJSON(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestLimitsOfFields(t *testing.T) {
	srv, _ := newServer(t, 0)
	for name, q := range map[string]string{
		"10,000 root fields":    "{" + strings.Repeat(" sources { name }", 10000) + " }",
		"31 root fields":        "{" + strings.Repeat(" sources { name }", 31) + " }",
		"10,000 nested fields":  "{ sources {" + strings.Repeat(" name", 10000) + " } }",
		"in another operation":  "query A { sources { name } } query B {" + strings.Repeat(" sources { name }", 1000) + " }",
		"in an unused fragment": "{ sources { name } } fragment X on Source {" + strings.Repeat(" name", 1000) + " }",
	} {
		t.Run(name, func(t *testing.T) {
			r := srv.Do(t, q, nil)
			if len(r.Errors) == 0 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" || r.Statements != 0 {
				t.Fatalf("errors %+v after %d statements, want QUERY_TOO_COMPLEX before any", r.Errors, r.Statements)
			}
		})
	}
	if r := srv.Do(t, "{"+strings.Repeat(" sources { name }", 30)+" }", nil); len(r.Errors) > 0 {
		t.Fatalf("30 root fields: %+v", r.Errors)
	}
}

// BenchmarkLimitsOfRepeatedFields measures the refusal of 10,000 repeated
// root fields, whose validation alone (overlapping fields are compared
// pairwise) would take seconds.
func BenchmarkLimitsOfRepeatedFields(b *testing.B) {
	st := dbtest.NewStore(b)
	h, err := graph.NewHandler(graph.Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	body := fmt.Sprintf(`{"query":%q}`, "{"+strings.Repeat(" sources { name }", 10000)+" }")
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, postJSON(body))
		if !strings.Contains(rec.Body.String(), "QUERY_TOO_COMPLEX") {
			b.Fatal(rec.Body.String())
		}
	}
}

// The standard introspection query of graphql-js 16 (GraphiQL, code
// generators; testdata/introspection.graphql, printed by
// getIntrospectionQuery with every option on) nests 15 levels under
// __schema: it passes for every role allowed to introspect, while data
// queries as deep are refused.
func TestIntrospectionQueryPassesTheLimits(t *testing.T) {
	text, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	srv := graphtest.NewWith(t, graph.Config{Store: st, IntrospectionRoles: []auth.Role{auth.Admin, auth.Analyst}})
	for _, role := range []auth.Role{auth.Admin, auth.Analyst} {
		srv.As(&auth.Principal{ID: "key:1", Role: role})
		var d struct {
			Schema struct {
				QueryType struct{ Name string }
				Types     []struct{ Name string }
			} `json:"__schema"`
		}
		srv.MustData(t, string(text), nil, &d)
		if d.Schema.QueryType.Name != "Query" || len(d.Schema.Types) < 20 {
			t.Fatalf("%s: query type %q, %d types", role, d.Schema.QueryType.Name, len(d.Schema.Types))
		}
	}
	// A role not allowed to introspect is refused for that, not for the
	// query's depth.
	srv.As(&auth.Principal{ID: "key:2", Role: auth.Viewer})
	if r := srv.Do(t, string(text), nil); len(r.Errors) == 0 || r.Errors[0].Code() == "QUERY_TOO_COMPLEX" {
		t.Fatalf("viewer: %+v", r.Errors)
	}

	// As deep a data query is refused, even for an administrator.
	srv.As(&auth.Principal{ID: "key:1", Role: auth.Admin})
	deep := "{ regions { edges { node { " + strings.Repeat("parent { ", 11) + "code" + strings.Repeat(" }", 11) + " } } } }"
	if r := srv.Do(t, deep, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" || r.Statements != 0 {
		t.Fatalf("15 levels of data: %+v after %d statements", r.Errors, r.Statements)
	}
	// Introspection has a bound of its own: a type reference chain past it
	// is refused.
	ofType := "{ __type(name: \"Case\") { " + strings.Repeat("ofType { ", 20) + "name" + strings.Repeat(" }", 20) + " } }"
	if r := srv.Do(t, ofType, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" {
		t.Fatalf("22 levels of introspection: %+v", r.Errors)
	}
	// Data nesting is counted through fragments.
	frag := "query { regions { edges { node { ...P } } } } fragment P on Region { " + strings.Repeat("parent { ", 10) + "code" + strings.Repeat(" }", 10) + " }"
	if r := srv.Do(t, frag, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" {
		t.Fatalf("14 levels of data through a fragment: %+v", r.Errors)
	}
}

func TestStringInputsAreChecked(t *testing.T) {
	srv, _ := newServer(t, 5)
	casesByText := `query($f: CaseFilter) { cases(filter: $f) { totalCount } }`
	for name, tc := range map[string]struct {
		query string
		vars  map[string]any
	}{
		"NUL in a variable":        {casesByText, map[string]any{"f": map[string]any{"text": "井盖\x00"}}},
		"NUL in a list variable":   {casesByText, map[string]any{"f": map[string]any{"source": []any{"citymgmt", "\x00"}}}},
		"NUL in a literal":         {`{ cases(filter: {text: "a\u0000b"}) { totalCount } }`, nil},
		"NUL in an ID":             {`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "UmVnaW9u\x00"}},
		"a text filter of 201":     {casesByText, map[string]any{"f": map[string]any{"text": strings.Repeat("井", 201)}}},
		"a text filter of 1 MB":    {casesByText, map[string]any{"f": map[string]any{"text": strings.Repeat("a", 1<<20)}}},
		"a name prefix of 201":     {`{ people(filter: {namePrefix: "` + strings.Repeat("王", 201) + `"}) { totalCount } }`, nil},
		"any other string of 1001": {`query($s: String) { case(source: $s, sourceId: "1") { id } }`, map[string]any{"s": strings.Repeat("x", 1001)}},
	} {
		t.Run(name, func(t *testing.T) {
			r := srv.Do(t, tc.query, tc.vars)
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Statements != 0 || r.Data != nil && string(r.Data) != "null" {
				t.Fatalf("errors %+v, data %s after %d statements, want BAD_USER_INPUT before any", r.Errors, r.Data, r.Statements)
			}
		})
	}
	// At the bound, a search runs.
	if r := srv.Do(t, casesByText, map[string]any{"f": map[string]any{"text": strings.Repeat("井", 200)}}); len(r.Errors) > 0 || r.Statements == 0 {
		t.Fatalf("a text filter of 200: %+v after %d statements", r.Errors, r.Statements)
	}
}
