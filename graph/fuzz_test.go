package graph_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/store/storetest"
)

// FuzzHandler throws arbitrary bodies and headers at the authenticated
// GraphQL handler: it must never panic, and never answer 5xx other than a
// logged INTERNAL.
func FuzzHandler(f *testing.F) {
	st := dbtest.NewStore(f)
	storetest.SeedRegions(f, st)
	storetest.SeedCases(f, st, storetest.MakeCases(5))
	gql, err := graph.NewHandler(graph.Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	key, hash, _ := auth.NewKey()
	h := auth.New(auth.Options{Anonymous: auth.Viewer, Keys: func(_ context.Context, h []byte) (*auth.Principal, error) {
		if bytes.Equal(h, hash) {
			return &auth.Principal{ID: "key:1", Role: auth.Staff, RegionCode: "420606001001"}, nil
		}
		return nil, errors.New("unknown")
	}}).Wrap(gql)

	seeds := []struct{ method, ctype, accept, authz, body string }{
		{"POST", "application/json", "application/json", "", `{"query":"{ cases { totalCount } }"}`},
		{"POST", "application/json", "application/graphql-response+json", "Bearer " + key, `{"query":"query($f: CaseFilter) { cases(filter: $f) { edges { node { id } } } }","variables":{"f":{"region":"###"}}}`},
		{"GET", "", "*/*", "", ""},
		{"POST", "application/json", "", "Bearer hub_x", `{"query":"{ node(id: \"UmVnaW9uOjE\") { id } }"}`},
		{"POST", "text/plain", "", "Basic x", "\x00\xff{"},
		{"POST", "application/json", "", "", `{"query":"{ caseStats(groupBy: [GRID, DAY, STATUS, TIER]) { count } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"zz"}}}`},
		{"PATCH", "application/json", "", "", `[]`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.ctype, s.accept, s.authz, s.body)
	}
	f.Fuzz(func(t *testing.T, method, ctype, accept, authz, body string) {
		if !validMethod(method) {
			method = "POST"
		}
		req := httptest.NewRequest(method, "/graphql?query="+url.QueryEscape(body), strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Accept", accept)
		req.Header.Set("Authorization", authz)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && !strings.Contains(rec.Body.String(), "INTERNAL") {
			t.Fatalf("%s %q: status %d: %s", method, body, rec.Code, rec.Body.String())
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}
