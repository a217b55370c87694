package city

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// CaseMention is a case report as one source system holds it, with the
// real-world problem it reports. Like PersonMentions, the case mentions are
// the corpus incident merging is measured on: every served governance event
// and city-management case, plus reports the served systems do not publish
// yet: repeated 12345 hotline reports of a problem, late cross-silo twins
// and look-alikes that are different problems (see CaseMentions).
type CaseMention struct {
	System, Entity, ID string
	Code               string  // the source's category code: governance subtype (0501) or city service code (020102)
	Component          string  // the component's ID for 部件 cases of city management, "" otherwise
	Lng, Lat           float64 // as published
	Datum              string  // BD09 (governance) or GCJ02 (city management)
	Reported           int64   // unix seconds
	Text               string  // title and description
	Problem            string  // the real problem: I… a served incident, R… a problem reported again, S<id> a single report
	Hard               string  // the hard case this report is, "" for none
}

// The hard cases of CaseMentions.
const (
	HardRepeat         = "repeat"          // the same problem reported again by the hotline, minutes to days later
	HardLateTwin       = "late-twin"       // a governance event's city-management twin, hours to two days later
	HardNeighbour      = "neighbour"       // the same category 100–250 m away the same day: another problem
	HardMonthLater     = "month-later"     // the same category at the same place 25–40 days later: another problem
	HardOtherComponent = "other-component" // another component at the same spot: another problem
)

// CaseMentions returns every case report in a fixed order, with the
// added reports drawn from a generator of its own (the served records are
// not changed): for 4% of the city cases a hotline repeat (5–60 m, 10
// minutes to 3 days later, another wording); for 3% of the governance
// events of a category city management also knows a late city twin (10–80
// m, 2 hours to 2 days); as look-alikes, for 2% of the cases a report of
// the same category 100–250 m away within a day, for 1% one at the same
// place 25–40 days later, and for 2% of the component cases another
// component at the same spot within hours.
func (c *City) CaseMentions() []CaseMention {
	c.mu.RLock()
	defer c.mu.RUnlock()
	rng := rand.New(rand.NewPCG(c.cfg.Seed, 0x6361736573))
	var out []CaseMention
	problem := func(group int32, single string) string {
		if group >= 0 {
			return fmt.Sprintf("I%06d", group+1)
		}
		return "S" + single
	}
	compID := func(i int) string { return fmt.Sprintf("C%08d", i+1) }
	for i := range c.GovEvents {
		r := c.GovEvent(i)
		out = append(out, CaseMention{System: "gov", Entity: "events", ID: strconv.FormatInt(r.ID, 10), Code: r.EventSubType,
			Lng: r.Lng, Lat: r.Lat, Datum: "BD09", Reported: r.ReportTime, Text: r.Title + r.Content,
			Problem: problem(c.GovEvents[i].Group, "g"+strconv.Itoa(i))})
	}
	nReq := len(c.CityCases)
	for i := range nReq {
		r := c.CityRequest(i)
		m := CaseMention{System: "city", Entity: "requests", ID: r.ID, Code: r.ServiceCode, Lng: r.Long, Lat: r.Lat, Datum: "GCJ02",
			Reported: r.Requested, Text: r.ServiceName + r.Description, Problem: problem(c.CityCases[i].Group, "c"+strconv.Itoa(i))}
		if r.KindName == "部件" {
			m.Component = compID(i)
			if g := c.CityCases[i].Group; g >= 0 {
				m.Component = fmt.Sprintf("G%08d", g+1) // the reports of one incident name one component
			}
		}
		out = append(out, m)
	}
	const mPerDeg = 111_000.0
	near := func(lng, lat, dMin, dMax float64) (float64, float64) {
		d := dMin + rng.Float64()*(dMax-dMin)
		a := rng.Float64() * 2 * math.Pi
		return lng + d*math.Cos(a)/(mPerDeg*math.Cos(lat*math.Pi/180)), lat + d*math.Sin(a)/mPerDeg
	}
	// Another report of the problem of m: the same category at lng, lat
	// (WGS-84) in the datum of city management.
	extra := 0
	report := func(m CaseMention, lng, lat float64, at int64, prob, hard, comp string) {
		extra++
		x, y := WGS84ToGCJ02(lng, lat)
		out = append(out, CaseMention{System: "city", Entity: "hotline", ID: fmt.Sprintf("H%07d", extra), Code: m.Code, Component: comp,
			Lng: round6(x), Lat: round6(y), Datum: "GCJ02", Reported: at, Text: reworded(rng, m.Text), Problem: prob, Hard: hard})
	}
	repeats := 0
	for i := range nReq {
		cs := &c.CityCases[i]
		m := out[len(c.GovEvents)+i]
		switch x := rng.IntN(100); {
		case x < 4 && cs.Group < 0:
			repeats++
			prob := fmt.Sprintf("R%06d", repeats)
			out[len(c.GovEvents)+i].Problem = prob
			lng, lat := near(cs.Lng, cs.Lat, 5, 60)
			report(m, lng, lat, cs.Reported+600+rng.Int64N(3*86400), prob, HardRepeat, m.Component)
		case x < 6:
			lng, lat := near(cs.Lng, cs.Lat, 100, 250)
			report(m, lng, lat, cs.Reported+rng.Int64N(86400), fmt.Sprintf("Sn%d", extra+1), HardNeighbour, compOther(m.Component, extra))
		case x < 7:
			lng, lat := near(cs.Lng, cs.Lat, 0, 20)
			report(m, lng, lat, cs.Reported+25*86400+rng.Int64N(15*86400), fmt.Sprintf("Sm%d", extra+1), HardMonthLater, m.Component)
		case x < 9 && m.Component != "":
			lng, lat := near(cs.Lng, cs.Lat, 0, 20)
			report(m, lng, lat, cs.Reported+rng.Int64N(6*3600), fmt.Sprintf("So%d", extra+1), HardOtherComponent, compOther(m.Component, extra))
		}
	}
	// Late twins of governance events.
	twin := map[string][]int{}
	for k, p := range incidentPairs {
		twin[p.govSub] = append(twin[p.govSub], k)
	}
	for i := range c.GovEvents {
		ev := &c.GovEvents[i]
		ps := twin[govTypes[c.govSubs[ev.Class].typ].subs[c.govSubs[ev.Class].sub].code]
		if ev.Group >= 0 || len(ps) == 0 || rng.IntN(100) >= 3 {
			continue
		}
		p := incidentPairs[ps[rng.IntN(len(ps))]]
		code, name := cityService(citySubRef{p.cityClass, p.minor})
		prob := fmt.Sprintf("T%06d", i+1)
		out[i].Problem = prob
		lng, lat := near(ev.Lng, ev.Lat, 10, 80)
		m := CaseMention{Code: code, Text: name + out[i].Text}
		comp := ""
		if cityClasses[p.cityClass].kind == 1 {
			comp = fmt.Sprintf("T%08d", i+1)
		}
		report(m, lng, lat, ev.Reported+7200+rng.Int64N(2*86400), prob, HardLateTwin, comp)
	}
	return out
}

// compOther is another component's ID ("" when the case is no component).
func compOther(comp string, n int) string {
	if comp == "" {
		return ""
	}
	return fmt.Sprintf("O%08d", n)
}

// reworded varies a report's wording the way a second caller would: a
// prefix and a clipped description.
func reworded(rng *rand.Rand, text string) string {
	rs := []rune(text)
	if len(rs) > 12 {
		rs = rs[:len(rs)-rng.IntN(len(rs)/3)]
	}
	return []string{"市民来电反映：", "热线工单：", "群众举报，", ""}[rng.IntN(4)] + string(rs)
}
