package fetch_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors/fetch"
)

func get(url string) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	}
}

func TestRetriesThen429RetryAfterThenSuccess(t *testing.T) {
	var n atomic.Int32
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		times = append(times, time.Now())
		switch n.Add(1) {
		case 1:
			http.Error(w, "boom", http.StatusBadGateway)
		case 2:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	c := fetch.New(fetch.Options{Source: "governance", BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Second})
	resp, err := c.Do(context.Background(), get(srv.URL))
	if err != nil || string(resp.Body) != "ok" || n.Load() != 3 {
		t.Fatalf("resp %v, err %v after %d calls", resp, err, n.Load())
	}
	if gap := times[2].Sub(times[1]); gap < 900*time.Millisecond {
		t.Fatalf("Retry-After 1 not honoured: retried after %s", gap)
	}
}

func TestGivesUpWithSourceUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := fetch.New(fetch.Options{Source: "governance", MaxAttempts: 3, BaseBackoff: time.Millisecond})
	_, err := c.Do(context.Background(), get(srv.URL))
	if canon.ErrorCode(err) != canon.SourceUnavailable {
		t.Fatalf("err = %v, want SOURCE_UNAVAILABLE", err)
	}
	// A closed port is unavailable too.
	srv.Close()
	_, err = c.Do(context.Background(), get(srv.URL))
	if canon.ErrorCode(err) != canon.SourceUnavailable {
		t.Fatalf("closed port: err = %v", err)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "no such resource", http.StatusNotFound)
	}))
	defer srv.Close()
	_, err := fetch.New(fetch.Options{}).Do(context.Background(), get(srv.URL))
	var se *fetch.StatusError
	if !errors.As(err, &se) || se.Status != 404 || n.Load() != 1 {
		t.Fatalf("err = %v after %d calls", err, n.Load())
	}
}

func TestTimeoutsAreRetriedAndRateLimited(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			time.Sleep(300 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	c := fetch.New(fetch.Options{Timeout: 100 * time.Millisecond, BaseBackoff: time.Millisecond, RateLimit: 20})
	start := time.Now()
	for i := 0; i < 5; i++ {
		if _, err := c.Do(context.Background(), get(srv.URL)); err != nil {
			t.Fatal(err)
		}
	}
	// 6 requests at 20/s with a burst of 20 are not slowed; check the limiter
	// does slow a burst beyond it.
	c = fetch.New(fetch.Options{RateLimit: 5})
	start = time.Now()
	for i := 0; i < 10; i++ {
		if _, err := c.Do(context.Background(), get(srv.URL)); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("10 requests at 5/s (burst 5) took %s", el)
	}
}
