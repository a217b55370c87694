// Command indicators benchmarks a street office's dashboard page: the
// official evaluation indicators of one street at city scale, answered by
// the hub's real GraphQL handler without the response cache.
//
// It seeds a synthetic city (regions, departments, and cases with complete
// 数字城管 timelines: 上报 → 受理 → 立案 → 派遣 → 处置 → 核查 → 结案 with 作废,
// 挂账, 延期 and 返工 on the side, deadlines in working hours) into a fresh
// database (DATABASE_URL, or an embedded PostgreSQL in a temporary
// directory), then sends the page's one GraphQL document — KPI cards with
// the month before, the map of the street's communities with their
// indicators, a year's monthly trend, top categories, the department
// ranking and the overdue list — from concurrent clients, reporting p50
// and p99 latency.
//
//	go run ./bench/indicators -scale city -clients 4 -requests 400
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/embedpg"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/store"
)

// size is a city's shape: streets per district, communities per street,
// grids per community, and cases.
type size struct {
	districts, streets, communities, grids, cases int
}

// The scales follow the simulator's (sim/city): the city has 9 districts of
// 12 streets, ≈3,000 grids and 1.1M cases.
var scales = map[string]size{
	"small":  {2, 2, 3, 3, 10_000},
	"medium": {5, 5, 4, 4, 100_000},
	"city":   {9, 12, 6, 5, 1_100_000},
}

var categories = []canon.Category{
	{Code: "SJ05", Name: "街面秩序", Kind: canon.KindEvent, Level: 1},
	{Code: "SJ0501", Name: "无照经营游商", ParentCode: "SJ05", Kind: canon.KindEvent, Level: 2},
	{Code: "SJ0502", Name: "店外经营", ParentCode: "SJ05", Kind: canon.KindEvent, Level: 2},
	{Code: "SJ02", Name: "宣传广告", Kind: canon.KindEvent, Level: 1},
	{Code: "SJ0201", Name: "非法小广告", ParentCode: "SJ02", Kind: canon.KindEvent, Level: 2},
	{Code: "SJ01", Name: "市容环境", Kind: canon.KindEvent, Level: 1},
	{Code: "SJ0102", Name: "暴露垃圾", ParentCode: "SJ01", Kind: canon.KindEvent, Level: 2},
	{Code: "BJ01", Name: "公用设施", Kind: canon.KindComponent, Level: 1},
	{Code: "BJ0101", Name: "上水井盖", ParentCode: "BJ01", Kind: canon.KindComponent, Level: 2},
}

var minor = []canon.Category{categories[1], categories[2], categories[4], categories[6], categories[8]}

var departments = []string{"区城管执法局", "区住建局", "区园林局", "区环卫处", "区市场监管局", "供水公司", "燃气公司", "街道办事处"}

// reference is the end of the seeded history and the benchmark's "now".
var reference = time.Date(2026, 11, 1, 0, 0, 0, 0, canon.ChinaTime)

func main() {
	scale := flag.String("scale", "medium", "city size: small, medium, city")
	clients := flag.Int("clients", 4, "concurrent clients (dashboards)")
	requests := flag.Int("requests", 400, "page requests")
	reuse := flag.String("db", "", "benchmark an already seeded database (a DSN printed by an earlier run)")
	flag.Parse()
	if err := run(*scale, *clients, *requests, *reuse); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(scale string, clients, requests int, reuse string) error {
	ctx := context.Background()
	sz, ok := scales[scale]
	if !ok {
		return fmt.Errorf("unknown scale %q", scale)
	}
	dsn := reuse
	if dsn == "" {
		dsn = os.Getenv("DATABASE_URL")
		if dsn == "" {
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
	}
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: int32(4*clients + 4)})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	if reuse == "" {
		t0 := time.Now()
		n, events, err := seed(ctx, st, sz)
		if err != nil {
			return err
		}
		fmt.Printf("seeded %s: %d grids, %d cases, %d timeline steps in %s\n", scale, sz.districts*sz.streets*sz.communities*sz.grids,
			n, events, time.Since(t0).Round(time.Second))
	}
	// A settled database, as autovacuum leaves it: planner statistics and
	// the visibility map that index-only scans need.
	if _, err := st.Pool().Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	var streetCases int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM "case" c WHERE c.region_path <@ (SELECT path FROM region WHERE code = $1)`,
		street).Scan(&streetCases); err != nil {
		return err
	}

	// The response cache off (no change feed): every request runs its
	// statements, as HUB_RESPONSE_CACHE_MB=0 serves.
	h, err := graph.NewHandler(graph.Config{Store: st, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	// The street office's own key: staff bound to the street.
	office := &auth.Principal{ID: "bench", Name: "街道办", Role: auth.Staff, RegionCode: street}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.With(r.Context(), office)))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	endpoint := "http://" + ln.Addr().String() + "/graphql"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}

	body, err := post(ctx, client, endpoint, pageQuery)
	if err != nil {
		return err
	}
	fmt.Printf("street %s: %d cases; one page answer is %d bytes\n", street, streetCases, len(body))
	for _, c := range []int{1, clients} {
		lat, err := load(c, requests, func() error { _, err := post(ctx, client, endpoint, pageQuery); return err })
		if err != nil {
			return err
		}
		fmt.Printf("street page, %d client(s), %d requests, uncached: p50 %s, p99 %s, max %s\n", c, requests,
			lat[len(lat)/2].Round(100*time.Microsecond), lat[len(lat)*99/100].Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))
	}
	return nil
}

// street is the benchmarked street office's street.
const street = "420602001"

// pageQuery is the street office's dashboard page in one document, as the
// reference dashboard sends it (the dates fixed at the seeded history's end).
const pageQuery = `query {
  region(code: "420602001") { code name
    indicators(period: MONTH, at: "2026-10-15T00:00:00+08:00") {
      period { label from to } previousPeriod { label }
      current { reported filed closed dueForClosing closingRate onTimeClosingRate reworkRate overdueUndisposed avgWorkHoursToClose score }
      previous { reported filed closed closingRate onTimeClosingRate reworkRate overdueUndisposed }
      categories: breakdown(by: [CATEGORY]) { key { value label } indicators { reported closed closingRate } }
      departments: breakdown(by: [ASSIGNEE_DEPT], rankBy: "CITY_MGMT") { key { value label } rank indicators { reported dueForClosing closed onTimeClosingRate reworkRate score } }
    }
  }
  trend: caseIndicators(filter: {regionCode: "420602001", reportedFrom: "2025-11-01T00:00:00+08:00"}, groupBy: [MONTH]) {
    key { value } indicators { reported closed closingRate onTimeClosingRate }
  }
  regionMap(parent: "420602001", period: MONTH, at: "2026-10-15T00:00:00+08:00")
  overdue: cases(filter: {regionCode: "420602001", overdue: true, status: [FILED, DISPATCHED, IN_PROGRESS, DEFERRED, REOPENED, RETURNED]},
    orderBy: {field: DUE_AT, direction: ASC}, first: 20) {
    totalCount edges { node { id sourceId title status dueAt assignee grid { name } } }
  }
}`

func post(ctx context.Context, c *http.Client, endpoint, q string) ([]byte, error) {
	body, _ := json.Marshal(map[string]string{"query": q})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct{ Errors []json.RawMessage }
	if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != http.StatusOK || len(r.Errors) > 0 {
		return nil, fmt.Errorf("status %d: %.500s", resp.StatusCode, b)
	}
	return b, nil
}

// load runs n calls of fn from c concurrent clients and returns their
// latencies, sorted.
func load(c, n int, fn func() error) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range c {
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
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if e, ok := firstErr.Load().(error); ok {
		return lat, e
	}
	return lat, nil
}

// seed writes the region tree and the cases; it returns the cases and
// timeline steps written.
func seed(ctx context.Context, st *store.Store, s size) (int, int, error) {
	regions := []canon.Region{{Code: "420600", Name: "襄阳市", Level: canon.LevelCity}}
	var grids []string
	for d := range s.districts {
		dc := fmt.Sprintf("4206%02d", d+2)
		regions = append(regions, canon.Region{Code: dc, Name: fmt.Sprintf("第%d区", d+1), Level: canon.LevelDistrict, ParentCode: "420600"})
		for t := range s.streets {
			sc := fmt.Sprintf("%s%03d", dc, t+1)
			regions = append(regions, canon.Region{Code: sc, Name: fmt.Sprintf("第%d街道", t+1), Level: canon.LevelStreet, ParentCode: dc})
			for c := range s.communities {
				cc := fmt.Sprintf("%s%03d", sc, c+1)
				regions = append(regions, canon.Region{Code: cc, Name: fmt.Sprintf("第%d社区", c+1), Level: canon.LevelCommunity, ParentCode: sc})
				for g := range s.grids {
					gc := fmt.Sprintf("%s%03d", cc, g+1)
					grids = append(grids, gc)
					regions = append(regions, canon.Region{Code: gc, Name: fmt.Sprintf("第%d网格", g+1), Level: canon.LevelGrid, ParentCode: cc})
				}
			}
		}
	}
	err := st.InTx(ctx, func(w *store.Writer) error {
		if err := w.UpsertSource(ctx, canon.Source{Name: "citymgmt", Kind: canon.SourceOpen311, Description: "数字城管"}); err != nil {
			return err
		}
		if err := w.UpsertCategories(ctx, categories); err != nil {
			return err
		}
		return w.UpsertRegions(ctx, regions)
	})
	if err != nil {
		return 0, 0, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 20_000
	events := 0
	for start := 0; start < s.cases; start += batch {
		n := min(batch, s.cases-start)
		cases := make([]canon.Case, n)
		for i := range cases {
			cases[i] = makeCase(rng, start+i, grids[rng.IntN(len(grids))])
			events += len(cases[i].Timeline)
		}
		if err := st.InTx(ctx, func(w *store.Writer) error { _, err := w.UpsertCases(ctx, cases); return err }); err != nil {
			return 0, 0, err
		}
	}
	return s.cases, events, nil
}

// makeCase generates a city-management case reported in the 540 days
// before the reference, its timeline cut at the reference.
func makeCase(rng *rand.Rand, id int, grid string) canon.Case {
	cat := minor[rng.IntN(len(minor))]
	t := reference.Add(-time.Duration(rng.Int64N(540*24*3600)) * time.Second)
	reported := t
	var steps []canon.CaseEvent
	step := func(at time.Time, s canon.CaseStatus) {
		steps = append(steps, canon.CaseEvent{At: at, Status: s, Tier: canon.TierStreet})
	}
	after := func(lo, hi int64) time.Time { t = t.Add(time.Duration(lo+rng.Int64N(hi-lo)) * time.Second); return t }
	step(t, canon.StatusReported)
	step(after(120, 1800), canon.StatusAccepted)
	var due *time.Time
	func() {
		if rng.IntN(100) < 4 {
			step(after(600, 3600), canon.StatusRejected)
			return
		}
		filed := after(300, 3600)
		step(filed, canon.StatusFiled)
		dl := []float64{4, 8, 16, 24, 40}[rng.IntN(5)]
		d := canon.AddWorkHours(filed, dl)
		due = &d
		step(after(300, 3600), canon.StatusDispatched)
		step(after(600, 7200), canon.StatusInProgress)
		if rng.IntN(100) < 2 {
			step(after(3600, 86400), canon.StatusSuspended)
			return
		}
		ext := 1.0
		if rng.IntN(100) < 3 {
			step(after(1800, 7200), canon.StatusDeferred)
			ext = 2
			d := canon.AddWorkHours(filed, 2*dl)
			due = &d
		}
		frac := 0.1 + 0.85*rng.Float64()
		if rng.IntN(100) < 8 {
			frac = 1.05 + 2*rng.Float64()
		}
		if fb := canon.AddWorkHours(filed, frac*dl*ext); fb.After(t) {
			t = fb
		} else {
			t = t.Add(10 * time.Minute)
		}
		step(t, canon.StatusResolved)
		step(after(1800, 14400), canon.StatusVerifying)
		if rng.IntN(100) < 4 {
			step(after(600, 601), canon.StatusReopened)
			t = canon.AddWorkHours(t, 2+6*rng.Float64())
			step(t, canon.StatusResolved)
			step(after(1800, 7200), canon.StatusVerifying)
		}
		step(after(600, 7200), canon.StatusClosed)
	}()
	// Cut the timeline at the reference: recent cases are still open.
	for len(steps) > 1 && steps[len(steps)-1].At.After(reference) {
		steps = steps[:len(steps)-1]
	}
	last := steps[len(steps)-1]
	c := canon.Case{
		Provenance: canon.Provenance{Source: "citymgmt", SourceID: fmt.Sprintf("CM%08d", id), SourceUpdatedAt: last.At, FetchedAt: reference},
		Kind:       cat.Kind, CategoryCode: cat.Code, SourceCategory: canon.CodeName{Code: "02" + cat.Code[2:], Name: cat.Name},
		Title:       cat.Name + "：" + []string{"占道经营", "流动摊贩", "小广告", "垃圾堆放", "井盖缺失"}[rng.IntN(5)],
		Description: "群众反映该处存在问题，请尽快处置。", Status: last.Status, Tier: canon.TierStreet,
		GridCode: grid, ReportedAt: reported, UpdatedAt: last.At, DueAt: due,
		AssigneeDept: departments[rng.IntN(len(departments))],
		Location:     &canon.Location{Point: canon.Point{Lat: 32 + rng.Float64()*0.2, Lng: 112 + rng.Float64()*0.2}},
		Timeline:     steps,
	}
	if last.Status == canon.StatusClosed {
		c.ClosedAt = &last.At
	}
	sum := sha256.Sum256([]byte(c.SourceID))
	c.PayloadHash = sum[:]
	return c
}

// freshDatabase creates a new database on the server of dsn.
func freshDatabase(ctx context.Context, dsn string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("hubbench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	fmt.Printf("benchmark database: %s (drop it when done)\n", name)
	return u.String(), nil
}
