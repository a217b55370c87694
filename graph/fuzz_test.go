package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/store/storetest"
)

// failureLog counts the log records that tell of a failure of the hub
// rather than of the request: a recovered panic, or an error shown to the
// client as INTERNAL.
type failureLog struct{ failures atomic.Int64 }

func (l *failureLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *failureLog) Handle(context.Context, slog.Record) error {
	l.failures.Add(1)
	return nil
}
func (l *failureLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *failureLog) WithGroup(string) slog.Handler      { return l }

// FuzzHandler throws arbitrary bodies and headers at the authenticated
// GraphQL handler with its response cache: whatever a client sends, the
// hub must answer it without a panic, without a 5xx, without an INTERNAL
// error and without logging an error — a request it cannot run is the
// client's error, with the code that says why.
func FuzzHandler(f *testing.F) {
	st := dbtest.NewStore(f)
	storetest.SeedRegions(f, st)
	storetest.SeedCases(f, st, storetest.MakeCases(5))
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	changes := st.WatchChanges(ctx)
	select {
	case <-changes.Listening():
	case <-time.After(10 * time.Second):
		f.Fatal("change notifications not followed")
	}
	logs := &failureLog{}
	gql, err := graph.NewHandler(graph.Config{Store: st, Log: slog.New(logs), Cache: graph.CacheConfig{Changes: changes}})
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

	fan := fanOut(40, false)
	seeds := []struct{ method, ctype, accept, authz, body string }{
		{"POST", "application/json", "application/json", "", `{"query":"{ cases { totalCount } }"}`},
		{"POST", "application/json", "application/graphql-response+json", "Bearer " + key, `{"query":"query($f: CaseFilter) { cases(filter: $f) { edges { node { id } } } }","variables":{"f":{"region":"###"}}}`},
		{"GET", "", "*/*", "", ""},
		{"POST", "application/json", "", "Bearer hub_x", `{"query":"{ node(id: \"UmVnaW9uOjE\") { id } }"}`},
		{"POST", "text/plain", "", "Basic x", "\x00\xff{"},
		{"POST", "application/json", "", "", `{"query":"{ caseStats(groupBy: [GRID, DAY, STATUS, TIER]) { count } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"zz"}}}`},
		{"PATCH", "application/json", "", "", `[]`},
		// Requests that once answered INTERNAL or made the hub panic.
		{"POST", "application/json", "", "", `{"query":`},
		{"POST", "application/json", "", "", `[{"query":"{ sources { name } }"}]`},
		{"POST", "application/json", "", "", `{"query":"{ sources { name } }","variables":[1]}`},
		{"POST", "application/json", "", "", `{"query":"{ sources { name } }","variables":"x"}`},
		{"POST", "application/json", "", "Bearer " + key, `{"query":"query($f: CaseFilter) { cases(filter: $f) { totalCount } }","variables":{"f":{"text":"a\u0000b"}}}`},
		{"POST", "application/json", "", "", `{"query":"{ cases(filter: {category: [\"\u0000\"]}) { totalCount } }"}`},
		{"POST", "application/json", "", "", `{"query":"{ sources { name } }","extensions":{"persistedQuery":{"version":2,"sha256Hash":"00"}}}`},
		{"POST", "application/json", "", "", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("0", 64) + `"}}}`},
		{"POST", "application/json", "", "", fmt.Sprintf(`{"query":%q}`, fan)},
		{"POST", "application/json", "", "", fmt.Sprintf(`{"query":%q}`, "{"+strings.Repeat(" sources { name }", 2000)+" }")},
		{"POST", "application/json", "", "", fmt.Sprintf(`{"query":"query($f: CaseFilter) { cases(filter: $f) { totalCount } }","variables":{"f":{"text":%q}}}`, strings.Repeat("井", 5000))},
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
		before := logs.failures.Load()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", method, body, rec.Code, rec.Body.String())
		}
		if n := logs.failures.Load() - before; n > 0 {
			t.Fatalf("%s %q: %d errors logged; answered %d: %s", method, body, n, rec.Code, rec.Body.String())
		}
		var resp struct {
			Errors []struct {
				Extensions struct{ Code string }
			}
		}
		if json.Unmarshal(rec.Body.Bytes(), &resp) == nil {
			for _, e := range resp.Errors {
				if e.Extensions.Code == "INTERNAL" {
					t.Fatalf("%s %q: answered INTERNAL (%d): %s", method, body, rec.Code, rec.Body.String())
				}
			}
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
