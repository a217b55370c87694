// Command api benchmarks the hub's GraphQL API against the raw-SQL floor.
//
// It seeds a synthetic canonical city of the chosen scale into a fresh
// database (DATABASE_URL, or the embedded launcher in a temporary
// directory), serves the hub's real HTTP handler on 127.0.0.1, and for each
// benchmark query runs a fixed number of requests from concurrent clients,
// reporting throughput, p50 and p99 latency, and the ratio to the floor: the
// same JSON built by one hand-written pgx query and encoding/json, run the
// same way: "ratio" compares throughput, "cpu×" the CPU time per request
// (this process's, so it counts the clients of both sides alike; PostgreSQL's
// is not included), and "rss" the process's peak resident set while that
// side ran (the clients included; read from /proc, the peak reset before
// each run). The hub side and the floor take turns over a few rounds
// (-rounds), so that what else the machine does falls on both; the hub
// side is admitted as hub serve admits requests (-admit).
//
//	go run ./bench/api -scale medium -clients 32 -requests 2000
//
// Queries: (A) 100 grids × first 10 cases with category and location;
// (B) one street's drill-down: communities → grids → caseStats by STATUS;
// (C) a filtered case search page of 50; (S) one grid and its first 10
// cases with category and location (A for one grid: what a request costs
// beyond its rows).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/embedpg"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/web"
)

func main() {
	scale := flag.String("scale", "medium", "synthetic city: small (30 grids, 10k cases), medium (300 grids, 100k cases), city (2500 grids, 1M cases)")
	clients := flag.Int("clients", 32, "concurrent clients")
	requests := flag.Int("requests", 2000, "requests per query and side")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the hub side of each query to this file name plus .A, .B, .C, .S")
	memprofile := flag.String("memprofile", "", "write an allocation profile of the hub side of each query to this file name plus .A, .B, .C, .S")
	statements := flag.Bool("statements", false, "print the SQL statements one request of each query runs on the hub side, then measure")
	reuse := flag.String("db", "", "benchmark an already seeded database (a DSN printed by an earlier run) instead of seeding a new one")
	flag.IntVar(&rounds, "rounds", 3, "rounds in which the hub side and the floor take turns, each with its share of the requests, so that both meet the machine in the same states (1 with -cpuprofile or -memprofile, whose profiles hold one run)")
	flag.IntVar(&admit, "admit", 4*runtime.GOMAXPROCS(0), "GraphQL requests the hub side executes at once, the others waiting their turn, as hub serve admits them (HUB_MAX_CONCURRENT_QUERIES, whose default this is); 0 for no limit")
	flag.StringVar(&only, "only", "", "measure only these queries, comma-separated (e.g. A,C); all when empty")
	flag.DurationVar(&churn, "churn", 100*time.Millisecond, "while the cached side runs, commit a write this often (as sync batches land), so that its answers are dropped and run again; 0 for none")
	flag.Parse()
	profile, allocProfile, listStatements = *cpuprofile, *memprofile, *statements
	reuseDSN = *reuse
	if err := run(*scale, *clients, *requests); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var (
	reuseDSN string
	churn    time.Duration
	admit    int
	rounds   int
	only     string
)

// selected is the queries -only names, in their order; all when it names none.
func selected(qs []query) []query {
	if only == "" {
		return qs
	}
	var out []query
	for _, q := range qs {
		for _, name := range strings.Split(only, ",") {
			if strings.EqualFold(strings.TrimSpace(name), q.name) {
				out = append(out, q)
			}
		}
	}
	return out
}

func run(scale string, clients, requests int) error {
	ctx := context.Background()
	sz, ok := scales[scale]
	if !ok {
		return fmt.Errorf("unknown scale %q", scale)
	}
	dsn := os.Getenv("DATABASE_URL")
	if reuseDSN != "" {
		dsn = reuseDSN
	} else if dsn == "" {
		dir, err := os.MkdirTemp("", "hub-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		os.Chmod(dir, 0o755)
		c, err := embedpg.Start(ctx, embedpg.Options{Dir: filepath.Join(dir, "pg")})
		if err != nil {
			return err
		}
		defer c.Stop(context.Background())
		dsn = c.DSN()
	} else {
		var err error
		if dsn, err = freshDatabase(ctx, dsn); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: int32(clients + 4)})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	street := firstStreet
	if reuseDSN == "" {
		t0 := time.Now()
		if street, err = seed(ctx, st, sz); err != nil {
			return err
		}
		fmt.Printf("seeded %s: %d grids, %d cases in %s (%.0f cases/s through the canonical write path)\n", scale, sz.grids(), sz.cases,
			time.Since(t0).Round(time.Millisecond), float64(sz.cases)/time.Since(t0).Seconds())
	}
	// A settled database, as autovacuum leaves it after a bulk load:
	// statistics for the planner and a visibility map for index-only scans.
	if _, err := st.Pool().Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}

	// The change notifications, as the hub follows them: both handlers
	// hold reference tables in memory while they are current.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	changes := st.WatchChanges(watchCtx)
	<-changes.Listening()
	h, err := graph.NewHandler(graph.Config{Store: st, Log: slog.New(slog.DiscardHandler), Changes: changes})
	if err != nil {
		return err
	}
	// The same handler with the response cache, as the hub serves by
	// default.
	cached, err := graph.NewHandler(graph.Config{Store: st, Log: slog.New(slog.DiscardHandler),
		Cache: graph.CacheConfig{Changes: changes}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// The floor is served over the same HTTP stack, so both sides pay for
	// HTTP and the client alike.
	mux := http.NewServeMux()
	var last atomic.Pointer[store.StatementCounter]
	if listStatements {
		hub := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, c := store.WithStatementCounter(r.Context())
			last.Store(c)
			hub.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	// The hub refuses requests without a principal; the benchmark calls as
	// an analyst (city-wide, masked), as a dashboard would.
	analyst := &auth.Principal{ID: "bench", Name: "bench", Role: auth.Analyst}
	if admit > 0 {
		// As hub serve admits them, with a queue long enough that the
		// closed-loop clients are never refused.
		for _, hp := range []*http.Handler{&h, &cached} {
			a, err := web.NewAdmission(web.AdmissionOptions{MaxConcurrent: admit, QueueTimeout: time.Minute})
			if err != nil {
				return err
			}
			*hp = a.Wrap(*hp)
		}
	}
	mux.Handle("/graphql", as(analyst, h))
	mux.Handle("/cached/graphql", as(analyst, cached))
	for _, q := range selected(queries(street)) {
		mux.HandleFunc("/floor/"+q.name, func(w http.ResponseWriter, r *http.Request) {
			body, err := q.floor(r.Context(), st)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	url := base + "/graphql"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}

	if listStatements {
		for _, q := range selected(queries(street)) {
			if err := postGraphQL(ctx, client, url, q.graphql); err != nil {
				return fmt.Errorf("query %s: %w", q.name, err)
			}
			c := last.Load()
			fmt.Printf("%s: %d statements\n", q.name, c.Count())
			for _, s := range c.Statements() {
				fmt.Printf("\t%.160s\n", s)
			}
		}
	}

	// cpu/req is this process's CPU time per request (the served side and
	// the clients; PostgreSQL's not included): steadier than req/s on a
	// machine shared with other work.
	fmt.Printf("\n%-4s %-6s %10s %9s %9s %9s %8s %6s %9s\n", "q", "side", "req/s", "p50", "p99", "cpu/req", "ratio", "cpu×", "rss")
	n := max(rounds, 1)
	if profile != "" || allocProfile != "" {
		n = 1
	}
	for _, q := range selected(queries(street)) {
		// The hub side and the floor take turns, so that a change in the
		// machine's state (another process, the server's caches, the
		// collector) falls on both.
		var hubs, floors []loadRun
		for range n {
			stop := startProfile(q.name)
			hubs = append(hubs, load(clients, requests/n, func() error { return postGraphQL(ctx, client, url, q.graphql) }))
			stop()
			floors = append(floors, load(clients, requests/n, func() error { return getFloor(ctx, client, base+"/floor/"+q.name) }))
		}
		hub, floor := combine(hubs), combine(floors)
		stopChurn, writes := startChurn(ctx, st)
		// Ten times the requests, so that the run spans a number of the
		// churn's commits.
		hit := combine([]loadRun{load(clients, 10*requests, func() error { return postGraphQL(ctx, client, base+"/cached/graphql", q.graphql) })})
		stopChurn()
		if hub.err != nil || hit.err != nil || floor.err != nil {
			return fmt.Errorf("query %s: hub %v, cached %v, floor %v", q.name, hub.err, hit.err, floor.err)
		}
		fmt.Printf("%-4s %-6s %10.0f %9s %9s %9s %8s %6s %6d MB\n", q.name, "floor", floor.rps, floor.p50, floor.p99, floor.cpu, "", "", floor.peakMB)
		fmt.Printf("%-4s %-6s %10.0f %9s %9s %9s %7.2fx %5.2fx %6d MB\n", q.name, "hub", hub.rps, hub.p50, hub.p99, hub.cpu, floor.rps/hub.rps, cpuRatio(hub, floor), hub.peakMB)
		fmt.Printf("%-4s %-6s %10.0f %9s %9s %9s %7.2fx %5.2fx %6d MB  (response cache; %d writes committed meanwhile)\n", q.name, "cached", hit.rps, hit.p50, hit.p99, hit.cpu, floor.rps/hit.rps, cpuRatio(hit, floor), hit.peakMB, writes())
	}
	fmt.Printf("\nhub process RSS: %s (peak %s)\n", rss("VmRSS"), rss("VmHWM"))
	return nil
}

// startChurn commits a write every churn interval until stopped; writes
// tells how many it made.
func startChurn(ctx context.Context, st *store.Store) (stop func(), writes func() int64) {
	var n atomic.Int64
	if churn <= 0 {
		return func() {}, n.Load
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(churn)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET updated_at = updated_at WHERE id = (SELECT min(id) FROM "case")`); err == nil {
					n.Add(1)
				}
			}
		}
	}()
	return func() { cancel(); <-done }, n.Load
}

var (
	profile, allocProfile string
	listStatements        bool
)

// startProfile profiles the hub side of one query when -cpuprofile or
// -memprofile is set; the allocation profile holds that query's
// allocations only.
func startProfile(name string) func() {
	var stops []func()
	if profile != "" {
		if f, err := os.Create(profile + "." + name); err == nil {
			pprof.StartCPUProfile(f)
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if allocProfile != "" {
		runtime.MemProfileRate = 64 * 1024
		runtime.GC()
		before := pprof.Lookup("allocs")
		var base bytes.Buffer
		before.WriteTo(&base, 0)
		stops = append(stops, func() {
			runtime.GC()
			if f, err := os.Create(allocProfile + "." + name); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if f, err := os.Create(allocProfile + "." + name + ".base"); err == nil {
				f.Write(base.Bytes())
				f.Close()
			}
		})
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

type result struct {
	rps           float64
	p50, p99, cpu time.Duration
	peakMB        int64 // peak resident set while the runs lasted
	err           error
}

// loadRun is what one load measured.
type loadRun struct {
	lat          []time.Duration
	elapsed, cpu time.Duration
	peakKB       int64
	err          error
}

// combine sums the runs of one side into its result.
func combine(runs []loadRun) result {
	var lat []time.Duration
	var elapsed, cpu time.Duration
	var r result
	for _, x := range runs {
		lat = append(lat, x.lat...)
		elapsed += x.elapsed
		cpu += x.cpu
		r.peakMB = max(r.peakMB, x.peakKB/1024)
		if r.err == nil {
			r.err = x.err
		}
	}
	n := len(lat)
	if n == 0 {
		return r
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r.rps = float64(n) / elapsed.Seconds()
	r.p50, r.p99 = lat[n/2].Round(10*time.Microsecond), lat[n*99/100].Round(10*time.Microsecond)
	r.cpu = (cpu / time.Duration(n)).Round(10 * time.Microsecond)
	return r
}

// load runs n calls of fn from c concurrent clients and measures them.
func load(c, n int, fn func() error) loadRun {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	resetPeakRSS()
	cpu0 := processCPU()
	start := time.Now()
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= n {
					return
				}
				t := time.Now()
				if err := fn(); err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
				lat[k] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	r := loadRun{lat: lat, elapsed: time.Since(start), cpu: processCPU() - cpu0, peakKB: rssKB("VmHWM")}
	if e, ok := firstErr.Load().(error); ok {
		r.err = e
	}
	return r
}

// cpuRatio is the CPU time per request of r over the floor's.
func cpuRatio(r, floor result) float64 {
	if floor.cpu <= 0 {
		return 0
	}
	return float64(r.cpu) / float64(floor.cpu)
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// resetPeakRSS returns the freed heap to the system and starts the peak
// resident set (VmHWM) again from the current one, so that a run's peak is
// its own.
func resetPeakRSS() {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// rssKB reads a size field of /proc/self/status in kB; 0 if unknown.
func rssKB(field string) int64 {
	var kb int64
	fmt.Sscanf(rss(field), "%d kB", &kb)
	return kb
}

func rss(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			return strings.TrimSpace(strings.TrimPrefix(l, field+":"))
		}
	}
	return "?"
}

// as serves h with the principal p, as the hub's authentication would.
func as(p *auth.Principal, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.With(r.Context(), p)))
	})
}
