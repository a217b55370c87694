package address

import (
	"fmt"
	"regexp"
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
	// Confidence is 0..1, the share of matches like it that are right:
	// for compound and building 0.95 by exact name, 0.9 without suffix,
	// 0.85 by prefix or phase, 0.8 with one homophone typo, 0.6 with
	// another one-character typo; for the compound only 0.75 down to 0.45
	// alike; at most 0.45 when the text names a street or community the
	// reference does not know; 0.45 for the community only, 0.25 the
	// street, 0.1 the district (0.05 less per name tier, never below
	// half); 0 for nothing. Calibrated on testdata/variants.tsv: see
	// TestAddressVariants, which fails when a band is right less often
	// than it says.
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
	clean     []rune         // the name as cleanName makes it, for typo matching
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
	// strictSuffix: two names that keep different suffixes are different
	// (滨江新村 is not 滨江花园), and an address name with a suffix of its
	// own is no prefix of a longer known name (卧龙家园 is not 卧龙湾).
	// Right for compounds; region names vary their suffixes freely
	// (长虹社区, 长虹居委会).
	strictSuffix bool
	suffixOf     map[int32]string // the suffix stripped from an entry's name
	exact        map[string][]int32
	core         map[string][]int32
	prefix       map[string][]int32
}

// phaseOrSection is what may follow a known compound name in an address
// and still designate the compound: a phase (二期, 3期), a section (东区,
// A区, 北院), or both.
var phaseOrSection = regexp.MustCompile(`^(第?[0-9一二三四五六七八九十]+期)?([东南西北中]|[A-Z]|[0-9一二三四五六七八九十]+)?[区院]?$`)

// maxPrefixList caps a prefix's list: a longer one is ambiguous anyway.
const maxPrefixList = 16

func newNameIndex(suffixes [][]rune) *nameIndex {
	return &nameIndex{suffixes: suffixes, exact: map[string][]int32{}, core: map[string][]int32{}, prefix: map[string][]int32{}, suffixOf: map[int32]string{}}
}

func (ix *nameIndex) add(name string, id int32) {
	key := cleanName(name)
	if key == "" {
		return
	}
	ix.exact[key] = append(ix.exact[key], id)
	core := coreName(key, ix.suffixes)
	ix.core[core] = append(ix.core[core], id)
	ix.suffixOf[id] = key[len(core):]
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
	tierExact     = 0 // the same name
	tierCore      = 1 // the same name without suffixes (樊城 = 樊城区)
	tierPrefix    = 2 // a unique prefix either way (幸福小区二期 → 幸福小区)
	tierHomophone = 3 // one character replaced by a homophone (阳光亚苑 → 阳光雅苑)
	tierTypo      = 4 // one character replaced by another
)

var tierNames = [...]string{"exact name", "name without suffix", "name prefix", "one homophone typo", "one-character typo"}

// find returns the one entry a name designates within scope, its tier, and
// the number of candidates when it is ambiguous (then id is -1).
func (ix *nameIndex) find(name string, in func(int32) bool) (id int32, tier int, ambiguous int) {
	key := cleanName(name)
	if key == "" {
		return -1, 0, 0
	}
	pickIn := func(f func(int32) bool, lists ...[]int32) (int32, int) {
		var found int32 = -1
		n := 0
		for _, l := range lists {
			for _, c := range l {
				if c == found || (f != nil && !f(c)) {
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
	pick := func(lists ...[]int32) (int32, int) { return pickIn(in, lists...) }
	if c, n := pick(ix.exact[key]); n == 1 {
		return c, tierExact, 0
	} else if n > 1 {
		return -1, tierExact, n
	}
	core := coreName(key, ix.suffixes)
	own := key[len(core):] // the address name's suffix
	coreIn := in
	if ix.strictSuffix && own != "" {
		coreIn = func(id int32) bool {
			known := ix.suffixOf[id]
			return (in == nil || in(id)) && (known == "" || strings.HasPrefix(known, own) || strings.HasPrefix(own, known))
		}
	}
	if c, n := pickIn(coreIn, ix.core[core]); n == 1 {
		return c, tierCore, 0
	} else if n > 1 {
		return -1, tierCore, n
	}
	if ix.strictSuffix && own != "" {
		// The address's name has a suffix of its own: it is no prefix of
		// a longer known name.
	} else if c, n := pick(ix.prefix[core]); n == 1 {
		return c, tierPrefix, 0
	} else if n > 1 {
		return -1, tierPrefix, n
	}
	if !ix.reversePrefix {
		return -1, 0, 0
	}
	// The known name is a prefix of the address's, and what follows names
	// a phase or section of it (幸福小区二期, 幸福小区东区): any other rest
	// (阳光亚苑 after 阳光) is another name.
	r := []rune(key)
	for k := len(r) - 1; k >= 2; k-- {
		p := string(r[:k])
		if !phaseOrSection.MatchString(string(r[k:])) {
			continue
		}
		if c, n := pick(ix.exact[p], ix.core[p]); n == 1 {
			return c, tierPrefix, 0
		} else if n > 1 {
			return -1, tierPrefix, n
		}
	}
	return -1, 0, 0
}

// cleanName folds width and traditional characters, drops spaces and
// upper-cases latin letters.
func cleanName(s string) string {
	s, _ = FoldWidth(strings.ToValidUTF8(s, ""))
	s, _ = ToSimplified(s)
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
	g.byName.strictSuffix = true
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
		gc := indexedCompound{Compound: c, community: c.CommunityCode, buildings: make(map[string]int, len(c.Buildings)), clean: []rune(cleanName(c.Name))}
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
// unique prefix, then (only within a region the text names) with one
// mistyped character; an ambiguous name matches nothing. A compound
// outside the region the text names never matches. A street written
// without its suffix in front of the community, and a community in front
// of the compound, are split off. Regions missing from the address are
// filled from the compound's.
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
	if a.Community != "" && m.CommunityCode == "" && m.StreetCode == "" {
		// A street written without its suffix in front of the community
		// (鼓楼胜利社区): split it off.
		if st, cm, tier := g.streetThenCommunity(a.Community, m.DistrictCode); cm != "" {
			m.StreetCode, m.CommunityCode = st, cm
			note("street and community", a.Community, tier)
		}
	}
	// A street or community the text names but the reference does not
	// know: a compound found around it is a weaker guess.
	unresolved := a.Community != "" && m.CommunityCode == "" || a.Street != "" && m.StreetCode == ""
	building := BuildingNumber(a.Building)

	if a.Compound != "" {
		scope := first(m.CommunityCode, m.StreetCode, m.DistrictCode)
		in := g.inScope(scope)
		id, tier, amb := g.findCompound(a.Compound, in, building)
		if id < 0 && amb == 0 {
			// A community (or street) written in front of the compound
			// without the suffix that would have split it off (胜利金色佳苑).
			if cid, ccode, t, n := g.afterRegionName(a.Compound, scope, building); cid >= 0 || n > 1 {
				id, tier, amb = cid, t, n
				if cid >= 0 && m.CommunityCode == "" {
					m.CommunityCode = ccode
				}
			}
		}
		if id < 0 && amb == 0 && scope != "" {
			// One mistyped character, only within a region the address
			// names: a fuzzy match across the city is a guess.
			id, tier, amb = g.fuzzyCompound(a.Compound, in)
		}
		switch {
		case id >= 0:
			c := &g.compounds[id]
			m.CompoundID, m.CompoundName, m.GridCode = c.ID, c.Name, c.GridCode
			note("compound", a.Compound, tier)
			if c.community != "" && m.CommunityCode == "" {
				m.CommunityCode = c.community
			}
			if b := building; b != "" {
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
			if other, _, _ := g.byName.find(a.Compound, nil); scope != "" && other >= 0 {
				// A compound outside the region the text names never wins.
				notes = append(notes, "compound "+a.Compound+" lies outside the address's region: not matched")
			} else {
				notes = append(notes, "compound "+a.Compound+" unknown")
			}
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
		m.Confidence = buildingConfidence[worst]
	case m.CompoundID != "":
		m.Confidence = compoundConfidence[worst]
	case m.CommunityCode != "":
		m.Confidence = max(0.45-0.05*float64(worst), 0.45/2)
	case m.StreetCode != "":
		m.Confidence = max(0.25-0.05*float64(worst), 0.25/2)
	case m.DistrictCode != "":
		m.Confidence = max(0.1-0.05*float64(worst), 0.1/2)
	}
	if unresolved && m.CompoundID != "" {
		m.Confidence = min(m.Confidence, unresolvedConfidence)
		notes = append(notes, "the named street or community is unknown")
	}
	if len(notes) == 0 {
		notes = append(notes, "nothing matched")
	}
	m.Explanation = strings.Join(notes, "; ")
	return m
}

// Confidence of a building and of a compound match by the worst name tier
// used (exact, without suffix, prefix, homophone typo, other typo). The
// figures are calibrated on testdata/variants.tsv (see
// TestAddressVariants): of the matches at each level, at least that share
// is right.
var (
	buildingConfidence = [...]float64{0.95, 0.9, 0.85, 0.8, 0.6}
	compoundConfidence = [...]float64{0.75, 0.7, 0.65, 0.6, 0.45}
)

// unresolvedConfidence caps a compound match made around a street or
// community the text names but the reference does not know.
const unresolvedConfidence = 0.45

// findCompound finds the compound a name designates within in. Two
// compounds of the same name within the scope (one estate split over two
// grids) are told apart by the building number when only one of them has
// that building.
func (g *Gazetteer) findCompound(name string, in func(int32) bool, building string) (int32, int, int) {
	id, tier, amb := g.byName.find(name, in)
	if amb < 2 || building == "" || tier > tierCore {
		return id, tier, amb
	}
	key := cleanName(name)
	core := coreName(key, g.byName.suffixes)
	list := g.byName.exact[key]
	if tier == tierCore {
		list = g.byName.core[core]
	}
	found, n := int32(-1), 0
	comm := ""
	for i, c := range list {
		if in != nil && !in(c) {
			continue
		}
		// Only parts of one estate: candidates of one community.
		if cc := g.compounds[c].community; i == 0 || comm == "" {
			comm = cc
		} else if cc != comm || cc == "" {
			return -1, tier, amb
		}
		if _, ok := g.compounds[c].buildings[building]; ok && c != found {
			found, n = c, n+1
		}
	}
	if n == 1 {
		return found, tier, 0
	}
	return -1, tier, amb
}

// streetThenCommunity splits a community name that starts with a street's
// name without its suffix (鼓楼胜利社区 → 鼓楼街道, 胜利社区) within the
// district (the whole tree when none); both must be unique.
func (g *Gazetteer) streetThenCommunity(name, district string) (string, string, int) {
	r := []rune(cleanName(name))
	for k := 2; k <= len(r)-3; k++ {
		var in func(int32) bool
		if district != "" {
			in = func(id int32) bool { return g.within(g.regionCodes[id], district) }
		}
		sid, stier, samb := g.levels[canon.LevelStreet].find(string(r[:k]), in)
		if sid < 0 || samb > 0 || stier > tierCore {
			continue
		}
		street := g.regionCodes[sid]
		cid, ctier, camb := g.levels[canon.LevelCommunity].find(string(r[k:]), func(id int32) bool { return g.within(g.regionCodes[id], street) })
		if cid < 0 || camb > 0 {
			continue
		}
		return street, g.regionCodes[cid], max(stier, ctier, tierCore)
	}
	return "", "", 0
}

// inScope is the filter of compounds within a region code: nil (all) for
// an empty scope; a compound of unknown community is kept.
func (g *Gazetteer) inScope(scope string) func(int32) bool {
	if scope == "" {
		return nil
	}
	return func(id int32) bool {
		c := g.compounds[id].community
		return c == "" || g.within(c, scope)
	}
}

// afterRegionName reads a compound name written after a community or
// street name that kept no suffix (胜利金色佳苑, 鼓楼胜利社区金色佳苑): the
// longest leading part that names a community or street within scope, then
// the compound within that region. It returns the compound, the community
// it named (if a community), the tier, and the candidates when ambiguous.
func (g *Gazetteer) afterRegionName(name, scope, building string) (int32, string, int, int) {
	r := []rune(cleanName(name))
	for k := len(r) - 2; k >= 2; k-- {
		head, tail := string(r[:k]), string(r[k:])
		for _, level := range []canon.RegionLevel{canon.LevelCommunity, canon.LevelStreet} {
			var in func(int32) bool
			if scope != "" {
				in = func(id int32) bool { return g.within(g.regionCodes[id], scope) }
			}
			rid, rtier, ramb := g.levels[level].find(head, in)
			if rid < 0 || ramb > 0 {
				continue
			}
			code := g.regionCodes[rid]
			id, tier, amb := g.findCompound(tail, g.inScope(code), building)
			if id < 0 && amb == 0 {
				continue
			}
			comm := ""
			if level == canon.LevelCommunity {
				comm = code
			}
			return id, comm, max(tier, rtier, tierPrefix), amb
		}
	}
	return -1, "", 0, 0
}

// fuzzyCompound finds the one compound within in whose name differs from
// name in exactly one character (of at least four): a homophone (the slip
// of a pinyin input method) beats another character; two candidates alike
// are ambiguous.
func (g *Gazetteer) fuzzyCompound(name string, in func(int32) bool) (int32, int, int) {
	r := []rune(cleanName(name))
	if len(r) < 4 {
		return -1, 0, 0
	}
	best, bestTier, n := int32(-1), tierTypo+1, 0
	for i := range g.compounds {
		id := int32(i)
		if in != nil && !in(id) {
			continue
		}
		k := g.compounds[i].clean
		if len(k) != len(r) {
			continue
		}
		diff := -1
		for j := range k {
			if k[j] != r[j] {
				if diff >= 0 {
					diff = -2
					break
				}
				diff = j
			}
		}
		if diff < 0 {
			continue // the same name (found before) or two differences
		}
		tier := tierTypo
		if homophones(k[diff], r[diff]) {
			tier = tierHomophone
		}
		switch {
		case tier < bestTier:
			best, bestTier, n = id, tier, 1
		case tier == bestTier:
			n++
		}
	}
	if n > 1 {
		return -1, bestTier, n
	}
	return best, bestTier, 0
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

// RegionNames returns the names of the district, street and community a
// region code lies in (those of its levels and above that the reference
// knows; empty for an unknown code): the hint a source record's own region
// gives an address that leaves them out (resolve.Building).
func (g *Gazetteer) RegionNames(code string) Address {
	var a Address
	if c := g.ancestor(code, canon.LevelDistrict); c != "" {
		a.District = g.regions[c].Name
	}
	if c := g.ancestor(code, canon.LevelStreet); c != "" {
		a.Street = g.regions[c].Name
	}
	if c := g.ancestor(code, canon.LevelCommunity); c != "" {
		a.Community = g.regions[c].Name
	}
	return a
}
