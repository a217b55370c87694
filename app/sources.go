package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/app/demo"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/syncer"

	// The connector types a sources file may name: each registers itself
	// (connectors.Register). A new type is one more import here.
	_ "github.com/ywtg/hub/connectors/citymgmt"
	_ "github.com/ywtg/hub/connectors/citymgmt/csvdrop"
	_ "github.com/ywtg/hub/connectors/governance"
	_ "github.com/ywtg/hub/connectors/party"
)

// hubSources is what the hub syncs: the connectors, the reference layer
// they place records on, and the demo systems when it runs them.
type hubSources struct {
	sources []syncer.Source
	layer   *places.Layer
	demo    *sim.Systems
	// closeConnectors releases what the connectors hold (database pools).
	closeConnectors func()
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
	if h.closeConnectors != nil {
		h.closeConnectors()
	}
	if h.demo != nil {
		h.demo.Close()
	}
}

// DemoPartyDatabase creates the demo party-building database (party_src)
// beside the hub's own, on the same server, and returns its URL.
func DemoPartyDatabase(ctx context.Context, hubDSN string) (string, error) {
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

// buildSources takes the sources HUB_SOURCES configured (read and checked
// by Prepare), or in demo mode starts the simulated source systems
// in-process and takes the demo source set over them; the connectors are
// built from their types' registrations. The reference layer and the
// unified taxonomy are loaded into the store.
func buildSources(ctx context.Context, cfg Config, pre *Prepared, st *store.Store, hubDSN string, keys *pii.Keys, log *slog.Logger) (*hubSources, error) {
	h := &hubSources{addresses: address.NewDirectory(st, 0, log), optional: map[string]bool{}}
	var sc *connectors.Config
	regions := cfg.Regions
	if cfg.Sources == "" {
		scale, err := city.ParseScale(cfg.DemoScale)
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(cfg.DataDir, "demo")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("demo data directory: %w", err)
		}
		partyDSN, err := DemoPartyDatabase(ctx, hubDSN)
		if err != nil {
			return nil, err
		}
		live := cfg.DemoLiveRate
		if live == 0 {
			live = -1 // the simulator's "none"
		}
		h.demo, err = sim.Start(ctx, sim.Options{Seed: uint64(cfg.Seed), Scale: scale, DataDir: dir, LiveRate: live, PartyDSN: partyDSN, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("demo source systems: %w", err)
		}
		log.Info("demo source systems running", "governance", h.demo.GovURL, "open311", h.demo.Open311URL)
		if regions == "" {
			regions = h.demo.LayerPath
		}
		if sc, err = demo.Sources(h.demo, cfg.SyncInterval); err != nil {
			h.close()
			return nil, err
		}
	} else if pre != nil && pre.sources != nil {
		sc = pre.sources
	} else {
		h.close()
		return nil, fmt.Errorf("HUB_SOURCES %s: not checked before the start", cfg.Sources)
	}
	if regions == "" {
		h.close()
		return nil, fmt.Errorf("HUB_REGIONS is required with HUB_SOURCES: the region and grid layer records are placed on")
	}
	layer, err := regionLayer(ctx, st, pre, regions, log)
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
	list, closeConnectors, err := connectors.NewAll(ctx, sc, connectors.Deps{Keys: keys, Layer: layer, Addresses: h.addresses,
		Times: normalize.DefaultTimes(), Log: log})
	if err != nil {
		h.close()
		return nil, err
	}
	h.closeConnectors = closeConnectors
	for i, s := range sc.Sources {
		h.sources = append(h.sources, syncer.Source{Connector: list[i], Interval: time.Duration(s.Interval)})
		h.optional[s.Name] = s.Optional
	}
	// The directory follows the store: rebuilt after a committed change
	// to compounds or buildings, not on a timer.
	followCtx, stop := context.WithCancel(ctx)
	h.stopFollow = stop
	go h.addresses.Follow(followCtx, st.WatchChanges(followCtx).Current, addressPoll)
	return h, nil
}
