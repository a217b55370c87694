package address

import (
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/ywtg/hub/canon"
)

// Region, Compound and Building are the reference the gazetteer indexes
// (see canon.AddressReference).
type (
	Region   = canon.RegionRef
	Compound = canon.CompoundRef
	Building = canon.BuildingRef
)

// Match is where an address lies according to the gazetteer. Codes are
// empty where nothing matched.
type Match struct {
	DistrictCode  string
	StreetCode    string
	CommunityCode string
	GridCode      string // the building's grid, else the compound's
	CompoundID    string
	CompoundName  string // the known compound's name, as the reference writes it
	BuildingID    string
	// Confidence is 0..1: 0.95 for compound and building, 0.75 for the
	// compound only, 0.45 for the community only, 0.25 the street, 0.1 the
	// district, 0 for nothing; 0.05 less for a name matched without its
	// suffix and 0.1 less by prefix (never below half), and ×0.6 for a
	// compound outside the region the address names.
	Confidence  float64
	Explanation string
}

// Gazetteer matches parsed addresses against the region tree and the known
// compounds. It is built once and only read: safe for concurrent use. Every
// lookup is a few map accesses, whatever the size of the city.
type Gazetteer struct {
	regions     map[string]Region
	regionCodes []string // name-index ids → region codes
	levels      map[canon.RegionLevel]*nameIndex
	compounds   []indexedCompound
	byName      *nameIndex // compound names
}

type indexedCompound struct {
	Compound
	community string         // resolved community code (from the grid when not given)
	buildings map[string]int // normalised number → index in Buildings
}

// Suffixes stripped for name matching, per level; longest first.
var (
	districtNameSuffixes  = runesOf("自治县", "新区", "区", "县", "市", "旗")
	streetNameSuffixes    = runesOf("街道办事处", "街道办", "办事处", "街道", "镇", "乡")
	communityNameSuffixes = runesOf("社区居民委员会", "社区居委会", "居民委员会", "村民委员会", "村委会", "居委会", "社区", "村")
	compoundNameSuffixes  = runesOf("小区", "花园", "家园", "公寓", "新村", "广场", "大厦", "山庄", "苑", "园", "城")
)

// nameIndex finds entries by exact name, by name without suffixes, and by
// prefix of the latter.
type nameIndex struct {
	suffixes [][]rune
	// reversePrefix lets a known name match an address name it is a
	// prefix of (幸福小区 for 幸福小区二期): right for compounds, too loose
	// for the short names of regions.
	reversePrefix bool
	exact         map[string][]int32
	core          map[string][]int32
	prefix        map[string][]int32
}

// maxPrefixList caps a prefix's list: a longer one is ambiguous anyway.
const maxPrefixList = 16

func newNameIndex(suffixes [][]rune) *nameIndex {
	return &nameIndex{suffixes: suffixes, exact: map[string][]int32{}, core: map[string][]int32{}, prefix: map[string][]int32{}}
}

func (ix *nameIndex) add(name string, id int32) {
	key := cleanName(name)
	if key == "" {
		return
	}
	ix.exact[key] = append(ix.exact[key], id)
	core := coreName(key, ix.suffixes)
	ix.core[core] = append(ix.core[core], id)
	r := []rune(core)
	for k := 2; k < len(r); k++ {
		p := string(r[:k])
		if l := ix.prefix[p]; len(l) <= maxPrefixList {
			ix.prefix[p] = append(l, id)
		}
	}
}

// Match tiers, best first.
const (
	tierExact  = 0 // the same name
	tierCore   = 1 // the same name without suffixes (樊城 = 樊城区)
	tierPrefix = 2 // a unique prefix either way (幸福小区二期 → 幸福小区)
)

var tierNames = [...]string{"exact name", "name without suffix", "name prefix"}

// find returns the one entry a name designates within scope, its tier, and
// the number of candidates when it is ambiguous (then id is -1).
func (ix *nameIndex) find(name string, in func(int32) bool) (id int32, tier int, ambiguous int) {
	key := cleanName(name)
	if key == "" {
		return -1, 0, 0
	}
	pick := func(lists ...[]int32) (int32, int) {
		var found int32 = -1
		n := 0
		for _, l := range lists {
			for _, c := range l {
				if c == found || (in != nil && !in(c)) {
					continue
				}
				if found >= 0 {
					n++
					continue
				}
				found, n = c, 1
			}
		}
		return found, n
	}
	if c, n := pick(ix.exact[key]); n == 1 {
		return c, tierExact, 0
	} else if n > 1 {
		return -1, tierExact, n
	}
	core := coreName(key, ix.suffixes)
	if c, n := pick(ix.core[core]); n == 1 {
		return c, tierCore, 0
	} else if n > 1 {
		return -1, tierCore, n
	}
	if c, n := pick(ix.prefix[core]); n == 1 {
		return c, tierPrefix, 0
	} else if n > 1 {
		return -1, tierPrefix, n
	}
	if !ix.reversePrefix {
		return -1, 0, 0
	}
	// The known name is a prefix of the address's (幸福小区二期).
	r := []rune(core)
	for k := len(r) - 1; k >= 2; k-- {
		p := string(r[:k])
		if c, n := pick(ix.exact[p], ix.core[p]); n == 1 {
			return c, tierPrefix, 0
		} else if n > 1 {
			return -1, tierPrefix, n
		}
	}
	return -1, 0, 0
}

// cleanName folds width, drops spaces and upper-cases latin letters.
func cleanName(s string) string {
	s, _ = FoldWidth(strings.ToValidUTF8(s, ""))
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r) || invisible(r):
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// coreName strips suffixes while at least two characters remain.
func coreName(s string, suffixes [][]rune) string {
	r := []rune(s)
	for {
		stripped := false
		for _, suf := range suffixes {
			if len(r)-len(suf) >= 2 && hasAt(r, len(r)-len(suf), suf) {
				r = r[:len(r)-len(suf)]
				stripped = true
				break
			}
		}
		if !stripped {
			return string(r)
		}
	}
}

// BuildingNumber normalises a building number for matching: 12栋, 12号楼,
// 0012, １２ and 十二 are all "12"; A座 is "A".
func BuildingNumber(s string) string {
	r := []rune(cleanName(s))
	for {
		suf, ok := suffixAt(r, len(r)-1, runesOf("栋", "幢", "座", "楼", "号", "#"))
		if !ok || len(r) == 1 {
			break
		}
		r = r[:len(r)-len(suf)]
	}
	allNumerals := len(r) > 0
	for _, c := range r {
		if !isNumeral(c) {
			allNumerals = false
			break
		}
	}
	if allNumerals {
		if d, ok := chineseNumber(r); ok {
			return d
		}
	}
	s = string(r)
	if allDigits(s) {
		if t := strings.TrimLeft(s, "0"); t != "" {
			return t
		}
		return "0"
	}
	return s
}

// NewGazetteer indexes regions and compounds. Reference data must be
// consistent: duplicate or empty codes and ids, a parent, community or grid
// code that is not in regions, or two buildings of one compound with the
// same number are errors.
func NewGazetteer(regions []Region, compounds []Compound) (*Gazetteer, error) {
	g := &Gazetteer{regions: make(map[string]Region, len(regions)), levels: map[canon.RegionLevel]*nameIndex{
		canon.LevelDistrict:  newNameIndex(districtNameSuffixes),
		canon.LevelStreet:    newNameIndex(streetNameSuffixes),
		canon.LevelCommunity: newNameIndex(communityNameSuffixes),
	}, byName: newNameIndex(compoundNameSuffixes)}
	g.byName.reversePrefix = true
	for _, r := range regions {
		if r.Code == "" {
			return nil, fmt.Errorf("gazetteer: region %q has no code", r.Name)
		}
		if !r.Level.Valid() {
			return nil, fmt.Errorf("gazetteer: region %s has unknown level %q", r.Code, r.Level)
		}
		if _, dup := g.regions[r.Code]; dup {
			return nil, fmt.Errorf("gazetteer: region code %s appears twice", r.Code)
		}
		g.regions[r.Code] = r
	}
	// Codes are indexed into a slice so name lists hold small integers.
	codes := make([]string, 0, len(regions))
	for _, r := range regions {
		if r.ParentCode != "" {
			if _, ok := g.regions[r.ParentCode]; !ok {
				return nil, fmt.Errorf("gazetteer: region %s has unknown parent %s", r.Code, r.ParentCode)
			}
		}
		if ix := g.levels[r.Level]; ix != nil {
			ix.add(r.Name, int32(len(codes)))
		}
		codes = append(codes, r.Code)
	}
	g.regionCodes = codes
	seen := make(map[string]bool, len(compounds))
	for _, c := range compounds {
		if c.ID == "" || c.Name == "" {
			return nil, fmt.Errorf("gazetteer: compound %q/%q needs an id and a name", c.ID, c.Name)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("gazetteer: compound id %s appears twice", c.ID)
		}
		seen[c.ID] = true
		gc := indexedCompound{Compound: c, community: c.CommunityCode, buildings: make(map[string]int, len(c.Buildings))}
		if c.GridCode != "" {
			grid, ok := g.regions[c.GridCode]
			if !ok || grid.Level != canon.LevelGrid {
				return nil, fmt.Errorf("gazetteer: compound %s: %s is not a known grid", c.ID, c.GridCode)
			}
			if gc.community == "" {
				gc.community = g.ancestor(c.GridCode, canon.LevelCommunity)
			}
		}
		if gc.community != "" {
			if r, ok := g.regions[gc.community]; !ok || r.Level != canon.LevelCommunity {
				return nil, fmt.Errorf("gazetteer: compound %s: %s is not a known community", c.ID, gc.community)
			}
		}
		for i, b := range c.Buildings {
			if b.GridCode != "" {
				if r, ok := g.regions[b.GridCode]; !ok || r.Level != canon.LevelGrid {
					return nil, fmt.Errorf("gazetteer: building %s of compound %s: %s is not a known grid", b.ID, c.ID, b.GridCode)
				}
			}
			n := BuildingNumber(b.Number)
			if _, dup := gc.buildings[n]; dup {
				return nil, fmt.Errorf("gazetteer: compound %s has two buildings numbered %s", c.ID, n)
			}
			gc.buildings[n] = i
		}
		g.byName.add(c.Name, int32(len(g.compounds)))
		g.compounds = append(g.compounds, gc)
	}
	return g, nil
}

// ancestor returns the code of code's ancestor (or itself) at level.
func (g *Gazetteer) ancestor(code string, level canon.RegionLevel) string {
	for i := 0; i < 8 && code != ""; i++ {
		r, ok := g.regions[code]
		if !ok {
			return ""
		}
		if r.Level == level {
			return code
		}
		code = r.ParentCode
	}
	return ""
}

// within reports whether code is scope or lies under it.
func (g *Gazetteer) within(code, scope string) bool {
	for i := 0; i < 8 && code != ""; i++ {
		if code == scope {
			return true
		}
		code = g.regions[code].ParentCode
	}
	return false
}

// Match places a parsed address: district (or, without one, a county-level
// city), street and community by name, each within the one above when that
// matched; then the compound within the most specific region matched, and
// its building. Names match exactly, then without their suffix, then by a
// unique prefix; an ambiguous name matches nothing. A compound named
// uniquely in the city but outside the matched region still matches, with
// lower confidence: the compound is more specific than the admin text.
// Regions missing from the address are filled from the compound's.
func (g *Gazetteer) Match(a Address) Match {
	var m Match
	var notes []string
	worst := tierExact
	note := func(what, name string, tier int) {
		notes = append(notes, fmt.Sprintf("%s %s (%s)", what, name, tierNames[tier]))
		if tier > worst {
			worst = tier
		}
	}
	region := func(level canon.RegionLevel, name, scope string) string {
		if name == "" {
			return ""
		}
		var in func(int32) bool
		if scope != "" {
			in = func(id int32) bool { return g.within(g.regionCodes[id], scope) }
		}
		id, tier, amb := g.levels[level].find(name, in)
		if id < 0 {
			if amb > 1 {
				notes = append(notes, fmt.Sprintf("%s %s ambiguous (%d candidates)", strings.ToLower(string(level)), name, amb))
			}
			return ""
		}
		note(strings.ToLower(string(level)), name, tier)
		return g.regionCodes[id]
	}
	district := a.District
	if district == "" {
		district = a.City
	}
	m.DistrictCode = region(canon.LevelDistrict, district, "")
	m.StreetCode = region(canon.LevelStreet, a.Street, m.DistrictCode)
	m.CommunityCode = region(canon.LevelCommunity, a.Community, first(m.StreetCode, m.DistrictCode))

	conflict := false
	if a.Compound != "" {
		scope := first(m.CommunityCode, m.StreetCode, m.DistrictCode)
		in := func(id int32) bool {
			c := g.compounds[id].community
			return c == "" || g.within(c, scope) // a compound of unknown community is no conflict
		}
		if scope == "" {
			in = nil
		}
		id, tier, amb := g.byName.find(a.Compound, in)
		if id < 0 && scope != "" && amb == 0 {
			if id, tier, amb = g.byName.find(a.Compound, nil); id >= 0 {
				conflict = true
			}
		}
		switch {
		case id >= 0:
			c := &g.compounds[id]
			m.CompoundID, m.CompoundName, m.GridCode = c.ID, c.Name, c.GridCode
			note("compound", a.Compound, tier)
			if conflict {
				notes = append(notes, "outside the address's region")
				m.CommunityCode, m.StreetCode, m.DistrictCode = "", "", ""
			}
			if c.community != "" && m.CommunityCode == "" {
				m.CommunityCode = c.community
			}
			if b := BuildingNumber(a.Building); b != "" {
				if i, ok := c.buildings[b]; ok {
					bld := c.Buildings[i]
					m.BuildingID = bld.ID
					if bld.GridCode != "" {
						m.GridCode = bld.GridCode
					}
					notes = append(notes, "building "+b)
				} else {
					notes = append(notes, "building "+b+" unknown")
				}
			}
			if m.GridCode != "" {
				notes = append(notes, "grid "+m.GridCode)
			}
		case amb > 1:
			notes = append(notes, fmt.Sprintf("compound %s ambiguous (%d candidates)", a.Compound, amb))
		default:
			notes = append(notes, "compound "+a.Compound+" unknown")
		}
	}
	// Fill the levels above from the most specific code.
	if base := first(m.GridCode, m.CommunityCode, m.StreetCode); base != "" {
		if m.CommunityCode == "" {
			m.CommunityCode = g.ancestor(base, canon.LevelCommunity)
		}
		if m.StreetCode == "" {
			m.StreetCode = g.ancestor(base, canon.LevelStreet)
		}
		if m.DistrictCode == "" {
			m.DistrictCode = g.ancestor(base, canon.LevelDistrict)
		}
	}
	switch {
	case m.BuildingID != "":
		m.Confidence = 0.95
	case m.CompoundID != "":
		m.Confidence = 0.75
	case m.CommunityCode != "":
		m.Confidence = 0.45
	case m.StreetCode != "":
		m.Confidence = 0.25
	case m.DistrictCode != "":
		m.Confidence = 0.1
	}
	if m.Confidence > 0 {
		m.Confidence = math.Max(m.Confidence-0.05*float64(worst), m.Confidence/2)
		if conflict {
			m.Confidence *= 0.6
		}
	}
	if len(notes) == 0 {
		notes = append(notes, "nothing matched")
	}
	m.Explanation = strings.Join(notes, "; ")
	return m
}

// first returns the first non-empty string.
func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
