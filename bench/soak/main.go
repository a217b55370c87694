// Command soak measures how the hub holds up under a dashboard load it
// cannot serve: an open-model load client (requests arrive at a fixed rate
// whatever the answers, as dashboards of many users do, not a closed loop
// that slows down with the server) sends a mix of twelve dashboard queries
// to a demo hub of the chosen scale that changes live and syncs every few
// seconds.
//
// It first steps the arrival rate up to find the sustainable rate (the
// highest step whose requests all completed, none shed, p99 under the
// target), then runs twice that rate and reports what an overloaded hub
// did: the p99 of the requests it admitted, the share it shed with 503
// OVERLOADED, and anything else (timeouts, other errors).
//
//	go run ./bench/soak -scale medium
//	go run ./bench/soak -url http://127.0.0.1:8080 -key hub_... -rates 10,20,40 -overload 80
//
// Without -url it builds the hub, starts it on an embedded PostgreSQL in a
// temporary directory (HUB_DEMO_SCALE, HUB_DEMO_LIVE_RATE and
// HUB_SYNC_INTERVAL from the flags, HUB_RATE_LIMIT=0 since one key sends
// everything; HUB_MAX_CONCURRENT_QUERIES, HUB_QUEUE_TIMEOUT and
// HUB_QUERY_TIMEOUT pass through from the environment) and uses its demo
// admin key.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	o := options{}
	flag.StringVar(&o.url, "url", "", "hub to load (base URL); empty: build and start a demo hub")
	flag.StringVar(&o.key, "key", "", "API key for -url (Bearer)")
	flag.StringVar(&o.scale, "scale", "medium", "demo city of the started hub: small, medium or city")
	flag.Float64Var(&o.live, "live", 3, "live changes per second of the started hub's demo sources")
	flag.DurationVar(&o.sync, "sync", 5*time.Second, "sync interval of the started hub")
	flag.StringVar(&o.rates, "rates", "10,15,20,25,30,35,40,50,60,70,80", "arrival rates (requests per second) stepped through to find the sustainable rate")
	flag.DurationVar(&o.step, "step", 20*time.Second, "duration of each step")
	flag.DurationVar(&o.warmup, "warmup", 10*time.Second, "load at the first rate before the steps (not measured)")
	flag.Float64Var(&o.overload, "overload", 0, "arrival rate of the overload run; 0: twice the sustainable rate")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "duration of the overload run")
	flag.DurationVar(&o.target, "target", time.Second, "p99 a sustainable step must stay under")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "client timeout per request")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	url, key, scale, rates                        string
	live, overload                                float64
	sync, step, warmup, duration, target, timeout time.Duration
}

func run(o options) error {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if o.url == "" {
		h, err := startHub(ctx, o)
		if err != nil {
			return err
		}
		defer h.stop()
		o.url, o.key = h.url, h.key
	}
	var rates []float64
	for _, s := range strings.Split(o.rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("-rates: %q is not a rate", s)
		}
		rates = append(rates, r)
	}
	client := &http.Client{Timeout: o.timeout, Transport: &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute}}
	mix, err := dashboard(ctx, client, o.url, o.key)
	if err != nil {
		return err
	}
	fmt.Printf("hub %s, %d dashboard queries, open-model arrivals, client timeout %s\n", o.url, len(mix), o.timeout)
	if o.warmup > 0 {
		load(client, o, mix, rates[0], o.warmup)
	}

	fmt.Printf("\n%-8s %8s %8s %8s %9s %9s %9s %7s %7s %7s %6s %6s\n", "rate/s", "sent", "ok", "shed", "p50", "p99", "max", "other", "tmout", "maxgo", "infl", "done/s")
	sustainable := 0.0
	for _, r := range rates {
		res := load(client, o, mix, r, o.step)
		fmt.Println(res.row(r, o.step))
		if res.other > 0 || res.timeouts > 0 || res.shed > 0 || res.p(0.99) >= o.target {
			break
		}
		sustainable = r
	}
	if sustainable == 0 {
		return fmt.Errorf("no step was sustainable (every step lost requests or had p99 ≥ %s)", o.target)
	}
	over := o.overload
	if over == 0 {
		over = 2 * sustainable
	}
	fmt.Printf("\nsustainable: %g req/s; overload run at %g req/s for %s\n", sustainable, over, o.duration)
	res := load(client, o, mix, over, o.duration)
	fmt.Printf("%-8s %8s %8s %8s %9s %9s %9s %7s %7s %7s %6s %6s\n", "rate/s", "sent", "ok", "shed", "p50", "p99", "max", "other", "tmout", "maxgo", "infl", "done/s")
	fmt.Println(res.row(over, o.duration))
	fmt.Printf("\nat %g req/s (2× %g): admitted p99 %s (p50 %s), shed %.1f%% with 503 OVERLOADED, shed answered within %s (p99), other errors %d, timeouts %d, hub goroutines ≤ %d\n",
		over, sustainable, ms(res.p(0.99)), ms(res.p(0.5)), 100*float64(res.shed)/float64(res.sent), ms(res.shedP(0.99)),
		res.other, res.timeouts, res.maxGoroutines)
	for code, n := range res.codes {
		fmt.Printf("  other: %s × %d\n", code, n)
	}
	fmt.Printf("\nadmitted latency by query at %g req/s:\n", over)
	for _, q := range mix {
		d := res.byQuery[q.name]
		fmt.Printf("  %-22s %5d ok  p50 %7s  p99 %7s\n", q.name, len(d), ms(quantile(d, 0.5)), ms(quantile(d, 0.99)))
	}
	return nil
}

// query is one dashboard panel's request.
type query struct{ name, text string }

// dashboard is the mix: twelve panels of a city operations dashboard, with
// codes looked up from the hub so that they name real regions. Each is
// checked once before the load.
func dashboard(ctx context.Context, c *http.Client, url, key string) ([]query, error) {
	var look struct {
		Data struct {
			Streets struct {
				Edges []struct{ Node struct{ Code string } }
			}
			Districts struct {
				Edges []struct{ Node struct{ Code string } }
			}
		}
	}
	if err := post(ctx, c, url, key, `{ streets: regions(level: STREET, first: 1) { edges { node { code } } }
		districts: regions(level: DISTRICT, first: 1) { edges { node { code } } } }`, &look); err != nil {
		return nil, fmt.Errorf("look up region codes: %w", err)
	}
	if len(look.Data.Streets.Edges) == 0 || len(look.Data.Districts.Edges) == 0 {
		return nil, errors.New("the hub has no streets or districts yet")
	}
	street, district := look.Data.Streets.Edges[0].Node.Code, look.Data.Districts.Edges[0].Node.Code
	mix := []query{
		{"grid cases", `{ regions(level: GRID, first: 100) { edges { node { code name cases(first: 10) { edges { node {
			id title status reportedAt category { name } location { lat lng } } } } } } } }`},
		{"street drill-down", fmt.Sprintf(`{ region(code: %q) { name children(first: 30) { edges { node { code name children(first: 30) { edges { node {
			code name caseStats(groupBy: [STATUS]) { key { value label } count } } } } } } } } }`, street)},
		{"overdue search", `{ cases(first: 50, filter: {status: [DISPATCHED, IN_PROGRESS], overdue: true},
			orderBy: {field: REPORTED_AT, direction: DESC}) { totalCount edges { cursor node { id sourceId title status dueAt
			grid { name } category { name } } } pageInfo { hasNextPage endCursor } } }`},
		{"status totals", `{ caseStats(groupBy: [STATUS]) { key { value label } count open closed overdue } }`},
		{"district by category", fmt.Sprintf(`{ caseStats(filter: {regionCode: %q}, groupBy: [CATEGORY_MAJOR, STATUS]) { key { value label } count overdue avgHoursToClose } }`, district)},
		{"districts by month", `{ caseStats(groupBy: [DISTRICT, MONTH]) { key { value label } count closed overdue } }`},
		{"district tree", `{ regions(level: DISTRICT) { totalCount edges { node { code name children { totalCount } caseStats(groupBy: [TIER]) { key { value } count } } } } }`},
		{"source health", `{ sources { name status lastSyncedAt consecutiveFailures recordsFetched recordsStored recordsQuarantined } syncRuns(first: 10) { edges { node { status fetched stored startedAt finishedAt } } } }`},
		{"latest cases", fmt.Sprintf(`{ cases(first: 20, filter: {regionCode: %q}) { totalCount edges { node { id title status tier reportedAt grid { name } category { name } } } } }`, street)},
		{"party organisations", fmt.Sprintf(`{ partyOrgs(regionCode: %q, first: 20) { totalCount edges { node { name kind memberCount centralHouseholdCount region { name } } } } }`, district)},
		{"service stations", fmt.Sprintf(`{ serviceStations(regionCode: %q, first: 20) { edges { node { name kind address openingHours location { lat lng } } } } }`, district)},
		{"taxonomy", `{ categories { code name } }`},
	}
	for _, q := range mix {
		if err := post(ctx, c, url, key, q.text, nil); err != nil {
			return nil, fmt.Errorf("query %q: %w", q.name, err)
		}
	}
	return mix, nil
}

// post runs one query and fails on any error in the answer.
func post(ctx context.Context, c *http.Client, url, key, q string, out any) error {
	body, _ := json.Marshal(map[string]string{"query": q})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(raw[:min(len(raw), 20)], []byte(`"errors"`)) {
		return fmt.Errorf("status %d: %.400s", resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// result is what one step saw.
type result struct {
	sent, shed, other, timeouts int
	ok                          []time.Duration // latencies of admitted, successful requests
	byQuery                     map[string][]time.Duration
	shedLat                     []time.Duration
	codes                       map[string]int
	maxGoroutines, maxInFlight  int
	finished                    time.Duration
}

func (r *result) p(q float64) time.Duration     { return quantile(r.ok, q) }
func (r *result) shedP(q float64) time.Duration { return quantile(r.shedLat, q) }

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func (r *result) row(rate float64, d time.Duration) string {
	return fmt.Sprintf("%-8g %8d %8d %8d %9s %9s %9s %7d %7d %7d %6d %6.1f", rate, r.sent, len(r.ok), r.shed,
		ms(r.p(0.5)), ms(r.p(0.99)), ms(r.p(1)), r.other, r.timeouts, r.maxGoroutines, r.maxInFlight,
		float64(len(r.ok))/r.finished.Seconds())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond)) }

// load sends requests at rate for d, each on its own goroutine at its
// scheduled instant (open model), cycling through the mix, and waits for
// the last answer.
func load(c *http.Client, o options, mix []query, rate float64, d time.Duration) *result {
	res := &result{codes: map[string]int{}, byQuery: map[string][]time.Duration{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	stopScrape := make(chan struct{})
	scraped := make(chan struct{})
	go func() {
		defer close(scraped)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			g, f := scrape(c, o.url)
			mu.Lock()
			res.maxGoroutines, res.maxInFlight = max(res.maxGoroutines, g), max(res.maxInFlight, f)
			mu.Unlock()
			select {
			case <-stopScrape:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d.Seconds() * rate)
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		q := mix[i%len(mix)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			status, code, err := send(c, o.url, o.key, q.text)
			lat := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			res.sent++
			switch {
			case err != nil:
				res.timeouts++
				res.codes["transport: "+errClass(err)]++
			case status == http.StatusOK && code == "":
				res.ok = append(res.ok, lat)
				res.byQuery[q.name] = append(res.byQuery[q.name], lat)
			case status == http.StatusServiceUnavailable && code == "OVERLOADED":
				res.shed++
				res.shedLat = append(res.shedLat, lat)
			default:
				res.other++
				res.codes[fmt.Sprintf("%d %s (%s)", status, code, q.name)]++
			}
		}()
	}
	wg.Wait()
	res.finished = time.Since(start)
	close(stopScrape)
	<-scraped
	return res
}

func errClass(err error) string {
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}

// send posts a query and returns the status and the first error code.
func send(c *http.Client, url, key, q string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"query": q})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	if !bytes.Contains(raw[:min(len(raw), 20)], []byte(`"errors"`)) {
		return resp.StatusCode, "", nil
	}
	var out struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	_ = json.Unmarshal(raw, &out)
	code := "(none)"
	if len(out.Errors) > 0 && out.Errors[0].Extensions.Code != "" {
		code = out.Errors[0].Extensions.Code
	}
	return resp.StatusCode, code, nil
}

var (
	goroutinesRe = regexp.MustCompile(`(?m)^go_goroutines (\d+)`)
	inFlightRe   = regexp.MustCompile(`(?m)^hub_graphql_in_flight (\d+)`)
)

// scrape reads the hub's goroutines and in-flight GraphQL requests from
// /metrics (which the admission limit does not hold back).
func scrape(c *http.Client, url string) (goroutines, inFlight int) {
	resp, err := c.Get(url + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if m := goroutinesRe.FindSubmatch(raw); m != nil {
		goroutines, _ = strconv.Atoi(string(m[1]))
	}
	if m := inFlightRe.FindSubmatch(raw); m != nil {
		inFlight, _ = strconv.Atoi(string(m[1]))
	}
	return goroutines, inFlight
}

// hub is a demo hub started for the run.
type hub struct {
	cmd      *exec.Cmd
	dir      string
	url, key string
}

var listening = regexp.MustCompile(`hub listening on (http://\S+) `)

func startHub(ctx context.Context, o options) (*hub, error) {
	dir, err := os.MkdirTemp("", "hub-soak-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // the database server may run as postgres
		return nil, err
	}
	h := &hub{dir: dir}
	bin := filepath.Join(dir, "hub")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build (run from the module root): %v\n%s", err, out)
	}
	h.cmd = exec.Command(bin)
	var env []string
	for _, kv := range os.Environ() {
		keep := !strings.HasPrefix(kv, "HUB_") && !strings.HasPrefix(kv, "DATABASE_URL=")
		for _, pass := range []string{"HUB_MAX_CONCURRENT_QUERIES=", "HUB_QUEUE_TIMEOUT=", "HUB_QUERY_TIMEOUT=", "HUB_RESPONSE_CACHE_MB=", "HUB_RESPONSE_CACHE_TTL="} {
			keep = keep || strings.HasPrefix(kv, pass)
		}
		if keep {
			env = append(env, kv)
		}
	}
	h.cmd.Env = append(env, "HUB_DATA_DIR="+filepath.Join(dir, "data"), "HUB_ADDR=127.0.0.1:0", "HUB_LOG_LEVEL=error",
		"HUB_DEMO_SCALE="+o.scale, "HUB_DEMO_LIVE_RATE="+strconv.FormatFloat(o.live, 'g', -1, 64),
		"HUB_SYNC_INTERVAL="+o.sync.String(), "HUB_RATE_LIMIT=0")
	h.cmd.Stderr = os.Stderr
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	fmt.Printf("starting a %s demo hub in %s (first start generates and syncs the city)\n", o.scale, dir)
	started := time.Now()
	if err := h.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case h.url = <-found:
	case <-time.After(15 * time.Minute):
		h.stop()
		return nil, errors.New("the hub did not start within 15 minutes")
	}
	for deadline := time.Now().Add(30 * time.Minute); ; time.Sleep(time.Second) {
		resp, err := http.Get(h.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			h.stop()
			return nil, errors.New("the hub was not ready within 30 minutes")
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "data", "demo-admin.key"))
	if err != nil {
		h.stop()
		return nil, fmt.Errorf("demo admin key: %w", err)
	}
	h.key = strings.TrimSpace(string(raw))
	fmt.Printf("hub ready at %s after %s\n", h.url, time.Since(started).Round(time.Second))
	return h, nil
}

func (h *hub) stop() {
	if h.cmd.Process != nil {
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = h.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			_ = h.cmd.Process.Kill()
		}
	}
	os.RemoveAll(h.dir)
}
