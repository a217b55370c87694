package city

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Level is the level of a region in the city's reference layer.
type Level string

// Region levels, from the top of the tree down.
const (
	LevelCity      Level = "CITY"
	LevelDistrict  Level = "DISTRICT"
	LevelStreet    Level = "STREET"
	LevelCommunity Level = "COMMUNITY"
	LevelGrid      Level = "GRID"
)

// Region is a node of the region and grid tree.
type Region struct {
	Code   string
	Name   string
	Level  Level
	Parent int32 // index into City.Regions; -1 for the city
	Rect   Rect  // WGS-84 boundary
	Roads  []string
}

// Compound is a residential compound (小区).
type Compound struct {
	Name string
	Grid int32 // index into City.Regions
}

// Building is a residential building (栋), a point strictly inside its grid.
type Building struct {
	Compound int32
	Grid     int32 // index into City.Regions
	No       uint16
	Units    uint8
	Floors   uint8
	Lng, Lat float64 // WGS-84
	Group    int32   // party group (党小组) org index, -1 for none
}

// Household is a dwelling (a room of a building) with the people living
// there; it is a "house" of the governance system.
type Household struct {
	Building int32
	Unit     uint8
	Floor    uint8
	Room     uint8
	Floating bool
	Rec
}

// Rec is the per-record state every source record carries: its update
// time, whether it is deleted (tombstone, soft delete) and the defect
// injected into it, if any.
type Rec struct {
	Updated int64 // unix seconds
	Deleted bool
	Def     Kind
}

// Person is a resident: a real person with a true citizen ID. The same
// person may appear in several source systems.
type Person struct {
	ID        string // true 18-digit citizen ID
	Name      string
	Phone     string // true 11-digit mobile, "" for young children
	Household int32
	Rel       uint8 // index into relations
	Roles     uint8 // RoleMember | RoleWorker | RoleReporter
	Rec
}

// Person roles (bit set).
const (
	RoleMember uint8 = 1 << iota
	RoleWorker
	RoleReporter
)

// Worker is a grid worker (网格员) of the governance system.
type Worker struct {
	Person int32
	Grids  []int32 // region indices
	Post   uint8   // 1 专职, 2 兼职, 3 网格长
	Rec
}

// Org is a party organisation (t_dzz).
type Org struct {
	ID         string
	Name       string
	Kind       uint8 // index into orgKindNames
	Parent     int32 // org index, -1 for none
	Community  int32 // region index, -1 for none
	Grid       int32 // region index, -1 for none
	NoGridCode bool  // wgbm left null although the org is anchored to a grid
	Rec
}

// Member is a party member (t_dy).
type Member struct {
	ID          string
	Person      int32
	Org         int32
	Joined      int64 // unix seconds
	Central     bool  // 党员中心户
	Employer    int16 // index into employers, -1 when not in service
	WrongGender bool  // xb disagrees with the citizen ID
	DupID       string
	Rec
}

// DualReport is an in-service member's 双报到 to a community (t_sbd).
type DualReport struct {
	ID        string
	Member    int32
	Community int32 // region index
	Branch    int32 // org index
	NoCode    bool  // bdsqbm left null
	Date      int64
	Rec
}

// Station is a 红色驿站 or 党群服务中心 (t_hyzz).
type Station struct {
	ID        string
	Name      string
	Kind      uint8 // 0 红色驿站, 1 党群服务中心
	Community int32 // region index
	Address   string
	Lng, Lat  float64 // WGS-84 truth (published BD-09)
	Services  string
	Rec
}

// Activity is a volunteer service record (t_fwhd).
type Activity struct {
	ID      string
	Title   uint8
	Member  int32
	Station int32
	Date    int64
	Hours   float32
	Points  int16
	Rec
}

// Step is one entry of a case timeline.
type Step struct {
	At    uint32 // unix seconds
	State uint8  // governance: status code; city: index into cityStateNames
	Level uint8  // tier 1..5
}

// Case is a governance event or a city-management case.
type Case struct {
	Class    uint8 // governance: index into govSubs; city: index into citySubs
	Reporter int8  // ReporterWorker, ReporterResident, ReporterSupervisor, ReporterHotline, ReporterPublic
	Dept     uint8
	Grid     int32 // region index
	Person   int32 // reporting person (index into People), -1 for none
	Group    int32 // incident group, -1 for none
	Lng, Lat float64
	Reported int64
	Deadline int64
	Steps    []Step
	Rec
}

// Reporter kinds.
const (
	ReporterWorker     int8 = iota // 网格员
	ReporterResident               // 居民
	ReporterSupervisor             // 城管监督员
	ReporterHotline                // 12345 热线
	ReporterPublic                 // 公众 app
)

// Incident is a set of cases from different systems that are the same
// real-world problem.
type Incident struct {
	Gov  []int32 // indices into GovEvents
	City []int32 // indices into CityCases
}

// govSubRef flattens the governance subtypes.
type govSubRef struct {
	typ, sub int
}

// citySubRef flattens the city-management minor classes.
type citySubRef struct {
	class, minor int
}

// City is a generated synthetic city with the records of its three source
// systems. After Generate it is safe for concurrent use: readers take
// RLock, the live-change methods take the write lock themselves.
type City struct {
	cfg Config
	mu  sync.RWMutex

	Regions     []Region
	Districts   []int32 // region indices by level
	Streets     []int32
	Communities []int32
	Grids       []int32
	gridMeta    []Rec // governance grid records, parallel to Grids
	gridOrdinal []int32

	Compounds  []Compound
	Buildings  []Building
	Households []Household
	People     []Person
	Workers    []Worker

	Orgs        []Org
	Members     []Member
	DualReports []DualReport
	Stations    []Station
	Activities  []Activity

	GovEvents []Case
	CityCases []Case
	Incidents []Incident

	govSubs  []govSubRef
	citySubs []citySubRef

	// paging orders by (update time, index), duplicates listed twice.
	orders [numOrders][]int32
	open   [2][]int32 // open cases: 0 governance, 1 city
	live   liveState

	// reporters are the reporters of the hotline and public city cases,
	// by case, fixed at generation (fixReporters).
	reporters map[int32]Mention
}

// Config returns the configuration the city was generated from.
func (c *City) Config() Config { return c.cfg }

// RLock locks the city for reading; hold it while reading records.
func (c *City) RLock() { c.mu.RLock() }

// RUnlock undoes RLock.
func (c *City) RUnlock() { c.mu.RUnlock() }

// gen carries the generator's state.
type gen struct {
	c   *City
	cfg Config
	p   params
	ref int64

	gridPeople [][2]int32 // residents of each grid ordinal: [start, end)
}

// stream returns a deterministic random stream for one generation phase, so
// that the phases do not disturb each other's sequences.
func stream(seed uint64, phase uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15^phase))
}

// Generate builds a city. The same configuration always produces the same
// city.
func Generate(cfg Config) (*City, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("generate city: %w", err)
	}
	c := &City{cfg: cfg}
	g := &gen{c: c, cfg: cfg, p: cfg.Scale.params(), ref: cfg.Reference.Unix()}
	for ti, t := range govTypes {
		for si := range t.subs {
			c.govSubs = append(c.govSubs, govSubRef{ti, si})
		}
	}
	for ci, cl := range cityClasses {
		for mi := range cl.minors {
			c.citySubs = append(c.citySubs, citySubRef{ci, mi})
		}
	}
	g.regions(stream(cfg.Seed, 1))
	g.population(stream(cfg.Seed, 2))
	g.workers(stream(cfg.Seed, 3))
	g.party(stream(cfg.Seed, 4))
	g.cases(stream(cfg.Seed, 5))
	g.defects(stream(cfg.Seed, 7))
	c.fixReporters()
	c.buildOrders()
	c.live.init(c)
	return c, nil
}

// regions builds the region tree and the grid layer.
func (g *gen) regions(rng *rand.Rand) {
	c := g.c
	c.Regions = append(c.Regions, Region{Code: "420600", Name: "襄阳市", Level: LevelCity, Parent: -1, Rect: g.p.bbox})
	nd := min(g.p.districts, len(districts))
	dRects := g.p.bbox.split(rng, nd)
	usedCommunity := make([]bool, len(communityStems)*(len(communityStems)+len(communitySuffixes)))
	for di := range nd {
		d := districts[di]
		dIdx := int32(len(c.Regions))
		c.Regions = append(c.Regions, Region{Code: d.code, Name: d.name, Level: LevelDistrict, Parent: 0, Rect: dRects[di]})
		c.Districts = append(c.Districts, dIdx)
		ns := min(between(rng, g.p.streets), len(d.streets))
		sRects := dRects[di].split(rng, ns)
		for si := range ns {
			sIdx := int32(len(c.Regions))
			roads := make([]string, 0, 5)
			for len(roads) < 4+rng.IntN(3) {
				r := roadStems[rng.IntN(len(roadStems))] + roadSuffixes[rng.IntN(len(roadSuffixes))]
				if !contains(roads, r) {
					roads = append(roads, r)
				}
			}
			c.Regions = append(c.Regions, Region{Code: fmt.Sprintf("%s%03d", d.code, si+1), Name: d.streets[si], Level: LevelStreet, Parent: dIdx, Rect: sRects[si], Roads: roads})
			c.Streets = append(c.Streets, sIdx)
			nc := between(rng, g.p.communities)
			cRects := sRects[si].split(rng, nc)
			for ci := range nc {
				cIdx := int32(len(c.Regions))
				name := communityName(rng, usedCommunity)
				c.Regions = append(c.Regions, Region{Code: fmt.Sprintf("%s%03d", c.Regions[sIdx].Code, ci+1), Name: name, Level: LevelCommunity, Parent: sIdx, Rect: cRects[ci]})
				c.Communities = append(c.Communities, cIdx)
				ng := between(rng, g.p.grids)
				gRects := cRects[ci].split(rng, ng)
				for gi := range ng {
					gIdx := int32(len(c.Regions))
					short := []rune(name)
					c.Regions = append(c.Regions, Region{Code: fmt.Sprintf("%s%03d", c.Regions[cIdx].Code, gi+1), Name: fmt.Sprintf("%s第%d网格", string(short[:len(short)-2]), gi+1), Level: LevelGrid, Parent: cIdx, Rect: gRects[gi]})
					c.Grids = append(c.Grids, gIdx)
				}
			}
		}
	}
	// Regions are appended depth first: parents precede their children.
	c.gridOrdinal = make([]int32, len(c.Regions))
	for i := range c.gridOrdinal {
		c.gridOrdinal[i] = -1
	}
	c.gridMeta = make([]Rec, len(c.Grids))
	for i, gi := range c.Grids {
		c.gridOrdinal[gi] = int32(i)
		c.gridMeta[i] = Rec{Updated: g.pastTime(rng, 540)}
	}
}

// between draws an int in [r[0], r[1]].
func between(rng *rand.Rand, r [2]int) int {
	if r[1] <= r[0] {
		return r[0]
	}
	return r[0] + rng.IntN(r[1]-r[0]+1)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// pastTime returns a unix time uniformly within the last days days before
// the reference.
func (g *gen) pastTime(rng *rand.Rand, days int) int64 {
	return g.ref - 1 - rng.Int64N(int64(days)*86400)
}

// ancestor returns the index of the region's ancestor at level l.
func (c *City) ancestor(r int32, l Level) int32 {
	for r >= 0 && c.Regions[r].Level != l {
		r = c.Regions[r].Parent
	}
	return r
}

// Reference returns the reference instant of the city.
func (c *City) Reference() time.Time { return c.cfg.Reference }

var communitySuffixes = []string{"社区", "社区", "社区", "路社区", "街社区", "新村社区", "花园社区", "东社区", "西社区", "南社区", "北社区"}

// communityName draws a community name not used before: stem + suffix
// first, then two stems.
func communityName(rng *rand.Rand, used []bool) string {
	ns, nx := len(communityStems), len(communitySuffixes)
	for {
		var k int
		if rng.IntN(4) > 0 {
			k = rng.IntN(ns * nx)
		} else {
			k = ns*nx + rng.IntN(ns*ns)
		}
		if used[k] {
			continue
		}
		if k < ns*nx {
			// the plain "社区" suffix appears thrice to be common; treat the
			// three as one name
			name := communityStems[k/nx] + communitySuffixes[k%nx]
			base := k / nx * nx
			for j := 0; j < 3; j++ {
				used[base+j] = true
			}
			used[k] = true
			return name
		}
		k2 := k - ns*nx
		a, b := communityStems[k2/ns], communityStems[k2%ns]
		used[k] = true
		if a == b {
			continue
		}
		return a + b + "社区"
	}
}
