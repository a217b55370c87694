package city

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

func hexID(rng *rand.Rand) string {
	return fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
}

// party builds the party organisation tree, members, dual reports,
// service stations and volunteer activities.
func (g *gen) party(rng *rand.Rand) {
	c := g.c
	orgOfStreet := make([]int32, len(c.Regions))
	orgOfCommunity := make([]int32, len(c.Regions))
	orgOfGrid := make([]int32, len(c.Regions))
	addOrg := func(o Org) int32 {
		o.ID = hexID(rng)
		o.Rec = Rec{Updated: g.pastTime(rng, 540)}
		c.Orgs = append(c.Orgs, o)
		return int32(len(c.Orgs) - 1)
	}
	for _, s := range c.Streets {
		orgOfStreet[s] = addOrg(Org{Name: c.Regions[s].Name + "党工委", Kind: orgWorkCommittee, Parent: -1, Community: -1, Grid: -1})
	}
	for _, cm := range c.Communities {
		kind := uint8(orgCommittee)
		name := c.Regions[cm].Name + "党委"
		if rng.IntN(5) == 0 {
			kind, name = orgGeneralBranch, c.Regions[cm].Name+"党总支"
		}
		orgOfCommunity[cm] = addOrg(Org{Name: name, Kind: kind, Parent: orgOfStreet[c.Regions[cm].Parent], Community: cm, Grid: -1})
	}
	for _, gr := range c.Grids {
		cm := c.Regions[gr].Parent
		orgOfGrid[gr] = addOrg(Org{Name: c.Regions[gr].Name + "党支部", Kind: orgBranch, Parent: orgOfCommunity[cm], Community: cm, Grid: gr, NoGridCode: rng.IntN(10) < 3})
	}
	for bi := range c.Buildings {
		b := &c.Buildings[bi]
		if rng.IntN(100) < 15 {
			cm := c.Regions[b.Grid].Parent
			b.Group = addOrg(Org{Name: fmt.Sprintf("%s%d栋党小组", c.Compounds[b.Compound].Name, b.No), Kind: orgGroup, Parent: orgOfGrid[b.Grid], Community: cm, Grid: b.Grid, NoGridCode: rng.IntN(2) == 0})
		}
	}
	employerOrg := make([]int32, len(employers))
	for i, e := range employers {
		employerOrg[i] = addOrg(Org{Name: e + "机关党支部", Kind: orgBranch, Parent: -1, Community: -1, Grid: -1})
	}

	// Members: about 6.5% of adults.
	for pi := range c.People {
		p := &c.People[pi]
		if c.age(p) < 18 || rng.IntN(1000) >= 65 {
			continue
		}
		p.Roles |= RoleMember
		b := &c.Buildings[c.Households[p.Household].Building]
		m := Member{ID: hexID(rng), Person: int32(pi), Org: orgOfGrid[b.Grid], Employer: -1,
			Central: rng.IntN(100) < 5, WrongGender: rng.IntN(200) == 0, Rec: Rec{Updated: g.pastTime(rng, 540)}}
		if b.Group >= 0 && rng.IntN(2) == 0 {
			m.Org = b.Group
		}
		age := c.age(p)
		years := 1 + rng.IntN(max(1, age-18))
		m.Joined = g.ref - int64(years)*365*86400 - rng.Int64N(365*86400)
		if age < 60 && rng.IntN(100) < 25 {
			e := rng.IntN(len(employers))
			m.Employer = int16(e)
			m.Org = employerOrg[e]
		}
		c.Members = append(c.Members, m)
		if m.Employer >= 0 {
			cm := c.Regions[b.Grid].Parent
			c.DualReports = append(c.DualReports, DualReport{ID: hexID(rng), Member: int32(len(c.Members) - 1), Community: cm,
				Branch: orgOfGrid[b.Grid], NoCode: rng.IntN(5) == 0, Date: g.pastTime(rng, 1500), Rec: Rec{Updated: g.pastTime(rng, 540)}})
		}
	}

	// Stations: a 党群服务中心 per street, a 红色驿站 in ~40% of communities.
	addStation := func(kind uint8, name string, cm int32) {
		// Locate it in a random grid of the community.
		var grids []int32
		for _, gr := range c.Grids {
			if c.Regions[gr].Parent == cm {
				grids = append(grids, gr)
			}
		}
		gr := grids[rng.IntN(len(grids))]
		lng, lat := c.Regions[gr].Rect.randomPoint(rng, 0.1)
		st := c.Regions[c.Regions[cm].Parent]
		n := 3 + rng.IntN(4)
		perm := rng.Perm(len(stationServices))[:n]
		svc := make([]string, n)
		for i, k := range perm {
			svc[i] = stationServices[k]
		}
		c.Stations = append(c.Stations, Station{ID: hexID(rng), Name: name, Kind: kind, Community: cm,
			Address: fmt.Sprintf("%s%s%s%d号", c.Regions[st.Parent].Name, st.Name, st.Roads[rng.IntN(len(st.Roads))], 1+rng.IntN(200)),
			Lng:     lng, Lat: lat, Services: strings.Join(svc, "、"), Rec: Rec{Updated: g.pastTime(rng, 540)}})
	}
	for _, s := range c.Streets {
		for _, cm := range c.Communities {
			if c.Regions[cm].Parent == s {
				addStation(1, c.Regions[s].Name+"党群服务中心", cm)
				break
			}
		}
	}
	for _, cm := range c.Communities {
		if rng.IntN(100) < 40 {
			addStation(0, c.Regions[cm].Name+"红色驿站", cm)
		}
	}
	// Station index per community for activities.
	stationOf := make([]int32, len(c.Regions))
	for i := range stationOf {
		stationOf[i] = -1
	}
	for si, st := range c.Stations {
		if stationOf[st.Community] < 0 || st.Kind == 0 {
			stationOf[st.Community] = int32(si)
		}
	}
	for mi := range c.Members {
		m := &c.Members[mi]
		b := c.Buildings[c.Households[c.People[m.Person].Household].Building]
		cm := c.Regions[b.Grid].Parent
		st := stationOf[cm]
		if st < 0 {
			// the street's centre
			street := c.Regions[cm].Parent
			for si, s := range c.Stations {
				if s.Kind == 1 && c.Regions[s.Community].Parent == street {
					st = int32(si)
					break
				}
			}
		}
		if st < 0 {
			continue
		}
		n := rng.IntN(2 * g.p.activitiesPerM)
		for range n {
			h := float32(1+rng.IntN(7)) / 2
			date := g.pastTime(rng, 540)
			c.Activities = append(c.Activities, Activity{ID: hexID(rng), Title: uint8(rng.IntN(len(activityTitles))), Member: int32(mi),
				Station: st, Date: date, Hours: h, Points: int16(h * 10), Rec: Rec{Updated: min(date+3600+rng.Int64N(3*86400), g.ref-1)}})
		}
	}
}
