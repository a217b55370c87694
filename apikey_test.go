package main

import (
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store/storetest"
)

func TestMain(m *testing.M) {
	dbtest.Main(m, func() {
		if hubBinary.dir != "" {
			os.RemoveAll(hubBinary.dir)
		}
	})
}

func TestAPIKeyCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, dsn := dbtest.NewStoreDSN(t)
	storetest.SeedRegions(t, st)
	env := map[string]string{"DATABASE_URL": dsn}
	getenv := func(k string) string { return env[k] }
	hub := func(args ...string) (string, error) {
		var out strings.Builder
		err := run(ctx, args, getenv, &out, io.Discard)
		return out.String(), err
	}
	out, err := hub("apikey", "create", "--role", "staff", "--region", "420606001001", "--scopes", "cases:read,pii:read", "--name", "长虹社区网格站")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]
	if !regexp.MustCompile(`^hub_[A-Za-z0-9_-]{32}$`).MatchString(key) {
		t.Fatalf("last line is not a key: %q", key)
	}
	k, err := st.APIKeyByHash(ctx, auth.HashKey(key))
	if err != nil || k.Role != "staff" || *k.RegionCode != "420606001001" || len(k.Scopes) != 2 {
		t.Fatalf("stored key = %+v, %v", k, err)
	}
	if _, err := hub("apikey", "create", "--role", "staff"); err == nil {
		t.Fatal("staff key without region accepted")
	}
	if _, err := hub("apikey", "create", "--role", "root"); err == nil {
		t.Fatal("unknown role accepted")
	}
	if _, err := hub("apikey", "create", "--role", "analyst", "--region", "999"); err == nil {
		t.Fatal("unknown region accepted")
	}
	out, err = hub("apikey", "list")
	if err != nil || !strings.Contains(out, "长虹社区网格站") || !strings.Contains(out, "active") || strings.Contains(out, key) {
		t.Fatalf("list = %q, %v", out, err)
	}
	if _, err := hub("apikey", "revoke", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.APIKeyByHash(ctx, auth.HashKey(key)); err == nil {
		t.Fatal("revoked key still usable")
	}
	if _, err := hub("apikey", "revoke", "1"); err == nil {
		t.Fatal("revoking twice succeeded")
	}
}
