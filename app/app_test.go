package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestAddressValidation(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:8080": true, ":0": true, "[::1]:65535": true, "127.0.0.1:65536": false,
		"127.0.0.1:99999": false, "127.0.0.1:-1": false, "localhost": false, "127.0.0.1:http": false} {
		if err := CheckAddr(addr); (err == nil) != ok {
			t.Errorf("CheckAddr(%q) = %v", addr, err)
		}
	}
}

// TestDemoAdminKeyIsKeptUntilUsed: the demo admin key is written to a file
// only the owner reads, its path printed on every start until an admin
// key has been used; a lost or revoked key is replaced.
func TestDemoAdminKeyIsKeptUntilUsed(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	dir := t.TempDir()
	start := func() string {
		var out strings.Builder
		if err := demoAdminKey(ctx, st, dir, &out, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	file := DemoKeyFile(dir)
	first := start()
	if !strings.Contains(first, file) {
		t.Fatalf("first start printed %q, want the path %s", first, file)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, fi.Mode())
	}
	raw, _ := os.ReadFile(file)
	key := strings.TrimSpace(string(raw))
	if strings.Contains(first, key) {
		t.Fatal("the key itself was printed")
	}
	if again := start(); again != first {
		t.Fatalf("second start printed %q, want %q", again, first)
	}
	if raw2, _ := os.ReadFile(file); string(raw2) != string(raw) {
		t.Fatal("a second start replaced a good key")
	}
	keys, _ := st.APIKeys(ctx)
	if len(keys) != 1 || keys[0].Role != "admin" {
		t.Fatalf("keys after two starts: %+v", keys)
	}
	// Revoked: a new key replaces it.
	if _, err := st.RevokeAPIKey(ctx, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	start()
	raw3, _ := os.ReadFile(file)
	if string(raw3) == string(raw) {
		t.Fatal("a revoked key was kept")
	}
	key = strings.TrimSpace(string(raw3))
	if _, err := st.APIKeyByHash(ctx, auth.HashKey(key)); err != nil { // the key is used once
		t.Fatalf("the key in the file does not work: %v", err)
	}
	if out := start(); out != "" {
		t.Fatalf("after the key was used the start printed %q", out)
	}
}

func TestConfigValidation(t *testing.T) {
	env := map[string]string{"HUB_ADDR": "nope", "HUB_DEMO_SCALE": "huge", "HUB_SEED": "x", "HUB_LOG_LEVEL": "loud", "HUB_ANONYMOUS_ROLE": "staff",
		"HUB_SCORE_PRESETS": filepath.Join(t.TempDir(), "missing.json")}
	_, err := LoadConfig(func(k string) string { return env[k] })
	for _, want := range []string{"HUB_ADDR", "HUB_DEMO_SCALE", "HUB_SEED", "HUB_LOG_LEVEL", "HUB_ANONYMOUS_ROLE", "HUB_SCORE_PRESETS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v should mention %s", err, want)
		}
	}
	c, err := LoadConfig(func(k string) string {
		return map[string]string{"DATABASE_URL": "postgres://hub:s3cret@db:5432/hub"}[k]
	})
	if err != nil || c.Addr != "127.0.0.1:8080" || c.DataDir != "./.hub" || c.Seed != 1 || c.DemoScale != "small" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	if v := c.LogValue().String(); strings.Contains(v, "s3cret") {
		t.Fatalf("logged config leaks the password: %s", v)
	}
}

// TestSecretsAndPolicyAreTyped: the personal-data key, the JWT settings
// and the operation policy are read into Config with the other variables,
// their problems named by variable, and secrets never logged.
func TestSecretsAndPolicyAreTyped(t *testing.T) {
	env := map[string]string{"HUB_PII_KEY": strings.Repeat("ab", 32), "HUB_JWT_SECRET": "a-secret-of-at-least-thirty-two-chars",
		"HUB_TRUSTED_DOCUMENTS": "only", "HUB_TRUSTED_DOCUMENTS_DIR": "/srv/ops", "HUB_INTROSPECTION_ROLES": "admin, analyst"}
	c, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.PIIKey) != 32 || c.JWTSecret == "" || !c.TrustedOnly || c.TrustedDir != "/srv/ops" ||
		len(c.IntrospectionRoles) != 2 || c.IntrospectionRoles[1] != auth.Analyst {
		t.Fatalf("config %+v", c)
	}
	if v := c.LogValue().String(); strings.Contains(v, "a-secret") || strings.Contains(v, "abab") {
		t.Fatalf("logged config leaks a secret: %s", v)
	}
	env = map[string]string{"HUB_PII_KEY": "not-hex", "HUB_TRUSTED_DOCUMENTS": "only", "HUB_INTROSPECTION_ROLES": "root"}
	_, err = LoadConfig(func(k string) string { return env[k] })
	for _, want := range []string{"HUB_PII_KEY: not hex", `HUB_TRUSTED_DOCUMENTS "only" needs HUB_TRUSTED_DOCUMENTS_DIR`, "HUB_INTROSPECTION_ROLES"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v should mention %q", err, want)
		}
	}
}

// TestConnectorTypes: the wiring links the four connector types the
// README names, each registered by its own package.
func TestConnectorTypes(t *testing.T) {
	if got := strings.Join(connectors.Types(), " "); got != "csvdrop governance open311 party" {
		t.Fatalf("registered connector types: %s", got)
	}
}
