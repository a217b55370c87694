package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// hub runs the command line in-process with the given environment.
func hubRun(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	err = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestHelp(t *testing.T) {
	t.Parallel()
	none := map[string]string{}
	out, _, err := hubRun(t, none, "help")
	if err != nil || !strings.Contains(out, "Commands:") || !strings.Contains(out, "HUB_MAX_DEPTH") {
		t.Fatalf("hub help: %v\n%s", err, out)
	}
	// help COMMAND and COMMAND --help are the same, and show only the
	// command: its flags, its variables, not the global help.
	viaHelp, _, err := hubRun(t, none, "help", "sync")
	if err != nil {
		t.Fatal(err)
	}
	viaFlag, _, err := hubRun(t, none, "sync", "--help")
	if err != nil || viaFlag != viaHelp {
		t.Fatalf("sync --help differs from help sync (%v):\n%s\n---\n%s", err, viaFlag, viaHelp)
	}
	for _, want := range []string{"Usage: hub sync", "Flags:", "-source", "-full", "Environment:", "HUB_SOURCES", "HUB_PII_KEY", "DATABASE_URL"} {
		if !strings.Contains(viaHelp, want) {
			t.Errorf("help sync lacks %q:\n%s", want, viaHelp)
		}
	}
	for _, unwanted := range []string{"Commands:", "HUB_MAX_DEPTH", "HUB_JWT_SECRET", "HUB_RESPONSE_CACHE_MB"} {
		if strings.Contains(viaHelp, unwanted) {
			t.Errorf("help sync shows %q, which sync does not read:\n%s", unwanted, viaHelp)
		}
	}
	// Commands without flags show no Flags block.
	for _, c := range [][]string{{"apikey", "--help"}, {"audit", "--help"}, {"migrate", "--help"}, {"serve", "--help"}, {"help", "apikey", "list"}} {
		out, _, err := hubRun(t, none, c...)
		if err != nil || !strings.HasPrefix(out, "Usage: hub "+c[0]) && !strings.HasPrefix(out, "Usage: hub "+c[1]) {
			t.Errorf("%v: %v\n%s", c, err, out)
		}
		if strings.Contains(out, "Flags:") {
			t.Errorf("%v shows an empty Flags block:\n%s", c, out)
		}
		if strings.Contains(out, "Commands:") {
			t.Errorf("%v shows the global help:\n%s", c, out)
		}
	}
	out, _, err = hubRun(t, none, "serve", "--help")
	if err != nil || !strings.Contains(out, "HUB_MAX_DEPTH") || !strings.Contains(out, "HUB_ADDR") {
		t.Fatalf("serve reads every variable: %v\n%s", err, out)
	}
	out, _, err = hubRun(t, none, "apikey", "create", "--help")
	if err != nil || !strings.Contains(out, "-role") || strings.Contains(out, "HUB_ADDR") {
		t.Fatalf("apikey create --help: %v\n%s", err, out)
	}
	// Help needs no configuration: it works with a broken one.
	if _, _, err := hubRun(t, map[string]string{"HUB_ADDR": "nope"}, "help", "migrate"); err != nil {
		t.Fatalf("help with a broken configuration: %v", err)
	}
	if _, _, err := hubRun(t, none, "help", "bogus"); err == nil {
		t.Fatal("help of an unknown command succeeded")
	}
}

// TestConfigurationIsCheckedBeforeAnythingStarts gives serve a
// configuration with many problems: every one is reported at once, and
// neither PostgreSQL nor a demo key was started or written.
func TestConfigurationIsCheckedBeforeAnythingStarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badSources := filepath.Join(dir, "sources.yaml")
	if err := os.WriteFile(badSources, []byte("sources:\n  - name: gov\n    type: governance\n    endpoint: http://127.0.0.1:1\n    client_id: x\n    client_secret_env: GOV_SECRET_UNSET\n    password: inline\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HUB_DATA_DIR":          dir,
		"HUB_ADDR":              "127.0.0.1:99999",
		"HUB_SOURCES":           badSources,
		"HUB_PII_KEY":           "not-hex",
		"HUB_MAX_DEPTH":         "-1",
		"HUB_TRUSTED_DOCUMENTS": "sometimes",
	}
	_, _, err := hubRun(t, env, "serve")
	if err == nil {
		t.Fatal("a broken configuration started")
	}
	for _, want := range []string{"HUB_ADDR", "0 to 65535", "HUB_SOURCES", "GOV_SECRET_UNSET", "HUB_PII_KEY", "HUB_MAX_DEPTH", "HUB_REGIONS", "HUB_TRUSTED_DOCUMENTS",
		"source 1 (gov): line 7: field password is not a setting of governance sources"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %s:\n%v", want, err)
		}
	}
	assertNothingStarted(t, dir)

	// A port in use is found before PostgreSQL starts too, in demo mode.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, _, err = hubRun(t, map[string]string{"HUB_DATA_DIR": dir, "HUB_ADDR": ln.Addr().String()}, "serve")
	if err == nil || !strings.Contains(err.Error(), "HUB_ADDR") {
		t.Fatalf("port in use: %v", err)
	}
	assertNothingStarted(t, dir)

	// A command reports only the problems of what it reads.
	_, _, err = hubRun(t, map[string]string{"HUB_DATA_DIR": dir, "HUB_MAX_DEPTH": "-1", "DATABASE_URL": "postgres://h:99999999/x"}, "migrate")
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") || strings.Contains(err.Error(), "HUB_MAX_DEPTH") {
		t.Fatalf("migrate: %v", err)
	}
}

func assertNothingStarted(t *testing.T, dir string) {
	t.Helper()
	for _, p := range []string{"pg", "demo", "demo-admin.key", "pii.key"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after a refused start (%v)", p, err)
		}
	}
}

// TestAPIKeyListAlignsWideNames lists keys named in Chinese and in ASCII:
// every column starts at the same display column on every line.
func TestAPIKeyListAlignsWideNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, dsn := dbtest.NewStoreDSN(t)
	storetest.SeedRegions(t, st)
	env := map[string]string{"DATABASE_URL": dsn}
	for _, name := range []string{"长虹社区网格站", "ops", "襄阳市城市运行管理中心"} {
		if _, _, err := hubRun(t, env, "apikey", "create", "--role", "analyst", "--name", name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateAPIKey(ctx, store.APIKey{Name: "x", Prefix: "hub_abcdef", Role: "viewer"}, randomHash(t)); err != nil {
		t.Fatal(err)
	}
	out, _, err := hubRun(t, env, "apikey", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("list:\n%s", out)
	}
	header := lines[0]
	col := func(line, after string) int {
		i := strings.Index(line, after)
		return runewidth.StringWidth(line[:i])
	}
	// Each line's CREATED value (a date) starts where the header's does.
	want := col(header, "CREATED")
	date := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	for _, l := range lines[1:] {
		m := date.FindStringIndex(l)
		if m == nil || runewidth.StringWidth(l[:m[0]]) != want {
			t.Errorf("CREATED is not aligned:\n%s\n%s", header, l)
		}
	}
}

func randomHash(t *testing.T) []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return auth.HashKey("hub_" + hex.EncodeToString(b))
}
