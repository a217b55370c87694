package main

import (
	"context"
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
