package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ywtg/hub/canon"
)

// KeyLookup resolves the hash of an API key to its principal; it returns
// an error for unknown, revoked or expired keys. An error whose canon code
// is STORE_UNAVAILABLE says the keys cannot be read now: the request is
// answered 503 with Retry-After, not 401.
type KeyLookup func(ctx context.Context, hash []byte) (*Principal, error)

// Options configure the middleware.
type Options struct {
	Keys      KeyLookup
	JWT       *JWTVerifier  // nil: bearer JWTs are not accepted
	Anonymous Role          // role of requests without credentials; None refuses them
	Rate      float64       // requests per second per principal; 0 for no limit
	Burst     int           // bucket size; default 2 × Rate
	CacheTTL  time.Duration // how long a looked-up key is trusted; default 30s
	Now       func() time.Time
}

// Middleware authenticates requests and applies the per-principal rate
// limit. Without credentials a request gets the anonymous role, or 401 when
// that role is None; with bad credentials it always gets 401.
type Middleware struct {
	o Options

	mu       sync.Mutex
	cache    map[string]cached
	limiters map[string]*rate.Limiter
}

type cached struct {
	p       *Principal
	expires time.Time
}

// New returns the middleware.
func New(o Options) *Middleware {
	if o.CacheTTL <= 0 {
		o.CacheTTL = 30 * time.Second
	}
	if o.Burst <= 0 {
		o.Burst = max(1, int(2*o.Rate))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Middleware{o: o, cache: map[string]cached{}, limiters: map[string]*rate.Limiter{}}
}

// Wrap returns next behind authentication and rate limiting.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" && isWebsocketUpgrade(r) {
			// A browser cannot set headers on a websocket: the GraphQL
			// handler authenticates its connection_init (Authenticate).
			next.ServeHTTP(w, r)
			return
		}
		p, err := m.authenticate(r)
		if canon.ErrorCode(err) == canon.StoreUnavailable {
			// The key could not be looked up: not bad credentials, which
			// a client would drop, but a failure to retry.
			w.Header().Set("Retry-After", "2")
			writeError(w, http.StatusServiceUnavailable, canon.StoreUnavailable, canon.ErrorMessage(err))
			return
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hub"`)
			writeError(w, http.StatusUnauthorized, canon.Unauthenticated, err.Error())
			return
		}
		if wait, ok := m.allow(p, r); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeError(w, http.StatusTooManyRequests, canon.RateLimited, "rate limit exceeded: slow down and retry after the Retry-After seconds")
			return
		}
		next.ServeHTTP(w, r.WithContext(With(r.Context(), p)))
	})
}

var errBadCredentials = errors.New("invalid credentials: the bearer token is unknown, revoked or expired")

// isWebsocketUpgrade reports whether r asks for a websocket.
func isWebsocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// authenticate finds the request's principal and holds it to Validate,
// whichever way it came: key, JWT or the anonymous role.
func (m *Middleware) authenticate(r *http.Request) (*Principal, error) {
	return m.Authenticate(r.Context(), r.Header.Get("Authorization"))
}

// Authenticate finds the principal of an Authorization value ("" for
// none: the anonymous role, if any) as a request carrying it would get
// (the websocket's connection_init, and its periodic re-check: a revoked
// key stops working within CacheTTL). Errors are as for requests:
// STORE_UNAVAILABLE when the keys cannot be read, else bad credentials.
func (m *Middleware) Authenticate(ctx context.Context, authorization string) (*Principal, error) {
	p, err := m.principal(ctx, authorization)
	if err != nil {
		return nil, err
	}
	if err := Validate(p); err != nil {
		return nil, fmt.Errorf("%w (%v)", errBadCredentials, err)
	}
	return p, nil
}

func (m *Middleware) principal(ctx context.Context, h string) (*Principal, error) {
	if h == "" {
		if m.o.Anonymous == None || m.o.Anonymous == "" {
			return nil, errors.New("authentication required: send Authorization: Bearer <API key>")
		}
		return &Principal{ID: "anonymous", Name: "anonymous", Role: m.o.Anonymous}, nil
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, errors.New("authorization header must be 'Bearer <token>'")
	}
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, KeyPrefix) {
		if m.o.JWT == nil {
			return nil, errBadCredentials
		}
		p, err := m.o.JWT.Verify(token)
		if err != nil {
			return nil, fmt.Errorf("%w (%v)", errBadCredentials, err)
		}
		return p, nil
	}
	if m.o.Keys == nil {
		return nil, errBadCredentials
	}
	hash := HashKey(token)
	now := m.o.Now()
	m.mu.Lock()
	c, hit := m.cache[string(hash)]
	m.mu.Unlock()
	if hit && now.Before(c.expires) {
		return c.p, nil
	}
	p, err := m.o.Keys(ctx, hash)
	if canon.ErrorCode(err) == canon.StoreUnavailable {
		return nil, err // not cached: the next request looks again
	}
	if err != nil || p == nil {
		return nil, errBadCredentials
	}
	m.mu.Lock()
	m.cache[string(hash)] = cached{p: p, expires: now.Add(m.o.CacheTTL)}
	m.mu.Unlock()
	return p, nil
}

// allow takes a token from the principal's bucket; anonymous callers get a
// bucket per client address.
func (m *Middleware) allow(p *Principal, r *http.Request) (time.Duration, bool) {
	if m.o.Rate <= 0 {
		return 0, true
	}
	id := p.ID
	if id == "anonymous" {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		id += "@" + host
	}
	m.mu.Lock()
	l, ok := m.limiters[id]
	if !ok {
		l = rate.NewLimiter(rate.Limit(m.o.Rate), m.o.Burst)
		m.limiters[id] = l
	}
	m.mu.Unlock()
	res := l.ReserveN(m.o.Now(), 1)
	if d := res.DelayFrom(m.o.Now()); d > 0 {
		res.CancelAt(m.o.Now())
		return d, false
	}
	return 0, true
}

func writeError(w http.ResponseWriter, status int, code canon.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": msg, "extensions": map[string]string{"code": string(code)}}}})
}
