package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/generated"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store/storetest"
)

var accessDirectives = []string{"scope", "admin", "public"}

// TestEveryTypeAndRootFieldHasAnAccessPolicy walks the executable schema:
// every object type and every root field carries exactly one access
// directive, and every @scope names a scope auth knows. A type or root
// field added without one fails here (and the handler refuses to start).
func TestEveryTypeAndRootFieldHasAnAccessPolicy(t *testing.T) {
	s := generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}).Schema()
	policy := func(where string, list ast.DirectiveList) {
		var found []string
		for _, d := range list {
			if !slices.Contains(accessDirectives, d.Name) {
				continue
			}
			found = append(found, d.Name)
			if d.Name == "scope" {
				arg := d.Arguments.ForName("name")
				if arg == nil || !slices.Contains(auth.Scopes, arg.Value.Raw) {
					t.Errorf("%s: @scope names no known scope", where)
				}
			}
		}
		if len(found) != 1 {
			t.Errorf("%s: access directives %v, want exactly one of @scope, @admin, @public", where, found)
		}
	}
	types, roots := 0, 0
	for _, def := range s.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		types++
		policy("type "+def.Name, def.Directives)
	}
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			roots++
			policy(root.Name+"."+f.Name, f.Directives)
		}
	}
	if types < 40 || roots < 10 {
		t.Fatalf("walked %d types and %d root fields: not the hub's schema", types, roots)
	}
	// Every read scope guards something, and partners' scopes are the
	// only ones the schema uses besides pii:read (which unmasking checks).
	used := map[string]bool{}
	for _, def := range s.Types {
		for _, d := range def.Directives.ForNames("scope") {
			used[d.Arguments.ForName("name").Value.Raw] = true
		}
	}
	for _, sc := range auth.Scopes {
		if sc != "pii:read" && !used[sc] {
			t.Errorf("scope %s guards no type", sc)
		}
	}
}

// TestMissingPrincipalIsRefused sends operations without a principal on
// every path into the GraphQL layer: over HTTP, over a websocket and to
// the handler called in-process. Each is refused UNAUTHENTICATED and
// nothing is read (store reads without an access value are refused as
// well: store.TestReadsFailClosed).
func TestMissingPrincipalIsRefused(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(4))
	queries := []string{
		`{ cases { totalCount } }`,
		`{ regions { edges { node { code } } } }`,
		`{ people { edges { node { name } } } }`,
		`{ sources { name } }`,
		`{ node(id: "UmVnaW9uOjE") { id } }`,
		`{ convertCoordinates(lat: 32.0, lng: 112.1, from: WGS84, to: GCJ02) { lat } }`,
	}

	// HTTP, through the test server with no principal.
	srv := graphtest.New(t, st)
	srv.As(nil)
	for _, q := range queries {
		r := srv.Do(t, q, nil)
		if len(r.Errors) == 0 || r.Errors[0].Code() != "UNAUTHENTICATED" || len(r.Data) > 0 && string(r.Data) != "null" {
			t.Errorf("HTTP %s: %s %+v", q, r.Data, r.Errors)
		}
		if r.Statements != 0 {
			t.Errorf("HTTP %s ran %d statements", q, r.Statements)
		}
	}

	// A websocket (graphql-transport-ws) on the same server.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	type message struct {
		ID      string          `json:"id,omitempty"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	if err := wsjson.Write(ctx, conn, message{Type: "connection_init"}); err != nil {
		t.Fatal(err)
	}
	var ack message
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("init: %+v, %v", ack, err)
	}
	for i, q := range queries {
		id := string(rune('a' + i))
		payload, _ := json.Marshal(map[string]any{"query": q})
		if err := wsjson.Write(ctx, conn, message{ID: id, Type: "subscribe", Payload: payload}); err != nil {
			t.Fatal(err)
		}
		var m message
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			t.Fatal(err)
		}
		if m.ID != id || m.Type == "next" && !strings.Contains(string(m.Payload), "UNAUTHENTICATED") ||
			m.Type != "next" && m.Type != "error" || strings.Contains(string(m.Payload), `"data":{`) {
			t.Errorf("websocket %s: %s %s", q, m.Type, m.Payload)
		}
		for m.Type == "next" { // the stream ends with complete
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				t.Fatal(err)
			}
		}
	}

	// In-process: the handler called directly, no server, no principal.
	h, err := graph.NewHandler(graph.Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		body, _ := json.Marshal(map[string]any{"query": q})
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var resp struct {
			Data   json.RawMessage
			Errors []struct{ Extensions map[string]any }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("in-process %s: %s", q, rec.Body)
		}
		if len(resp.Errors) == 0 || resp.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || len(resp.Data) > 0 && string(resp.Data) != "null" {
			t.Errorf("in-process %s: %s", q, rec.Body)
		}
	}
	// With a principal the same handler answers, so the refusals above
	// are about the missing principal.
	body, _ := json.Marshal(map[string]any{"query": queries[0]})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(auth.With(req.Context(), &auth.Principal{ID: "x", Role: auth.Analyst}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"totalCount":4`) {
		t.Errorf("with a principal: %s", rec.Body)
	}
}
