package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
)

// syncDemo syncs the small demo city (seed 1) into a fresh store the way a
// deployment does — `hub sync` over a sources file naming the simulated
// systems, with the personal-data master key given — and returns the store
// and a function that runs `hub sync` again with the given flags.
func syncDemo(t *testing.T, master []byte) (*store.Store, func(args ...string) string) {
	t.Helper()
	sys, _ := connectortest.StartSim(t, sim.Options{Seed: 1, Scale: city.Small, PartyDSN: dbtest.EmptyDB(t), LiveRate: -1})
	st, dsn := dbtest.NewStoreDSN(t)
	sources := filepath.Join(t.TempDir(), "sources.yaml")
	yaml := fmt.Sprintf(`sources:
  - {name: party, type: party, dsn_env: PARTY_DSN, datum: BD09}
  - {name: governance, type: governance, endpoint: %q, client_id: %q, client_secret_env: GOV_SECRET, datum: BD09, rate_limit: 200}
  - {name: citymgmt, type: open311, endpoint: %q, format: json, paging: auto, datum: GCJ02, rate_limit: 200}
  - {name: citymgmt-archive, type: csvdrop, dir: %q, datum: GCJ02, backfills: citymgmt}
`, sys.GovURL, sys.ClientID, sys.Open311URL+"/open311/v2", sys.CSVDir)
	if err := os.WriteFile(sources, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": dsn, "HUB_SOURCES": sources, "HUB_REGIONS": sys.LayerPath,
		"HUB_PII_KEY": hex.EncodeToString(master), "HUB_LOG_LEVEL": "error", "PARTY_DSN": sys.PartyDSN, "GOV_SECRET": sys.ClientSecret}
	run := func(args ...string) string {
		out, _, err := hubRun(t, env, append([]string{"sync"}, args...)...)
		if err != nil {
			t.Fatalf("hub sync %v: %v\n%s", args, err, out)
		}
		return out
	}
	run()
	return st, run
}

// TestSyncGroupsIncidents: `hub sync` leaves the demo city's cross-silo
// incidents grouped in the store — each of the simulator's true incidents
// is one incident of the hub (a few whose coordinates are injected defects
// cannot be), and no incident mixes two of them — and a review decision
// that splits one of them holds across `hub sync --full`. The indexes the
// first load deferred are built by the end of that first sync.
func TestSyncGroupsIncidents(t *testing.T) {
	t.Parallel()
	ctx := store.Unscoped(context.Background())
	st, sync := syncDemo(t, bytes.Repeat([]byte{0xab}, 32))
	// The first sync loaded "case" without the indexes only the API reads,
	// and built them during its resolution: none is left deferred.
	indexes := func(st *store.Store) (n int) {
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'case'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var deferred int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM deferred_index`).Scan(&deferred); err != nil {
		t.Fatal(err)
	}
	if got, want := indexes(st), indexes(dbtest.NewStore(t)); deferred != 0 || got != want {
		t.Fatalf("after the first hub sync: %d indexes deferred, case has %d indexes, want 0 and %d", deferred, got, want)
	}
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	incidentOf := func() map[string]int64 {
		rows, err := st.IncidentCases(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		inc := map[string]int64{}
		for _, r := range rows {
			inc[r.Source+"/"+r.SourceID] = r.IncidentID
		}
		return inc
	}
	inc := incidentOf()
	whole, owner := 0, map[int64]int{}
	var split [2]string
	for k, ti := range c.Incidents {
		var keys []string
		for _, i := range ti.Gov {
			keys = append(keys, "governance/"+c.SourceID(city.GovEvents, int(i)))
		}
		for _, i := range ti.City {
			keys = append(keys, "citymgmt/"+c.SourceID(city.CityRequests, int(i)))
		}
		first, ok := inc[keys[0]]
		same := ok && first != 0
		for _, key := range keys[1:] {
			if id, ok := inc[key]; !ok || id != first {
				same = false
			}
		}
		if same {
			whole++
			if o, taken := owner[first]; taken {
				t.Errorf("incident %d holds true incidents %d and %d", first, o, k)
			}
			owner[first] = k
			if len(keys) == 2 {
				split = [2]string{keys[0], keys[1]}
			}
		}
	}
	t.Logf("%d of %d true incidents are one incident of the hub", whole, len(c.Incidents))
	if len(c.Incidents) == 0 || float64(whole) < 0.9*float64(len(c.Incidents)) {
		t.Fatalf("%d of %d true incidents grouped", whole, len(c.Incidents))
	}
	if split[0] == "" {
		t.Fatal("no grouped incident of two reports to split")
	}
	if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchIncident, A: split[0], B: split[1], DecidedBy: "key:1"}); err != nil {
		t.Fatal(err)
	}
	out := sync("--full")
	inc = incidentOf()
	if inc[split[0]] == inc[split[1]] && inc[split[0]] != 0 {
		t.Fatalf("the rejected pair %s %s is one incident again after sync --full:\n%s", split[0], split[1], out)
	}
}

// TestServedHubGroupsIncidents: a demo hub groups the incidents of every
// source after its passes — also those of the sources whose history lands
// after the first regrouping — so that counting problems gives fewer than
// counting reports by most of the simulator's cross-silo twins (a few
// carry injected coordinate defects; regrouping the first source alone
// merged 15).
func TestServedHubGroupsIncidents(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole hub")
	}
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	twins := 0
	for _, inc := range c.Incidents {
		twins += len(inc.Gov) + len(inc.City) - 1
	}
	dataDir := serverDataDir(t, "inc")
	h := startHubEnv(t, buildHub(t), dataDir, []string{"HUB_DEMO_LIVE_RATE=0"})
	waitReady(t, h)
	var reports, problems float64
	for start := time.Now(); time.Since(start) < 60*time.Second; time.Sleep(500 * time.Millisecond) {
		out := graphql(t, h, `{ r: caseStats(groupBy: []) { count } p: caseStats(groupBy: [], countBy: PROBLEM) { count } }`)
		d := out["data"].(map[string]any)
		reports = d["r"].([]any)[0].(map[string]any)["count"].(float64)
		problems = d["p"].([]any)[0].(map[string]any)["count"].(float64)
		if reports-problems >= 0.75*float64(twins) {
			t.Logf("%v reports, %v problems; the simulator made %d twin reports", reports, problems, twins)
			return
		}
	}
	t.Fatalf("%v reports, %v problems after 60 s; the simulator made %d twin reports", reports, problems, twins)
}
