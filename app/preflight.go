package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
)

// Prepared is what the preflight checks built while checking, so that the
// start does not read the same files twice.
type Prepared struct {
	sources *connectors.Config // HUB_SOURCES; nil in demo mode
	layer   *places.Layer      // HUB_REGIONS; nil when unset
	regions string             // the path the layer came from
	jwt     *auth.JWTVerifier  // HUB_JWT_SECRET, HUB_JWKS_FILE; nil when neither
	policy  graph.Config       // Trusted and IntrospectionRoles only
	ln      net.Listener       // HUB_ADDR, bound (serve only)
}

// Close releases what Prepare bound (the listener), for a caller that does
// not go on to Serve.
func (p *Prepared) Close() {
	if p != nil && p.ln != nil {
		p.ln.Close()
	}
}

// layerFor is the preloaded region layer if path is the one it came from.
func (p *Prepared) layerFor(path string) *places.Layer {
	if p == nil || p.layer == nil || path != p.regions {
		return nil
	}
	return p.layer
}

// Prepare checks what the configuration names beyond single variables —
// the sources file and the secrets it refers to (resolved with getenv),
// the region layer, the personal-data key, the JWT keys, the operation
// policy, the data directory — and, with listen, binds the listen address:
// all before PostgreSQL or any source starts, every problem reported at
// once, with cfgErr (the problems LoadConfig found) first.
func Prepare(cfg Config, cfgErr error, getenv func(string) string, listen bool) (*Prepared, error) {
	p := &Prepared{}
	errs := []error{cfgErr} // nil ones vanish in errors.Join
	if cfg.Sources != "" {
		sc, err := connectors.LoadConfig(cfg.Sources, getenv)
		if err != nil {
			errs = append(errs, fmt.Errorf("HUB_SOURCES %s: %w", cfg.Sources, err))
		}
		p.sources = sc
		if cfg.Regions == "" {
			errs = append(errs, errors.New("HUB_REGIONS is required with HUB_SOURCES: the region and grid layer records are placed on"))
		}
	}
	if cfg.Regions != "" {
		layer, err := places.Load(cfg.Regions)
		if err != nil {
			errs = append(errs, fmt.Errorf("HUB_REGIONS %s: %w", cfg.Regions, err))
		}
		p.layer, p.regions = layer, cfg.Regions
	}
	if err := checkPIIKey(cfg); err != nil {
		errs = append(errs, err)
	}
	if fi, err := os.Stat(cfg.DataDir); err == nil && !fi.IsDir() {
		errs = append(errs, fmt.Errorf("HUB_DATA_DIR %s: not a directory", cfg.DataDir))
	}
	if listen {
		jwt, err := jwtVerifier(cfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("JWT configuration: %w", err))
		}
		p.jwt = jwt
		if err := operationPolicy(cfg, &p.policy); err != nil {
			errs = append(errs, err)
		}
		if CheckAddr(cfg.Addr) == nil { // else reported with the variables
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				errs = append(errs, fmt.Errorf("HUB_ADDR %s: %w", cfg.Addr, err))
			}
			p.ln = ln
		}
	}
	if err := errors.Join(errs...); err != nil {
		p.Close()
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return p, nil
}

// operationPolicy loads the registered operations of
// HUB_TRUSTED_DOCUMENTS=only and takes HUB_INTROSPECTION_ROLES.
func operationPolicy(cfg Config, c *graph.Config) error {
	if cfg.TrustedOnly && cfg.TrustedDir != "" {
		docs, err := graph.LoadTrustedDocuments(cfg.TrustedDir)
		if err != nil {
			return err
		}
		c.Trusted = docs
	}
	c.IntrospectionRoles = cfg.IntrospectionRoles
	return nil
}

// jwtVerifier builds the JWT verifier from HUB_JWT_SECRET and
// HUB_JWKS_FILE; nil when neither is set.
func jwtVerifier(cfg Config) (*auth.JWTVerifier, error) {
	if cfg.JWTSecret == "" && cfg.JWKSFile == "" {
		return nil, nil
	}
	o := auth.JWTOptions{Secret: []byte(cfg.JWTSecret), Leeway: 30 * time.Second}
	if cfg.JWKSFile != "" {
		raw, err := os.ReadFile(cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("HUB_JWKS_FILE: %w", err)
		}
		o.JWKS = raw
	}
	return auth.NewJWTVerifier(o)
}

// checkPIIKey checks the personal-data key without creating one:
// HUB_PII_KEY if set (required with HUB_SOURCES; LoadConfig checked it),
// else the demo key file if there is one.
func checkPIIKey(cfg Config) error {
	if cfg.PIIKey != nil || cfg.piiKeyGiven { // LoadConfig reported a bad one
		return nil
	}
	if cfg.Sources != "" {
		return errors.New("HUB_PII_KEY is required when HUB_SOURCES is set: generate one with `openssl rand -hex 32` and keep it secret")
	}
	path := filepath.Join(cfg.DataDir, "pii.key")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // demo mode generates it
	}
	if err != nil {
		return fmt.Errorf("demo PII key: %w", err)
	}
	master, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return fmt.Errorf("demo PII key %s: not hex", path)
	}
	if _, err := pii.NewKeys(master); err != nil {
		return fmt.Errorf("demo PII key %s: %w", path, err)
	}
	return nil
}

// PIIKeys loads the personal-data keys: from HUB_PII_KEY, or in demo mode
// from a key generated once into HUB_DATA_DIR.
func PIIKeys(cfg Config, log *slog.Logger) (*pii.Keys, error) {
	if cfg.PIIKey != nil {
		return pii.NewKeys(cfg.PIIKey)
	}
	if cfg.Sources != "" {
		return nil, errors.New("HUB_PII_KEY is required when HUB_SOURCES is set: generate one with `openssl rand -hex 32` and keep it secret")
	}
	path := filepath.Join(cfg.DataDir, "pii.key")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		master := make([]byte, 32)
		if _, err := rand.Read(master); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(master)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("save demo PII key: %w", err)
		}
		log.Info("generated a demo personal-data key", "path", path)
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

// regionLayer stores the region layer at path: the one Prepare read, or
// read now (the demo city's, written by its simulator).
func regionLayer(ctx context.Context, st *store.Store, pre *Prepared, path string, log *slog.Logger) (*places.Layer, error) {
	layer := pre.layerFor(path)
	if layer == nil {
		var err error
		if layer, err = places.Load(path); err != nil {
			return nil, err
		}
	}
	if err := st.InTx(ctx, func(w *store.Writer) error { return w.UpsertRegions(ctx, layer.Regions()) }); err != nil {
		return nil, fmt.Errorf("store region layer: %w", err)
	}
	log.Info("region layer loaded", "path", path, "regions", len(layer.Regions()))
	return layer, nil
}

// CheckAddr checks a listen address: host:port, the port a number from 0
// (any free port) to 65535.
func CheckAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, e.g. 127.0.0.1:8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("the port must be a number from 0 to 65535 (0 picks a free port)")
	}
	return nil
}
