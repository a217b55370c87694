package resolve_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/datum"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/sim/city"
)

// caseCorpus is a simulated city's case reports as the normalisers make
// them (unified categories, WGS-84), with the true problem of each.
type caseCorpus struct {
	cases   []resolve.Case
	problem map[string]string
	hard    map[string]string
}

func newCaseCorpus(tb testing.TB, scale city.Scale) *caseCorpus {
	tb.Helper()
	cfg := city.DefaultConfig()
	cfg.Scale = scale
	c, err := city.Generate(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	co := &caseCorpus{problem: map[string]string{}, hard: map[string]string{}}
	for _, m := range c.CaseMentions() {
		var cat normalize.Category
		var err error
		from := canon.GCJ02
		if m.System == "gov" {
			cat, err = normalize.GovernanceEventType("eventType", "eventSubType", m.Code[:2], m.Code)
			from = canon.BD09
		} else {
			cat, err = normalize.CityServiceCode("service_code", m.Code)
		}
		if err != nil {
			continue // quarantined by the connectors too
		}
		lat, lng, err := datum.Convert(m.Lat, m.Lng, from, canon.WGS84)
		if err != nil {
			continue
		}
		k := m.System + "/" + m.Entity + "/" + m.ID
		co.cases = append(co.cases, resolve.Case{Key: k, Source: m.System, Category: cat.Code, Component: m.Component,
			Lng: lng, Lat: lat, Reported: time.Unix(m.Reported, 0), Text: m.Text})
		co.problem[k] = m.Problem
		if m.Hard != "" {
			co.hard[k] = m.Hard
		}
	}
	return co
}

type incQuality struct {
	truePairs, predPairs, correct, componentMerges int
	falseByHard, missedByHard                      map[string]int
}

func (q incQuality) precision() float64 { return float64(q.correct) / float64(max(q.predPairs, 1)) }
func (q incQuality) recall() float64    { return float64(q.correct) / float64(max(q.truePairs, 1)) }
func (q incQuality) String() string {
	return fmt.Sprintf("true pairs %d, predicted %d, correct %d: precision %.4f recall %.4f, component merges %d, false by hard case %v, missed by hard case %v",
		q.truePairs, q.predPairs, q.correct, q.precision(), q.recall(), q.componentMerges, q.falseByHard, q.missedByHard)
}

func measureIncidents(co *caseCorpus, r *resolve.IncidentResult) incQuality {
	q := incQuality{falseByHard: map[string]int{}, missedByHard: map[string]int{}}
	byProblem := map[string][]int{}
	for i, cs := range r.Cases {
		byProblem[co.problem[cs.Key]] = append(byProblem[co.problem[cs.Key]], i)
	}
	for _, l := range byProblem {
		for x := 0; x < len(l); x++ {
			for y := x + 1; y < len(l); y++ {
				q.truePairs++
				if r.Incident[l[x]] != r.Incident[l[y]] {
					q.missedByHard[co.hard[r.Cases[l[x]].Key]+"|"+co.hard[r.Cases[l[y]].Key]]++
				}
			}
		}
	}
	for _, members := range r.Incidents {
		comps := map[string]bool{}
		for x, i := range members {
			if c := r.Cases[i].Component; c != "" {
				comps[c] = true
			}
			for _, j := range members[x+1:] {
				q.predPairs++
				if co.problem[r.Cases[i].Key] == co.problem[r.Cases[j].Key] {
					q.correct++
				} else {
					q.falseByHard[co.hard[r.Cases[i].Key]+"|"+co.hard[r.Cases[j].Key]]++
				}
			}
		}
		if len(comps) > 1 {
			q.componentMerges++
		}
	}
	return q
}

// TestIncidentQualitySmall holds incident merging to its targets against
// the small city's ground truth, look-alikes included.
func TestIncidentQualitySmall(t *testing.T) {
	co := newCaseCorpus(t, city.Small)
	r, err := resolve.Incidents(co.cases, resolve.DefaultIncidentConfig())
	if err != nil {
		t.Fatal(err)
	}
	q := measureIncidents(co, r)
	t.Logf("%d reports, %d incidents, %d compared; %v", len(r.Cases), len(r.Incidents), r.Compared, q)
	if q.precision() < 0.95 || q.recall() < 0.90 || q.componentMerges != 0 {
		t.Errorf("below target (precision ≥ 0.95, recall ≥ 0.90, 0 merges of different components): %v", q)
	}
	hard := map[string]bool{}
	for _, h := range co.hard {
		hard[h] = true
	}
	for _, h := range []string{city.HardRepeat, city.HardLateTwin, city.HardNeighbour, city.HardMonthLater, city.HardOtherComponent} {
		if !hard[h] {
			t.Errorf("the small city has no report of hard case %s", h)
		}
	}
}

// TestIncidentsOrderIndependent reverses the reports: the same incidents.
func TestIncidentsOrderIndependent(t *testing.T) {
	co := newCaseCorpus(t, city.Small)
	a, err := resolve.Incidents(co.cases, resolve.DefaultIncidentConfig())
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(co.cases)
	slices.Reverse(rev)
	b, err := resolve.Incidents(rev, resolve.DefaultIncidentConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Incident, b.Incident) {
		t.Fatal("reversed input grouped differently")
	}
}

// TestCompatibleCategories checks the taxonomy rule both ways.
func TestCompatibleCategories(t *testing.T) {
	for _, c := range []struct {
		a, b string
		ok   bool
	}{
		{"SJ0102", "SJ0102", true}, {"SJ01", "SJ0103", true}, {"ZZ0502", "BJ0106", true}, {"SJ0404", "ZZ0502", true},
		{"ZZ0303", "SJ0403", true}, {"SJ0102", "SJ0202", false}, {"ZZ0101", "SJ0101", false}, {"", "SJ01", false},
	} {
		if got := resolve.Compatible(c.a, c.b); got != c.ok {
			t.Errorf("Compatible(%s, %s) = %v", c.a, c.b, got)
		}
	}
	if d := resolve.Dice(resolve.Bigrams("小区路灯损坏"), resolve.Bigrams("市民反映：小区路灯损坏")); d < 0.5 || d > 1 {
		t.Errorf("Dice = %v", d)
	}
}

// TestIncidentsCompareEveryNearPair holds the pairs Incidents weighs (its
// evidence) to every pair of reports that CompareCases finds comparable,
// found the long way: each report against every other reported within
// Window, wherever it lies.
func TestIncidentsCompareEveryNearPair(t *testing.T) {
	co := newCaseCorpus(t, city.Small)
	cfg := resolve.DefaultIncidentConfig()
	r, err := resolve.Incidents(co.cases, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]string]bool{}
	for _, e := range r.Evidence {
		got[[2]string{e.A, e.B}] = true
	}
	byTime := slices.Clone(co.cases)
	slices.SortFunc(byTime, func(a, b resolve.Case) int { return a.Reported.Compare(b.Reported) })
	want := 0
	for i := range byTime {
		for j := i + 1; j < len(byTime) && byTime[j].Reported.Sub(byTime[i].Reported) <= cfg.Window; j++ {
			e, ok := resolve.CompareCases(byTime[i], byTime[j], cfg)
			if !ok {
				continue
			}
			want++
			if !got[[2]string{e.A, e.B}] {
				t.Errorf("%s and %s (%.0f m, %.1f h apart) are comparable but were not weighed", e.A, e.B, e.Metres, e.Hours)
			}
		}
	}
	if len(r.Evidence) != want || r.Compared != want {
		t.Errorf("weighed %d pairs (compared %d), want the %d comparable", len(r.Evidence), r.Compared, want)
	}
	t.Logf("%d reports, %d comparable pairs", len(co.cases), want)
}

// TestIncidentsWeighReportsEastAndWest holds two reports MaxMetres apart
// along a parallel to being weighed, at the latitudes of Chinese cities: a
// degree of longitude is shorter than one of latitude there, and the
// places compared must still reach MaxMetres east and west.
func TestIncidentsWeighReportsEastAndWest(t *testing.T) {
	cfg := resolve.DefaultIncidentConfig()
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	for _, lat := range []float64{18.2, 32.0, 45.8, 53.3} {
		for _, frac := range []float64{0.02, 0.5, 0.98} {
			// The first report sits frac into a cell of the grid; the
			// second is 0.99 MaxMetres east of it.
			lng := 112 + frac*cfg.MaxMetres/111_000
			dlng := 0.99 * cfg.MaxMetres / (111_320 * math.Cos(lat*math.Pi/180))
			cases := []resolve.Case{
				{Key: "a", Source: "gov", Category: "SJ05", Lat: lat, Lng: lng, Reported: at, Text: "道路积水"},
				{Key: "b", Source: "cm", Category: "SJ05", Lat: lat, Lng: lng + dlng, Reported: at, Text: "道路积水"},
			}
			if m := resolve.Metres(cases[0].Lng, cases[0].Lat, cases[1].Lng, cases[1].Lat); m > cfg.MaxMetres {
				t.Fatalf("the reports at latitude %v are %.1f m apart, more than %v", lat, m, cfg.MaxMetres)
			}
			r, err := resolve.Incidents(cases, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Evidence) != 1 {
				t.Errorf("latitude %v, %.2f into a cell: %d pairs weighed, want 1", lat, frac, len(r.Evidence))
			}
		}
	}
}
