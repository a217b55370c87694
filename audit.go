package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
)

// auditCmd checks the audit log: `audit verify` walks the hash chain and
// reports the first broken link (exit status 1 if there is one).
func auditCmd(ctx context.Context, e *env, args []string) error {
	const summary = "audit verify: check the hash chain of the audit log and report the first broken link"
	if len(args) == 0 || args[0] != "verify" {
		if _, err := e.flags("audit", summary, args, nil); err != nil {
			return err
		}
		return errors.New("audit needs a subcommand: verify")
	}
	if _, err := e.flags("audit verify", summary, args[1:], nil); err != nil {
		return err
	}
	st, _, closeDB, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	brk, n, err := st.VerifyAudit(store.Unscoped(ctx)) // the whole log, for the operator
	if err != nil {
		return err
	}
	if brk != nil {
		return fmt.Errorf("audit log broken at entry %d (after %d entries checked): %s", brk.ID, n, brk.Reason)
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d entries, every link verified\n", n)
	return nil
}

// piiKeys loads the personal-data master key: HUB_PII_KEY (hex, at least 32
// bytes), or in demo mode a key generated once into HUB_DATA_DIR.
func piiKeys(e *env) (*pii.Keys, error) {
	if v := strings.TrimSpace(e.getenv("HUB_PII_KEY")); v != "" {
		master, err := hex.DecodeString(v)
		if err != nil {
			return nil, errors.New("HUB_PII_KEY must be hex (64 or more hex digits)")
		}
		return pii.NewKeys(master)
	}
	if e.cfg.Sources != "" {
		return nil, errors.New("HUB_PII_KEY is required when HUB_SOURCES is set: generate one with `openssl rand -hex 32` and keep it secret")
	}
	path := filepath.Join(e.cfg.DataDir, "pii.key")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		master := make([]byte, 32)
		if _, err := rand.Read(master); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(e.cfg.DataDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(master)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("save demo PII key: %w", err)
		}
		e.log.Info("generated a demo personal-data key", "path", path)
		return pii.NewKeys(master)
	}
	if err != nil {
		return nil, fmt.Errorf("read demo PII key: %w", err)
	}
	master, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("demo PII key %s is not hex", path)
	}
	return pii.NewKeys(master)
}
