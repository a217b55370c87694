package syncer

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ywtg/hub/store"
)

type metrics struct {
	records  *prometheus.CounterVec
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	last     *prometheus.GaugeVec
	resets   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_sync_records_total",
			Help: "Source records by outcome (fetched, stored, quarantined, unchanged, deleted).",
		}, []string{"source", "outcome"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_sync_runs_total",
			Help: "Synchronisation passes by resulting source status.",
		}, []string{"source", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hub_sync_run_duration_seconds",
			Help:    "Duration of synchronisation passes.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}, []string{"source"}),
		last: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hub_sync_last_success_timestamp_seconds",
			Help: "Unix time of the last successful pass; lag is time() minus this.",
		}, []string{"source"}),
		resets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_sync_source_resets_total",
			Help: "Times a source rejected the stored cursor (reset, restored or renumbered) and was re-pulled completely.",
		}, []string{"source"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.records, m.runs, m.duration, m.last, m.resets} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) batch(source string, c store.BatchCounts) {
	m.records.WithLabelValues(source, "fetched").Add(float64(c.Fetched))
	m.records.WithLabelValues(source, "stored").Add(float64(c.Stored))
	m.records.WithLabelValues(source, "quarantined").Add(float64(c.Quarantined))
	m.records.WithLabelValues(source, "unchanged").Add(float64(c.Unchanged))
	m.records.WithLabelValues(source, "deleted").Add(float64(c.Deleted))
}

func (m *metrics) run(source string, status store.SourceStatus, d time.Duration) {
	m.runs.WithLabelValues(source, string(status)).Inc()
	m.duration.WithLabelValues(source).Observe(d.Seconds())
	if status == store.SourceOK {
		m.last.WithLabelValues(source).SetToCurrentTime()
	}
}
