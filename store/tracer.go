package store

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// StatementCounter counts the SQL statements run with a context, for tests
// that bound the work of a GraphQL request.
type StatementCounter struct {
	n   atomic.Int64
	mu  sync.Mutex
	sql []string
}

// Count is the number of statements seen so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }

// Statements returns the first line of each statement seen (at most 100),
// for test failure messages.
func (c *StatementCounter) Statements() []string {
	out := c.Texts()
	for i, sql := range out {
		if j := strings.IndexByte(sql, '\n'); j > 0 {
			out[i] = sql[:j]
		}
	}
	return out
}

// Texts returns the whole text of each statement seen (at most 100), for
// tests of what the statements read.
func (c *StatementCounter) Texts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sql...)
}

func (c *StatementCounter) add(sql string) {
	c.n.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sql) < 100 {
		c.sql = append(c.sql, sql)
	}
}

type counterKey struct{}

// WithStatementCounter returns a context whose SQL statements are counted.
func WithStatementCounter(ctx context.Context) (context.Context, *StatementCounter) {
	c := &StatementCounter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

type startKey struct{}

// tracer counts statements per context and records their durations.
type tracer struct {
	duration *prometheus.HistogramVec
}

func newTracer(reg prometheus.Registerer) (*tracer, error) {
	t := &tracer{}
	if reg == nil {
		return t, nil
	}
	t.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hub_sql_statement_duration_seconds",
		Help:    "Duration of SQL statements run by the hub, by kind (query, batch, copy) and outcome.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"kind", "outcome"})
	if err := reg.Register(t.duration); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *tracer) start(ctx context.Context, sql string) context.Context {
	if c, ok := ctx.Value(counterKey{}).(*StatementCounter); ok {
		c.add(sql)
	}
	if t.duration == nil {
		return ctx
	}
	return context.WithValue(ctx, startKey{}, time.Now())
}

func (t *tracer) end(ctx context.Context, kind string, err error) {
	if t.duration == nil {
		return
	}
	start, ok := ctx.Value(startKey{}).(time.Time)
	if !ok {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	t.duration.WithLabelValues(kind, outcome).Observe(time.Since(start).Seconds())
}

func (t *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return t.start(ctx, d.SQL)
}

func (t *tracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	t.end(ctx, "query", d.Err)
}

func (t *tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return t.start(ctx, "batch")
}

func (t *tracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (t *tracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	t.end(ctx, "batch", d.Err)
}

func (t *tracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	return t.start(ctx, "COPY "+d.TableName.Sanitize())
}

func (t *tracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromEndData) {
	t.end(ctx, "copy", d.Err)
}
