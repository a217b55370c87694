package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics is a gqlgen extension that counts and times operations by type
// (query, mutation, subscription) and outcome. Operation names are chosen by
// clients, so they are not used as labels.
type metrics struct {
	ops      *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_graphql_operations_total",
			Help: "GraphQL operations by type and outcome (ok, error).",
		}, []string{"type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hub_graphql_operation_duration_seconds",
			Help:    "GraphQL operation duration by type.",
			Buckets: prometheus.DefBuckets,
		}, []string{"type"}),
	}
	for _, c := range []prometheus.Collector{m.ops, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*metrics)(nil)

func (m *metrics) ExtensionName() string                   { return "HubMetrics" }
func (m *metrics) Validate(graphql.ExecutableSchema) error { return nil }

func (m *metrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	typ := "invalid"
	if graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil {
			typ = string(op.Operation)
		}
	}
	outcome := "ok"
	if resp == nil || len(resp.Errors) > 0 {
		outcome = "error"
	}
	m.ops.WithLabelValues(typ, outcome).Inc()
	m.duration.WithLabelValues(typ).Observe(time.Since(start).Seconds())
	return resp
}
