package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
)

// TestSyncGroupsIncidents: `hub sync` leaves the demo city's cross-silo
// incidents grouped in the store — each of the simulator's true incidents
// is one incident of the hub (a few whose coordinates are injected defects
// cannot be), and no incident mixes two of them.
func TestSyncGroupsIncidents(t *testing.T) {
	_, st := demoCity(t)
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.IncidentCases(store.Unscoped(context.Background()), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	inc := map[string]int64{}
	for _, r := range rows {
		inc[r.Source+"/"+r.SourceID] = r.IncidentID
	}
	whole, owner := 0, map[int64]int{}
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
		}
	}
	t.Logf("%d of %d true incidents are one incident of the hub", whole, len(c.Incidents))
	if len(c.Incidents) == 0 || float64(whole) < 0.9*float64(len(c.Incidents)) {
		t.Fatalf("%d of %d true incidents grouped", whole, len(c.Incidents))
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
	dataDir, err := os.MkdirTemp("", "hub-inc-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dataDir)
	if err := os.Chmod(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
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
