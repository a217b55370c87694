package city_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ywtg/hub/sim/city"
)

func TestCaseMixAndTimelines(t *testing.T) {
	c := gen(t, func() city.Config { cfg := city.DefaultConfig(); cfg.Scale = city.Medium; return cfg }())
	c.RLock()
	defer c.RUnlock()
	ref := c.Reference().Unix()
	major := map[string]int{}
	overdue := 0
	for i := range c.CityCases {
		r := c.CityRequest(i)
		major[r.KindName+r.MajorCode]++
		if r.Expected > 0 && ((r.ClosedAt == 0 && ref > r.Expected) || feedbackAfter(r)) {
			overdue++
		}
		cs := &c.CityCases[i]
		for k := 1; k < len(cs.Steps); k++ {
			if cs.Steps[k].At < cs.Steps[k-1].At {
				t.Fatalf("city case %d: timeline goes back in time", i)
			}
		}
		if cs.Reported > ref || int64(cs.Steps[len(cs.Steps)-1].At) > ref || cs.Reported < ref-550*86400 {
			t.Fatalf("city case %d: times outside history", i)
		}
	}
	n := float64(len(c.CityCases))
	shares := []struct {
		key    string
		lo, hi float64
	}{{"事件05", 0.50, 0.60}, {"事件02", 0.21, 0.29}, {"事件01", 0.08, 0.13}}
	for _, s := range shares {
		if sh := float64(major[s.key]) / n; sh < s.lo || sh > s.hi {
			t.Errorf("share of %s %.3f, want in [%.2f, %.2f]", s.key, sh, s.lo, s.hi)
		}
	}
	parts := 0
	for k, v := range major {
		if k[:6] == "部件" {
			parts += v
		}
	}
	if sh := float64(parts) / n; sh < 0.03 || sh > 0.05 {
		t.Errorf("share of 部件 %.3f, want 3–5%%", sh)
	}
	if sh := float64(overdue) / n; sh < 0.05 || sh > 0.13 {
		t.Errorf("overdue share %.3f, want ≈8%%", sh)
	}
	// Governance: escalations reach level 5, small matters stay in the grid.
	levels := map[int]int{}
	statuses := map[int]int{}
	for i := range c.GovEvents {
		r := c.GovEvent(i)
		levels[r.Level]++
		for _, f := range r.Flows {
			statuses[f.Status]++
		}
	}
	for _, s := range []int{10, 11, 20, 30, 35, 40, 50, 55, 60, 70, 80, 90} {
		if statuses[s] == 0 {
			t.Errorf("no governance flow with status %d", s)
		}
	}
	if levels[5] == 0 || levels[2] == 0 {
		t.Errorf("levels %v: want escalations to 5", levels)
	}
}

func feedbackAfter(r city.CityRequestRec) bool {
	for _, h := range r.History {
		if h.State == "处置反馈" && h.At > r.Expected {
			return true
		}
	}
	return false
}

func TestLiveTick(t *testing.T) {
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	before := c.Counts()
	clock := city.NewManualClock(c.Reference())
	ops := map[city.Entity]map[city.Op]int{}
	for range 500 {
		clock.Advance(300 * time.Millisecond)
		ch := c.Tick(clock.Now())
		if ops[ch.Entity] == nil {
			ops[ch.Entity] = map[city.Op]int{}
		}
		ops[ch.Entity][ch.Op]++
	}
	after := c.Counts()
	if after[city.GovEvents].Records != before[city.GovEvents].Records+ops[city.GovEvents][city.OpCreate] {
		t.Errorf("events: %d → %d with %d created", before[city.GovEvents].Records, after[city.GovEvents].Records, ops[city.GovEvents][city.OpCreate])
	}
	if after[city.CityRequests].Records != before[city.CityRequests].Records+ops[city.CityRequests][city.OpCreate] {
		t.Errorf("requests: %d → %d with %d created", before[city.CityRequests].Records, after[city.CityRequests].Records, ops[city.CityRequests][city.OpCreate])
	}
	if after[city.GovResidents].Deleted != before[city.GovResidents].Deleted+ops[city.GovResidents][city.OpDelete] {
		t.Errorf("resident tombstones: %d → %d with %d deleted", before[city.GovResidents].Deleted, after[city.GovResidents].Deleted, ops[city.GovResidents][city.OpDelete])
	}
	for _, e := range []city.Entity{city.GovEvents, city.CityRequests, city.GovResidents} {
		if ops[e][city.OpUpdate]+ops[e][city.OpCreate] == 0 {
			t.Errorf("%s: no live change in 500 ticks: %v", e, ops[e])
		}
	}
	// Paging order stays sorted by (updateTime, id) and complete.
	c.RLock()
	defer c.RUnlock()
	for _, e := range []city.Entity{city.GovResidents, city.GovEvents, city.CityRequests} {
		total, idx := c.Page(e, -1<<62, -1, 0, 1<<30)
		if total != len(idx) {
			t.Fatalf("%s: total %d, %d indices", e, total, len(idx))
		}
		seen := make([]int, len(idx)+10_000)
		for k, i := range idx {
			seen[i]++
			if k > 0 {
				a, b := updated(c, e, idx[k-1]), updated(c, e, i)
				if a > b || (a == b && idx[k-1] > i) {
					t.Fatalf("%s: order broken at %d: (%d,%d) then (%d,%d)", e, k, a, idx[k-1], b, i)
				}
			}
		}
		if slices.ContainsFunc(seen, func(n int) bool { return n > 2 }) {
			t.Errorf("%s: a record listed more than twice", e)
		}
		// Newest records come back with updatedAfter = the reference.
		if n, _ := c.Page(e, c.Reference().Unix()-1, -1, 0, 10); n == 0 {
			t.Errorf("%s: no record updated after the reference", e)
		}
	}
}

func updated(c *city.City, e city.Entity, i int32) int64 {
	switch e {
	case city.GovResidents:
		return c.People[i].Updated
	case city.GovEvents:
		return c.GovEvents[i].Updated
	default:
		return c.CityCases[i].Updated
	}
}
