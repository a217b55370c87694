package city

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Kind is a kind of injected defect.
type Kind uint8

// Defect kinds. The first group can be repaired by a correct hub; the
// second must be quarantined.
const (
	KNone           Kind = iota
	KID15                // legacy 15-digit citizen ID
	KIDLowerX            // lower-case x check character
	KPhoneFormat         // +86 138-0000-0000, 0086…, spaces
	KFullWidth           // full-width digits
	KChineseNumeral      // 三栋二单元, 一百二十号
	KCoordSwapped        // lat and lng exchanged
	KTimeNoZone          // local time string without zone where RFC 3339 is usual
	KTimeEpochMs         // epoch milliseconds where a date string is usual
	KHTML                // HTML markup in free text
	KDuplicate           // the same record delivered twice
	KNameSpace           // a space inside a Chinese name
	KIDChecksum          // citizen ID with a wrong check character
	KCoordOutside        // coordinates outside China
	KUnknownCode         // a code value not in the code table
	KMissingField        // a required field empty or null
	KGBKBytes            // GBK bytes in a UTF-8 field (invalid UTF-8)
	KOversized           // free text longer than 4000 characters
	numKinds
)

var kindNames = [numKinds]string{"", "id_15", "id_lower_x", "phone_format", "full_width", "chinese_numeral", "coord_swapped",
	"time_no_zone", "time_epoch_ms", "html", "duplicate", "name_space", "id_checksum", "coord_outside_china",
	"unknown_code", "missing_field", "gbk_bytes", "oversized_text"}

// String returns the defect kind's name as written in the ground truth.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Action is what a correct hub must do with a record carrying the defect.
func (k Kind) Action() string {
	if k >= KIDChecksum {
		return "QUARANTINE"
	}
	return "REPAIR"
}

// Entity identifies one kind of record of one source system.
type Entity uint8

// The entities of the three systems.
const (
	GovGrids Entity = iota
	GovWorkers
	GovHouses
	GovResidents
	GovEvents
	CityRequests
	PartyOrgs
	PartyMembers
	PartyDualReports
	PartyStations
	PartyActivities
	numEntities
)

// Entities lists every entity.
func Entities() []Entity {
	out := make([]Entity, numEntities)
	for i := range out {
		out[i] = Entity(i)
	}
	return out
}

var entityNames = [numEntities][2]string{
	{"gov", "grids"}, {"gov", "gridWorkers"}, {"gov", "houses"}, {"gov", "residents"}, {"gov", "events"},
	{"city", "requests"},
	{"party", "t_dzz"}, {"party", "t_dy"}, {"party", "t_sbd"}, {"party", "t_hyzz"}, {"party", "t_fwhd"},
}

// System returns the entity's system name: gov, city or party.
func (e Entity) System() string { return entityNames[e][0] }

// Name returns the entity's name in its system (resource or table name).
func (e Entity) Name() string { return entityNames[e][1] }

// String returns system/name.
func (e Entity) String() string { return e.System() + "/" + e.Name() }

type defectSpec struct {
	kind  Kind
	field string
}

// defectSpecs lists the defects each entity can carry and the field each
// lands in.
var defectSpecs = [numEntities][]defectSpec{
	GovResidents: {{KID15, "idCard"}, {KIDLowerX, "idCard"}, {KIDChecksum, "idCard"}, {KPhoneFormat, "mobile"}, {KFullWidth, "mobile"},
		{KNameSpace, "name"}, {KMissingField, "idCard"}, {KGBKBytes, "name"}, {KUnknownCode, "residentType"}, {KDuplicate, ""}},
	GovWorkers: {{KPhoneFormat, "mobile"}, {KID15, "idCard"}, {KNameSpace, "name"}, {KDuplicate, ""}},
	GovHouses:  {{KFullWidth, "address"}, {KChineseNumeral, "address"}, {KCoordSwapped, "lng/lat"}, {KCoordOutside, "lng/lat"}, {KDuplicate, ""}},
	GovEvents: {{KCoordSwapped, "lng/lat"}, {KCoordOutside, "lng/lat"}, {KHTML, "content"}, {KOversized, "content"}, {KGBKBytes, "content"},
		{KUnknownCode, "eventSubType"}, {KMissingField, "eventType"}, {KPhoneFormat, "reporterMobile"}, {KID15, "reporterIdCard"}, {KDuplicate, ""}},
	CityRequests: {{KCoordSwapped, "lat/long"}, {KCoordOutside, "lat/long"}, {KHTML, "description"}, {KOversized, "description"},
		{KUnknownCode, "service_code"}, {KMissingField, "requested_datetime"}, {KTimeNoZone, "requested_datetime"},
		{KTimeEpochMs, "requested_datetime"}, {KChineseNumeral, "address"}, {KFullWidth, "address"}, {KDuplicate, ""}},
	PartyMembers: {{KID15, "sfzh"}, {KIDLowerX, "sfzh"}, {KIDChecksum, "sfzh"}, {KPhoneFormat, "lxdh"}, {KFullWidth, "lxdh"},
		{KChineseNumeral, "jzdz"}, {KNameSpace, "xm"}, {KMissingField, "sfzh"}, {KTimeEpochMs, "rdrq"}, {KDuplicate, ""}},
	PartyStations:   {{KCoordSwapped, "jd/wd"}, {KUnknownCode, "zzlx"}},
	PartyActivities: {{KHTML, "hdmc"}, {KOversized, "hdmc"}, {KMissingField, "dyid"}},
}

// DefectField returns the field a defect kind lands in for an entity.
func DefectField(e Entity, k Kind) string {
	for _, s := range defectSpecs[e] {
		if s.kind == k {
			return s.field
		}
	}
	return ""
}

// eligible reports whether a defect can be shown by a record (e.g. only
// IDs ending in X can show a lower-case x, only people born in the 1900s
// have a 15-digit form, only people with a phone a badly formatted one).
func (c *City) eligible(k Kind, person int32) bool {
	switch k {
	case KID15, KIDLowerX, KIDChecksum, KPhoneFormat, KFullWidth, KNameSpace:
		if person < 0 {
			return false
		}
	}
	if person < 0 {
		return true
	}
	p := &c.People[person]
	switch k {
	case KID15:
		return p.ID[6:8] == "19"
	case KIDLowerX:
		return p.ID[17] == 'X'
	case KPhoneFormat, KFullWidth:
		return p.Phone != ""
	}
	return true
}

// pickDefect draws a defect for a record of entity e (person is the
// record's person, -1 for none); KNone when no eligible kind was drawn.
func (c *City) pickDefect(rng *rand.Rand, e Entity, person int32) Kind {
	specs := defectSpecs[e]
	for range 6 {
		s := specs[rng.IntN(len(specs))]
		k := s.kind
		if (e == GovHouses || e == CityRequests) && (k == KFullWidth || k == KChineseNumeral) {
			return k
		}
		if e == GovEvents && (k == KPhoneFormat || k == KID15) && person < 0 {
			continue
		}
		if e == GovResidents || e == GovWorkers || e == PartyMembers || e == GovEvents {
			if !c.eligible(k, person) {
				continue
			}
		}
		return k
	}
	return KNone
}

// defects injects defects at the configured rate.
func (g *gen) defects(rng *rand.Rand) {
	c := g.c
	r := g.cfg.DirtyRate
	if r <= 0 {
		return
	}
	hit := func() bool { return rng.Float64() < r }
	for i := range c.People {
		if hit() {
			c.People[i].Def = c.pickDefect(rng, GovResidents, int32(i))
		}
	}
	for i := range c.Workers {
		if hit() {
			c.Workers[i].Def = c.pickDefect(rng, GovWorkers, c.Workers[i].Person)
		} else if rng.IntN(100) < 8 {
			// Grid workers' phones are often typed differently in the
			// governance system than in the resident register.
			c.Workers[i].Def = KPhoneFormat
		}
	}
	for i := range c.Households {
		if hit() {
			c.Households[i].Def = c.pickDefect(rng, GovHouses, -1)
		}
	}
	for i := range c.GovEvents {
		if hit() {
			c.GovEvents[i].Def = c.pickDefect(rng, GovEvents, c.GovEvents[i].Person)
		}
	}
	for i := range c.CityCases {
		if hit() {
			c.CityCases[i].Def = c.pickDefect(rng, CityRequests, -1)
		}
	}
	for i := range c.Members {
		if hit() {
			m := &c.Members[i]
			m.Def = c.pickDefect(rng, PartyMembers, m.Person)
			if m.Def == KDuplicate {
				m.DupID = hexID(rng)
			}
		}
	}
	for i := range c.Stations {
		if hit() {
			c.Stations[i].Def = c.pickDefect(rng, PartyStations, -1)
		}
	}
	for i := range c.Activities {
		if hit() {
			c.Activities[i].Def = c.pickDefect(rng, PartyActivities, -1)
		}
	}
}

// Value renderers for defects.

func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r - '0' + '０')
		case r == '-':
			b.WriteRune('－')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func phoneFormatted(p string, variant int) string {
	switch variant % 3 {
	case 0:
		return "+86 " + p[:3] + "-" + p[3:7] + "-" + p[7:]
	case 1:
		return "0086" + p
	default:
		return p[:3] + " " + p[3:7] + " " + p[7:]
	}
}

func nameWithSpace(n string) string {
	r := []rune(n)
	if len(r) < 2 {
		return n + " "
	}
	return string(r[:1]) + " " + string(r[1:])
}

func wrongChecksum(id string) string {
	good := id[17]
	i := strings.IndexByte(idCheckChars, good)
	return id[:17] + string(idCheckChars[(i+3)%11])
}

// chineseNumber writes n (0 ≤ n < 10000) in Chinese numerals: 12 → 十二,
// 123 → 一百二十三.
func chineseNumber(n int) string {
	if n == 0 {
		return "〇"
	}
	units := []string{"", "十", "百", "千"}
	ds := []int{}
	for x := n; x > 0; x /= 10 {
		ds = append(ds, x%10)
	}
	var b strings.Builder
	zero := false
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		if d == 0 {
			zero = true
			continue
		}
		if zero {
			b.WriteRune('〇')
			zero = false
		}
		if !(d == 1 && i == 1 && len(ds) == 2) {
			b.WriteRune(chineseDigits[d])
		}
		b.WriteString(units[i])
	}
	s := b.String()
	return strings.ReplaceAll(s, "〇", "零")
}

func htmlWrap(s string) string {
	return "<p>" + s + "</p><br/>&nbsp;<b style=\"color:red\">请尽快处理</b>"
}

func oversized(s string) string {
	var b strings.Builder
	for utf8.RuneCountInString(b.String()) <= 4100 {
		b.WriteString(s)
		b.WriteString("（补充说明：现场情况复杂，附件照片多张，详见系统附件。）")
	}
	return b.String()
}

func gbkBytes(s string) string {
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil || utf8.ValidString(b) {
		return s + "\xc4\xe3\xba\xc3" // 你好 in GBK
	}
	return b
}

// outside moves a point out of China: the longitude's sign lost.
func outside(lng, lat float64) (float64, float64) { return -lng, lat }
