package graph_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// wsClient is a graphql-transport-ws client.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialWS(t *testing.T, ctx context.Context, url, authorization string) (*wsClient, error) {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	init := map[string]any{}
	if authorization != "" {
		init["Authorization"] = authorization
	}
	payload, _ := json.Marshal(init)
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: payload}); err != nil {
		conn.CloseNow()
		return nil, err
	}
	var ack wsMessage
	if err := wsjson.Read(ctx, conn, &ack); err != nil {
		conn.CloseNow()
		return nil, err
	}
	if ack.Type != "connection_ack" {
		conn.CloseNow()
		return nil, fmt.Errorf("init answered %+v", ack)
	}
	return &wsClient{t: t, conn: conn}, nil
}

func (c *wsClient) subscribe(ctx context.Context, id, query string, vars map[string]any) {
	c.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := wsjson.Write(ctx, c.conn, wsMessage{ID: id, Type: "subscribe", Payload: payload}); err != nil {
		c.t.Fatal(err)
	}
}

// next reads the next message of the connection other than pings.
func (c *wsClient) next(ctx context.Context) (wsMessage, error) {
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			return m, err
		}
		if m.Type == "ping" || m.Type == "pong" {
			continue
		}
		return m, nil
	}
}

type subChange struct {
	Data struct {
		Changes     *changeRow `json:"changes"`
		CaseChanged *changeRow `json:"caseChanged"`
	}
	Errors []graphtest.Error
}

// feedServer is a GraphQL server with a running feed; tokens name
// principals ("Bearer <name>"), and a token in revoked fails.
func feedServer(t *testing.T, st *store.Store, o graph.FeedOptions, revoked *atomic.Value) *graphtest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	feed := graph.NewFeed(st, o)
	go feed.Run(ctx)
	principals := map[string]*auth.Principal{
		"admin": {ID: "admin", Role: auth.Admin},
		"staff": {ID: "staff", Role: auth.Staff, RegionCode: jurisdiction},
	}
	authenticate := func(_ context.Context, h string) (*auth.Principal, error) {
		name := strings.TrimPrefix(h, "Bearer ")
		if r, _ := revoked.Load().(string); r == name {
			return nil, errors.New("invalid credentials: revoked")
		}
		p, ok := principals[name]
		if !ok {
			return nil, errors.New("invalid credentials")
		}
		return p, nil
	}
	srv := graphtest.NewWith(t, graph.Config{Store: st, Feed: feed, Authenticate: authenticate})
	srv.As(nil) // principals come from connection_init
	return srv
}

const subChangesQuery = `subscription($after: String, $types: [ChangeType!]) {
  changes(after: $after, types: $types) { position type recordId operation changedFields node { id ... on Case { status } } }
}`

// A staff subscriber of caseChanged gets the changes of the cases of its
// jurisdiction that match its filter as they commit, with the case as it
// is now, and nothing of the others; connection_init authenticates, a
// subscription over the principal's limit is refused, and a revoked key's
// subscription ends with UNAUTHENTICATED.
func TestSubscriptionsDeliverLiveCaseChanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(8))
	var revoked atomic.Value
	revoked.Store("")
	srv := feedServer(t, st, graph.FeedOptions{MaxPerPrincipal: 2, Recheck: 200 * time.Millisecond}, &revoked)

	if _, err := dialWS(t, ctx, srv.URL, "Bearer nobody"); err == nil {
		t.Fatal("an unknown key was accepted in connection_init")
	}
	c, err := dialWS(t, ctx, srv.URL, "Bearer staff")
	if err != nil {
		t.Fatal(err)
	}
	defer c.conn.CloseNow()
	c.subscribe(ctx, "cases", `subscription($f: CaseFilter) { caseChanged(filter: $f) { type operation changedFields node { id ... on Case { status sourceId } } } }`,
		map[string]any{"f": map[string]any{"status": []string{"IN_PROGRESS"}}})
	time.Sleep(200 * time.Millisecond) // subscriptions start concurrently
	c.subscribe(ctx, "all", subChangesQuery, nil)
	time.Sleep(200 * time.Millisecond)
	c.subscribe(ctx, "third", subChangesQuery, nil)
	if m, err := c.next(ctx); err != nil || m.ID != "third" || !strings.Contains(string(m.Payload), "RATE_LIMITED") {
		t.Fatalf("a third subscription over a limit of two: %+v, %v", m, err)
	}
	// Let the subscriptions start before the writes.
	time.Sleep(300 * time.Millisecond)

	uctx := store.Unscoped(ctx)
	// Case C00000 lies in the jurisdiction (grid 420606001001001), C00002 does not.
	if _, err := st.Pool().Exec(uctx, `UPDATE "case" SET status = 'IN_PROGRESS', closed_at = NULL WHERE source_id IN ('C00000', 'C00002')`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(uctx, `UPDATE "case" SET tier = 'CITY' WHERE source_id = 'C00004'`); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	deadline := time.After(15 * time.Second)
	for len(got["cases"]) < 1 || len(got["all"]) < 2 {
		type res struct {
			m   wsMessage
			err error
		}
		ch := make(chan res, 1)
		go func() { m, err := c.next(ctx); ch <- res{m, err} }()
		select {
		case <-deadline:
			t.Fatalf("after 15 s: %v", got)
		case r := <-ch:
			if r.err != nil {
				t.Fatalf("read: %v (so far %v)", r.err, got)
			}
			got[r.m.ID] = append(got[r.m.ID], string(r.m.Payload))
		}
	}
	if len(got["cases"]) != 1 || !strings.Contains(got["cases"][0], `"sourceId":"C00000"`) || !strings.Contains(got["cases"][0], `"status":"IN_PROGRESS"`) {
		t.Fatalf("caseChanged: %v", got["cases"])
	}
	for _, p := range got["all"] {
		if strings.Contains(p, "C00002") {
			t.Fatalf("staff were told of a case outside their jurisdiction: %s", p)
		}
	}

	// The key is revoked: its subscriptions end with UNAUTHENTICATED.
	revoked.Store("staff")
	ended := 0
	for ended < 2 {
		m, err := c.next(ctx)
		if err != nil {
			t.Fatalf("after revocation: %v", err)
		}
		switch m.Type {
		case "next":
			if !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
				t.Fatalf("after revocation: %s", m.Payload)
			}
		case "complete":
			ended++
		}
	}
}

// A subscriber is cut off again and again (over a hundred times) while
// changes are written, and reconnects with the last position it saw,
// alternately to two hub replicas over one database (each with its own
// feed, both positioning changes): it receives every change of the log
// exactly once, in order.
func TestSubscriptionsResumeWithoutLossOrDuplicates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	st := dbtest.NewStore(t)
	var revoked atomic.Value
	revoked.Store("")
	replicas := []*graphtest.Server{feedServer(t, st, graph.FeedOptions{}, &revoked), feedServer(t, st, graph.FeedOptions{}, &revoked)}
	uctx := store.Unscoped(ctx)
	sequence(t, st)
	start, _, err := st.ChangeHead(uctx)
	if err != nil {
		t.Fatal(err)
	}

	const writes = 300
	done := make(chan error, 1)
	go func() {
		for i := range writes {
			if _, err := st.Pool().Exec(uctx, `INSERT INTO incident (title) VALUES ($1)`, fmt.Sprintf("第%d起", i)); err != nil {
				done <- err
				return
			}
			if i%7 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		done <- nil
	}()

	var received []string
	after := encodeTestPosition(start)
	writing := true
	reconnects := 0
	for ; ; reconnects++ {
		c, err := dialWS(t, ctx, replicas[reconnects%2].URL, "Bearer admin")
		if err != nil {
			t.Fatal(err)
		}
		c.subscribe(ctx, "s", subChangesQuery, map[string]any{"after": after, "types": []string{"INCIDENT"}})
		// Read a few, then cut the connection.
		for n := 0; n < 1+reconnects%4; n++ {
			rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
			m, err := c.next(rctx)
			rcancel()
			if err != nil {
				break // nothing more for now
			}
			var p subChange
			if err := json.Unmarshal(m.Payload, &p); err != nil || p.Data.Changes == nil {
				t.Fatalf("message %+v: %v", m, err)
			}
			received = append(received, p.Data.Changes.Position)
			after = p.Data.Changes.Position
		}
		c.conn.Close(websocket.StatusGoingAway, "cut")
		if writing {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				writing = false
			default:
			}
		}
		if !writing && len(received) >= writes {
			break
		}
		if reconnects > 2000 {
			t.Fatalf("%d reconnects, %d of %d changes", reconnects, len(received), writes)
		}
	}
	t.Logf("%d changes over %d connections", len(received), reconnects+1)
	sequence(t, st)
	rows, err := st.Pool().Query(uctx, `SELECT position FROM change_log WHERE type = 'INCIDENT' AND position > $1 ORDER BY position`, start)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		want = append(want, encodeTestPosition(p))
	}
	if reconnects < 100 {
		t.Fatalf("only %d reconnects", reconnects)
	}
	if len(received) != len(want) {
		t.Fatalf("received %d changes, the log holds %d", len(received), len(want))
	}
	for i := range want {
		if received[i] != want[i] {
			t.Fatalf("change %d: received %s, the log has %s", i, received[i], want[i])
		}
	}
}

func encodeTestPosition(p int64) string {
	return strings.TrimRight(base64URL([]byte(fmt.Sprintf("position:%d", p))), "=")
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// sourceStatusChanged sends a source when its status changes, and nothing
// for other changes of it.
func TestSubscriptionSourceStatusChanged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	var revoked atomic.Value
	revoked.Store("")
	srv := feedServer(t, st, graph.FeedOptions{}, &revoked)
	c, err := dialWS(t, ctx, srv.URL, "Bearer staff")
	if err != nil {
		t.Fatal(err)
	}
	defer c.conn.CloseNow()
	c.subscribe(ctx, "s", `subscription { sourceStatusChanged { name status } }`, nil)
	time.Sleep(1500 * time.Millisecond)
	uctx := store.Unscoped(ctx)
	if _, err := st.Pool().Exec(uctx, `UPDATE source SET description = 'x' WHERE name = 'citymgmt'`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := st.Pool().Exec(uctx, `UPDATE source SET status = 'DOWN' WHERE name = 'citymgmt'`); err != nil {
		t.Fatal(err)
	}
	m, err := c.next(ctx)
	if err != nil || m.Type != "next" || string(m.Payload) != `{"data":{"sourceStatusChanged":{"name":"citymgmt","status":"DOWN"}}}` {
		t.Fatalf("%+v %s, %v", m, m.Payload, err)
	}
}
