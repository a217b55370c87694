package syncer_test

import (
	"context"
	"testing"
	"time"

	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/governance"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/syncer"
)

// TestOutageAndLiveChangesAgainstSimulators syncs the real simulated
// governance and city-management systems: an outage of one marks it
// DEGRADED then DOWN while the other keeps syncing; after recovery, through
// a storm of 429s and 5xx, it continues from its cursor; live changes
// (updates, creations, deletions) arrive with the next incremental pass;
// the ledger holds throughout.
func TestOutageAndLiveChangesAgainstSimulators(t *testing.T) {
	ctx := context.Background()
	clock := city.NewManualClock(city.DefaultReference)
	sys, layer := startSystems(t, sim.Options{Seed: 3, Clock: clock})
	st := referenceStore(t, layer)
	keys, _ := pii.NewKeys([]byte("sync integration test key 32 byt"))
	times := normalize.Times{Now: func() time.Time { return clock.Now().Add(time.Hour) }, Min: time.Date(1949, 10, 1, 0, 0, 0, 0, time.UTC)}
	gov := governance.New(governance.Config{Name: "governance", Endpoint: sys.GovURL, ClientID: sys.ClientID, ClientSecret: sys.ClientSecret,
		Mapper: &governance.Mapper{Source: "governance", Keys: keys, Layer: layer, Times: times, Now: time.Now}})
	cm := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Layer: layer, Times: times})
	e, err := syncer.New(st, []syncer.Source{{Connector: gov, Interval: time.Second}, {Connector: cm, Interval: time.Second}},
		syncer.Options{DownAfter: 2, BatchSize: 3000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.SyncOnce(ctx, "", false); err != nil {
		t.Fatal(err)
	}
	cases := func() int { return scalar(t, st, `SELECT count(*) FROM "case"`) }

	before := cases()

	// Outage of the governance API: DEGRADED, then DOWN; city management unaffected.
	sys.Gov.Faults().SetDown(true)
	for i, want := range []store.SourceStatus{store.SourceDegraded, store.SourceDown} {
		res, _ := e.SyncOnce(ctx, "", false)
		if res["governance"].Status != want || res["citymgmt"].Status != store.SourceOK {
			t.Fatalf("outage pass %d: governance %s, citymgmt %s", i, res["governance"].Status, res["citymgmt"].Status)
		}
	}
	// Changes happen meanwhile; the API stays down for them.
	clock.Advance(30 * 24 * time.Hour)
	changes, err := sys.Step(ctx, 300)
	if err != nil {
		t.Fatal(err)
	}
	deletedEvents := 0
	for _, c := range changes {
		if c.Entity == city.GovEvents && c.Op == city.OpDelete {
			deletedEvents++
		}
	}
	// A storm of 429s and 5xx is survived; recovery catches up from the cursor.
	sys.Gov.Faults().SetDown(false)
	sys.Gov.Faults().SetRateLimit(0.2, time.Second)
	sys.Gov.Faults().SetServerErrors(0.2)
	res, err := e.SyncOnce(ctx, "governance", false)
	if err != nil || res["governance"].Status != store.SourceOK {
		t.Fatalf("recovery: %+v, %v", res["governance"], err)
	}
	sys.Gov.Faults().Reset()
	recovered := res["governance"].Counts.Fetched
	if recovered == 0 || recovered >= 8000 {
		t.Fatalf("recovery read %d records: it should continue from the cursor and find the changes", recovered)
	}
	res, err = e.SyncOnce(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %d live changes: cases %d → %d, recovery pass fetched %d", len(changes), before, cases(), recovered)
	if deletedEvents > 0 && scalar(t, st, `SELECT count(*) FROM sync_run WHERE deleted > 0`) == 0 {
		t.Fatalf("%d events were deleted in the source but no run applied a deletion", deletedEvents)
	}
	// The store now matches the sources: a full re-pull changes nothing.
	fingerprint := func() string {
		var fp string
		if err := st.Pool().QueryRow(ctx, `SELECT md5(string_agg(t || source || source_id || encode(payload_hash, 'hex'), ',' ORDER BY t, source, source_id))
			FROM (SELECT 'c' AS t, source, source_id, payload_hash FROM "case"
				UNION ALL SELECT 'r', source, source_id, payload_hash FROM resident
				UNION ALL SELECT 'h', source, source_id, payload_hash FROM household
				UNION ALL SELECT 'w', source, source_id, payload_hash FROM grid_worker) x`).Scan(&fp); err != nil {
			t.Fatal(err)
		}
		return fp
	}
	fp := fingerprint()
	if _, err := e.SyncOnce(ctx, "", true); err != nil {
		t.Fatal(err)
	}
	if fingerprint() != fp {
		t.Fatal("a full re-pull after the incremental passes changed the store: the incremental passes missed something")
	}
	if n := scalar(t, st, `SELECT count(*) FROM source WHERE records_fetched <> records_stored + records_quarantined`); n != 0 {
		t.Fatal("ledger broken")
	}
}

// referenceStore is a fresh store holding the layer's regions and the
// unified taxonomy with its source mappings, as the hub loads them at start.
func referenceStore(t *testing.T, layer *places.Layer) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := dbtest.NewStore(t)
	if err := st.InTx(ctx, func(w *store.Writer) error {
		if err := w.UpsertRegions(ctx, layer.Regions()); err != nil {
			return err
		}
		return w.UpsertTaxonomy(ctx, normalize.Categories(), normalize.Mappings())
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// startSystems runs the simulated source systems (without live changes
// unless o asks for them, in a temporary directory) and loads their layer.
func startSystems(t *testing.T, o sim.Options) (*sim.Systems, *places.Layer) {
	t.Helper()
	if o.LiveRate == 0 {
		o.LiveRate = -1
	}
	o.DataDir = t.TempDir()
	sys, layer := connectortest.StartSim(t, o)
	return sys, layer
}
