// Package graphtest runs the hub's GraphQL handler on a real HTTP server on
// 127.0.0.1 for tests, and counts the SQL statements each request runs.
package graphtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/store"
)

// Server is a GraphQL endpoint under test.
type Server struct {
	URL       string // of the /graphql endpoint
	last      atomic.Pointer[store.StatementCounter]
	principal atomic.Pointer[auth.Principal]
}

// Admin is the principal requests come from until As says otherwise: the
// handler refuses requests without one, as every transport sets one.
var Admin = &auth.Principal{ID: "test:admin", Name: "test", Role: auth.Admin}

// As makes the following requests come from p (nil: no principal, which
// the handler refuses).
func (s *Server) As(p *auth.Principal) { s.principal.Store(p) }

// New starts the GraphQL handler over st as the hub serves it, following
// the change notifications (the reference tables are held in memory while
// they are current), without the response cache; it stops at test end.
func New(tb testing.TB, st *store.Store) *Server {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	changes := st.WatchChanges(ctx)
	<-changes.Listening()
	return NewWith(tb, graph.Config{Store: st, Changes: changes})
}

// NewWith starts the GraphQL handler with a configuration of its own.
func NewWith(tb testing.TB, cfg graph.Config) *Server {
	tb.Helper()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h, err := graph.NewHandler(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{}
	s.principal.Store(Admin)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, c := store.WithStatementCounter(r.Context())
		s.last.Store(c)
		if p := s.principal.Load(); p != nil {
			ctx = auth.With(ctx, p)
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	tb.Cleanup(ts.Close)
	s.URL = ts.URL + "/graphql"
	return s
}

// Error is a GraphQL error as served.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Response is a decoded GraphQL response with what it cost.
type Response struct {
	Status     int
	Data       json.RawMessage `json:"data"`
	Errors     []Error         `json:"errors"`
	Statements int64           // SQL statements the request ran
	SQL        []string        // their first lines
	SQLText    []string        // their whole text
}

// Do posts a query with variables and decodes the response.
func (s *Server) Do(tb testing.TB, query string, vars map[string]any) Response {
	tb.Helper()
	return s.DoWithHeaders(tb, query, vars, nil)
}

// DoWithHeaders is Do with extra request headers.
func (s *Server) DoWithHeaders(tb testing.TB, query string, vars map[string]any, headers map[string]string) Response {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatalf("decode response %q: %v", raw, err)
	}
	r.Status = resp.StatusCode
	if c := s.last.Load(); c != nil {
		r.Statements = c.Count()
		r.SQL = c.Statements()
		r.SQLText = c.Texts()
	}
	return r
}

// MustData runs a query that must succeed and decodes its data into out.
func (s *Server) MustData(tb testing.TB, query string, vars map[string]any, out any) Response {
	tb.Helper()
	r := s.Do(tb, query, vars)
	if len(r.Errors) > 0 {
		tb.Fatalf("query failed: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		tb.Fatalf("decode data %s: %v", r.Data, err)
	}
	return r
}
