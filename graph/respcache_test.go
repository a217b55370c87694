package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// cachedServer serves st with the response cache over st's change
// notifications, once they are followed.
func cachedServer(t *testing.T, st *store.Store, cfg graph.Config) (*graphtest.Server, *store.Changes) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch := st.WatchChanges(ctx)
	select {
	case <-ch.Listening():
	case <-time.After(10 * time.Second):
		t.Fatal("change notifications not followed")
	}
	cfg.Store = st
	cfg.Cache.Changes = ch
	return graphtest.NewWith(t, cfg), ch
}

// waitGeneration waits until the change generation is known and past from.
func waitGeneration(t *testing.T, ch *store.Changes, from uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if g, ok := ch.Current(); ok && g > from {
			return g
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the generation did not move past %d", from)
	return 0
}

const cachedQuery = `{ cases(first: 3, orderBy: {field: REPORTED_AT, direction: DESC}) { totalCount edges { node { id title status grid { name } } } } }`

func TestResponseCacheServesUntilTheDataChanges(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(20))
	srv, ch := cachedServer(t, st, graph.Config{})

	first := srv.Do(t, cachedQuery, nil)
	if len(first.Errors) > 0 || first.Statements == 0 {
		t.Fatalf("first run: %d statements, errors %+v", first.Statements, first.Errors)
	}
	again := srv.Do(t, cachedQuery, nil)
	if again.Statements != 0 || !bytes.Equal(again.Data, first.Data) {
		t.Fatalf("repeat: %d statements, same answer %v", again.Statements, bytes.Equal(again.Data, first.Data))
	}
	// Another variable value, another answer.
	if r := srv.Do(t, `query($n: Int) { cases(first: $n) { edges { node { id } } } }`, map[string]any{"n": 2}); r.Statements == 0 {
		t.Fatal("a query never run before was answered from the cache")
	}

	// A write by anyone (here: plain SQL on another connection) ends it.
	gen, _ := ch.Current()
	var d struct {
		Cases struct {
			Edges []struct{ Node struct{ ID, Title string } }
		}
	}
	const newest = `(SELECT id FROM "case" ORDER BY reported_at DESC, id DESC LIMIT 1)`
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET title = '井盖缺失（已更正）' WHERE id = `+newest); err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, ch, gen)
	after := srv.Do(t, cachedQuery, nil)
	json.Unmarshal(after.Data, &d)
	if after.Statements == 0 || d.Cases.Edges[0].Node.Title != "井盖缺失（已更正）" {
		t.Fatalf("after the write: %d statements, title %q", after.Statements, d.Cases.Edges[0].Node.Title)
	}

	// An uncommitted write changes nothing yet.
	gen, _ = ch.Current()
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE "case" SET title = 'x' WHERE id = `+newest); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if g, _ := ch.Current(); g != gen {
		t.Fatal("an uncommitted write moved the generation")
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestResponseCacheSeparatesWhatCallersMaySee(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(20))
	srv, _ := cachedServer(t, st, graph.Config{})

	srv.As(&auth.Principal{ID: "key:1", Role: auth.Analyst})
	city := srv.Do(t, cachedQuery, nil)
	// Another caller with the same role, jurisdiction and scopes sees the
	// same answer.
	srv.As(&auth.Principal{ID: "key:2", Role: auth.Analyst})
	if r := srv.Do(t, cachedQuery, nil); r.Statements != 0 || !bytes.Equal(r.Data, city.Data) {
		t.Fatalf("same access: %d statements", r.Statements)
	}
	// A caller confined to a region is answered for it.
	srv.As(&auth.Principal{ID: "key:3", Role: auth.Staff, RegionCode: "420606001001"})
	street := srv.Do(t, cachedQuery, nil)
	if street.Statements == 0 {
		t.Fatal("a caller confined to a street got the city-wide answer")
	}
	var a, b struct{ Cases struct{ TotalCount int } }
	json.Unmarshal(city.Data, &a)
	json.Unmarshal(street.Data, &b)
	if a.Cases.TotalCount <= b.Cases.TotalCount {
		t.Fatalf("city-wide %d cases, in the street %d: the scoping of the check is wrong", a.Cases.TotalCount, b.Cases.TotalCount)
	}
	// Scopes are part of the access too.
	srv.As(&auth.Principal{ID: "key:4", Role: auth.Analyst, Scopes: []string{"pii:read"}})
	if r := srv.Do(t, cachedQuery, nil); r.Statements == 0 {
		t.Fatal("a caller with other scopes got another caller's answer")
	}
}

func TestResponseCacheKeepsOnlyWhatMayBeServedAgain(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(5))
	if _, err := st.Pool().Exec(context.Background(), `INSERT INTO source (name, kind, description, status, last_synced_at)
		VALUES ('citymgmt', 'OPEN311', '数字城管', 'OK', now() - interval '1 minute')
		ON CONFLICT (name) DO UPDATE SET status = 'OK', last_synced_at = EXCLUDED.last_synced_at`); err != nil {
		t.Fatal(err)
	}
	srv, _ := cachedServer(t, st, graph.Config{})

	// A lag grows with the clock: never kept.
	for i := range 2 {
		if r := srv.Do(t, `{ sources { name lagSeconds } }`, nil); len(r.Errors) > 0 || r.Statements == 0 {
			t.Fatalf("run %d: %d statements, errors %+v", i, r.Statements, r.Errors)
		}
	}
	// A failed query is not kept.
	for i := range 2 {
		r := srv.Do(t, `{ cases(first: 5, after: "not a cursor") { edges { node { id } } } }`, nil)
		if len(r.Errors) == 0 {
			t.Fatalf("run %d: a bad cursor was accepted", i)
		}
	}
}

func TestResponseCacheExpires(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(5))
	srv, _ := cachedServer(t, st, graph.Config{Cache: graph.CacheConfig{TTL: 100 * time.Millisecond}})
	srv.Do(t, cachedQuery, nil)
	if r := srv.Do(t, cachedQuery, nil); r.Statements != 0 {
		t.Fatalf("within the TTL: %d statements", r.Statements)
	}
	time.Sleep(250 * time.Millisecond)
	if r := srv.Do(t, cachedQuery, nil); r.Statements == 0 {
		t.Fatal("an answer older than the TTL was served")
	}
}

func TestResponseCacheNeverServesUnmaskedReads(t *testing.T) {
	keys, st := sealedPeople(t)
	srv, _ := cachedServer(t, st, graph.Config{PII: keys})
	srv.As(&auth.Principal{ID: "key:3", Role: auth.Admin, Scopes: []string{"pii:read"}})
	q := `{ people(filter: {namePrefix: "王"}) { edges { node { idNumber(unmask: true) } } } }`
	for i := range 3 {
		r := srv.DoWithHeaders(t, q, nil, map[string]string{"X-Purpose": "回访"})
		if len(r.Errors) > 0 || r.Statements == 0 {
			t.Fatalf("unmasked read %d: %d statements, errors %+v", i, r.Statements, r.Errors)
		}
	}
	// The audit log itself is never kept either: each read sees the entries
	// so far.
	for want := 3; want <= 4; want++ {
		var a struct {
			AuditLog struct {
				Edges []struct{ Node struct{ Action string } }
			}
		}
		srv.MustData(t, `{ auditLog { edges { node { action } } } }`, nil, &a)
		if len(a.AuditLog.Edges) != want {
			t.Fatalf("%d audit entries, want %d", len(a.AuditLog.Edges), want)
		}
		srv.DoWithHeaders(t, q, nil, map[string]string{"X-Purpose": "回访"})
	}
}

func TestResponseCacheSurvivesALostListener(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(5))
	srv, ch := cachedServer(t, st, graph.Config{Cache: graph.CacheConfig{TTL: time.Hour}})
	first := srv.Do(t, cachedQuery, nil)
	gen, _ := ch.Current()

	// The listener's connection dies; a write lands while nobody listens.
	if _, err := st.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+store.ChangeChannel+`'`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for g, ok := ch.Current(); ok && g == gen; g, ok = ch.Current() {
		if time.Now().After(deadline) {
			t.Fatal("the lost listener went unnoticed")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET title = '已更正' WHERE true`); err != nil {
		t.Fatal(err)
	}
	// Whether the write came while nobody listened or after the listener
	// was back, the kept answer is not served again.
	waitGeneration(t, ch, gen)
	r := srv.Do(t, cachedQuery, nil)
	if r.Statements == 0 || bytes.Equal(r.Data, first.Data) {
		t.Fatalf("after a lost listener: %d statements, same answer %v", r.Statements, bytes.Equal(r.Data, first.Data))
	}
}

func TestResponseCacheRunsIdenticalQueriesOnce(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(50))
	reg := prometheus.NewRegistry()
	srv, _ := cachedServer(t, st, graph.Config{Registry: reg})
	const n = 16
	answers := make([]graphtest.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = srv.Do(t, cachedQuery, nil)
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if len(a.Errors) > 0 || !bytes.Equal(a.Data, answers[0].Data) {
			t.Fatalf("answer %d differs: %s, errors %+v", i, a.Data, a.Errors)
		}
	}
	served := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "hub_graphql_response_cache_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			served[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if served["miss"] != 1 || served["hit"] != n-1 || served["bypass"] != 0 {
		t.Fatalf("%d identical queries served as %v, want one miss and the rest hits", n, served)
	}
}

// A deferring operation is answered whole over HTTP, so its answer is as
// complete as any other and kept like one.
func TestResponseCacheKeepsWholeAnswersOfDeferringOperations(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(5))
	srv, _ := cachedServer(t, st, graph.Config{})
	plain := srv.Do(t, `{ cases(first: 3) { edges { node { sourceId title } } } }`, nil)
	q := `{ cases(first: 3) { edges { node { sourceId ... @defer { title } } } } }`
	for i := range 2 {
		r := srv.Do(t, q, nil)
		if len(r.Errors) > 0 || !bytes.Equal(r.Data, plain.Data) || (i == 1) != (r.Statements == 0) {
			t.Fatalf("run %d: %s (%d statements), want %s", i, r.Data, r.Statements, plain.Data)
		}
	}
}

// wsMessage is a message of the graphql-transport-ws protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// A query over the websocket gets one answer, then the end of its stream,
// whether the cache answered it or kept what it ran; a kept answer once
// came back on every call of the response handler, thousands of times.
func TestResponseCacheAnswersOnceOverAWebsocket(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(5))
	reg := prometheus.NewRegistry()
	srv, _ := cachedServer(t, st, graph.Config{Registry: reg, Cache: graph.CacheConfig{TTL: time.Second}})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(32 << 20)
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init"}); err != nil {
		t.Fatal(err)
	}
	var ack wsMessage
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("init: %+v, %v", ack, err)
	}
	var answers []json.RawMessage
	for i, id := range []string{"miss", "hit", "hit again"} {
		payload, _ := json.Marshal(map[string]any{"query": cachedQuery})
		if err := wsjson.Write(ctx, conn, wsMessage{ID: id, Type: "subscribe", Payload: payload}); err != nil {
			t.Fatal(err)
		}
		next := 0
		for {
			var m wsMessage
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				t.Fatalf("query %d: after %d next messages: %v", i, next, err)
			}
			if m.ID != id || m.Type == "error" {
				t.Fatalf("query %d: %+v", i, m)
			}
			if m.Type == "complete" {
				break
			}
			if m.Type == "next" {
				next++
				answers = append(answers, m.Payload)
			}
		}
		if next != 1 {
			t.Fatalf("query %d: %d next messages before complete, want 1", i, next)
		}
	}
	for i, a := range answers {
		if !bytes.Equal(a, answers[0]) || !bytes.Contains(a, []byte(`"totalCount":5`)) {
			t.Fatalf("answer %d: %s", i, a)
		}
	}
	if served := cacheServed(t, reg); served["miss"] != 1 || served["hit"] != 2 {
		t.Fatalf("served %v, want one miss and two hits", served)
	}
}

// cacheServed reads hub_graphql_response_cache_total by result.
func cacheServed(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	served := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "hub_graphql_response_cache_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			served[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return served
}

// Requests waiting on a run of their query take its answer even when a
// change commits while it runs: they began in the generation the run
// began in, and running again for each of them (as the cache once did)
// multiplies the load exactly when writes are frequent. A request
// beginning after the change runs the query anew.
func TestResponseCacheSharesARunAcrossAChange(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(20))
	reg := prometheus.NewRegistry()
	srv, ch := cachedServer(t, st, graph.Config{Registry: reg, Cache: graph.CacheConfig{TTL: time.Minute}})
	gen, _ := ch.Current()

	// Hold the query's first read until a change has committed and been
	// heard.
	lock, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `LOCK TABLE "case" IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	const n = 8
	answers := make([]graphtest.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { answers[i] = srv.Do(t, cachedQuery, nil) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for blocked := 0; blocked == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the query never reached the locked table")
		}
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&blocked); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the other requests join the run
	if _, err := st.Pool().Exec(ctx, `UPDATE region SET name = name || '（改）' WHERE code = '420606001001'`); err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, ch, gen)
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, a := range answers {
		if len(a.Errors) > 0 || !bytes.Equal(a.Data, answers[0].Data) {
			t.Fatalf("answer %d differs: %s, errors %+v", i, a.Data, a.Errors)
		}
	}
	// (A request slow enough to begin after the change would run the query
	// again, rightly, as a miss of the new generation; none is a bypass.)
	if served := cacheServed(t, reg); served["bypass"] != 0 || served["hit"] == 0 || served["miss"]+served["hit"] != n {
		t.Fatalf("%d requests waiting on one run across a change served as %v, want one miss and the rest hits", n, served)
	}
	if r := srv.Do(t, cachedQuery, nil); r.Statements == 0 {
		t.Fatal("a request after the change got the answer of the run before it")
	}
}
