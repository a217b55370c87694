package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/citymgmt/csvdrop"
	"github.com/ywtg/hub/connectors/governance"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/party"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/syncer"
)

// hubSources is what the hub syncs: the connectors, the reference layer
// they place records on, and the demo systems when it runs them.
type hubSources struct {
	sources []syncer.Source
	layer   *places.Layer
	demo    *sim.Systems
	pools   []*pgxpool.Pool
	// addresses is the gazetteer of the store's regions, compounds and
	// buildings, shared by the connectors (grid placement by address) and
	// the API (Query.standardizeAddress).
	addresses *address.Directory
	// optional names the sources that do not hold readiness.
	optional map[string]bool
	// stopFollow ends the directory's following of the store's changes.
	stopFollow context.CancelFunc
}

func (h *hubSources) close() {
	if h.stopFollow != nil {
		h.stopFollow()
	}
	for _, p := range h.pools {
		p.Close()
	}
	if h.demo != nil {
		h.demo.Close()
	}
}

// demoPartyDatabase creates the demo party-building database (party_src)
// beside the hub's own, on the same server, and returns its URL.
func demoPartyDatabase(ctx context.Context, hubDSN string) (string, error) {
	conn, err := pgx.Connect(ctx, hubDSN)
	if err != nil {
		return "", fmt.Errorf("demo party database: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'party_src')").Scan(&exists); err != nil {
		return "", fmt.Errorf("demo party database: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE party_src"); err != nil {
			return "", fmt.Errorf("demo party database: %w", err)
		}
	}
	cfg := conn.Config()
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Path: "/party_src", RawQuery: "sslmode=disable"}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	} else {
		u.User = url.User(cfg.User)
	}
	return u.String(), nil
}

// addressPoll is how often the address directory looks at the store's
// change generation; it queries the reference's fingerprint only after a
// committed change (or every poll while the notifications are down).
const addressPoll = time.Second

// buildSources reads HUB_SOURCES, or in demo mode starts the simulated
// source systems in-process and configures the same connectors for them.
// The reference layer and the unified taxonomy are loaded into the store.
func buildSources(ctx context.Context, e *env, st *store.Store, hubDSN string, keys *pii.Keys) (*hubSources, error) {
	h := &hubSources{addresses: address.NewDirectory(st, 0, e.log), optional: map[string]bool{}}
	var cfg *connectors.Config
	regions := e.cfg.Regions
	if e.cfg.Sources == "" {
		scale, err := city.ParseScale(e.cfg.DemoScale)
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(e.cfg.DataDir, "demo")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("demo data directory: %w", err)
		}
		partyDSN, err := demoPartyDatabase(ctx, hubDSN)
		if err != nil {
			return nil, err
		}
		live := e.cfg.DemoLiveRate
		if live == 0 {
			live = -1 // the simulator's "none"
		}
		h.demo, err = sim.Start(ctx, sim.Options{Seed: uint64(e.cfg.Seed), Scale: scale, DataDir: dir, LiveRate: live, PartyDSN: partyDSN, Logger: e.log})
		if err != nil {
			return nil, fmt.Errorf("demo source systems: %w", err)
		}
		e.log.Info("demo source systems running", "governance", h.demo.GovURL, "open311", h.demo.Open311URL)
		if regions == "" {
			regions = h.demo.LayerPath
		}
		every, timeout := connectors.Duration(e.cfg.SyncInterval), connectors.Duration(30*time.Second)
		cfg = &connectors.Config{Sources: []connectors.SourceConfig{{
			Name: "party", Type: "party", Description: "党建信息系统（演示）", DSNEnv: "", Datum: canon.BD09, Interval: every,
		}, {
			Name: "governance", Type: "governance", Description: "综治网格化服务管理平台（演示）",
			Endpoint: h.demo.GovURL, ClientID: h.demo.ClientID, Datum: canon.BD09, RateLimit: 50, Interval: every, Timeout: timeout,
		}, {
			Name: "citymgmt", Type: "open311", Description: "数字化城市管理信息系统（演示）",
			Endpoint: h.demo.Open311URL + "/open311/v2", Format: "json", Paging: "auto", Datum: canon.GCJ02, RateLimit: 50, Interval: every, Timeout: timeout,
		}, {
			// The export fills in the Open311 source's history: a case
			// both channels describe is stored once, as Open311 has it
			// (docs/sources.md).
			Name: "citymgmt-archive", Type: "csvdrop", Description: "数字城管历史案件导出（演示）", Dir: h.demo.CSVDir, Datum: canon.GCJ02, Interval: every,
			Backfills: "citymgmt",
		}}}
	} else {
		var err error
		if e.pre != nil && e.pre.sources != nil {
			cfg = e.pre.sources // read and checked by preflight
		} else if cfg, err = connectors.LoadConfig(e.cfg.Sources, e.getenv); err != nil {
			return nil, err
		}
	}
	if regions == "" {
		h.close()
		return nil, fmt.Errorf("HUB_REGIONS is required with HUB_SOURCES: the region and grid layer records are placed on")
	}
	layer, err := regionLayer(ctx, st, e, regions)
	if err != nil {
		h.close()
		return nil, err
	}
	h.layer = layer
	if err := st.InTx(ctx, func(w *store.Writer) error {
		return w.UpsertTaxonomy(ctx, normalize.Categories(), normalize.Mappings())
	}); err != nil {
		h.close()
		return nil, fmt.Errorf("load taxonomy: %w", err)
	}
	for _, sc := range cfg.Sources {
		secret, dsn := e.getenv(sc.ClientSecretEnv), e.getenv(sc.DSNEnv)
		if h.demo != nil {
			secret, dsn = h.demo.ClientSecret, h.demo.PartyDSN
		}
		c, err := h.newConnector(ctx, e, sc, secret, dsn, layer, keys)
		if err != nil {
			h.close()
			return nil, err
		}
		h.sources = append(h.sources, syncer.Source{Connector: c, Interval: time.Duration(sc.Interval)})
		h.optional[sc.Name] = sc.Optional
	}
	// The directory follows the store: rebuilt after a committed change
	// to compounds or buildings, not on a timer.
	followCtx, stop := context.WithCancel(ctx)
	h.stopFollow = stop
	go h.addresses.Follow(followCtx, st.WatchChanges(followCtx).Current, addressPoll)
	return h, nil
}

// newConnector builds the connector of one configured source.
func (h *hubSources) newConnector(ctx context.Context, e *env, sc connectors.SourceConfig, secret, dsn string, layer *places.Layer, keys *pii.Keys) (connectors.Connector, error) {
	switch sc.Type {
	case "party":
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("source %s: invalid database URL in %s", sc.Name, sc.DSNEnv)
		}
		h.pools = append(h.pools, pool)
		return party.New(party.Config{Name: sc.Name, Description: sc.Description, Pool: pool, Datum: sc.Datum, Keys: keys,
			Layer: layer, Times: normalize.DefaultTimes()}), nil
	case "governance":
		m := &governance.Mapper{Source: sc.Name, Keys: keys, Layer: layer, Addresses: h.addresses, Times: normalize.DefaultTimes(), Now: time.Now}
		return governance.New(governance.Config{Name: sc.Name, Description: sc.Description, Endpoint: sc.Endpoint,
			ClientID: sc.ClientID, ClientSecret: secret, RateLimit: sc.RateLimit, Timeout: time.Duration(sc.Timeout),
			Log: e.log, Mapper: m}), nil
	case "open311":
		return citymgmt.New(citymgmt.Config{Name: sc.Name, Description: sc.Description, Endpoint: sc.Endpoint, Format: sc.Format,
			Paging: sc.Paging, Overlap: time.Duration(sc.Overlap), Datum: sc.Datum, RateLimit: sc.RateLimit, Timeout: time.Duration(sc.Timeout),
			Log: e.log, Layer: layer, Addresses: h.addresses, Times: normalize.DefaultTimes()}), nil
	case "csvdrop":
		return csvdrop.New(csvdrop.Config{Name: sc.Name, Description: sc.Description, Dir: sc.Dir, Datum: sc.Datum, Layer: layer, Addresses: h.addresses, Backfills: sc.Backfills,
			Times: normalize.DefaultTimes(), Log: e.log}), nil
	}
	return nil, fmt.Errorf("source %s: connector type %q is not available in this build (available: party, governance, open311, csvdrop)", sc.Name, sc.Type)
}
