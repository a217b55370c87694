package partner_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/partner"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// BenchmarkExportCases streams an export of a million cases (seeded with
// generate_series in a fresh database; HUB_BENCH_EXPORT_CASES sets another
// number) over HTTP to io.Discard, and reports the peak of the Go heap
// while it streams (sampled every 5 ms, above the heap before it began),
// the process's peak RSS (VmHWM) and the rows per second: the heap must
// not grow with the number of rows.
//
//	go test ./partner -run '^$' -bench ExportCases -benchtime 1x
func BenchmarkExportCases(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("HUB_BENCH_EXPORT_CASES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(b)
	storetest.SeedRegions(b, st)
	if _, err := st.Pool().Exec(ctx, `INSERT INTO "case" (kind, category_code, title, description, status, tier, grid_id,
			region_path, lat, lng, address, reported_at, updated_at, source, source_id, payload_hash)
		SELECT 'EVENT', 'SJ0501', '占道经营 ' || g, '商贩在人行道摆摊，影响通行，请尽快处理', 'DISPATCHED', 'GRID', r.id,
			r.path, 31.95, 112.02, '长虹路' || g || '号', now() - g * interval '1 second', now(), 'citymgmt', 'B' || g, '\x00'
		FROM generate_series(1, $1::int) g, region r WHERE r.code = '420606001001001'`, n); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		partner.Handler(st, nil).ServeHTTP(w, r.WithContext(auth.With(r.Context(), &auth.Principal{ID: "a", Role: auth.Admin})))
	}))
	defer srv.Close()

	for _, format := range []string{"ndjson", "csv"} {
		b.Run(format, func(b *testing.B) {
			for range b.N {
				runtime.GC()
				sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
				metrics.Read(sample)
				base := sample[0].Value.Uint64()
				var peak atomic.Uint64
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
					t := time.NewTicker(5 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
						}
						metrics.Read(s)
						if v := s[0].Value.Uint64(); v > peak.Load() {
							peak.Store(v)
						}
					}
				}()
				start := time.Now()
				resp, err := http.Get(srv.URL + "/export/cases." + format)
				if err != nil {
					b.Fatal(err)
				}
				lines := &lineCounter{}
				if _, err := io.Copy(io.MultiWriter(io.Discard, lines), resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				took := time.Since(start)
				close(stop)
				<-done
				rows := lines.n
				if format == "csv" {
					rows-- // the header
				}
				if rows != n {
					b.Fatalf("%s export of %d rows, %d seeded", format, rows, n)
				}
				over := int64(peak.Load()) - int64(base)
				b.ReportMetric(float64(max(over, 0))/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(rssPeak())/1024, "peak-RSS-MB")
				b.ReportMetric(float64(n)/took.Seconds(), "rows/s")
				b.Logf("%s: %d rows, %.1f MB in %s; heap %.1f MB before, peak %.1f MB above it; process VmHWM %.1f MB",
					format, n, float64(lines.bytes)/(1<<20), took.Round(time.Millisecond), float64(base)/(1<<20),
					float64(max(over, 0))/(1<<20), float64(rssPeak())/1024)
			}
		})
	}
}

// lineCounter counts the lines and bytes written to it.
type lineCounter struct{ n, bytes int }

func (c *lineCounter) Write(p []byte) (int, error) {
	for _, x := range p {
		if x == '\n' {
			c.n++
		}
	}
	c.bytes += len(p)
	return len(p), nil
}

// rssPeak is the process's peak resident set in KiB (VmHWM; 0 where
// /proc does not tell).
func rssPeak() int {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb
		}
	}
	return 0
}
