// Package govapi simulates the comprehensive-governance grid system
// (综治网格化服务管理平台): a Java-style REST JSON API over the synthetic
// city's grids, grid workers, houses, residents and events, as described in
// docs/sources.md §2.
//
// It owns the protocol: token issue and expiry, the {code,msg,data}
// envelope with errors inside HTTP 200, pageNum/pageSize paging ordered by
// (updateTime, id), updatedAfter filtering, BD-09 coordinates, mixed time
// formats (local-time strings and epoch milliseconds), and fault injection
// (HTTP 429 with Retry-After, 5xx, envelope errors, slow responses, token
// expiry, outage) settable at run time. The records themselves, with their
// injected defects, come from package city.
package govapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ywtg/hub/sim/city"
)

// Default credentials of the simulated system.
const (
	DefaultClientID     = "ywtg-hub"
	DefaultClientSecret = "zz-grid-demo-secret"
	// MaxPageSize caps pageSize.
	MaxPageSize = 500
	// DefaultPageSize is used when pageSize is absent or not positive.
	DefaultPageSize = 20
)

// Options configures a Server.
type Options struct {
	ClientID     string        // default DefaultClientID
	ClientSecret string        // default DefaultClientSecret
	TokenTTL     time.Duration // default 600 s, measured on Clock
	Clock        city.Clock    // default: wall clock starting at the city's reference
	Logger       *slog.Logger  // default slog.Default()
}

// Faults are the fault-injection knobs. All methods are safe for
// concurrent use; the zero value injects nothing.
type Faults struct {
	mu            sync.Mutex
	rng           *mrand.Rand
	rateLimit     float64
	retryAfter    time.Duration
	serverError   float64
	envelopeError float64
	delay         time.Duration
	down          bool
}

// SetRateLimit makes a share p of API requests answer HTTP 429 with a
// Retry-After of retryAfter (rounded up to whole seconds, at least 1).
func (f *Faults) SetRateLimit(p float64, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rateLimit, f.retryAfter = p, retryAfter
}

// SetServerErrors makes a share p of API requests answer HTTP 500, 502 or
// 503.
func (f *Faults) SetServerErrors(p float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serverError = p
}

// SetEnvelopeErrors makes a share p of API requests answer HTTP 200 with
// {"code":500,"msg":"系统繁忙，请稍后重试"}.
func (f *Faults) SetEnvelopeErrors(p float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.envelopeError = p
}

// SetDelay delays every response by d.
func (f *Faults) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// SetDown makes every request answer HTTP 503 (an outage short of the
// listener being closed).
func (f *Faults) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// Reset clears every fault.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rateLimit, f.serverError, f.envelopeError, f.delay, f.down = 0, 0, 0, 0, false
}

type verdict struct {
	delay      time.Duration
	down       bool
	status     int // HTTP status to fail with, 0 for none
	retryAfter int
	envelope   bool
}

func (f *Faults) roll() verdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng == nil {
		f.rng = mrand.New(mrand.NewPCG(7, 11))
	}
	v := verdict{delay: f.delay, down: f.down}
	switch {
	case f.rateLimit > 0 && f.rng.Float64() < f.rateLimit:
		v.status = http.StatusTooManyRequests
		v.retryAfter = max(1, int((f.retryAfter+time.Second-1)/time.Second))
	case f.serverError > 0 && f.rng.Float64() < f.serverError:
		v.status = []int{500, 502, 503}[f.rng.IntN(3)]
	case f.envelopeError > 0 && f.rng.Float64() < f.envelopeError:
		v.envelope = true
	}
	return v
}

// Server is the governance API as an http.Handler.
type Server struct {
	c      *city.City
	opts   Options
	faults Faults
	mux    *http.ServeMux

	mu     sync.Mutex
	tokens map[string]time.Time // token → expiry on the clock
}

// New returns a server over the city.
func New(c *city.City, opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 600 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = city.NewWallClock(c.Reference())
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{c: c, opts: opts, tokens: map[string]time.Time{}, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /api/auth/token", s.token)
	s.mux.HandleFunc("GET /api/v1/{resource}", s.list)
	return s
}

// Faults returns the server's fault knobs.
func (s *Server) Faults() *Faults { return &s.faults }

// ExpireTokens invalidates every issued token: the next request with one
// gets {"code":401,"msg":"token expired"}.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// ServeHTTP applies the fault knobs, then routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := s.faults.roll()
	if v.down || v.status != 0 || v.envelope {
		s.opts.Logger.Debug("govapi: injected fault", "path", r.URL.Path, "down", v.down, "status", v.status, "envelopeError", v.envelope)
	}
	if v.delay > 0 {
		select {
		case <-time.After(v.delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case v.down:
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	case v.status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(v.retryAfter))
		writeJSON(w, http.StatusTooManyRequests, envelope{Code: 429, Msg: "请求过于频繁"})
		return
	case v.status != 0:
		http.Error(w, http.StatusText(v.status), v.status)
		return
	case v.envelope:
		writeJSON(w, http.StatusOK, envelope{Code: 500, Msg: "系统繁忙，请稍后重试"})
		return
	}
	s.mux.ServeHTTP(w, r)
}

type envelope struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeJSON(w, http.StatusOK, envelope{Code: 400, Msg: "请求参数错误"})
		return
	}
	if req.ClientID != s.opts.ClientID || req.ClientSecret != s.opts.ClientSecret {
		writeJSON(w, http.StatusOK, envelope{Code: 401, Msg: "clientId 或 clientSecret 错误"})
		return
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		writeJSON(w, http.StatusOK, envelope{Code: 500, Msg: "internal error"})
		return
	}
	tok := hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = s.opts.Clock.Now().Add(s.opts.TokenTTL)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, envelope{Code: 0, Msg: "success", Data: map[string]any{
		"accessToken": tok, "tokenType": "Bearer", "expiresIn": int(s.opts.TokenTTL / time.Second)}})
}

func (s *Server) authorised(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[strings.TrimSpace(tok)]
	if !ok {
		return false
	}
	if !s.opts.Clock.Now().Before(exp) {
		delete(s.tokens, tok)
		return false
	}
	return true
}

var resources = map[string]city.Entity{
	"grids": city.GovGrids, "gridWorkers": city.GovWorkers, "houses": city.GovHouses, "residents": city.GovResidents, "events": city.GovEvents,
}

// ParseTime reads an updatedAfter value: "YYYY-MM-DD HH:MM:SS" local time
// or epoch milliseconds.
func ParseTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).In(city.CST), true
	}
	t, err := time.ParseInLocation(time.DateTime, v, city.CST)
	return t, err == nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	e, ok := resources[r.PathValue("resource")]
	if !ok {
		writeJSON(w, http.StatusNotFound, envelope{Code: 404, Msg: "资源不存在"})
		return
	}
	if !s.authorised(r) {
		writeJSON(w, http.StatusOK, envelope{Code: 401, Msg: "token expired"})
		return
	}
	q := r.URL.Query()
	pageNum, pageSize := 1, DefaultPageSize
	if v := q.Get("pageNum"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusOK, envelope{Code: 400, Msg: "pageNum 参数错误"})
			return
		}
		pageNum = n
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeJSON(w, http.StatusOK, envelope{Code: 400, Msg: "pageSize 参数错误"})
			return
		}
		if n > 0 {
			pageSize = min(n, MaxPageSize)
		}
	}
	after := int64(-1 << 62)
	if v := q.Get("updatedAfter"); v != "" {
		t, ok := ParseTime(v)
		if !ok {
			writeJSON(w, http.StatusOK, envelope{Code: 400, Msg: "updatedAfter 参数错误"})
			return
		}
		after = t.Unix() // update times have whole seconds
	}
	afterIdx := int32(-1)
	if v := q.Get("afterId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusOK, envelope{Code: 400, Msg: "afterId 参数错误"})
			return
		}
		afterIdx = int32(n - 1)
	}
	s.c.RLock()
	total, idx := s.c.Page(e, after, afterIdx, (pageNum-1)*pageSize, pageSize)
	records := make([]any, 0, len(idx))
	for _, i := range idx {
		records = append(records, render(s.c, e, int(i)))
	}
	s.c.RUnlock()
	writeJSON(w, http.StatusOK, envelope{Code: 0, Msg: "success", Data: page{Total: total, PageNum: pageNum, PageSize: pageSize, Records: records}})
}

type page struct {
	Total    int   `json:"total"`
	PageNum  int   `json:"pageNum"`
	PageSize int   `json:"pageSize"`
	Records  []any `json:"records"`
}
