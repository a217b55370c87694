package city

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// idAllocator hands out unique citizen ID sequence numbers per birthplace
// and birth day without a per-record map: a counter per (birthplace, day,
// sex) in flat arrays.
type idAllocator struct {
	places []string
	day0   int64 // unix day of 1920-01-01
	days   int
	next   []uint16
}

func newIDAllocator() *idAllocator {
	a := &idAllocator{places: append(append([]string{}, localBirthplaces...), remoteBirthplaces...)}
	a.day0 = time.Date(1920, 1, 1, 0, 0, 0, 0, CST).Unix() / 86400
	a.days = 110 * 366
	a.next = make([]uint16, len(a.places)*a.days*2)
	return a
}

// id returns a new valid 18-digit ID.
func (a *idAllocator) id(place int, birth time.Time, male bool) string {
	day := int(birth.Unix()/86400 - a.day0)
	sex := 0
	if !male {
		sex = 1
	}
	k := (place*a.days+day)*2 + sex
	n := int(a.next[k])
	a.next[k]++
	start := (day*7 + place*13) % 150
	seq := 2*(start+n) + 1
	if !male {
		seq++
	}
	if seq > 999 {
		seq = seq%998 + 1 // practically unreachable at the sizes generated
	}
	b := make([]byte, 0, 18)
	b = append(b, a.places[place]...)
	b = birth.AppendFormat(b, "20060102")
	b = fmt.Appendf(b, "%03d", seq)
	b = append(b, IDCheckChar(string(b)))
	return string(b)
}

func weightedSurname(rng *rand.Rand, total int) string {
	n := rng.IntN(total)
	for _, s := range surnames {
		if n < s.w {
			return s.s
		}
		n -= s.w
	}
	return surnames[0].s
}

func givenName(rng *rand.Rand, male bool) string {
	pool := givenFemale
	if male {
		pool = givenMale
	}
	pick := func() rune {
		if rng.IntN(5) == 0 {
			return givenAny[rng.IntN(len(givenAny))]
		}
		return pool[rng.IntN(len(pool))]
	}
	if rng.IntN(10) < 3 {
		return string(pick())
	}
	return string([]rune{pick(), pick()})
}

func mobile(rng *rand.Rand) string {
	return fmt.Sprintf("%s%08d", mobilePrefixes[rng.IntN(len(mobilePrefixes))], rng.IntN(100_000_000))
}

// population builds compounds, buildings, households and residents.
func (g *gen) population(rng *rand.Rand) {
	c := g.c
	ids := newIDAllocator()
	sTotal := 0
	for _, s := range surnames {
		sTotal += s.w
	}
	refT := g.cfg.Reference
	c.People = make([]Person, 0, g.p.residents+g.p.residents/20)
	for gi, gr := range c.Grids {
		target := g.p.residents * (gi + 1) / len(c.Grids)
		rect := c.Regions[gr].Rect
		// 1–3 compounds per grid, each with buildings created on demand.
		nComp := 1 + rng.IntN(3)
		comp0 := int32(len(c.Compounds))
		for range nComp {
			c.Compounds = append(c.Compounds, Compound{
				Name: compoundStems[rng.IntN(len(compoundStems))] + compoundSuffixes[rng.IntN(len(compoundSuffixes))],
				Grid: gr,
			})
		}
		var b int32 = -1
		var unit, floor, room uint8
		nextRoom := func() {
			for {
				if b >= 0 {
					bd := &c.Buildings[b]
					room++
					if room > 2 {
						room = 1
						floor++
					}
					if floor > bd.Floors {
						floor = 1
						unit++
					}
					if unit <= bd.Units {
						if rng.IntN(5) > 0 { // ~20% of rooms are vacant
							return
						}
						continue
					}
				}
				ci := comp0 + int32(rng.IntN(nComp))
				no := uint16(1)
				for j := len(c.Buildings) - 1; j >= 0 && c.Buildings[j].Grid == gr; j-- {
					if c.Buildings[j].Compound == ci {
						no = c.Buildings[j].No + 1
						break
					}
				}
				lng, lat := rect.randomPoint(rng, 0.08)
				c.Buildings = append(c.Buildings, Building{Compound: ci, Grid: gr, No: no,
					Units: uint8(1 + rng.IntN(3)), Floors: uint8(6 + rng.IntN(13)), Lng: lng, Lat: lat, Group: -1})
				b = int32(len(c.Buildings) - 1)
				unit, floor, room = 1, 1, 0
			}
		}
		start := int32(len(c.People))
		for first := true; first || len(c.People) < target; first = false {
			nextRoom()
			floating := rng.IntN(100) < 18
			hh := int32(len(c.Households))
			c.Households = append(c.Households, Household{Building: b, Unit: unit, Floor: floor, Room: room, Floating: floating,
				Rec: Rec{Updated: g.pastTime(rng, 540)}})
			g.household(rng, ids, sTotal, hh, floating, refT)
		}
		g.gridPeople = append(g.gridPeople, [2]int32{start, int32(len(c.People))})
	}
}

// household adds the members of one household.
func (g *gen) household(rng *rand.Rand, ids *idAllocator, sTotal int, hh int32, floating bool, ref time.Time) {
	c := g.c
	place := func() int {
		if floating {
			return len(localBirthplaces) + rng.IntN(len(remoteBirthplaces))
		}
		if rng.IntN(10) == 0 {
			return len(localBirthplaces) + rng.IntN(len(remoteBirthplaces))
		}
		return rng.IntN(len(localBirthplaces))
	}
	birth := func(minAge, maxAge int) time.Time {
		days := minAge*365 + rng.IntN((maxAge-minAge+1)*365)
		return ref.AddDate(0, 0, -days-1).Truncate(24 * time.Hour).In(CST)
	}
	add := func(name string, b time.Time, male bool, rel uint8) {
		p := Person{Name: name, Household: hh, Rel: rel, Rec: Rec{Updated: g.pastTime(rng, 540)}}
		p.ID = ids.id(place(), time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, CST), male)
		if ref.Sub(b) > 12*365*24*time.Hour {
			p.Phone = mobile(rng)
		}
		c.People = append(c.People, p)
	}
	size := []int{1, 2, 2, 3, 3, 3, 4, 4, 5}[rng.IntN(9)]
	headMale := rng.IntN(10) < 7
	surname := weightedSurname(rng, sTotal)
	headAge := 24 + rng.IntN(58)
	hb := birth(headAge, headAge)
	add(surname+givenName(rng, headMale), hb, headMale, 0)
	n := 1
	if size >= 2 && headAge < 78 {
		sa := max(20, headAge-5+rng.IntN(10))
		add(weightedSurname(rng, sTotal)+givenName(rng, !headMale), birth(sa, sa), !headMale, 1)
		n++
	}
	for ; n < size; n++ {
		if headAge > 45 && rng.IntN(4) == 0 {
			pa := min(100, headAge+22+rng.IntN(10))
			m := rng.IntN(2) == 0
			sn := surname
			if !m {
				sn = weightedSurname(rng, sTotal)
			}
			add(sn+givenName(rng, m), birth(pa, pa), m, 3)
			continue
		}
		ca := max(0, headAge-22-rng.IntN(15))
		m := rng.IntN(2) == 0
		add(surname+givenName(rng, m), birth(ca, ca), m, 2)
	}
}

// age returns a person's age at the reference date in years.
func (c *City) age(p *Person) int {
	y := int(p.ID[6]-'0')*1000 + int(p.ID[7]-'0')*100 + int(p.ID[8]-'0')*10 + int(p.ID[9]-'0')
	return c.cfg.Reference.Year() - y
}

// male reports the sex encoded in a true ID.
func male(id string) bool { return (id[16]-'0')%2 == 1 }

// workers picks the grid workers: one full-time worker per grid, a
// part-time one in about half the grids, and a grid head (网格长) per
// community covering all its grids.
func (g *gen) workers(rng *rand.Rand) {
	c := g.c
	span := g.gridPeople
	pick := func(ord int) int32 {
		s := span[ord]
		for try := 0; try < 50 && s[1] > s[0]; try++ {
			p := s[0] + rng.Int32N(s[1]-s[0])
			a := c.age(&c.People[p])
			if a >= 22 && a <= 58 && c.People[p].Roles&RoleWorker == 0 && c.People[p].Phone != "" {
				c.People[p].Roles |= RoleWorker
				return p
			}
		}
		return -1
	}
	for _, comm := range c.Communities {
		var grids []int32
		first := -1
		for ord, gr := range c.Grids {
			if c.Regions[gr].Parent == comm {
				grids = append(grids, gr)
				if first < 0 {
					first = ord
				}
			}
		}
		for k, gr := range grids {
			ord := first + k
			if p := pick(ord); p >= 0 {
				c.Workers = append(c.Workers, Worker{Person: p, Grids: []int32{gr}, Post: 1, Rec: Rec{Updated: g.pastTime(rng, 540)}})
			}
			if rng.IntN(100) < 30 {
				if p := pick(ord); p >= 0 {
					c.Workers = append(c.Workers, Worker{Person: p, Grids: []int32{gr}, Post: 2, Rec: Rec{Updated: g.pastTime(rng, 540)}})
				}
			}
		}
		if p := pick(first); p >= 0 {
			c.Workers = append(c.Workers, Worker{Person: p, Grids: append([]int32(nil), grids...), Post: 3, Rec: Rec{Updated: g.pastTime(rng, 540)}})
		}
	}
}
