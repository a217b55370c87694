package city

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/longbridgeapp/opencc"
)

// Mention is a source record that names a person, with the person fields
// as that record holds them, and the person it truly names. The mentions
// are the corpus entity resolution is measured on: the records of the
// served systems that carry a person (residents, grid workers, party
// members, reporters of governance events, reporters of 12345 hotline and
// public city-management requests known only by name and phone) plus
// look-alike people and name, phone, dwelling and ID variants the served
// systems do not publish (see PersonMentions).
type Mention struct {
	System, Entity, ID string // the source record (as in TruthRecord)
	Role               string
	Name               string // as written, possibly a variant
	IDCard             string // as written, possibly failing validation; "" when the record has none
	Phone              string // 11-digit mobile as written, "" when none
	Gender             string // 男 / 女 as written, "" when the record has none
	Address            string // the dwelling as the address service standardises it (district, community, compound, building); "" when unknown
	Updated            int64  // unix seconds
	Person             string // the true person: P%07d (People index + 1) or L%07d (a look-alike)
	Hard               string // the hard cases this mention carries, comma-separated, "" for none
}

func (m *Mention) addHard(h string) {
	if h == "" {
		return
	}
	if m.Hard != "" {
		m.Hard += ","
	}
	m.Hard += h
}

// The hard cases of PersonMentions (Mention.Hard).
const (
	HardNameSpace      = "name-space"       // 张 三
	HardNameTrad       = "name-traditional" // 陳偉
	HardNameHomophone  = "name-homophone"   // a given-name character replaced by one read the same
	HardPhoneChanged   = "phone-changed"    // a newer number than the other systems know
	HardFamilyPhone    = "family-phone"     // the phone of another member of the household
	HardSecondAddress  = "second-address"   // a second dwelling, in another building
	HardBadID          = "id-invalid"       // the ID fails its check digit here, right elsewhere
	HardNoID           = "name-phone-only"  // a reporter known by name and phone only
	HardLookAlike      = "look-alike"       // another person: same name, birth year and community
	HardGenderMistaken = "gender-mistaken"  // 性别 disagrees with the ID
)

// homophoneSwap maps given-name characters to one with the same toneless
// reading, the slip of a pinyin input method.
var homophoneSwap = map[rune]rune{
	'伟': '玮', '敏': '民', '静': '晶', '丽': '莉', '军': '君', '杰': '洁', '涛': '韬', '明': '鸣',
	'华': '桦', '芳': '方', '英': '瑛', '红': '宏', '平': '萍', '刚': '钢', '磊': '垒', '霞': '侠',
	'秀': '绣', '玲': '铃', '燕': '艳', '勇': '永', '超': '潮', '辉': '晖', '飞': '菲', '波': '博',
	'宇': '雨', '浩': '昊', '凯': '恺', '健': '建', '俊': '骏', '旭': '序', '宁': '凝', '林': '琳',
	'锋': '峰', '亮': '靓', '东': '冬', '娜': '纳', '娟': '涓', '丹': '单', '梅': '玫',
	'婷': '庭', '雪': '薛', '慧': '惠', '颖': '影', '佳': '家', '倩': '茜', '琴': '勤', '云': '芸',
	'兰': '岚', '凤': '峰', '玉': '钰', '珍': '真', '思': '丝', '嘉': '佳', '欣': '新', '晨': '辰',
	'诗': '师', '可': '珂', '语': '雨', '安': '岸', '泽': '择', '睿': '瑞', '宏': '红', '子': '梓',
}

var toTraditional = sync.OnceValues(func() (*opencc.OpenCC, error) { return opencc.New("s2t") })

// PersonMentions returns every mention of a person in a fixed order, with
// the hard cases injected at fixed rates from a generator of its own (the
// served records carry the hotline reporters, not the other hard cases):
//
//   - residents (gov/residents): 1% with an ID failing its check digit;
//   - grid workers (gov/workers): 10% with a changed phone, 4% a name variant;
//   - party members (party/t_dy): 6% a name variant (spaces, traditional
//     characters, a homophone), 2% an invalid ID, 10% a changed phone, 8% a
//     second dwelling, the gender mistakes the served rows carry;
//   - reporters of governance events (gov/events): 5% a name variant, 3% a
//     changed phone;
//   - reporters of 12345 hotline and public city cases (city/requests),
//     as the city-management system serves them (hotlineReporter): an
//     adult of the case's grid, by name and phone only, 70% with the
//     dwelling; 8% a name variant, 10% the phone of another household
//     member, 8% (only when the dwelling is known) a changed phone;
//   - look-alikes: for 1.5% of the adults a different person (L…) with the
//     same name, birth year and community, another building and phone, a
//     valid ID of their own; mentioned as a resident (gov/residents, ids
//     after the served ones) and half of them as a hotline reporter
//     (city/hotline, L-prefixed ids).
func (c *City) PersonMentions() []Mention {
	c.mu.RLock()
	defer c.mu.RUnlock()
	rng := rand.New(rand.NewPCG(c.cfg.Seed, 0x6d656e74696f6e73))
	variant := nameVariant
	nVar := 0
	nameOf := func(p *Person, pct int) (string, string) {
		if rng.IntN(100) < pct {
			nVar++
			return variant(p.Name, nVar)
		}
		return p.Name, ""
	}
	gender := func(id string) string {
		if male(id) {
			return "男"
		}
		return "女"
	}
	key := func(pi int32) string { return fmt.Sprintf("P%07d", pi+1) }
	addrOfBuilding := c.dwelling
	addrOf := func(pi int32) string { return addrOfBuilding(c.Households[c.People[pi].Household].Building) }
	var out []Mention
	add := func(m Mention) { out = append(out, m) }

	// Residents.
	for i := range c.People {
		p := &c.People[i]
		m := Mention{System: "gov", Entity: "residents", ID: strconv.Itoa(i + 1), Role: "resident", Name: p.Name, IDCard: p.ID,
			Phone: p.Phone, Gender: gender(p.ID), Address: addrOf(int32(i)), Updated: p.Updated, Person: key(int32(i))}
		if rng.IntN(100) < 1 {
			m.IDCard = wrongChecksum(p.ID)
			m.addHard(HardBadID)
		}
		add(m)
	}
	// Grid workers.
	for i, w := range c.Workers {
		p := &c.People[w.Person]
		m := Mention{System: "gov", Entity: "workers", ID: strconv.Itoa(i + 1), Role: "gridWorker", IDCard: p.ID, Phone: p.Phone,
			Updated: w.Updated, Person: key(w.Person)}
		name, hard := nameOf(p, 4)
		m.Name = name
		m.addHard(hard)
		if rng.IntN(100) < 10 {
			m.Phone = mobile(rng)
			m.addHard(HardPhoneChanged)
		}
		add(m)
	}
	// Party members.
	for i := range c.Members {
		mb := &c.Members[i]
		p := &c.People[mb.Person]
		m := Mention{System: "party", Entity: "t_dy", ID: mb.ID, Role: "member", IDCard: p.ID, Phone: p.Phone, Gender: gender(p.ID),
			Address: addrOf(mb.Person), Updated: mb.Updated, Person: key(mb.Person)}
		name, hard := nameOf(p, 6)
		m.Name = name
		m.addHard(hard)
		if mb.WrongGender {
			m.Gender = map[string]string{"男": "女", "女": "男"}[m.Gender]
			m.addHard(HardGenderMistaken)
		}
		if rng.IntN(100) < 2 {
			m.IDCard = wrongChecksum(p.ID)
			m.addHard(HardBadID)
		}
		if rng.IntN(100) < 10 {
			m.Phone = mobile(rng)
			m.addHard(HardPhoneChanged)
		}
		if rng.IntN(100) < 8 {
			m.Address = addrOfBuilding(rng.Int32N(int32(len(c.Buildings))))
			m.addHard(HardSecondAddress)
		}
		add(m)
	}
	// Reporters of governance events (residents; grid workers report as
	// their worker record).
	for i := range c.GovEvents {
		ev := &c.GovEvents[i]
		if ev.Reporter != ReporterResident || ev.Person < 0 {
			continue
		}
		p := &c.People[ev.Person]
		m := Mention{System: "gov", Entity: "events", ID: c.SourceID(GovEvents, i), Role: "reporter", IDCard: p.ID, Phone: p.Phone,
			Updated: ev.Reported, Person: key(ev.Person)}
		name, hard := nameOf(p, 5)
		m.Name = name
		m.addHard(hard)
		if rng.IntN(100) < 3 {
			m.Phone = mobile(rng)
			m.addHard(HardPhoneChanged)
		}
		add(m)
	}
	// Hotline and public reporters of city cases, as the city-management
	// system serves them (hotlineReporter).
	for i := range c.CityCases {
		if m, ok := c.hotlineReporter(i); ok {
			add(m)
		}
	}
	// Look-alikes.
	seen := make(map[string]bool, len(c.People))
	for i := range c.People {
		seen[c.People[i].ID] = true
	}
	nLook := 0
	for i := range c.People {
		p := &c.People[i]
		if p.Phone == "" || c.age(p) < 18 || rng.IntN(1000) >= 15 {
			continue
		}
		b := c.Households[p.Household].Building
		comm := c.Regions[c.Buildings[b].Grid].Parent
		var others []int32
		for j := range c.Buildings {
			if int32(j) != b && c.Regions[c.Buildings[j].Grid].Parent == comm {
				others = append(others, int32(j))
			}
		}
		if len(others) == 0 {
			continue
		}
		ob := others[rng.IntN(len(others))]
		id := lookAlikeID(rng, p.ID, seen)
		if id == "" {
			continue
		}
		seen[id] = true
		nLook++
		lk := fmt.Sprintf("L%07d", nLook)
		phone := mobile(rng)
		add(Mention{System: "gov", Entity: "residents", ID: strconv.Itoa(len(c.People) + nLook), Role: "resident", Name: p.Name,
			IDCard: id, Phone: phone, Gender: gender(id), Address: addrOfBuilding(ob), Updated: p.Updated, Person: lk, Hard: HardLookAlike})
		if rng.IntN(2) == 0 {
			add(Mention{System: "city", Entity: "hotline", ID: lk, Role: "reporter", Name: p.Name, Phone: phone,
				Address: addrOfBuilding(ob), Updated: p.Updated, Person: lk, Hard: HardLookAlike})
		}
	}
	return out
}

// nameVariant returns a variant of name (k%3: traditional characters, a
// homophone, a space after the surname; the next form when one does not
// apply) and the hard case it is.
func nameVariant(name string, k int) (string, string) {
	rs := []rune(name)
	switch k % 3 {
	case 0:
		if trad, _ := toTraditional(); trad != nil {
			if t, err := trad.Convert(name); err == nil && t != name {
				return t, HardNameTrad
			}
		}
	case 1:
		for i := len(rs) - 1; i >= 1; i-- {
			if s, ok := homophoneSwap[rs[i]]; ok {
				out := slices.Clone(rs)
				out[i] = s
				return string(out), HardNameHomophone
			}
		}
	}
	if len(rs) < 2 {
		return name, ""
	}
	return string(rs[:1]) + " " + string(rs[1:]), HardNameSpace
}

// hotlineReporter returns the reporter of city case i when it came by the
// 12345 hotline or the public app, as fixed when the city was generated
// (fixReporters). The caller holds the read lock.
func (c *City) hotlineReporter(i int) (Mention, bool) {
	m, ok := c.reporters[int32(i)]
	return m, ok
}

// fixReporters chooses the reporter of every hotline and public city case,
// once, when the city is generated: what a report said about its reporter
// does not change when the reporter later moves house or people are added
// (a reporter computed from the current population would make the served
// request change without its update time moving). Only generated cases
// come by hotline: the live stream adds supervisors' reports.
func (c *City) fixReporters() {
	byGrid := make([][]int32, len(c.Grids))
	for pi := range c.People {
		o := c.gridOrdinal[c.Buildings[c.Households[c.People[pi].Household].Building].Grid]
		byGrid[o] = append(byGrid[o], int32(pi))
	}
	c.reporters = map[int32]Mention{}
	for i := range c.CityCases {
		if m, ok := c.chooseReporter(byGrid, i); ok {
			c.reporters[int32(i)] = m
		}
	}
}

// chooseReporter returns the reporter of city case i when it came by the
// 12345 hotline or the public app: an adult with a phone of the case's
// grid (byGrid: the people of each grid, by ordinal), known by name and
// phone only (no ID), 70% with the dwelling; 8% a name variant, 10% the
// phone of another member of the household, 8% (only when the dwelling is
// known) a changed phone. A generator seeded by the case makes the choice.
func (c *City) chooseReporter(byGrid [][]int32, i int) (Mention, bool) {
	cs := &c.CityCases[i]
	if cs.Reporter != ReporterHotline && cs.Reporter != ReporterPublic {
		return Mention{}, false
	}
	span := byGrid[c.gridOrdinal[cs.Grid]]
	if len(span) == 0 {
		return Mention{}, false
	}
	rng := rand.New(rand.NewPCG(c.cfg.Seed^0x7265706f72746572, uint64(i)))
	pi := span[rng.IntN(len(span))]
	for try := 0; try < 20 && (c.People[pi].Phone == "" || c.age(&c.People[pi]) < 18); try++ {
		pi = span[rng.IntN(len(span))]
	}
	p := &c.People[pi]
	if p.Phone == "" {
		return Mention{}, false
	}
	m := Mention{System: "city", Entity: "requests", ID: c.SourceID(CityRequests, i), Role: "reporter", Name: p.Name, Phone: p.Phone,
		Updated: cs.Reported, Person: fmt.Sprintf("P%07d", pi+1), Hard: HardNoID}
	if rng.IntN(100) < 8 {
		name, hard := nameVariant(p.Name, rng.IntN(3))
		m.Name = name
		m.addHard(hard)
	}
	if rng.IntN(100) < 70 {
		m.Address = c.dwelling(c.Households[p.Household].Building)
	}
	switch x := rng.IntN(100); {
	case x < 10:
		if o := c.housemate(pi); o >= 0 {
			m.Phone = c.People[o].Phone
			m.addHard(HardFamilyPhone)
		}
	case x < 18 && m.Address != "":
		m.Phone = mobile(rng)
		m.addHard(HardPhoneChanged)
	}
	return m, true
}

// dwelling is the address of building b as the address service
// standardises it: district, community, compound, building.
func (c *City) dwelling(b int32) string {
	bd := &c.Buildings[b]
	cm := c.Regions[bd.Grid].Parent
	d := c.ancestor(bd.Grid, LevelDistrict)
	return c.Regions[d].Name + c.Regions[cm].Name + c.Compounds[bd.Compound].Name + strconv.Itoa(int(bd.No)) + "栋"
}

// housemate returns another adult with a phone in person pi's household,
// or -1.
func (c *City) housemate(pi int32) int32 {
	h := c.People[pi].Household
	for j := pi - 5; j <= pi+5; j++ {
		if j != pi && j >= 0 && int(j) < len(c.People) && c.People[j].Household == h && c.People[j].Phone != "" && c.People[j].Phone != c.People[pi].Phone {
			return j
		}
	}
	return -1
}

// lookAlikeID returns a valid ID of the same birthplace and birth year as
// id but another birth day, not in seen, or "".
func lookAlikeID(rng *rand.Rand, id string, seen map[string]bool) string {
	y, _ := strconv.Atoi(id[6:10])
	for range 20 {
		d := time.Date(y, 1, 1, 0, 0, 0, 0, CST).AddDate(0, 0, rng.IntN(365))
		if d.Format("20060102") == id[6:14] {
			continue
		}
		b := []byte(id[:6] + d.Format("20060102") + fmt.Sprintf("%03d", 1+rng.IntN(998)))
		b = append(b, IDCheckChar(string(b)))
		if !seen[string(b)] {
			return string(b)
		}
	}
	return ""
}
