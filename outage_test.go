package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/embedpg"
	"github.com/ywtg/hub/store"
)

// outcome is what a client saw of one request.
type outcome struct {
	at     time.Time // sent
	done   time.Time // answered
	status int
	code   string // extensions.code of the first error, "" for none
	err    error  // transport error
}

func (o outcome) String() string {
	return fmt.Sprintf("%s %d %q %v", o.at.Format("15:04:05.000"), o.status, o.code, o.err)
}

// queryAs posts a GraphQL query with an API key.
func queryAs(client *http.Client, url, key, query string) outcome {
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	o := outcome{at: time.Now()}
	resp, err := client.Do(req)
	if err != nil {
		o.err = err
		return o
	}
	defer resp.Body.Close()
	o.status, o.done = resp.StatusCode, time.Now()
	var out struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		o.err = fmt.Errorf("decode: %w", err)
	}
	if len(out.Errors) > 0 {
		o.code = out.Errors[0].Extensions.Code
		if o.code == "" {
			o.code = "(none)"
		}
	}
	if o.status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		o.err = fmt.Errorf("503 without Retry-After")
	}
	return o
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestDatabaseOutage runs the hub binary on a private PostgreSQL server
// (never the shared one: it is stopped here), stops the server while
// clients query, and starts it again on the same port. While it is down,
// queries answer 503 STORE_UNAVAILABLE with Retry-After, /readyz is 503, and
// a valid key the hub has not cached yet is never refused as bad
// credentials; once it is back, the same hub answers again, without a
// restart.
func TestDatabaseOutage(t *testing.T) {
	bin := buildHub(t)
	dir := serverDataDir(t, "outage")
	ctx := context.Background()
	port := freeTCPPort(t)
	pgOpts := embedpg.Options{Dir: filepath.Join(dir, "pg"), Database: "hub", Port: port}
	cluster, err := embedpg.Start(ctx, pgOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cluster.Stop(context.Background()) }()
	dsn := cluster.DSN()

	h := startHubEnv(t, bin, filepath.Join(dir, "hub"), []string{"DATABASE_URL=" + dsn,
		"HUB_DEMO_LIVE_RATE=0", "HUB_SYNC_INTERVAL=1h", "HUB_ANONYMOUS_ROLE=none", "HUB_RATE_LIMIT=0", "HUB_RESPONSE_CACHE_MB=0"})
	waitReady(t, h)

	// Two analyst keys: warm is used before the outage (the hub caches
	// it), cold only while the database is down.
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	newKey := func(name string) string {
		key, hash, err := auth.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAPIKey(ctx, store.APIKey{Name: name, Prefix: key[:len(auth.KeyPrefix)+6], Role: string(auth.Analyst)}, hash); err != nil {
			t.Fatal(err)
		}
		return key
	}
	warm, cold := newKey("warm"), newKey("cold")
	st.Close()

	const q = `{ cases(first: 5) { totalCount edges { node { id status } } } regions(level: DISTRICT) { totalCount } }`
	client := &http.Client{Timeout: 15 * time.Second}
	if o := queryAs(client, h.url, warm, q); o.status != http.StatusOK || o.code != "" || o.err != nil {
		t.Fatalf("before the outage: %v", o)
	}

	// Clients query throughout.
	var mu sync.Mutex
	var seen []outcome
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopLoad:
					return
				case <-time.After(25 * time.Millisecond):
				}
				o := queryAs(client, h.url, warm, q)
				mu.Lock()
				seen = append(seen, o)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)

	stopped := time.Now()
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("database stopped in %s", time.Since(stopped).Round(time.Millisecond))

	// /readyz turns 503 within a few seconds and names the database.
	var readyBody string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, body := get(t, h.url+"/readyz")
		if code == http.StatusServiceUnavailable && strings.Contains(body, "database") {
			readyBody = body
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz while the database is down: %d %s", code, body)
		}
	}
	t.Logf("/readyz after %s: %s", time.Since(stopped).Round(time.Millisecond), strings.TrimSpace(readyBody))

	// A valid key the hub has not looked up yet: 503, not 401.
	if o := queryAs(client, h.url, cold, q); o.status != http.StatusServiceUnavailable || o.code != "STORE_UNAVAILABLE" || o.err != nil {
		t.Fatalf("uncached valid key while the database is down: %v", o)
	}
	time.Sleep(3 * time.Second)
	if code, _ := get(t, h.url+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz while the database is down: %d", code)
	}

	restarted := time.Now()
	cluster, err = embedpg.Start(ctx, pgOpts)
	if err != nil {
		t.Fatal(err)
	}
	if cluster.DSN() != dsn {
		t.Fatalf("restarted cluster has another DSN")
	}
	t.Logf("database restarted in %s", time.Since(restarted).Round(time.Millisecond))

	// The same hub recovers: queries, the cold key and /readyz.
	var recovered time.Duration
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		o := queryAs(client, h.url, cold, q)
		code, _ := get(t, h.url+"/readyz")
		if o.status == http.StatusOK && o.code == "" && code == http.StatusOK {
			recovered = time.Since(restarted)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered 30s after the restart: query %v, /readyz %d; logs:\n%s", o, code, h.logs)
		}
	}
	time.Sleep(500 * time.Millisecond)
	close(stopLoad)
	wg.Wait()
	t.Logf("recovered %s after the restart", recovered.Round(time.Millisecond))

	// What the clients saw: OK before and after, 503 STORE_UNAVAILABLE
	// while down; never 401, never an INTERNAL error, never a transport
	// failure.
	counts := map[string]int{}
	var down, upAgain int
	for _, o := range seen {
		key := fmt.Sprintf("%d %s", o.status, o.code)
		counts[key]++
		switch {
		case o.err != nil:
			t.Errorf("request failed: %v", o)
		case o.status == http.StatusOK && o.code == "":
			if o.at.After(restarted.Add(recovered)) {
				upAgain++
			}
		case o.status == http.StatusServiceUnavailable && o.code == "STORE_UNAVAILABLE":
			// A request in flight when the database stops may fail:
			// only one answered before it stopped must not.
			if o.done.Before(stopped) {
				t.Errorf("STORE_UNAVAILABLE answered before the database stopped: %v", o)
			}
			down++
		default:
			t.Errorf("unexpected answer: %v", o)
		}
	}
	t.Logf("answers: %v", counts)
	if down == 0 || upAgain == 0 {
		t.Fatalf("want STORE_UNAVAILABLE answers while down (%d) and OK after recovery (%d)", down, upAgain)
	}
}
