package graph_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/jackc/pgx/v5"

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
	srv, _ := feedServerAndFeed(t, st, o, revoked)
	return srv
}

// feedServerAndFeed is feedServer that also returns its feed.
func feedServerAndFeed(t *testing.T, st *store.Store, o graph.FeedOptions, revoked *atomic.Value) (*graphtest.Server, *graph.Feed) {
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
	return srv, feed
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

// A subscriber that stops reading is ended with SLOW_CONSUMER once a change
// has waited for it longer than the send timeout, and the error names the
// position of the last change it was sent: it receives every change up to
// that position, in order, then the error, and subscribing again after that
// position gives the rest, none lost and none twice. The client's receive
// buffer is a few kilobytes, so the hub's writes stall soon after it stops.
func TestSlowConsumerEndsWithItsPosition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	st := dbtest.NewStore(t)
	var revoked atomic.Value
	revoked.Store("")
	srv, feed := feedServerAndFeed(t, st, graph.FeedOptions{SendTimeout: 300 * time.Millisecond}, &revoked)
	uctx := store.Unscoped(ctx)
	sequence(t, st)
	start, _, err := st.ChangeHead(uctx)
	if err != nil {
		t.Fatal(err)
	}

	small := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPClient:   &http.Client{Transport: &http.Transport{DialContext: small.DialContext}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	slow := &wsClient{t: t, conn: conn}
	payload, _ := json.Marshal(map[string]any{"Authorization": "Bearer admin"})
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	if m, err := slow.next(ctx); err != nil || m.Type != "connection_ack" {
		t.Fatalf("init: %+v, %v", m, err)
	}
	const query = `subscription($after: String) { changes(after: $after, types: [INCIDENT]) { position node { ... on Incident { title } } } }`
	slow.subscribe(ctx, "slow", query, map[string]any{"after": encodeTestPosition(start)})
	waitSubscriptions(t, feed, 1)

	// Far more than the socket buffers hold (each change about 3 KB), and
	// no reading meanwhile.
	const writes = 5000
	if _, err := st.Pool().Exec(uctx, `INSERT INTO incident (title) SELECT '第' || i || '起' || repeat('长', 1000) FROM generate_series(1, $1) i`, writes); err != nil {
		t.Fatal(err)
	}
	waitSubscriptions(t, feed, 0)

	var received []string
	var ended subChange
	for {
		m, err := slow.next(ctx)
		if err != nil {
			t.Fatalf("after %d changes: %v", len(received), err)
		}
		if m.Type == "complete" {
			break
		}
		var p subChange
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		if p.Data.Changes != nil {
			received = append(received, p.Data.Changes.Position)
			continue
		}
		ended = p
	}
	if len(ended.Errors) != 1 || ended.Errors[0].Extensions["code"] != "SLOW_CONSUMER" {
		t.Fatalf("after %d changes the stream ended with %+v, want SLOW_CONSUMER", len(received), ended)
	}
	if len(received) == 0 || len(received) >= writes {
		t.Fatalf("%d of %d changes before SLOW_CONSUMER", len(received), writes)
	}
	if pos, _ := ended.Errors[0].Extensions["position"].(string); pos != received[len(received)-1] {
		t.Fatalf("SLOW_CONSUMER at position %q; the last change received is at %s", pos, received[len(received)-1])
	}

	t.Logf("%d of %d changes before SLOW_CONSUMER", len(received), writes)

	// Resume from the error's position, reading this time, on a replica
	// with the default send timeout (300 ms can be outlasted by a reader
	// that does read, on a loaded machine under the race detector).
	replica, _ := feedServerAndFeed(t, st, graph.FeedOptions{}, &revoked)
	c, err := dialWS(t, ctx, replica.URL, "Bearer admin")
	if err != nil {
		t.Fatal(err)
	}
	defer c.conn.CloseNow()
	c.subscribe(ctx, "again", query, map[string]any{"after": received[len(received)-1]})
	for len(received) < writes {
		m, err := c.next(ctx)
		if err != nil {
			t.Fatalf("resumed, after %d changes: %v", len(received), err)
		}
		var p subChange
		if err := json.Unmarshal(m.Payload, &p); err != nil || p.Data.Changes == nil {
			t.Fatalf("resumed: %+v: %v", m, err)
		}
		received = append(received, p.Data.Changes.Position)
	}
	sequence(t, st)
	rows, err := st.Pool().Query(uctx, `SELECT position FROM change_log WHERE type = 'INCIDENT' AND position > $1 ORDER BY position`, start)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != writes {
		t.Fatalf("the log holds %d incident changes, want %d", len(want), writes)
	}
	for i, p := range want {
		if received[i] != encodeTestPosition(p) {
			t.Fatalf("change %d: received %s, the log has %s", i, received[i], encodeTestPosition(p))
		}
	}
}

// waitSubscriptions waits until the feed has n open subscriptions.
func waitSubscriptions(t *testing.T, feed *graph.Feed, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for feed.Subscriptions() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d open subscriptions, want %d", feed.Subscriptions(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The websocket transport keeps graphql-transport-ws: credentials that do
// not hold close the connection 4403, a subscribe before connection_init
// 4401, a second operation under an id in use 4409, a second
// connection_init 4429; a ping is answered with a pong of its payload; and
// a client of the older graphql-ws protocol is still served.
func TestWebsocketProtocol(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := dbtest.NewStore(t)
	var revoked atomic.Value
	revoked.Store("")
	srv := feedServer(t, st, graph.FeedOptions{}, &revoked)
	dial := func(proto string) *websocket.Conn {
		t.Helper()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{proto}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		return conn
	}
	write := func(conn *websocket.Conn, m wsMessage) {
		t.Helper()
		if err := wsjson.Write(ctx, conn, m); err != nil {
			t.Fatal(err)
		}
	}
	closedWith := func(conn *websocket.Conn, want websocket.StatusCode) {
		t.Helper()
		for {
			var m wsMessage
			err := wsjson.Read(ctx, conn, &m)
			if err == nil {
				continue
			}
			if got := websocket.CloseStatus(err); got != want {
				t.Fatalf("closed with %v (%v), want %d", got, err, want)
			}
			return
		}
	}
	initPayload := func(key string) json.RawMessage {
		b, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + key})
		return b
	}

	c := dial("graphql-transport-ws")
	write(c, wsMessage{Type: "connection_init", Payload: initPayload("nobody")})
	closedWith(c, 4403)

	c = dial("graphql-transport-ws")
	write(c, wsMessage{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { changes { position } }"}`)})
	closedWith(c, 4401)

	ws, err := dialWS(t, ctx, srv.URL, "Bearer admin")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.conn.CloseNow()
	write(ws.conn, wsMessage{Type: "ping", Payload: json.RawMessage(`{"n":1}`)})
	var pong wsMessage
	if err := wsjson.Read(ctx, ws.conn, &pong); err != nil || pong.Type != "pong" || string(pong.Payload) != `{"n":1}` {
		t.Fatalf("ping answered %+v, %v", pong, err)
	}
	ws.subscribe(ctx, "a", subChangesQuery, nil)
	ws.subscribe(ctx, "a", subChangesQuery, nil)
	closedWith(ws.conn, 4409)

	ws, err = dialWS(t, ctx, srv.URL, "Bearer admin")
	if err != nil {
		t.Fatal(err)
	}
	write(ws.conn, wsMessage{Type: "connection_init", Payload: initPayload("admin")})
	closedWith(ws.conn, 4429)

	legacy := dial("graphql-ws")
	write(legacy, wsMessage{Type: "connection_init", Payload: initPayload("admin")})
	var ack wsMessage
	if err := wsjson.Read(ctx, legacy, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("graphql-ws: init answered %+v, %v", ack, err)
	}
}
