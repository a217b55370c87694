package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/embedpg"
	"github.com/ywtg/hub/store"
)

// TestServedHubResolvesPastTheQueryTimeout: the API's statement timeout
// (HUB_QUERY_TIMEOUT) does not bound entity resolution, whose statements
// take longer than a request may wait at city scale. Here another session
// holds the analysts' decisions, which every resolution reads, for longer
// than the timeout while the first resolutions start: they wait, and
// resolve.
func TestServedHubResolvesPastTheQueryTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole hub")
	}
	bin := buildHub(t)
	dir := serverDataDir(t, "timeout")
	ctx := context.Background()
	cluster, err := embedpg.Start(ctx, embedpg.Options{Dir: filepath.Join(dir, "pg"), Database: "hub", Port: freeTCPPort(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cluster.Stop(context.Background()) }()
	dsn := cluster.DSN()
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE match_decision IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	h := startHubEnv(t, bin, filepath.Join(dir, "hub"), []string{"DATABASE_URL=" + dsn, "HUB_QUERY_TIMEOUT=100ms",
		"HUB_DEMO_LIVE_RATE=0", "HUB_SYNC_INTERVAL=1h", "HUB_LOG_LEVEL=info"})
	waitReady(t, h) // every source's first pass has ended: the resolutions start
	time.Sleep(1500 * time.Millisecond)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	resolved := func(logs string) bool {
		return strings.Contains(logs, `"msg":"persons resolved"`) && strings.Contains(logs, `"msg":"incidents regrouped"`) &&
			strings.Contains(logs, `"msg":"building links updated"`)
	}
	for start := time.Now(); !resolved(h.logs.String()); time.Sleep(100 * time.Millisecond) {
		if time.Since(start) > 60*time.Second {
			t.Fatalf("persons, incidents and building links not all resolved after 60 s; logs:\n%s", h.logs)
		}
	}
	for _, failed := range []string{"person resolution failed", "incident regrouping failed", "building linking failed"} {
		if strings.Contains(h.logs.String(), failed) {
			t.Fatalf("%s; logs:\n%s", failed, h.logs)
		}
	}
}

// TestServedHubResolvesPersonsOnceHomesAreLinked: the served hub's first
// person resolution starts once the linker has linked the members' homes
// (a member's dwelling is a field resolution compares), not beside the
// whole linking, where it took members before their dwellings were known.
func TestServedHubResolvesPersonsOnceHomesAreLinked(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole hub")
	}
	h := startHubEnv(t, buildHub(t), serverDataDir(t, "homes"), []string{"HUB_DEMO_LIVE_RATE=0", "HUB_LOG_LEVEL=info"})
	waitReady(t, h)
	const homes, persons = `"msg":"members' homes linked"`, `"msg":"persons resolved"`
	for start := time.Now(); !strings.Contains(h.logs.String(), persons); time.Sleep(100 * time.Millisecond) {
		if time.Since(start) > 60*time.Second {
			t.Fatalf("persons not resolved after 60 s; logs:\n%s", h.logs)
		}
	}
	logs := h.logs.String()
	if i, j := strings.Index(logs, homes), strings.Index(logs, persons); i < 0 || i > j {
		t.Fatalf("persons resolved before the members' homes were linked; logs:\n%s", logs)
	}
	if strings.Contains(logs, "person resolution failed") || strings.Contains(logs, "building linking failed") {
		t.Fatalf("resolution failed; logs:\n%s", logs)
	}
}
