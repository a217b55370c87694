// Package fetch is the HTTP client the HTTP connectors share: a per-source
// request rate limit, per-request timeouts, retries of network errors,
// timeouts, 5xx and 429 with capped exponential backoff and full jitter
// (honouring Retry-After), and one clear SOURCE_UNAVAILABLE error when it
// gives up.
//
// fetch imports canon only.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/ywtg/hub/canon"
)

// Options configure a Client.
type Options struct {
	Source      string        // for messages
	RateLimit   float64       // requests per second; 0 for no limit
	Timeout     time.Duration // per attempt; default 30s
	MaxAttempts int           // default 5
	BaseBackoff time.Duration // default 500ms
	MaxBackoff  time.Duration // default 30s
	MaxBody     int64         // largest response accepted; default 64 MiB
	Log         *slog.Logger
	Transport   http.RoundTripper // nil for http.DefaultTransport
}

// Client performs requests to one source.
type Client struct {
	o       Options
	http    *http.Client
	limiter *rate.Limiter
}

// New returns a client.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 20
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	c := &Client{o: o, http: &http.Client{Transport: o.Transport}}
	if o.RateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(o.RateLimit), max(1, int(o.RateLimit)))
	}
	return c
}

// Response is a completed exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// StatusError is a non-success HTTP status.
type StatusError struct {
	Status     int
	RetryAfter time.Duration
	Body       string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %.200s", e.Status, e.Body)
}

// Retryable reports whether another attempt may succeed.
func Retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status == http.StatusTooManyRequests || se.Status >= 500
	}
	return !errors.Is(err, context.Canceled)
}

// Do sends the request newReq builds (once per attempt) and returns the
// response of the first attempt with a 2xx status. A 4xx other than 429 is
// returned at once as a *StatusError; everything retryable is retried.
// When the attempts are used up the error has code SOURCE_UNAVAILABLE.
func (c *Client) Do(ctx context.Context, newReq func(context.Context) (*http.Request, error)) (*Response, error) {
	var last error
	for attempt := 1; attempt <= c.o.MaxAttempts; attempt++ {
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return nil, err
			}
		}
		resp, err := c.once(ctx, newReq)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !Retryable(err) {
			return nil, err
		}
		last = err
		if attempt == c.o.MaxAttempts {
			break
		}
		wait := c.backoff(attempt)
		var se *StatusError
		if errors.As(err, &se) && se.RetryAfter > 0 {
			wait = min(se.RetryAfter, c.o.MaxBackoff)
		}
		c.o.Log.Warn("source request failed, retrying", "source", c.o.Source, "attempt", attempt, "wait", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil, Unavailable(c.o.Source, c.o.MaxAttempts, last)
}

// Unavailable is the error of a source that could not be reached.
func Unavailable(source string, attempts int, last error) error {
	return errors.Join(canon.Errorf(canon.SourceUnavailable, "source %s unavailable after %d attempts", source, attempts), last)
}

func (c *Client) once(ctx context.Context, newReq func(context.Context) (*http.Request, error)) (*Response, error) {
	actx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	req, err := newReq(actx)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.o.MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if int64(len(body)) > c.o.MaxBody {
		return nil, fmt.Errorf("response larger than %d bytes", c.o.MaxBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Body: string(body)}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// backoff is capped exponential backoff with full jitter.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.o.BaseBackoff << min(attempt-1, 20)
	if d <= 0 || d > c.o.MaxBackoff {
		d = c.o.MaxBackoff
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// retryAfter parses Retry-After: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
