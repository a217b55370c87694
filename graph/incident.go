package graph

import (
	"slices"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
)

// incidentSources are the names of the sources of an incident's cases,
// sorted, each once.
func incidentSources(cases []*store.Case) []string {
	out := []string{}
	for _, c := range cases {
		if !slices.Contains(out, c.Provenance.Source) {
			out = append(out, c.Provenance.Source)
		}
	}
	slices.Sort(out)
	return out
}

// lifecycle ranks the unified statuses from the least to the most
// advanced; the side states sit where their case stands in the workflow.
var lifecycle = map[canon.CaseStatus]int{
	canon.StatusReported: 0, canon.StatusAccepted: 1, canon.StatusReturned: 2, canon.StatusFiled: 3,
	canon.StatusDispatched: 4, canon.StatusReopened: 5, canon.StatusInProgress: 6, canon.StatusDeferred: 7,
	canon.StatusSuspended: 8, canon.StatusResolved: 9, canon.StatusVerifying: 10,
}

// incidentStatus rolls an incident's status up over its cases: CLOSED once
// every case is closed or rejected (REJECTED when all were rejected), else
// the least advanced status of an open case.
func incidentStatus(cases []*store.Case) canon.CaseStatus {
	best, rank := canon.StatusClosed, len(lifecycle)
	rejected := len(cases) > 0
	for _, c := range cases {
		if c.Status != canon.StatusRejected {
			rejected = false
		}
		if r, open := lifecycle[c.Status]; open && r < rank {
			best, rank = c.Status, r
		}
	}
	if rejected {
		return canon.StatusRejected
	}
	return best
}

// incidentEvidence is the evidence on every pair of an incident's cases
// that could be one problem (resolve.CompareCases), strongest first.
func incidentEvidence(cases []*store.Case) []*model.IncidentEvidence {
	cfg := resolve.DefaultIncidentConfig()
	rc := make([]resolve.Case, len(cases))
	for i, c := range cases {
		rc[i] = resolve.Case{Key: c.Provenance.Source + "/" + c.Provenance.SourceID, Source: c.Provenance.Source,
			Lng: deref(c.Lng), Lat: deref(c.Lat), Reported: c.ReportedAt, Text: c.Title + " " + c.Description}
		if c.CategoryCode != nil {
			rc[i].Category = *c.CategoryCode
		}
	}
	out := []*model.IncidentEvidence{}
	for i := range cases {
		for j := i + 1; j < len(cases); j++ {
			if cases[i].Lat == nil || cases[j].Lat == nil {
				continue
			}
			e, ok := resolve.CompareCases(rc[i], rc[j], cfg)
			if !ok {
				continue
			}
			ev := &model.IncidentEvidence{A: model.CaseOf(cases[i]), B: model.CaseOf(cases[j]), Total: e.Total, Metres: e.Metres, Hours: e.Hours, Linked: e.Linked}
			for _, f := range e.Fields {
				ev.Fields = append(ev.Fields, &model.MatchField{Field: f.Field, Level: f.Level, Weight: f.Weight})
			}
			out = append(out, ev)
		}
	}
	slices.SortStableFunc(out, func(a, b *model.IncidentEvidence) int {
		switch {
		case a.Total > b.Total:
			return -1
		case a.Total < b.Total:
			return 1
		}
		return 0
	})
	return out
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}
