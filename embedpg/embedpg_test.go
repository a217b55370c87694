package embedpg_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/embedpg"
)

// stateDir makes a directory the server user (postgres, when tests run as
// root) can traverse.
func stateDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "embedpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func query(t *testing.T, dsn, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func execSQL(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func start(t *testing.T, dir string) *embedpg.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := embedpg.Start(ctx, embedpg.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func stop(t *testing.T, c *embedpg.Cluster) {
	t.Helper()
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStartReuseStop(t *testing.T) {
	dir := stateDir(t)
	c := start(t, dir)
	if !c.Owner() {
		t.Fatal("first start should own the cluster")
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	execSQL(t, c.DSN(), "CREATE TABLE kept AS SELECT '襄阳' AS name")
	if got := query(t, c.DSN(), "SHOW server_encoding"); got != "UTF8" {
		t.Fatalf("encoding %s", got)
	}
	// A second process on the same directory joins without owning.
	joined := start(t, dir)
	if joined.Owner() || joined.Port() != c.Port() {
		t.Fatalf("second start: owner=%v port=%d, want a joiner on port %d", joined.Owner(), joined.Port(), c.Port())
	}
	stop(t, joined) // leaves the server running
	query(t, c.DSN(), "SELECT 'still up'")
	stop(t, c)
	if _, err := os.Stat(filepath.Join(dir, "pg", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("server still running after Stop: %v", err)
	}
	// Restart reuses the data.
	c = start(t, dir)
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	if got := query(t, c.DSN(), "SELECT name FROM kept"); got != "襄阳" {
		t.Fatalf("data after restart = %q", got)
	}
}

// TestHelperOwner is not a test: the killed-owner test runs it in a child
// process, which starts the cluster, reports its port and waits to be killed.
func TestHelperOwner(t *testing.T) {
	dir := os.Getenv("EMBEDPG_HELPER_DIR")
	if dir == "" {
		return
	}
	c, err := embedpg.Start(context.Background(), embedpg.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("PORT", c.Port())
	time.Sleep(time.Hour)
}

// runOwner starts a child process that owns the cluster and returns it once
// the server is up.
func runOwner(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOwner$", "-test.v")
	cmd.Env = append(os.Environ(), "EMBEDPG_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var got strings.Builder
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(got.String(), "PORT ") {
		if time.Now().After(deadline) {
			t.Fatalf("helper did not start: %s", got.String())
		}
		n, err := out.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("helper: %v: %s", err, got.String())
		}
	}
	return cmd
}

func TestRecoversAfterOwnerKilled(t *testing.T) {
	dir := stateDir(t)
	owner := runOwner(t, dir)
	if err := owner.Process.Kill(); err != nil { // SIGKILL: no cleanup at all
		t.Fatal(err)
	}
	_ = owner.Wait()
	pidBefore := readPid(t, dir)

	// The server outlived its owner; the next start adopts it.
	c := start(t, dir)
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	if !c.Owner() {
		t.Fatal("start after a killed owner should take ownership")
	}
	if pid := readPid(t, dir); pid != pidBefore {
		t.Fatalf("adopting should keep the orphaned server (pid %d), got %d", pidBefore, pid)
	}
	query(t, c.DSN(), "SELECT 'adopted'")
}

func TestRecoversFromStalePidFile(t *testing.T) {
	dir := stateDir(t)
	owner := runOwner(t, dir)
	_ = owner.Process.Kill()
	_ = owner.Wait()
	// Kill the server too, the way a power cut would: postmaster.pid stays.
	pid := readPid(t, dir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if _, err := os.Stat(filepath.Join(dir, "pg", "postmaster.pid")); err != nil {
		t.Fatalf("expected a stale postmaster.pid: %v", err)
	}
	c := start(t, dir)
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	query(t, c.DSN(), "SELECT 'recovered'")
}

func TestNoBinaries(t *testing.T) {
	_, err := embedpg.Start(context.Background(), embedpg.Options{Dir: filepath.Join(t.TempDir(), "pg"), BinDir: t.TempDir()})
	if !errors.Is(err, embedpg.ErrNoBinaries) {
		t.Fatalf("err = %v, want ErrNoBinaries", err)
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("error should be one line naming DATABASE_URL: %q", err)
	}
}

func TestUnreachableDataDirIsExplained(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the data directory to another user")
	}
	locked, err := os.MkdirTemp("", "embedpg-locked-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(locked)
	if err := os.Chmod(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = embedpg.Start(context.Background(), embedpg.Options{Dir: filepath.Join(locked, "hub", "pg")})
	if err == nil || !strings.Contains(err.Error(), "HUB_DATA_DIR") || !strings.Contains(err.Error(), locked) {
		t.Fatalf("err = %v, want an explanation naming %s and HUB_DATA_DIR", err, locked)
	}
}

func readPid(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pg", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("process %d did not exit", pid)
}

func TestChineseTextClassification(t *testing.T) {
	c := start(t, stateDir(t))
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	execSQL(t, c.DSN(), "CREATE EXTENSION IF NOT EXISTS pg_trgm")
	// Trigrams of Chinese text exist only with UTF-8 character classes.
	if got := query(t, c.DSN(), "SELECT array_length(show_trgm('占道经营'), 1)::text"); got == "" || got == "0" {
		t.Fatalf("no trigrams for Chinese text (%q): search indexes would not work", got)
	}
}
