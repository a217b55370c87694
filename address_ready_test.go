package main

import (
	"fmt"
	"testing"

	"github.com/ywtg/hub/sim/city"
)

// TestAddressesCurrentWhenReady: the moment /readyz answers 200, the
// address service knows the compounds and buildings of the first sync (it
// used to answer "unknown" until a timer refreshed it).
func TestAddressesCurrentWhenReady(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole hub")
	}
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	h0 := c.Households[0]
	b := c.Buildings[h0.Building]
	grid := c.Regions[b.Grid]
	comm := c.Regions[grid.Parent]
	street := c.Regions[comm.Parent]
	district := c.Regions[street.Parent]
	addr := fmt.Sprintf("%s%s%s%s%d栋", district.Name, street.Name, comm.Name, c.Compounds[b.Compound].Name, b.No)

	dataDir := serverDataDir(t, "addr")
	h := startHubEnv(t, buildHub(t), dataDir, []string{"HUB_DEMO_LIVE_RATE=0"})
	waitReady(t, h)
	out := graphql(t, h, fmt.Sprintf(`{ standardizeAddress(raw: %q) { compound confidence explanation } }`, addr))
	sa := out["data"].(map[string]any)["standardizeAddress"].(map[string]any)
	if sa["compound"] == nil || sa["confidence"].(float64) < 0.9 {
		t.Fatalf("%s right after ready: %v", addr, sa)
	}
}
