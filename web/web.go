// Package web is the hub's HTTP surface around the GraphQL handler: routing
// of /graphql, the GraphiQL playground, health and readiness probes,
// Prometheus metrics, request ids, access logs, body limits and timeouts.
//
// web imports nothing of the hub; server.go hands it the handlers.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ywtg/hub/web/dashboard"
	"github.com/ywtg/hub/web/playground"
)

// Options configure the HTTP handler.
type Options struct {
	GraphQL http.Handler
	// Partner serves the Open311 outbound endpoint /open311/ and the bulk
	// exports /export/ (behind authentication); nil for none.
	Partner      http.Handler
	Readiness    *Readiness
	Registry     *prometheus.Registry
	Log          *slog.Logger
	MaxBodyBytes int64 // request body cap for /graphql
}

// NewHandler routes the hub's endpoints and wraps them in the common
// middleware: request id, access log, metrics, panic recovery.
func NewHandler(o Options) (http.Handler, error) {
	m, err := newMetrics(o.Registry)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	gzip, err := gzhttp.NewWrapper(gzhttp.MinSize(1024))
	if err != nil {
		return nil, err
	}
	gql := compressUnlessUpgrade(gzip, limitBody(o.GraphQL, o.MaxBodyBytes))
	mux.Handle("/graphql", m.instrument("graphql", gql))
	page, err := playground.New()
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /{$}", m.instrument("playground", page))
	mux.Handle("GET "+playground.AssetPrefix, m.instrument("playground", page))
	dash, err := dashboard.New()
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /dashboard", m.instrument("dashboard", dash))
	mux.Handle("GET "+dashboard.Prefix, m.instrument("dashboard", dash))
	if o.Partner != nil {
		mux.Handle("GET /open311/", m.instrument("open311", o.Partner))
		mux.Handle("GET /export/", m.instrument("export", o.Partner))
	}
	mux.Handle("GET /healthz", m.instrument("healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})))
	mux.Handle("GET /readyz", m.instrument("readyz", o.Readiness))
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	return withRequestID(accessLog(o.Log, recoverPanics(o.Log, mux))), nil
}

// NewServer returns an http.Server with timeouts suited to an API that may
// hold websocket subscriptions open.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// No WriteTimeout: it would cut websocket subscriptions; request
		// work is bounded by the query limits and the database instead.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Readiness collects the reasons the hub is not ready yet.
type Readiness struct {
	mu      sync.Mutex
	reasons map[string]string
}

// NewReadiness starts not ready for the given reasons.
func NewReadiness() *Readiness { return &Readiness{reasons: map[string]string{}} }

// Block records that component is not ready, and why.
func (r *Readiness) Block(component, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reasons[component] = reason
}

// Clear records that component is ready.
func (r *Readiness) Clear(component string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.reasons, component)
}

// Reasons returns the outstanding reasons by component.
func (r *Readiness) Reasons() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.reasons))
	for k, v := range r.reasons {
		out[k] = v
	}
	return out
}

// ServeHTTP answers 200 when ready, else 503 with the reasons.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	reasons := r.Reasons()
	if len(reasons) == 0 {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reasons": reasons, "waiting": keys})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// limitBody caps request bodies; an oversized body fails to read and the
// GraphQL transport answers with a request error.
func limitBody(h http.Handler, max int64) http.Handler {
	if max <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"errors": []map[string]any{{
				"message":    "request body larger than " + strconv.FormatInt(max, 10) + " bytes",
				"extensions": map[string]string{"code": "QUERY_TOO_COMPLEX"},
			}}})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		h.ServeHTTP(w, r)
	})
}

// compressUnlessUpgrade gzips responses for clients that accept it, but
// leaves websocket upgrades alone.
func compressUnlessUpgrade(gzip func(http.Handler) http.HandlerFunc, h http.Handler) http.Handler {
	zipped := gzip(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			h.ServeHTTP(w, r)
			return
		}
		zipped.ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes a sane X-Request-Id from the caller or makes one, and
// echoes it in the response.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// RequestID returns the id of the request a context belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// LogHandler adds the request id of the context to every log record.
func LogHandler(h slog.Handler) slog.Handler { return ctxHandler{h} }

type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ctxHandler{h.Handler.WithAttrs(as)}
}
func (h ctxHandler) WithGroup(n string) slog.Handler { return ctxHandler{h.Handler.WithGroup(n)} }

// statusWriter remembers the status code and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack (websockets).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if r.URL.Path == "/healthz" || r.URL.Path == "/metrics" {
			return
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)))
	})
}

func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "http handler panicked", "panic", p)
				writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": []map[string]any{{
					"message": "internal error", "extensions": map[string]string{"code": "INTERNAL"}}}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
