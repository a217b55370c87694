package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ywtg/hub/app"
)

// hubBinary is the hub built once for the tests that run it.
var hubBinary struct {
	once      sync.Once
	dir, path string
	err       error
}

// buildHub compiles the hub binary once per test run (TestMain removes it).
func buildHub(t *testing.T) string {
	t.Helper()
	hubBinary.once.Do(func() {
		if hubBinary.dir, hubBinary.err = os.MkdirTemp("", "hub-bin-"); hubBinary.err != nil {
			return
		}
		hubBinary.path = filepath.Join(hubBinary.dir, "hub")
		if out, err := exec.Command("go", "build", "-o", hubBinary.path, ".").CombinedOutput(); err != nil {
			hubBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if hubBinary.err != nil {
		t.Fatal(hubBinary.err)
	}
	return hubBinary.path
}

type hubProc struct {
	cmd  *exec.Cmd
	url  string
	logs *logBuffer // stderr
	out  *lines     // stdout
}

// logBuffer collects a process's output while a test may print it: the
// copying goroutine of exec writes, the test reads.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines collects a process's output lines as they come.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) add(s string) { l.mu.Lock(); l.all = append(l.all, s); l.mu.Unlock() }

// find returns the first line containing s, waiting up to d for it.
func (l *lines) find(s string, d time.Duration) (string, bool) {
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		l.mu.Lock()
		for _, line := range l.all {
			if strings.Contains(line, s) {
				l.mu.Unlock()
				return line, true
			}
		}
		l.mu.Unlock()
		if time.Now().After(deadline) {
			return "", false
		}
	}
}

var listening = regexp.MustCompile(`hub listening on (http://\S+) `)

// startHub runs the binary with the embedded PostgreSQL in dataDir and
// waits until it prints where it listens.
func startHub(t *testing.T, bin, dataDir string) *hubProc {
	t.Helper()
	return startHubEnv(t, bin, dataDir, nil)
}

// serverDataDir makes the data directory of a hub under test, one that the
// embedded PostgreSQL's server user can reach when the tests run as root
// (t.TempDir is private to its owner). It is removed when the test ends,
// after the hubs the test started have stopped.
func serverDataDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hub-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startHubEnv is startHub with extra environment variables.
func startHubEnv(t *testing.T, bin, dataDir string, env []string) *hubProc {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(append(filteredEnv(), "HUB_DATA_DIR="+dataDir, "HUB_ADDR=127.0.0.1:0", "HUB_LOG_LEVEL=warn"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	})
	found := make(chan string, 1)
	out := &lines{}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.add(sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case url := <-found:
		return &hubProc{cmd: cmd, url: url, logs: logs, out: out}
	case <-time.After(90 * time.Second):
		t.Fatalf("hub did not start within 90s; logs:\n%s", logs)
	}
	return nil
}

// filteredEnv is the test's environment without DATABASE_URL, so the hub
// uses its embedded PostgreSQL.
func filteredEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "HUB_") {
			env = append(env, kv)
		}
	}
	return env
}

func authed(t *testing.T, url, authz string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", authz)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitReady(t *testing.T, h *hubProc) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 60*time.Second {
		if code, _ := get(t, h.url+"/readyz"); code == http.StatusOK {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not ready after 60s; logs:\n%s", h.logs)
	return 0
}

func graphql(t *testing.T, h *hubProc, query string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := http.Post(h.url+"/graphql", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out["errors"] != nil {
		t.Fatalf("graphql errors: %v", out["errors"])
	}
	return out
}

// TestHubSurvivesKill9 runs the real binary on an embedded PostgreSQL,
// kills it with SIGKILL, starts it again on the same data directory, and
// finally stops it with SIGTERM, which must also stop the database server.
func TestHubSurvivesKill9(t *testing.T) {
	bin := buildHub(t)
	dataDir := serverDataDir(t, "e2e")

	h := startHub(t, bin, dataDir)
	t.Logf("first start ready in %s", waitReady(t, h))
	if code, _ := get(t, h.url+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d", code)
	}
	if code, page := get(t, h.url+"/"); code != http.StatusOK || !strings.Contains(page, "graphiql") {
		t.Fatalf("playground = %d", code)
	}
	// Demo mode: the in-process source systems were synced before ready.
	d := graphql(t, h, `{ regions(level: GRID) { totalCount } sources { name status recordsFetched recordsStored recordsQuarantined } cases { totalCount } }`)
	data := d["data"].(map[string]any)
	cases := data["cases"].(map[string]any)["totalCount"].(float64)
	if cases < 4000 || data["regions"].(map[string]any)["totalCount"].(float64) < 20 {
		t.Fatalf("demo data after ready: %v", data)
	}
	for _, s := range data["sources"].([]any) {
		src := s.(map[string]any)
		if src["status"] != "OK" || src["recordsFetched"].(float64) != src["recordsStored"].(float64)+src["recordsQuarantined"].(float64) {
			t.Fatalf("source after the first sync: %v", src)
		}
	}
	// A second process on the same data directory joins the running
	// embedded PostgreSQL to create a key, which the running hub accepts.
	cmd := exec.Command(bin, "apikey", "create", "--role", "analyst", "--name", "e2e")
	cmd.Env = append(filteredEnv(), "HUB_DATA_DIR="+dataDir, "HUB_LOG_LEVEL=warn")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("apikey create beside a running hub: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	key := lines[len(lines)-1]
	if code, _ := authed(t, h.url+"/graphql?query="+url.QueryEscape("{ sources { name } }"), "Bearer "+key); code != http.StatusOK {
		t.Fatalf("new key refused: %d", code)
	}
	if code, _ := authed(t, h.url+"/graphql?query="+url.QueryEscape("{ sources { name } }"), "Bearer hub_forged"); code != http.StatusUnauthorized {
		t.Fatalf("forged key: %d", code)
	}
	// The demo admin key waits in a file only its owner reads, named on
	// stdout (the key itself never is).
	note, ok := h.out.find("demo admin API key in ", 10*time.Second)
	if !ok {
		t.Fatalf("no demo admin key note; stdout: %v", h.out.all)
	}
	keyFile := app.DemoKeyFile(dataDir)
	if !strings.Contains(note, keyFile) {
		t.Fatalf("note %q does not name %s", note, keyFile)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo key file: %v %v", fi, err)
	}
	raw, _ := os.ReadFile(keyFile)
	adminKey := strings.TrimSpace(string(raw))
	if strings.Contains(note, adminKey) {
		t.Fatal("the demo admin key was printed")
	}
	if code, body := authed(t, h.url+"/graphql?query="+url.QueryEscape("{ auditLog { totalCount } }"), "Bearer "+adminKey); code != http.StatusOK || strings.Contains(body, "errors") {
		t.Fatalf("demo admin key: %d %s", code, body)
	}
	if _, metrics := get(t, h.url+"/metrics"); !strings.Contains(metrics, "hub_http_requests_total") || !strings.Contains(metrics, "hub_sql_statement_duration_seconds") {
		t.Fatal("metrics lack the hub's series")
	}

	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()

	h = startHub(t, bin, dataDir)
	t.Logf("restart after kill -9 ready in %s", waitReady(t, h))
	if line, printed := h.out.find("demo admin API key", 0); printed {
		t.Fatalf("the demo key note came again after the key was used: %q", line)
	}
	d = graphql(t, h, `{ cases { totalCount } }`)
	if again := d["data"].(map[string]any)["cases"].(map[string]any)["totalCount"].(float64); again < cases {
		t.Fatalf("cases after restart: %v, before: %v", again, cases)
	}

	stopHub(t, h)
	if _, err := os.Stat(filepath.Join(dataDir, "pg", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("embedded PostgreSQL still running after SIGTERM (postmaster.pid: %v)", err)
	}
}

// stopHub sends SIGTERM and waits for a clean exit.
func stopHub(t *testing.T, h *hubProc) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("hub exited with %v; logs:\n%s", err, h.logs)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("hub did not stop within 60s of SIGTERM")
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, e := range app.EnvVars {
		if !strings.Contains(out.String(), e.Name) {
			t.Errorf("--help lacks %s", e.Name)
		}
	}
	if err := run(context.Background(), []string{"bogus"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
}
