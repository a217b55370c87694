package resolve_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/sim/city"
)

// BenchmarkResolve resolves the persons of a whole simulated city
// (RESOLVE_SCALE: small, medium, city; default small) and reports the
// quality against its ground truth beside the time.
func BenchmarkResolve(b *testing.B) {
	scale := city.Small
	if s := os.Getenv("RESOLVE_SCALE"); s != "" {
		sc, err := city.ParseScale(s)
		if err != nil {
			b.Fatal(err)
		}
		scale = sc
	}
	co := newCorpus(b, scale)
	b.ResetTimer()
	var r *resolve.Result
	for b.Loop() {
		var err error
		if r, err = resolve.Resolve(co.recs, nil, resolve.DefaultConfig()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	q := measure(co, r)
	b.ReportMetric(float64(len(r.Records)), "records")
	b.ReportMetric(q.precision(), "precision")
	b.ReportMetric(q.recall(), "recall")
	b.ReportMetric(q.review(), "review-share")
	b.ReportMetric(float64(q.conflicts), "id-conflicts")
}

// BenchmarkIncidents groups the case reports of a whole simulated city
// (RESOLVE_SCALE) into incidents and reports the quality against its
// ground truth beside the time.
func BenchmarkIncidents(b *testing.B) {
	scale := city.Small
	if s := os.Getenv("RESOLVE_SCALE"); s != "" {
		sc, err := city.ParseScale(s)
		if err != nil {
			b.Fatal(err)
		}
		scale = sc
	}
	co := newCaseCorpus(b, scale)
	b.ResetTimer()
	var r *resolve.IncidentResult
	for b.Loop() {
		var err error
		if r, err = resolve.Incidents(co.cases, resolve.DefaultIncidentConfig()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	q := measureIncidents(co, r)
	b.ReportMetric(float64(len(r.Cases)), "reports")
	b.ReportMetric(q.precision(), "precision")
	b.ReportMetric(q.recall(), "recall")
	b.ReportMetric(float64(q.componentMerges), "component-merges")
}

// BenchmarkPersonsUpdate adds the last 10% of a city's records one by one
// to a resolution of the rest and reports the 95th percentile of the time
// per record.
func BenchmarkPersonsUpdate(b *testing.B) {
	scale := city.Small
	if s := os.Getenv("RESOLVE_SCALE"); s != "" {
		sc, err := city.ParseScale(s)
		if err != nil {
			b.Fatal(err)
		}
		scale = sc
	}
	co := newCorpus(b, scale)
	var base, later []resolve.Record
	for i, r := range co.recs {
		if i%10 < 9 {
			base = append(base, r)
		} else {
			later = append(later, r)
		}
	}
	cfg := resolve.DefaultConfig()
	b.ResetTimer()
	var times []time.Duration
	for b.Loop() {
		b.StopTimer()
		x, _, err := resolve.NewPersons(base, nil, cfg)
		if err != nil {
			b.Fatal(err)
		}
		times = times[:0]
		b.StartTimer()
		for _, rec := range later {
			t0 := time.Now()
			if _, err := x.Update([]resolve.Record{rec}, nil, nil); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(t0))
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds()), "p95-µs/record")
	b.ReportMetric(float64(len(later)), "records-added")
}
