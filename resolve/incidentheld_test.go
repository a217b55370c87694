package resolve

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/store"
)

// TestHeldCasesGroupAsIncidents: cases held, dropped, moved and added in
// any order group, from any bound, into exactly the incidents of two cases
// or more that Incidents makes of the same cases from scratch, under
// decisions.
func TestHeldCasesGroupAsIncidents(t *testing.T) {
	cfg := DefaultIncidentConfig()
	rnd := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	cats := []string{"SJ0102", "SJ01", "BJ0106", "ZZ0502", "SJ0501", "ZZ0401"}
	texts := []string{"长虹路12号垃圾堆积", "长虹路垃圾清运不及时", "路灯不亮", "小区路灯损坏", "油烟扰民", "店外经营占道"}
	next := int64(0)
	mk := func() store.IncidentCase {
		next++
		return store.IncidentCase{ID: next, Source: []string{"citymgmt", "governance"}[rnd.IntN(2)], SourceID: fmt.Sprint(next),
			Category: cats[rnd.IntN(len(cats))], Lat: 31.95 + rnd.Float64()*0.006, Lng: 112.02 + rnd.Float64()*0.006,
			ReportedAt: t0.Add(time.Duration(rnd.IntN(30*24)) * time.Hour), Text: texts[rnd.IntN(len(texts))]}
	}
	live := map[int64]store.IncidentCase{}
	h := newHeldCases(cfg)
	for range 500 {
		c := mk()
		live[c.ID] = c
		h.put(c)
	}
	ids := func() []int64 {
		var out []int64
		for id := range live {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	for _, id := range ids()[:80] {
		delete(live, id)
		h.remove(id)
	}
	for i, id := range ids() {
		if i%5 != 0 {
			continue
		}
		c := live[id]
		c.Lat += (rnd.Float64() - 0.5) * 0.001
		c.ReportedAt = c.ReportedAt.Add(time.Duration(rnd.IntN(48)-24) * time.Hour)
		live[id] = c
		h.put(c)
	}
	for range 60 {
		c := mk()
		live[c.ID] = c
		h.put(c)
	}
	key := func(c store.IncidentCase) string { return c.Source + "/" + c.SourceID }
	all := ids()
	decisions := []Decision{
		{A: key(live[all[3]]), B: key(live[all[4]]), Accept: true},
		{A: key(live[all[10]]), B: key(live[all[11]])},
	}
	groups := func(r *IncidentResult) []string {
		var out []string
		for _, members := range r.Incidents {
			if len(members) < 2 {
				continue
			}
			var keys []string
			for _, i := range members {
				keys = append(keys, r.Cases[i].Key)
			}
			slices.Sort(keys)
			out = append(out, strings.Join(keys, " "))
		}
		slices.Sort(out)
		return out
	}
	multi := 0
	for _, read := range []time.Time{{}, t0.Add(10 * 24 * time.Hour), t0.Add(25 * 24 * time.Hour)} {
		var cases []Case
		for _, id := range all {
			c := live[id]
			if !c.ReportedAt.Before(read) {
				cases = append(cases, Case{Key: key(c), Source: c.Source, Category: c.Category, Lng: c.Lng, Lat: c.Lat, Reported: c.ReportedAt, Text: c.Text})
			}
		}
		want, err := IncidentsWith(cases, decisions, cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, byKey, window, err := h.group(read, decisions)
		if err != nil {
			t.Fatal(err)
		}
		if len(byKey) != len(got.Cases) || len(got.Cases) == 0 || len(got.Cases) >= len(want.Cases) || window != len(want.Cases) {
			t.Fatalf("from %v: %d cases grouped of %d", read, len(got.Cases), len(want.Cases))
		}
		g, w := groups(got), groups(want)
		if !slices.Equal(g, w) {
			t.Fatalf("from %v: held cases group into %d incidents, from scratch %d", read, len(g), len(w))
		}
		multi += len(w)
	}
	if multi < 20 {
		t.Fatalf("only %d incidents of two cases or more: the test compares too little", multi)
	}
}
