package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ywtg/hub/web"
)

func newServer(t *testing.T, gql http.Handler, ready *web.Readiness, logs io.Writer) *httptest.Server {
	t.Helper()
	log := slog.New(web.LogHandler(slog.NewJSONHandler(logs, nil)))
	h, err := web.NewHandler(web.Options{GraphQL: gql, Readiness: ready, Registry: prometheus.NewRegistry(), Log: log, MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

func TestReadinessReportsReasons(t *testing.T) {
	ready := web.NewReadiness()
	ready.Block("sync:governance", "first sync running")
	ts := newServer(t, http.NotFoundHandler(), ready, io.Discard)
	resp, err := http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Reasons map[string]string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || body.Reasons["sync:governance"] != "first sync running" {
		t.Fatalf("readyz = %d %+v", resp.StatusCode, body)
	}
	ready.Clear("sync:governance")
	resp, err = http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz after clear = %d", resp.StatusCode)
	}
}

func TestRequestIDIsEchoedAndLogged(t *testing.T) {
	var logs bytes.Buffer
	gql := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web.RequestID(r.Context()) == "" {
			t.Error("handler sees no request id")
		}
		w.Write([]byte(`{"data":{}}`))
	})
	ts := newServer(t, gql, web.NewReadiness(), &logs)
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(`{"query":"{a}"}`))
	req.Header.Set("X-Request-Id", "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("X-Request-Id = %q", got)
	}
	if !strings.Contains(logs.String(), `"request_id":"abc-123"`) {
		t.Fatalf("access log lacks the request id: %s", logs.String())
	}
	// An unsafe id is replaced, never echoed.
	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/healthz", nil)
	req.Header.Set("X-Request-Id", "<script>")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got == "<script>" || len(got) != 16 {
		t.Fatalf("X-Request-Id = %q, want a generated id", got)
	}
}

func TestBodyLimit(t *testing.T) {
	gql := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		w.Write([]byte(`{"data":{}}`))
	})
	ts := newServer(t, gql, web.NewReadiness(), io.Discard)
	resp, err := http.Post(ts.URL+"/graphql", "application/json", strings.NewReader(strings.Repeat("x", 4096)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "QUERY_TOO_COMPLEX") {
		t.Fatalf("oversized body: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Post(ts.URL+"/graphql", "application/json", strings.NewReader(`{"query":"{a}"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("small body: %d", resp.StatusCode)
	}
}

func TestPanicsBecomeInternal(t *testing.T) {
	var logs bytes.Buffer
	ts := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), web.NewReadiness(), &logs)
	resp, err := http.Post(ts.URL+"/graphql", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(b), `"INTERNAL"`) || strings.Contains(string(b), "boom") {
		t.Fatalf("panic response: %d %s", resp.StatusCode, b)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Fatal("panic not logged")
	}
}

func TestResponsesAreCompressed(t *testing.T) {
	big := strings.Repeat(`{"name":"长虹社区"},`, 500)
	body := `{"data":[` + big + `{}]}`
	// As the GraphQL handler writes an answer: whole, with its length,
	// which the compression must not pass on.
	gql := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write([]byte(body))
	})
	ts := newServer(t, gql, web.NewReadiness(), io.Discard)
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(`{"query":"{a}"}`))
	req.Header.Set("Accept-Encoding", "gzip")
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Encoding") != "gzip" || len(raw) >= len(big) {
		t.Fatalf("encoding %q, %d bytes for a %d-byte body", resp.Header.Get("Content-Encoding"), len(raw), len(big))
	}
	if resp.ContentLength != -1 && resp.ContentLength != int64(len(raw)) {
		t.Fatalf("Content-Length %d for %d compressed bytes", resp.ContentLength, len(raw))
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || string(plain) != body {
		t.Fatalf("decompressed body (%v): %d bytes, want the %d written", err, len(plain), len(body))
	}
}
