package graph_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/store/storetest"
)

// logBuffer collects log lines for a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Requests the hub cannot run are the client's error: a clear code, never
// INTERNAL, never a panic, and what the client sent never in the logs.
// The response cache is on: it once panicked on requests that failed
// before they had an operation.
func TestMalformedRequestsAreTheClientsError(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(3))
	var logs logBuffer
	srv, _ := cachedServer(t, st, graph.Config{Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	const mark = "SECRET-4f1c" // what must never be logged
	const q = `{ sources { name } }`
	sum := sha256.Sum256([]byte(q))
	hash := hex.EncodeToString(sum[:])
	filtered := `query($f: CaseFilter) { cases(filter: $f) { totalCount } }`
	tests := []struct {
		name, method, body string
		status             int
		code               string
	}{
		{"invalid JSON", "POST", `{"query":"` + q + `", "x": ` + mark + `}`, 400, "BAD_USER_INPUT"},
		{"truncated JSON", "POST", `{"query":"` + mark, 400, "BAD_USER_INPUT"},
		{"a batch", "POST", `[{"query":"` + q + `","operationName":"` + mark + `"}]`, 400, "BAD_USER_INPUT"},
		{"variables an array", "POST", `{"query":"` + q + `","variables":["` + mark + `"]}`, 400, "BAD_USER_INPUT"},
		{"variables a string", "POST", `{"query":"` + q + `","variables":"` + mark + `"}`, 400, "BAD_USER_INPUT"},
		{"query an object", "POST", `{"query":{"q":"` + mark + `"}}`, 400, "BAD_USER_INPUT"},
		{"NUL in a variable", "POST", `{"query":"` + filtered + `","variables":{"f":{"text":"` + mark + `\u0000"}}}`, 200, "BAD_USER_INPUT"},
		{"NUL in a list variable", "POST", `{"query":"` + filtered + `","variables":{"f":{"category":["` + mark + `\u0000"]}}}`, 200, "BAD_USER_INPUT"},
		{"wrong persisted-query hash", "POST", `{"query":"` + q + `","extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + mark + `"}}}`, 200, "BAD_USER_INPUT"},
		{"wrong persisted-query version", "POST", `{"query":"` + q + `","extensions":{"persistedQuery":{"version":7,"sha256Hash":"` + hash + `"}}}`, 200, "BAD_USER_INPUT"},
		{"malformed persisted-query extension", "POST", `{"query":"` + q + `","extensions":{"persistedQuery":"` + mark + `"}}`, 200, "BAD_USER_INPUT"},
		{"unknown persisted-query hash", "POST", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("0", 64) + `"}}}`, 200, "PERSISTED_QUERY_NOT_FOUND"},
		{"GET with undecodable variables", "GET", "?query=" + url.QueryEscape(q) + "&variables=" + mark, 400, "BAD_USER_INPUT"},
		{"GET with undecodable extensions", "GET", "?query=" + url.QueryEscape(q) + "&extensions=" + mark, 400, "BAD_USER_INPUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req *http.Request
			var err error
			if tc.method == "GET" {
				req, err = http.NewRequest("GET", srv.URL+tc.body, nil)
			} else {
				req, err = http.NewRequest("POST", srv.URL, strings.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
			}
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var body struct {
				Data   json.RawMessage
				Errors []struct {
					Message    string
					Extensions struct{ Code string }
				}
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("status %d, body %q: %v", resp.StatusCode, raw, err)
			}
			if resp.StatusCode != tc.status || len(body.Errors) != 1 || body.Errors[0].Extensions.Code != tc.code || body.Data != nil {
				t.Fatalf("status %d: %s; want %d with %s and no data", resp.StatusCode, raw, tc.status, tc.code)
			}
		})
	}
	if l := logs.String(); strings.Contains(l, mark) || strings.Contains(l, "panic") || strings.Contains(l, "INTERNAL") {
		t.Fatalf("the logs quote a request or tell of a failure:\n%s", l)
	}
}
