package resolve

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/ywtg/hub/store"
)

// heldCases are the located cases an IncidentRegrouper holds between runs,
// indexed by place, with the evidence on every pair of them that reaches
// the Threshold (the only pairs that join cases): a run compares the
// cases written since the last one with their neighbours, not every pair
// of the week again.
type heldCases struct {
	cfg    IncidentConfig
	grid   placeGrid
	byID   map[int64]*heldCase
	cells  map[cellKey][]int64
	strong map[int64]map[int64]*Evidence // both ways, one Evidence per pair
}

type heldCase struct {
	row   store.IncidentCase
	c     Case
	grams BigramSet // nil until a comparison reaches the text
}

func newHeldCases(cfg IncidentConfig) *heldCases {
	return &heldCases{cfg: cfg, grid: newPlaceGrid(cfg.MaxMetres), byID: map[int64]*heldCase{}, cells: map[cellKey][]int64{},
		strong: map[int64]map[int64]*Evidence{}}
}

// cell is the cell a case lies in, as Incidents cuts the map.
func (h *heldCases) cell(c *Case) cellKey {
	return h.grid.cell(c.Lng, c.Lat)
}

func (x *heldCase) bigrams() BigramSet {
	if x.grams == nil {
		x.grams = Bigrams(x.c.Text) // never nil
	}
	return x.grams
}

func (h *heldCases) get(id int64) (store.IncidentCase, bool) {
	x, ok := h.byID[id]
	if !ok {
		return store.IncidentCase{}, false
	}
	return x.row, true
}

// put holds row (in place of what was held of its case) and weighs it
// against the held cases of its cell and the cells around.
func (h *heldCases) put(row store.IncidentCase) {
	h.remove(row.ID)
	x := &heldCase{row: row, c: Case{Key: row.Source + "/" + row.SourceID, Source: row.Source, Category: row.Category,
		Lng: row.Lng, Lat: row.Lat, Reported: row.ReportedAt, Text: row.Text}}
	k := h.cell(&x.c)
	var near [16]cellKey
	for _, n := range h.grid.near(near[:0], k) {
		for _, id := range h.cells[n] {
			y := h.byID[id]
			if d := x.c.Reported.Sub(y.c.Reported); d > h.cfg.Window || -d > h.cfg.Window {
				continue
			}
			a, b := x, y
			if b.c.Key < a.c.Key {
				a, b = b, a
			}
			e, ok := compareCases(&a.c, &b.c, func() (BigramSet, BigramSet) { return a.bigrams(), b.bigrams() }, h.cfg)
			if !ok || e.Total < h.cfg.Threshold {
				continue
			}
			h.link(x.row.ID, id, &e)
			h.link(id, x.row.ID, &e)
		}
	}
	h.byID[row.ID] = x
	h.cells[k] = append(h.cells[k], row.ID)
}

func (h *heldCases) link(a, b int64, e *Evidence) {
	m := h.strong[a]
	if m == nil {
		m = map[int64]*Evidence{}
		h.strong[a] = m
	}
	m[b] = e
}

// remove lets go of a case and its evidence.
func (h *heldCases) remove(id int64) {
	x, ok := h.byID[id]
	if !ok {
		return
	}
	delete(h.byID, id)
	k := h.cell(&x.c)
	h.cells[k] = slices.DeleteFunc(h.cells[k], func(v int64) bool { return v == id })
	if len(h.cells[k]) == 0 {
		delete(h.cells, k)
	}
	for other := range h.strong[id] {
		delete(h.strong[other], id)
		if len(h.strong[other]) == 0 {
			delete(h.strong, other)
		}
	}
	delete(h.strong, id)
}

// setIncident records the incident a held case stands in.
func (h *heldCases) setIncident(id, incident int64) {
	if x, ok := h.byID[id]; ok {
		x.row.IncidentID = incident
	}
}

// each calls fn with every held case.
func (h *heldCases) each(fn func(row *store.IncidentCase)) {
	for _, x := range h.byID {
		fn(&x.row)
	}
}

// group groups the held cases reported at or after read as
// IncidentsWith groups them, and returns their rows by key and how many
// cases were reported at or after read. Only the
// cases a pair from the Threshold or an accepted decision joins to
// another are grouped (and returned): every other one is an incident of
// its own, never written.
func (h *heldCases) group(read time.Time, decisions []Decision) (*IncidentResult, map[string]*store.IncidentCase, int, error) {
	accepted := map[string]bool{}
	for _, d := range decisions {
		if d.Accept {
			accepted[d.A], accepted[d.B] = true, true
		}
	}
	var in []*heldCase
	window := 0
	for id, x := range h.byID {
		if x.c.Reported.Before(read) {
			continue
		}
		window++
		joined := accepted[x.c.Key]
		for other := range h.strong[id] {
			if joined = joined || !h.byID[other].c.Reported.Before(read); joined {
				break
			}
		}
		if joined {
			in = append(in, x)
		}
	}
	slices.SortFunc(in, func(a, b *heldCase) int { return cmp.Compare(a.c.Key, b.c.Key) })
	r := &IncidentResult{Cases: make([]Case, len(in))}
	byKey := make(map[string]*store.IncidentCase, len(in))
	for i, x := range in {
		if i > 0 && in[i-1].c.Key == x.c.Key {
			return nil, nil, 0, fmt.Errorf("incidents: case key %q held twice", x.c.Key)
		}
		r.Cases[i] = x.c
		byKey[x.c.Key] = &x.row
		for other, e := range h.strong[x.row.ID] {
			if e.A == x.c.Key && !h.byID[other].c.Reported.Before(read) {
				r.Evidence = append(r.Evidence, *e)
			}
		}
	}
	sortEvidence(r.Evidence)
	clusterIncidents(r, decisions, h.cfg)
	return r, byKey, window, nil
}
