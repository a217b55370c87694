// Command feed is the load client of the hub's subscriptions: it opens many
// idle graphql-transport-ws subscriptions on a running hub and measures the
// hub's memory per subscription (from its /metrics), then writes changes
// into the hub's database at a fixed rate while a few subscribers follow
// them, and reports the time from each change's commit to its delivery
// (p50, p99, max) and that every active subscriber got every change once,
// in order, although their connections are cut again and again meanwhile
// (-reconnects; each resumes after the last position it received). The changes are quarantine entries of a bench stream, which
// nothing else touches (the subscribers need an administrator's key).
//
//	DATABASE_URL=postgres://…/hubbench HUB_MAX_SUBSCRIPTIONS=20000 HUB_RATE_LIMIT=0 HUB_DEMO_LIVE_RATE=0 go run . &
//	go run ./bench/feed -url http://127.0.0.1:8080 -key "$(cat .hub/demo-admin.key)" -dsn postgres://…/hubbench
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/jackc/pgx/v5/pgxpool"
)

type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "the hub")
	key := flag.String("key", "", "API key (admin); empty: anonymous")
	dsn := flag.String("dsn", os.Getenv("DATABASE_URL"), "the hub's database, written to")
	idle := flag.Int("idle", 10000, "idle subscriptions")
	perConn := flag.Int("per-conn", 1, "subscriptions per websocket connection")
	active := flag.Int("active", 10, "subscribers that follow the changes")
	rate := flag.Float64("rate", 200, "changes per second")
	dur := flag.Duration("duration", 30*time.Second, "how long changes are written")
	cuts := flag.Int("reconnects", 100, "forced disconnects of the followers while changes are written (each resumes from its last position)")
	settle := flag.Duration("settle", 150*time.Second, "after opening the idle subscriptions, wait up to this long for the hub's next garbage collection and measure again (0: do not)")
	hold := flag.Duration("hold", 0, "keep the idle subscriptions open this long after measuring them (to profile the hub)")
	read := flag.Bool("read", false, "only page through Query.changes from the start, 500 a page, and report changes per second")
	withNode := flag.Bool("node", true, "with -read: select each change's record (node { id })")
	flag.Parse()
	ctx := context.Background()
	if *read {
		readLog(*url, *key, *withNode)
		return
	}
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	base := hubMemory(*url)
	fmt.Printf("hub before: heap+stacks %.1f MB, RSS %.1f MB, %d goroutines\n", float64(base.bytes)/1e6, float64(base.rss)/1e6, base.goroutines)
	// Idle subscriptions: party organisations, which nothing changes here.
	var conns []*websocket.Conn
	start := time.Now()
	for i := 0; i < *idle; i += *perConn {
		c := dial(ctx, *url, *key)
		conns = append(conns, c)
		for j := 0; j < *perConn && i+j < *idle; j++ {
			subscribe(ctx, c, strconv.Itoa(j), `subscription { changes(types: [PARTY_ORG]) { position } }`, nil)
		}
		go drain(c)
	}
	time.Sleep(3 * time.Second)
	after := hubMemory(*url)
	per := float64(after.bytes-base.bytes) / float64(*idle)
	fmt.Printf("%d idle subscriptions over %d connections in %s: hub heap+stacks %.1f MB (+%.1f MB), RSS %.1f MB (+%.1f MB), %d goroutines; per subscription %.1f KB heap+stacks, %.1f KB RSS\n",
		*idle, len(conns), time.Since(start).Round(time.Millisecond), float64(after.bytes)/1e6, float64(after.bytes-base.bytes)/1e6,
		float64(after.rss)/1e6, float64(after.rss-base.rss)/1e6, after.goroutines, per/1024, float64(after.rss-base.rss)/float64(*idle)/1024)
	if *settle > 0 {
		// The heap in use holds the garbage of opening the connections
		// until the hub's next collection (at the latest its forced one,
		// every two minutes).
		deadline := time.Now().Add(*settle)
		for time.Now().Before(deadline) && hubMemory(*url).gcs == after.gcs {
			time.Sleep(time.Second)
		}
		gc := hubMemory(*url)
		if gc.gcs == after.gcs {
			fmt.Printf("no collection of the hub's heap within %s\n", *settle)
		} else {
			fmt.Printf("after the hub's next collection: heap+stacks %.1f MB (+%.1f MB), RSS %.1f MB (+%.1f MB); per subscription %.1f KB heap+stacks, %.1f KB RSS\n",
				float64(gc.bytes)/1e6, float64(gc.bytes-base.bytes)/1e6, float64(gc.rss)/1e6, float64(gc.rss-base.rss)/1e6,
				float64(gc.bytes-base.bytes)/float64(*idle)/1024, float64(gc.rss-base.rss)/float64(*idle)/1024)
		}
	}
	time.Sleep(*hold)

	// Active subscribers follow quarantine entries; the writer stamps each
	// with its commit time. A cut connection resumes after the last
	// position its subscriber received.
	var head int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM change_log`).Scan(&head); err != nil {
		log.Fatal(err)
	}
	type sub struct {
		mu    sync.Mutex
		conn  *websocket.Conn
		got   []string
		lat   []time.Duration
		seen  map[string]int
		after string
	}
	subs := make([]*sub, *active)
	commits := sync.Map{}
	var resumed atomic.Int64
	for i := range subs {
		s := &sub{seen: map[string]int{}, after: encodeCursor(head)}
		subs[i] = s
		go func() {
			for first := true; ; first = false {
				c := dial(ctx, *url, *key)
				s.mu.Lock()
				s.conn = c
				after := s.after
				s.mu.Unlock()
				if !first {
					resumed.Add(1)
				}
				subscribe(ctx, c, "a", `subscription($after: String) { changes(after: $after, types: [QUARANTINE_ENTRY], filter: {operations: [CREATE]}) { position recordId } }`,
					map[string]any{"after": after})
				follow(ctx, c, func(position, recordID string) {
					now := time.Now()
					s.mu.Lock()
					defer s.mu.Unlock()
					s.got = append(s.got, position)
					s.after = position
					s.seen[recordID]++
					if t, ok := commits.Load(recordID); ok {
						s.lat = append(s.lat, now.Sub(t.(time.Time)))
					}
				})
			}
		}()
	}
	time.Sleep(2 * time.Second)
	// Forced disconnects, spread over the writing: a random follower's
	// connection is cut, and it reconnects from its last position.
	if *cuts > 0 {
		go func() {
			every := *dur / time.Duration(*cuts+1)
			for range *cuts {
				time.Sleep(every)
				s := subs[rand.IntN(len(subs))]
				s.mu.Lock()
				if s.conn != nil {
					s.conn.CloseNow()
				}
				s.mu.Unlock()
			}
		}()
	}

	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	stop := time.After(*dur)
	var written atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
loop:
	for n := 0; ; n++ {
		select {
		case <-stop:
			break loop
		case <-tick.C:
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			defer func() { <-sem }()
			var id int64
			if err := pool.QueryRow(ctx, `INSERT INTO quarantine (source, stream, source_id, reason, raw, payload_hash)
				VALUES ((SELECT min(name) FROM source), 'bench', $1, 'BENCH', '\x00', '\x00') RETURNING id`, fmt.Sprintf("bench-%d-%d", start.UnixNano(), n)).Scan(&id); err != nil {
				log.Printf("write: %v", err)
				return
			}
			title := strconv.FormatInt(id, 10)
			commits.Store(title, time.Now())
			written.Add(1)
		}(n)
	}
	wg.Wait()
	time.Sleep(5 * time.Second)
	var lat []time.Duration
	complete, dup, lost, unordered := 0, 0, 0, 0
	for _, s := range subs {
		s.mu.Lock()
		lat = append(lat, s.lat...)
		if len(s.seen) == int(written.Load()) {
			complete++
		}
		lost += int(written.Load()) - len(s.seen)
		for t, n := range s.seen {
			if n > 1 {
				dup++
				fmt.Printf("  %q received %d times\n", t, n)
			}
		}
		fmt.Printf("  subscriber: %d messages, %d distinct titles, %d written\n", len(s.got), len(s.seen), written.Load())
		if !slices.IsSorted(positions(s.got)) {
			unordered++
			fmt.Println("a subscriber received changes out of order")
		}
		s.mu.Unlock()
	}
	slices.Sort(lat)
	q := func(f float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(f*float64(len(lat))))].Round(time.Millisecond)
	}
	fmt.Printf("%d changes written at %.0f/s over %s; %d forced disconnects, %d resumptions; %d of %d subscribers got every one, %d lost, %d duplicates, %d out of order; commit→delivery p50 %s, p99 %s, max %s\n",
		written.Load(), *rate, *dur, *cuts, resumed.Load(), complete, len(subs), lost, dup, unordered, q(0.5), q(0.99), q(1))
	end := hubMemory(*url)
	fmt.Printf("hub after: heap+stacks %.1f MB, %d goroutines\n", float64(end.bytes)/1e6, end.goroutines)
	for _, c := range conns {
		c.CloseNow()
	}
}

// follow reads a subscription's changes until its connection ends.
func follow(ctx context.Context, c *websocket.Conn, got func(position, recordID string)) {
	for {
		var m message
		if err := wsjson.Read(ctx, c, &m); err != nil {
			return
		}
		switch m.Type {
		case "ping":
			_ = wsjson.Write(ctx, c, message{Type: "pong"})
		case "next":
			var p struct {
				Data struct {
					Changes struct {
						Position string
						RecordID string
					}
				}
				Errors []json.RawMessage
			}
			if json.Unmarshal(m.Payload, &p) != nil || len(p.Errors) > 0 {
				log.Printf("follower: %s", m.Payload)
				continue
			}
			got(p.Data.Changes.Position, p.Data.Changes.RecordID)
		case "error", "complete":
			log.Printf("follower: %s %s", m.Type, m.Payload)
		}
	}
}

func encodeCursor(position int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("position:" + strconv.FormatInt(position, 10)))
}

func positions(cursors []string) []int64 {
	out := make([]int64, 0, len(cursors))
	for _, c := range cursors {
		b, err := decodeCursor(c)
		if err == nil {
			out = append(out, b)
		}
	}
	return out
}

func decodeCursor(c string) (int64, error) {
	raw, err := base64URL(c)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimPrefix(string(raw), "position:"), 10, 64)
}

func dial(ctx context.Context, url, key string) *websocket.Conn {
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		log.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	init := map[string]string{}
	if key != "" {
		init["Authorization"] = "Bearer " + key
	}
	payload, _ := json.Marshal(init)
	if err := wsjson.Write(ctx, c, message{Type: "connection_init", Payload: payload}); err != nil {
		log.Fatal(err)
	}
	var ack message
	if err := wsjson.Read(ctx, c, &ack); err != nil || ack.Type != "connection_ack" {
		log.Fatalf("init: %+v %v", ack, err)
	}
	return c
}

func subscribe(ctx context.Context, c *websocket.Conn, id, query string, vars map[string]any) {
	payload, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := wsjson.Write(ctx, c, message{ID: id, Type: "subscribe", Payload: payload}); err != nil {
		log.Fatal(err)
	}
}

// drain reads (and answers pings on) an idle connection.
func drain(c *websocket.Conn) {
	ctx := context.Background()
	for {
		var m message
		if err := wsjson.Read(ctx, c, &m); err != nil {
			return
		}
		if m.Type == "ping" {
			_ = wsjson.Write(ctx, c, message{Type: "pong"})
		}
		if m.Type == "next" || m.Type == "error" {
			log.Printf("idle subscription %s: %s %s", m.ID, m.Type, m.Payload)
		}
	}
}

type memory struct {
	bytes      int64 // heap in use and goroutine stacks
	rss        int64
	goroutines int
	gcs        int64 // garbage collections so far
}

// hubMemory reads the hub's heap in use, goroutine stacks and resident
// memory from /metrics (the heap in use includes garbage not yet collected).
func hubMemory(url string) memory {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var m memory
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes":
			m.bytes += int64(v)
		case "go_gc_duration_seconds_count":
			m.gcs = int64(v)
		case "process_resident_memory_bytes":
			m.rss = int64(v)
		case "go_goroutines":
			m.goroutines = int(v)
		}
	}
	return m
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// readLog pages through Query.changes from the oldest change kept.
func readLog(url, key string, withNode bool) {
	node := ""
	if withNode {
		node = "node { id }"
	}
	var after *string
	n, pages := 0, 0
	start := time.Now()
	for {
		body, _ := json.Marshal(map[string]any{"query": `query($after: String) { changes(after: $after, first: 500) {
			edges { node { position type operation changedFields ` + node + ` } } pageInfo { hasNextPage endCursor } } }`,
			"variables": map[string]any{"after": after}})
		req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		var r struct {
			Data struct {
				Changes struct {
					Edges    []json.RawMessage
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
			Errors []json.RawMessage
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || len(r.Errors) > 0 {
			log.Fatalf("page %d: %v %s", pages, err, r.Errors)
		}
		n += len(r.Data.Changes.Edges)
		pages++
		end := r.Data.Changes.PageInfo.EndCursor
		after = &end
		if !r.Data.Changes.PageInfo.HasNextPage {
			break
		}
	}
	d := time.Since(start)
	fmt.Printf("Query.changes: %d changes in %d pages of 500 in %s: %.0f changes/s\n", n, pages, d.Round(time.Millisecond), float64(n)/d.Seconds())
}
