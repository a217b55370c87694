package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ywtg/hub/web"
)

// With every slot taken, a request waits at most the queue timeout and is
// then refused with 503 OVERLOADED and Retry-After in the GraphQL error
// shape; a queued request gets the slot its predecessor frees; websocket
// upgrades bypass the limit; an admitted request carries the query
// deadline.
func TestAdmissionShedsBeyondItsSlots(t *testing.T) {
	reg := prometheus.NewRegistry()
	adm, err := web.NewAdmission(web.AdmissionOptions{MaxConcurrent: 2, QueueTimeout: 300 * time.Millisecond,
		QueryTimeout: 3 * time.Second, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var closed atomic.Bool
	defer func() {
		if !closed.Load() {
			close(release)
		}
	}()
	var running, maxRunning atomic.Int32
	var deadlineLeft atomic.Int64
	h := adm.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			w.WriteHeader(http.StatusAccepted) // stands in for 101: passed the limiter
			return
		}
		n := running.Add(1)
		defer running.Add(-1)
		for m := maxRunning.Load(); n > m && !maxRunning.CompareAndSwap(m, n); m = maxRunning.Load() {
		}
		if d, ok := r.Context().Deadline(); ok {
			deadlineLeft.Store(int64(time.Until(d)))
		}
		if r.URL.Query().Get("block") != "" {
			<-release
		}
		w.Write([]byte(`{"data":{}}`))
	}))
	ts := httptest.NewServer(h)
	defer ts.Close()
	get := func(q string, hdr ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql?"+q, strings.NewReader("{}"))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return nil, nil
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 512)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp, []byte(b.String())
	}

	// Two blocking requests take both slots.
	done := make(chan int, 3)
	for range 2 {
		go func() {
			resp, _ := get("block=1")
			if resp != nil {
				done <- resp.StatusCode
			}
		}()
	}
	waitFor(t, func() bool { return running.Load() == 2 })
	if got := deadlineLeft.Load(); got <= int64(2*time.Second) || got > int64(3*time.Second) {
		t.Fatalf("admitted request's deadline %v away, want the 3s query timeout", time.Duration(got))
	}

	// A third waits its 300ms and is refused.
	start := time.Now()
	resp, body := get("")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("refused after %v, before the queue timeout", waited)
	}
	var e struct {
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Extensions.Code != "OVERLOADED" {
		t.Fatalf("refusal body %s (%v)", body, err)
	}

	// A websocket upgrade is not held back.
	if resp, _ := get("", "Upgrade", "websocket", "Connection", "Upgrade"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upgrade: %d", resp.StatusCode)
	}

	// A queued request gets the slot freed while it waits.
	go func() {
		resp, _ := get("")
		if resp != nil {
			done <- resp.StatusCode
		}
	}()
	time.Sleep(20 * time.Millisecond)
	release <- struct{}{}
	for range 2 {
		if code := <-done; code != http.StatusOK {
			t.Fatalf("admitted request: %d", code)
		}
	}
	close(release)
	closed.Store(true)
	if code := <-done; code != http.StatusOK {
		t.Fatalf("admitted request: %d", code)
	}
	if m := maxRunning.Load(); m > 2 {
		t.Fatalf("%d requests ran at once, limit 2", m)
	}
	if got := metric(t, reg, "hub_graphql_in_flight", ""); got != 0 {
		t.Fatalf("in flight after all finished: %v", got)
	}
	for result, want := range map[string]float64{"admitted": 3, "shed": 1, "gave_up": 0} {
		if got := metric(t, reg, "hub_graphql_admission_total", result); got != want {
			t.Errorf("hub_graphql_admission_total{result=%q} = %v, want %v", result, got, want)
		}
	}
}

// metric reads a gauge, or the counter of the given result label.
func metric(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if result == "" {
				return m.GetGauge().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no metric %s %s", name, result)
	return 0
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The watcher blocks readiness while its check fails and clears it when
// the check passes again.
func TestWatchReadinessFollowsTheCheck(t *testing.T) {
	ready := web.NewReadiness()
	var failing atomic.Bool
	failing.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go web.WatchReadiness(ctx, ready, "database", "the database does not answer", 10*time.Millisecond, time.Second,
		func(context.Context) error {
			if failing.Load() {
				return errors.New("connection refused")
			}
			return nil
		})
	waitFor(t, func() bool { return ready.Reasons()["database"] == "the database does not answer" })
	failing.Store(false)
	waitFor(t, func() bool { return len(ready.Reasons()) == 0 })
}
