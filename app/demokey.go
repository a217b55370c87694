package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/store"
)

// demoKeyName names the admin key a demo hub creates for its operator.
const demoKeyName = "demo admin"

// DemoKeyFile is where a demo hub keeps its admin key.
func DemoKeyFile(dataDir string) string { return filepath.Join(dataDir, "demo-admin.key") }

// demoAdminKey gives the operator of a demo hub an admin key: written to
// HUB_DATA_DIR/demo-admin.key (mode 0600), never to the terminal or the
// logs, and its path printed on every start until an admin key has been
// used, so it cannot be lost. A file whose key is no longer active (or
// none) is replaced by a new key.
func demoAdminKey(ctx context.Context, st *store.Store, dataDir string, stdout io.Writer, log *slog.Logger) error {
	keys, err := st.APIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Role == string(auth.Admin) && k.LastUsedAt != nil {
			return nil // the operator has an admin key in use
		}
	}
	path := DemoKeyFile(dataDir)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if raw, err := os.ReadFile(path); err == nil {
		key := strings.TrimSpace(string(raw))
		for _, k := range keys {
			if k.Name == demoKeyName && k.Role == string(auth.Admin) && k.RevokedAt == nil &&
				strings.HasPrefix(key, k.Prefix) && len(key) > len(k.Prefix) {
				printDemoKey(stdout, path)
				return nil
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("demo admin key: %w", err)
	}
	key, hash, err := auth.NewKey()
	if err != nil {
		return err
	}
	id, err := st.CreateAPIKey(ctx, store.APIKey{Name: demoKeyName, Prefix: key[:len(auth.KeyPrefix)+6], Role: string(auth.Admin),
		Scopes: []string{"pii:read"}}, hash)
	if err != nil {
		return err
	}
	if err := writeSecret(path, key+"\n"); err != nil {
		if _, rerr := st.RevokeAPIKey(ctx, id); rerr != nil {
			log.Error("revoke the unsaved demo admin key", "id", id, "err", rerr)
		}
		return fmt.Errorf("demo admin key: %w", err)
	}
	printDemoKey(stdout, path)
	return nil
}

func printDemoKey(stdout io.Writer, path string) {
	fmt.Fprintf(stdout, "demo admin API key in %s (send it as Authorization: Bearer <key>; this note repeats until an admin key is used)\n", path)
}

// writeSecret replaces the file at path with content, readable by its
// owner only, atomically.
func writeSecret(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename: nothing
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
