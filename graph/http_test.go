package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type rawResp struct {
	status      int
	contentType string
	allow       string
	body        map[string]json.RawMessage
}

func send(t *testing.T, method, u, accept, body string) rawResp {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := rawResp{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), allow: resp.Header.Get("Allow")}
	json.Unmarshal(raw, &r.body)
	return r
}

func TestGraphQLOverHTTP(t *testing.T) {
	srv, _ := newServer(t, 2)
	const gqlResp = "application/graphql-response+json"
	tests := []struct {
		name, method, accept, body string
		status                     int
		contentType                string
		hasData                    bool
		allow                      string
	}{
		{"query, json", "POST", "application/json", `{"query":"{ sources { name } }"}`, 200, "application/json", true, ""},
		{"query, graphql-response", "POST", gqlResp, `{"query":"{ sources { name } }"}`, 200, gqlResp, true, ""},
		{"no accept means json", "POST", "", `{"query":"{ sources { name } }"}`, 200, "application/json", true, ""},
		{"validation error, json", "POST", "application/json", `{"query":"{ nope }"}`, 200, "application/json", false, ""},
		{"validation error, graphql-response", "POST", gqlResp, `{"query":"{ nope }"}`, 400, gqlResp, false, ""},
		{"parse error, graphql-response", "POST", gqlResp, `{"query":"{"}`, 400, gqlResp, false, ""},
		{"malformed body", "POST", gqlResp, `{"query":`, 400, gqlResp, false, ""},
		{"field error keeps data", "POST", gqlResp, `{"query":"{ cases(first: 501) { totalCount } sources { name } }"}`, 200, gqlResp, true, ""},
		{"put", "PUT", "", `{"query":"{ sources { name } }"}`, 405, "application/json", false, "GET, POST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, tc.method, srv.URL, tc.accept, tc.body)
			if r.status != tc.status || !strings.HasPrefix(r.contentType, tc.contentType) || r.allow != tc.allow {
				t.Fatalf("status %d (%s, Allow %q), want %d (%s, Allow %q): %v", r.status, r.contentType, r.allow, tc.status, tc.contentType, tc.allow, r.body)
			}
			if _, ok := r.body["data"]; ok != tc.hasData {
				t.Fatalf("data present = %v, want %v: %s", ok, tc.hasData, r.body["data"])
			}
		})
	}
	// GET runs queries. (The schema has no mutations yet; gqlgen's refusal of
	// a mutation over GET is mapped to 405 with Allow: POST.)
	r := send(t, "GET", srv.URL+"?query="+url.QueryEscape("{ sources { name } }"), "", "")
	if r.status != 200 || r.body["data"] == nil {
		t.Fatalf("GET query: %d %v", r.status, r.body)
	}
}

func TestQueryLimits(t *testing.T) {
	srv, _ := newServer(t, 2)
	deep := "{ regions { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { code } } } } } } } } } } } } }"
	aliases := "{ " + strings.Repeat("a: sources { name } ", 1)
	for i := 0; i < 31; i++ {
		aliases += "s" + strings.Repeat("x", i+1) + ": sources { name } "
	}
	aliases += "}"
	wide := `{ regions(first: 500) { edges { node { cases(first: 500) { edges { node { id title } } } } } } }`
	for name, q := range map[string]string{"depth": deep, "aliases": aliases, "complexity": wide} {
		t.Run(name, func(t *testing.T) {
			r := srv.Do(t, q, nil)
			if len(r.Errors) == 0 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" || r.Statements != 0 {
				t.Fatalf("errors %+v after %d statements, want QUERY_TOO_COMPLEX before any", r.Errors, r.Statements)
			}
		})
	}
	// The dashboard queries of the benchmarks pass.
	for name, q := range map[string]string{
		"A": `{ regions(level: GRID, first: 100) { edges { node { code name cases(first: 10) { edges { node { id title status category { name } location { lat lng } } } } } } } }`,
		"B": `{ region(code: "420606001") { name stats { population openCases overdueCases } children(first: 30) { edges { node { name stats { openCases }
			children(first: 30) { edges { node { code name caseStats(groupBy: [STATUS]) { key { value label } count } } } } } } } } }`,
		"C": `{ cases(first: 50, filter: {status: [DISPATCHED, IN_PROGRESS], text: "占道"}, orderBy: {field: DUE_AT, direction: ASC}) { totalCount
			edges { cursor node { id sourceId title status tier dueAt overdue grid { name } category { name } source { name } } } pageInfo { hasNextPage endCursor } } }`,
	} {
		t.Run("admits "+name, func(t *testing.T) {
			if r := srv.Do(t, q, nil); len(r.Errors) > 0 {
				t.Fatalf("benchmark query %s refused: %+v", name, r.Errors)
			}
		})
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	srv, _ := newServer(t, 1)
	q := "{ sources { name } }"
	sum := sha256.Sum256([]byte(q))
	ext := `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
	r := send(t, "POST", srv.URL, "application/json", `{`+ext+`}`)
	if !strings.Contains(string(r.body["errors"]), "PERSISTED_QUERY_NOT_FOUND") {
		t.Fatalf("unknown hash: %v", r.body)
	}
	r = send(t, "POST", srv.URL, "application/json", `{"query":"`+q+`",`+ext+`}`)
	if r.body["data"] == nil {
		t.Fatalf("register: %v", r.body)
	}
	r = send(t, "POST", srv.URL, "application/json", `{`+ext+`}`)
	if r.status != 200 || !strings.Contains(string(r.body["data"]), "citymgmt") {
		t.Fatalf("by hash: %d %v", r.status, r.body)
	}
}
