package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// AdmissionOptions bound the GraphQL operations a hub runs at once.
type AdmissionOptions struct {
	// MaxConcurrent operations run at once; more wait for a slot.
	MaxConcurrent int
	// QueueTimeout is the longest a request waits for a slot before it
	// is refused with 503 OVERLOADED.
	QueueTimeout time.Duration
	// QueryTimeout bounds an admitted request: its context's deadline,
	// which the store's statements and connection waits inherit. 0: none.
	QueryTimeout time.Duration
	// RetryAfter is the Retry-After of a refused request; default 1s.
	RetryAfter time.Duration
	Registry   prometheus.Registerer // nil for no metrics
}

// Admission is the admission limiter in front of GraphQL execution: a
// semaphore of MaxConcurrent slots with a short first-come queue. An
// overloaded hub answers the requests it admits as fast as it can serve
// them and refuses the rest at once (503 OVERLOADED, Retry-After) instead
// of queueing every request until all of them time out. Websocket
// subscriptions pass untouched: they are long-lived and bounded elsewhere.
type Admission struct {
	o        AdmissionOptions
	slots    chan struct{}
	admitted prometheus.Counter
	shed     prometheus.Counter
	gaveUp   prometheus.Counter
	inFlight prometheus.Gauge
	wait     prometheus.Histogram
}

// NewAdmission returns the limiter.
func NewAdmission(o AdmissionOptions) (*Admission, error) {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 1
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	results := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hub_graphql_admission_total",
		Help: "GraphQL requests by admission result: admitted, shed (refused with 503 OVERLOADED) or gave_up (the client left while queued).",
	}, []string{"result"})
	a := &Admission{
		o:        o,
		slots:    make(chan struct{}, o.MaxConcurrent),
		admitted: results.WithLabelValues("admitted"),
		shed:     results.WithLabelValues("shed"),
		gaveUp:   results.WithLabelValues("gave_up"),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hub_graphql_in_flight",
			Help: "GraphQL requests admitted and running.",
		}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hub_graphql_admission_wait_seconds",
			Help:    "Time GraphQL requests waited for an execution slot (admitted or not).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
	}
	a.inFlight.Set(0)
	if o.Registry != nil {
		limit := prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hub_graphql_max_in_flight",
			Help: "GraphQL requests that may run at once (HUB_MAX_CONCURRENT_QUERIES).",
		})
		limit.Set(float64(o.MaxConcurrent))
		for _, c := range []prometheus.Collector{results, a.inFlight, a.wait, limit} {
			if err := o.Registry.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

// Wrap returns next behind the limiter.
func (a *Admission) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		switch a.acquire(r.Context()) {
		case shed:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", strconv.Itoa(int((a.o.RetryAfter+time.Second-1)/time.Second)))
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write(shedResponse)
			return
		case gaveUp:
			return // nobody is listening
		}
		defer a.release()
		if a.o.QueryTimeout <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.o.QueryTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type admission int

const (
	admitted admission = iota
	shed               // no slot within QueueTimeout
	gaveUp             // the client left while queued
)

// acquire takes a slot, waiting at most QueueTimeout.
func (a *Admission) acquire(ctx context.Context) admission {
	select {
	case a.slots <- struct{}{}:
		a.wait.Observe(0)
		a.admitted.Inc()
		a.inFlight.Inc()
		return admitted
	default:
	}
	start := time.Now()
	t := time.NewTimer(a.o.QueueTimeout)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		a.wait.Observe(time.Since(start).Seconds())
		a.admitted.Inc()
		a.inFlight.Inc()
		return admitted
	case <-t.C:
		a.wait.Observe(time.Since(start).Seconds())
		a.shed.Inc()
		return shed
	case <-ctx.Done():
		a.gaveUp.Inc()
		return gaveUp
	}
}

func (a *Admission) release() {
	a.inFlight.Dec()
	<-a.slots
}

// shedResponse is the body of a refused request, in the GraphQL-over-HTTP
// error shape.
var shedResponse, _ = json.Marshal(map[string]any{"errors": []map[string]any{{
	"message":    "the hub is overloaded: retry after the Retry-After seconds",
	"extensions": map[string]string{"code": "OVERLOADED"},
}}})
