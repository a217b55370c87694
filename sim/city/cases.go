package city

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ywtg/hub/canon"
)

// hourWeights shapes the time of day at which problems are reported.
var hourWeights = [24]int{1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 8, 9, 12, 13, 13, 12, 10, 8, 6, 4, 2, 1}

// stepArena hands out step slices from large chunks, so a million case
// timelines cost a few dozen allocations.
type stepArena struct{ buf []Step }

func (a *stepArena) take(steps []Step) []Step {
	if len(a.buf)+len(steps) > cap(a.buf) {
		a.buf = make([]Step, 0, 1<<16)
	}
	start := len(a.buf)
	a.buf = append(a.buf, steps...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// reportTime draws a report instant within the last 540 days, weighted
// toward office hours.
func (g *gen) reportTime(rng *rand.Rand) int64 {
	day := g.ref/86400*86400 - 8*3600 - int64(1+rng.IntN(540))*86400 // local midnight
	tot := 0
	for _, w := range hourWeights {
		tot += w
	}
	n := rng.IntN(tot)
	h := 0
	for ; n >= hourWeights[h]; h++ {
		n -= hourWeights[h]
	}
	return day + int64(h)*3600 + rng.Int64N(3600)
}

// cases generates governance events and city-management cases with their
// timelines and the cross-silo incidents.
func (g *gen) cases(rng *rand.Rand) {
	c := g.c
	nGov := int(float64(g.p.cases) * g.p.govShare)
	nCity := g.p.cases - nGov
	gridWorkers := make([][]int32, len(c.Grids))
	for wi, w := range c.Workers {
		for _, gr := range w.Grids {
			o := c.gridOrdinal[gr]
			gridWorkers[o] = append(gridWorkers[o], int32(wi))
		}
	}
	// City class table weights.
	classTotal := 0
	for _, cl := range cityClasses {
		classTotal += cl.weight
	}
	firstSub := make([]int, len(cityClasses))
	for i := 1; i < len(cityClasses); i++ {
		firstSub[i] = firstSub[i-1] + len(cityClasses[i-1].minors)
	}
	c.CityCases = make([]Case, 0, nCity+nCity/50)
	for range nCity {
		n := rng.IntN(classTotal)
		ci := 0
		for ; n >= cityClasses[ci].weight; ci++ {
			n -= cityClasses[ci].weight
		}
		sub := firstSub[ci] + rng.IntN(len(cityClasses[ci].minors))
		gr := c.Grids[rng.IntN(len(c.Grids))]
		lng, lat := c.Regions[gr].Rect.randomPoint(rng, 0.02)
		rep := ReporterSupervisor
		if x := rng.IntN(100); x >= 95 {
			rep = ReporterPublic
		} else if x >= 70 {
			rep = ReporterHotline
		}
		c.CityCases = append(c.CityCases, Case{Class: uint8(sub), Reporter: rep, Grid: gr, Person: -1, Group: -1,
			Lng: lng, Lat: lat, Reported: g.reportTime(rng), Dept: uint8(rng.IntN(len(cityDepts)))})
	}
	// Governance subtypes, weighted.
	type wsub struct{ idx, w int }
	var govW []wsub
	tot := 0
	for i, r := range c.govSubs {
		w := govTypeWeights[r.typ] * govTypes[r.typ].subs[r.sub].weight
		govW = append(govW, wsub{i, w})
		tot += w
	}
	govSubIndex := func(code string) int {
		for i, r := range c.govSubs {
			if govTypes[r.typ].subs[r.sub].code == code {
				return i
			}
		}
		return 0
	}
	newGov := func(gr int32, sub int, at int64, lng, lat float64) Case {
		ord := c.gridOrdinal[gr]
		cs := Case{Class: uint8(sub), Grid: gr, Person: -1, Group: -1, Lng: lng, Lat: lat, Reported: at, Dept: uint8(rng.IntN(len(govDepts)))}
		if ws := gridWorkers[ord]; len(ws) > 0 && rng.IntN(100) < 65 {
			cs.Reporter = ReporterWorker
			cs.Person = c.Workers[ws[rng.IntN(len(ws))]].Person
		} else if sp := g.gridPeople[ord]; sp[1] > sp[0] {
			cs.Reporter = ReporterResident
			p := sp[0] + rng.Int32N(sp[1]-sp[0])
			if c.age(&c.People[p]) < 18 || c.People[p].Phone == "" {
				p = sp[0] // the head of the grid's first household is an adult
			}
			cs.Person = p
		}
		if cs.Person >= 0 {
			c.People[cs.Person].Roles |= RoleReporter
		}
		return cs
	}
	c.GovEvents = make([]Case, 0, nGov)
	// Cross-silo incidents: about 3% of governance events are twins of a
	// city-management case, within ~80 m and 90 minutes; a fifth of them
	// also have a second city case (a hotline call about the same thing).
	nInc := int(math.Round(float64(nGov) * 0.03))
	if nCity == 0 {
		nInc = 0
	}
	const mPerDeg = 111_000.0
	for k := range nInc {
		pair := incidentPairs[rng.IntN(len(incidentPairs))]
		ci := rng.IntN(nCity)
		for try := 0; c.CityCases[ci].Group >= 0 && try < 20; try++ {
			ci = rng.IntN(nCity)
		}
		if c.CityCases[ci].Group >= 0 {
			continue
		}
		cc := &c.CityCases[ci]
		cc.Class = uint8(firstSub[pair.cityClass] + pair.minor)
		cc.Group = int32(k)
		near := func() (float64, float64, int64) {
			dist := 10 + rng.Float64()*70
			ang := rng.Float64() * 2 * math.Pi
			lng := cc.Lng + dist*math.Cos(ang)/(mPerDeg*math.Cos(cc.Lat*math.Pi/180))
			lat := cc.Lat + dist*math.Sin(ang)/mPerDeg
			lng, lat = c.Regions[cc.Grid].Rect.clampInside(lng, lat)
			at := cc.Reported + rng.Int64N(2*5400) - 5400
			return lng, lat, min(at, g.ref-60)
		}
		lng, lat, at := near()
		ev := newGov(cc.Grid, govSubIndex(pair.govSub), at, lng, lat)
		ev.Group = int32(k)
		c.GovEvents = append(c.GovEvents, ev)
		if rng.IntN(5) == 0 {
			lng, lat, at := near()
			c.CityCases = append(c.CityCases, Case{Class: cc.Class, Reporter: ReporterHotline, Grid: cc.Grid, Person: -1, Group: int32(k),
				Lng: lng, Lat: lat, Reported: at, Dept: cc.Dept})
		}
	}
	for len(c.GovEvents) < nGov {
		n := rng.IntN(tot)
		i := 0
		for ; n >= govW[i].w; i++ {
			n -= govW[i].w
		}
		gr := c.Grids[rng.IntN(len(c.Grids))]
		lng, lat := c.Regions[gr].Rect.randomPoint(rng, 0.02)
		c.GovEvents = append(c.GovEvents, newGov(gr, govW[i].idx, g.reportTime(rng), lng, lat))
	}
	byReported := func(a, b Case) int { return cmp.Compare(a.Reported, b.Reported) }
	slices.SortStableFunc(c.CityCases, byReported)
	slices.SortStableFunc(c.GovEvents, byReported)

	var arena stepArena
	buf := make([]Step, 0, 32)
	for i := range c.CityCases {
		buf = g.cityTimeline(rng, &c.CityCases[i], buf[:0])
		g.finish(&c.CityCases[i], &arena, buf)
	}
	for i := range c.GovEvents {
		buf = g.govTimeline(rng, &c.GovEvents[i], buf[:0])
		g.finish(&c.GovEvents[i], &arena, buf)
	}
	// Incidents in index order.
	c.Incidents = make([]Incident, nInc)
	for i := range c.GovEvents {
		if k := c.GovEvents[i].Group; k >= 0 {
			c.Incidents[k].Gov = append(c.Incidents[k].Gov, int32(i))
		}
	}
	for i := range c.CityCases {
		if k := c.CityCases[i].Group; k >= 0 {
			c.Incidents[k].City = append(c.Incidents[k].City, int32(i))
		}
	}
	// Drop incidents that did not form (a city case could not be found).
	out := c.Incidents[:0]
	for _, inc := range c.Incidents {
		if len(inc.Gov) > 0 && len(inc.City) > 0 {
			out = append(out, inc)
		}
	}
	c.Incidents = out
	for k, inc := range c.Incidents {
		for _, i := range inc.Gov {
			c.GovEvents[i].Group = int32(k)
		}
		for _, i := range inc.City {
			c.CityCases[i].Group = int32(k)
		}
	}
}

// finish keeps the steps up to the reference instant and sets the update
// time.
func (g *gen) finish(cs *Case, arena *stepArena, steps []Step) {
	n := len(steps)
	for n > 1 && int64(steps[n-1].At) >= g.ref {
		n--
	}
	cs.Steps = arena.take(steps[:n])
	cs.Updated = int64(cs.Steps[n-1].At)
}

func at(t int64) uint32 { return uint32(t) }

func unix(t int64) time.Time { return time.Unix(t, 0).In(CST) }

// cityTimeline appends the workflow of a city-management case:
// 上报→受理→立案→派遣→处置→处置反馈→核查→结案 with occasional 作废, 回退,
// 延期, 挂账 and 返工. Deadlines count working hours from 立案.
func (g *gen) cityTimeline(rng *rand.Rand, cs *Case, s []Step) []Step {
	cl := cityClasses[g.c.citySubs[cs.Class].class]
	t := cs.Reported
	s = append(s, Step{at(t), csReport, 4})
	t += 120 + rng.Int64N(1800)
	s = append(s, Step{at(t), csAccept, 4})
	if rng.IntN(100) < 4 {
		t += 600 + rng.Int64N(3000)
		return append(s, Step{at(t), csVoid, 4})
	}
	t += 300 + rng.Int64N(3300)
	s = append(s, Step{at(t), csFile, 4})
	filed := t
	lvl := uint8(4)
	if cl.kind == 2 && (cl.major == "05" || cl.major == "02") {
		lvl = 3
	}
	if rng.IntN(100) < 5 {
		lvl = 5
	}
	dl := cl.deadlineH
	cs.Deadline = canon.AddWorkHours(unix(filed), dl).Unix()
	t += 300 + rng.Int64N(3300)
	s = append(s, Step{at(t), csDispatch, lvl})
	if rng.IntN(100) < 5 {
		t += 1800 + rng.Int64N(12600)
		s = append(s, Step{at(t), csReturn, lvl})
		if lvl < 5 {
			lvl++
		}
		t += 600 + rng.Int64N(3000)
		s = append(s, Step{at(t), csDispatch, lvl})
	}
	t += 600 + rng.Int64N(7200)
	s = append(s, Step{at(t), csHandle, lvl})
	if rng.IntN(100) < 2 {
		t += 3600 + rng.Int64N(86400)
		return append(s, Step{at(t), csSuspend, lvl})
	}
	ext := 1.0
	if rng.IntN(100) < 3 {
		t += 1800 + rng.Int64N(7200)
		s = append(s, Step{at(t), csDefer, lvl})
		ext = 2
		cs.Deadline = canon.AddWorkHours(unix(filed), 2*dl).Unix()
	}
	frac := 0.1 + 0.85*rng.Float64()
	if rng.IntN(100) < 8 {
		frac = 1.05 + 2*rng.Float64()
	}
	fb := canon.AddWorkHours(unix(filed), frac*dl*ext).Unix()
	if fb <= t {
		fb = t + 600
	}
	s = append(s, Step{at(fb), csFeedback, lvl})
	t = fb + 1800 + rng.Int64N(14400)
	s = append(s, Step{at(t), csVerify, lvl})
	if rng.IntN(100) < 4 {
		s = append(s, Step{at(t + 600), csRework, lvl})
		t = canon.AddWorkHours(unix(t+600), 2+6*rng.Float64()).Unix()
		s = append(s, Step{at(t), csFeedback, lvl})
		t += 1800 + rng.Int64N(7200)
		s = append(s, Step{at(t), csVerify, lvl})
	}
	t += 600 + rng.Int64N(7200)
	return append(s, Step{at(t), csClose, lvl})
}

// govTimeline appends the workflow of a governance event: 10 网格员上报 →
// 11 自行处置 (small matters stay in the grid) or 20 社区受理 → 30 上报街道
// → 40 一网统管调度 → 50 办理 → 60 办结 → 70 核查评价 → 80 归档, with 35
// 回退, 55 延期 and 90 作废 on the side. Levels rise 1→2→3→5 with
// escalation.
func (g *gen) govTimeline(rng *rand.Rand, cs *Case, s []Step) []Step {
	gt := govTypes[g.c.govSubs[cs.Class].typ]
	t := cs.Reported
	dl := gt.deadlineH
	cs.Deadline = canon.AddWorkHours(unix(t), dl).Unix()
	s = append(s, Step{at(t), 10, 1})
	if rng.IntN(100) < 45 {
		t += 1800 + rng.Int64N(86400)
		s = append(s, Step{at(t), 11, 1})
		t += 3600 + rng.Int64N(48*3600)
		s = append(s, Step{at(t), 70, 2})
		t += 3600 + rng.Int64N(72*3600)
		return append(s, Step{at(t), 80, 2})
	}
	t += 600 + rng.Int64N(4*3600)
	s = append(s, Step{at(t), 20, 2})
	if rng.IntN(100) < 3 {
		t += 1800 + rng.Int64N(86400)
		return append(s, Step{at(t), 90, 2})
	}
	lvl := uint8(2)
	if rng.IntN(100) < 50 {
		t += 1800 + rng.Int64N(8*3600)
		lvl = 3
		s = append(s, Step{at(t), 30, lvl})
		switch x := rng.IntN(100); {
		case x < 8:
			t += 1800 + rng.Int64N(8*3600)
			lvl = 2
			s = append(s, Step{at(t), 35, lvl})
		case x < 48:
			t += 1800 + rng.Int64N(8*3600)
			lvl = 5
			s = append(s, Step{at(t), 40, lvl})
		}
	}
	t += 1800 + rng.Int64N(8*3600)
	s = append(s, Step{at(t), 50, lvl})
	ext := 1.0
	if rng.IntN(100) < 4 {
		t += 3600 + rng.Int64N(24*3600)
		s = append(s, Step{at(t), 55, lvl})
		ext = 2
		cs.Deadline = canon.AddWorkHours(unix(cs.Reported), 2*dl).Unix()
	}
	frac := 0.15 + 0.8*rng.Float64()
	if rng.IntN(100) < 8 {
		frac = 1.05 + 2*rng.Float64()
	}
	done := canon.AddWorkHours(unix(cs.Reported), frac*dl*ext).Unix()
	if done <= t {
		done = t + 1800
	}
	s = append(s, Step{at(done), 60, lvl})
	t = done + 3600 + rng.Int64N(48*3600)
	s = append(s, Step{at(t), 70, lvl})
	t += 3600 + rng.Int64N(72*3600)
	return append(s, Step{at(t), 80, lvl})
}

// caseOpen reports whether a case is still open (its last step is not a
// closing one).
func (c *City) caseOpen(gov bool, cs *Case) bool {
	last := cs.Steps[len(cs.Steps)-1].State
	if gov {
		return last != 80 && last != 90
	}
	return last != csClose && last != csVoid
}
