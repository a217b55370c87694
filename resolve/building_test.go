package resolve_test

import (
	"cmp"
	"os"
	"strconv"
	"testing"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/sim/city"
)

// TestBuildingsResolveSmall resolves the dwelling addresses of the small
// city's sources — governance houses (三种前缀, Chinese numerals) and party
// members' homes (居住地址) — to buildings with the address service, the
// gazetteer built from the city's compounds and buildings as the hub's
// directory holds them, with the regions the source record knows (the
// house's grid; for a member, the grid of the house of the resident the
// member is by ID hash), and holds the result to its targets: ≥ 0.98 to
// the right building, none to a building of another community. Without
// those regions 4% of both stay unresolved (two compounds of one name in
// a street) and none goes wrong.
func TestBuildingsResolveSmall(t *testing.T) {
	cfg := city.DefaultConfig()
	if s := os.Getenv("RESOLVE_SCALE"); s != "" { // the larger scales for the figures in docs/resolution.md
		sc, err := city.ParseScale(s)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Scale = sc
	}
	c, err := city.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.RLock()
	defer c.RUnlock()
	g := cityGazetteer(t, c)
	community := func(b int) int32 { return c.Regions[c.Buildings[b].Grid].Parent }
	type tally struct{ right, sameCommunity, otherCommunity, none int }
	hintOf := func(grid int32) address.Address { return gridHint(c, grid) }
	count := func(tl *tally, raw string, hint address.Address, truth int32) {
		m := resolve.Building(g, raw, hint)
		if m.BuildingID == "" {
			tl.none++
			if tl.none <= 5 {
				t.Logf("unresolved: %s (%s)", raw, m.Explanation)
			}
			return
		}
		got, _ := strconv.Atoi(m.BuildingID)
		switch {
		case int32(got) == truth:
			tl.right++
		case community(got) == community(int(truth)):
			tl.sameCommunity++
		default:
			tl.otherCommunity++
			t.Logf("%s → building %d of another community, truth %d", raw, got, truth)
		}
	}
	var houses, homes tally
	for i := range c.Households {
		// The house record carries its grid.
		count(&houses, c.GovHouse(i).Address, hintOf(c.Buildings[c.Households[i].Building].Grid), c.Households[i].Building)
	}
	for i := range c.Members {
		// A member's row says nothing of where the home lies, but the member
		// is a resident (one person by ID hash) whose house record carries
		// its grid.
		b := c.Households[c.People[c.Members[i].Person].Household].Building
		count(&homes, c.PartyMember(i, false).JZDZ, hintOf(c.Buildings[b].Grid), b)
	}
	for _, x := range []struct {
		name string
		tl   tally
	}{{"governance houses", houses}, {"party members' homes", homes}} {
		n := x.tl.right + x.tl.sameCommunity + x.tl.otherCommunity + x.tl.none
		share := float64(x.tl.right) / float64(n)
		t.Logf("%s: %d addresses, %.4f to the right building, %d to another of its community, %d to another community, %d to none",
			x.name, n, share, x.tl.sameCommunity, x.tl.otherCommunity, x.tl.none)
		if share < 0.98 || x.tl.otherCommunity != 0 {
			t.Errorf("%s below target (≥ 0.98 right, none in another community)", x.name)
		}
	}
}

// cityGazetteer is the address service over the city's regions, compounds
// and buildings as the hub's directory holds them (the caller holds the
// city's read lock).
func cityGazetteer(t *testing.T, c *city.City) *address.Gazetteer {
	t.Helper()
	regions := make([]address.Region, len(c.Regions))
	for i, r := range c.Regions {
		regions[i] = address.Region{Code: r.Code, Name: r.Name, Level: canon.RegionLevel(r.Level)}
		if r.Parent >= 0 {
			regions[i].ParentCode = c.Regions[r.Parent].Code
		}
	}
	compounds := make([]address.Compound, len(c.Compounds))
	for i, cp := range c.Compounds {
		compounds[i] = address.Compound{ID: strconv.Itoa(i), Name: cp.Name, GridCode: c.Regions[cp.Grid].Code}
	}
	for i, b := range c.Buildings {
		compounds[b.Compound].Buildings = append(compounds[b.Compound].Buildings,
			address.Building{ID: strconv.Itoa(i), Number: strconv.Itoa(int(b.No)), GridCode: c.Regions[b.Grid].Code})
	}
	g, err := address.NewGazetteer(regions, compounds)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// gridHint is what a record placed in a grid knows of where it lies: the
// names of the grid's district, street and community.
func gridHint(c *city.City, grid int32) address.Address {
	cm := c.Regions[grid].Parent
	st := c.Regions[cm].Parent
	return address.Address{District: c.Regions[c.Regions[st].Parent].Name, Street: c.Regions[st].Name, Community: c.Regions[cm].Name}
}

// TestBuildingMatchesAgainWithTheHintOnlyForACompound: Building matches
// an address a second time, with the regions the record knows filled in,
// only when it names a compound, since only a compound leads to a
// compound or a building. For every address of the small city's cases,
// houses and members' homes that names none, the match with the regions
// filled in finds neither, and Building gives the address's own match.
func TestBuildingMatchesAgainWithTheHintOnlyForACompound(t *testing.T) {
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	c.RLock()
	defer c.RUnlock()
	g := cityGazetteer(t, c)
	var roads, compounds int
	check := func(raw string, hint address.Address) {
		a := address.Parse(raw)
		if a.Compound != "" {
			compounds++
			return
		}
		roads++
		filled := a
		filled.District, filled.Street, filled.Community = cmp.Or(a.District, hint.District), cmp.Or(a.Street, hint.Street), cmp.Or(a.Community, hint.Community)
		if m := g.Match(filled); m.BuildingID != "" || m.CompoundID != "" {
			t.Errorf("%s names no compound, yet with its record's regions matched %+v", raw, m)
		}
		if got, want := resolve.Building(g, raw, hint), g.Match(a); got != want {
			t.Errorf("%s: got %+v, want its own match %+v", raw, got, want)
		}
	}
	for i := range c.CityCases {
		check(c.CityRequest(i).Address, gridHint(c, c.CityCases[i].Grid))
	}
	for i := range c.Households {
		check(c.GovHouse(i).Address, gridHint(c, c.Buildings[c.Households[i].Building].Grid))
	}
	for i := range c.Members {
		b := c.Households[c.People[c.Members[i].Person].Household].Building
		check(c.PartyMember(i, false).JZDZ, gridHint(c, c.Buildings[b].Grid))
	}
	t.Logf("%d addresses naming no compound, %d naming one", roads, compounds)
	if roads == 0 || compounds == 0 {
		t.Fatalf("the corpus should hold both kinds of address: %d roads, %d compounds", roads, compounds)
	}
}
