package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
)

// prepared is what the preflight checks built while checking, so that the
// start does not read the same files twice.
type prepared struct {
	sources *connectors.Config // HUB_SOURCES; nil in demo mode
	layer   *places.Layer      // HUB_REGIONS; nil when unset
	regions string             // the path the layer came from
	jwt     *auth.JWTVerifier  // HUB_JWT_SECRET, HUB_JWKS_FILE; nil when neither
	policy  graph.Config       // Trusted and IntrospectionRoles only
	ln      net.Listener       // HUB_ADDR, bound (serve only)
}

// layerFor is the preloaded region layer if path is the one it came from.
func (p *prepared) layerFor(path string) *places.Layer {
	if p == nil || p.layer == nil || path != p.regions {
		return nil
	}
	return p.layer
}

// preflight checks what the configuration names beyond single variables —
// the sources file and the secrets it refers to, the region layer, the
// personal-data key, the JWT keys, the operation policy, the data
// directory — and, with listen, binds the listen address: all before
// PostgreSQL or any source starts, every problem reported at once.
func preflight(e *env, listen bool) (*prepared, error) {
	p := &prepared{}
	errs := []error{e.cfgErr} // nil ones vanish in errors.Join
	if e.cfg.Sources != "" {
		cfg, err := connectors.LoadConfig(e.cfg.Sources, e.getenv)
		if err != nil {
			errs = append(errs, fmt.Errorf("HUB_SOURCES %s: %w", e.cfg.Sources, err))
		}
		p.sources = cfg
		if e.cfg.Regions == "" {
			errs = append(errs, errors.New("HUB_REGIONS is required with HUB_SOURCES: the region and grid layer records are placed on"))
		}
	}
	if e.cfg.Regions != "" {
		layer, err := places.Load(e.cfg.Regions)
		if err != nil {
			errs = append(errs, fmt.Errorf("HUB_REGIONS %s: %w", e.cfg.Regions, err))
		}
		p.layer, p.regions = layer, e.cfg.Regions
	}
	if err := checkPIIKey(e); err != nil {
		errs = append(errs, err)
	}
	if fi, err := os.Stat(e.cfg.DataDir); err == nil && !fi.IsDir() {
		errs = append(errs, fmt.Errorf("HUB_DATA_DIR %s: not a directory", e.cfg.DataDir))
	}
	if listen {
		jwt, err := jwtVerifier(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("JWT configuration: %w", err))
		}
		p.jwt = jwt
		if err := operationPolicy(e, &p.policy); err != nil {
			errs = append(errs, err)
		}
		if checkAddr(e.cfg.Addr) == nil { // else reported with the variables
			ln, err := net.Listen("tcp", e.cfg.Addr)
			if err != nil {
				errs = append(errs, fmt.Errorf("HUB_ADDR %s: %w", e.cfg.Addr, err))
			}
			p.ln = ln
		}
	}
	if err := errors.Join(errs...); err != nil {
		if p.ln != nil {
			p.ln.Close()
		}
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return p, nil
}

// checkPIIKey checks the personal-data key without creating one:
// HUB_PII_KEY if set (required with HUB_SOURCES), else the demo key file
// if there is one.
func checkPIIKey(e *env) error {
	if v := strings.TrimSpace(e.getenv("HUB_PII_KEY")); v != "" {
		master, err := hex.DecodeString(v)
		if err != nil {
			return errors.New("HUB_PII_KEY: not hex (want 64 or more hex digits, e.g. from `openssl rand -hex 32`)")
		}
		if _, err := pii.NewKeys(master); err != nil {
			return fmt.Errorf("HUB_PII_KEY: %w", err)
		}
		return nil
	}
	if e.cfg.Sources != "" {
		return errors.New("HUB_PII_KEY is required when HUB_SOURCES is set: generate one with `openssl rand -hex 32` and keep it secret")
	}
	path := filepath.Join(e.cfg.DataDir, "pii.key")
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

// regionLayer stores the region layer at path: the one preflight read, or
// read now (the demo city's, written by its simulator).
func regionLayer(ctx context.Context, st *store.Store, e *env, path string) (*places.Layer, error) {
	layer := e.pre.layerFor(path)
	if layer == nil {
		return loadRegions(ctx, st, path, e.log)
	}
	if err := st.InTx(ctx, func(w *store.Writer) error { return w.UpsertRegions(ctx, layer.Regions()) }); err != nil {
		return nil, fmt.Errorf("store region layer: %w", err)
	}
	e.log.Info("region layer loaded", "path", path, "regions", len(layer.Regions()))
	return layer, nil
}

// checkAddr checks a listen address: host:port, the port a number from 0
// (any free port) to 65535.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, e.g. 127.0.0.1:8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("the port must be a number from 0 to 65535 (0 picks a free port)")
	}
	return nil
}
