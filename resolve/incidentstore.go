package resolve

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ywtg/hub/store"
)

// Regrouped is what RegroupIncidents read and wrote.
type Regrouped struct {
	store.IncidentWrite
	Read   int       // cases read
	Groups int       // incidents of two or more cases among them
	Latest time.Time // the latest report read
}

// RegroupIncidents groups, under the analysts' decisions
// (store.MatchDecisions), the located cases of the store reported at or
// after from (zero: all) into incidents and writes the result
// (store.Writer.ReplaceIncidents). The reports of one Window before from
// are read too, so a new report joins an older incident; groups made only
// of such older reports are left as they are. After a sync pass, from = the
// earliest report the pass brought; a full regrouping (zero from) re-reads
// everything. Incident IDs are
// stable: a group keeps the incident most of its cases already had (ties:
// the smaller ID), so a regrouping after a sync moves only the cases it
// has to. The incident's title, category and first report are its first
// case's; its location is the mean of its cases'. The context decides the
// access: internal work, so store.Unscoped.
func RegroupIncidents(ctx context.Context, st *store.Store, cfg IncidentConfig, from time.Time) (Regrouped, error) {
	read := from
	if !from.IsZero() {
		read = from.Add(-cfg.Window)
	}
	if err := st.RefreshIncidentStatistics(ctx); err != nil {
		return Regrouped{}, fmt.Errorf("regroup incidents: %w", err)
	}
	rows, err := st.IncidentCases(ctx, read)
	if err != nil {
		return Regrouped{}, fmt.Errorf("regroup incidents: %w", err)
	}
	out := Regrouped{Read: len(rows)}
	cases := make([]Case, len(rows))
	byKey := make(map[string]*store.IncidentCase, len(rows))
	byID := make(map[int64]*store.IncidentCase, len(rows))
	for i := range rows {
		r := &rows[i]
		k := r.Source + "/" + r.SourceID
		cases[i] = Case{Key: k, Source: r.Source, Category: r.Category, Lng: r.Lng, Lat: r.Lat, Reported: r.ReportedAt, Text: r.Text}
		byKey[k] = r
		byID[r.ID] = r
		if r.ReportedAt.After(out.Latest) {
			out.Latest = r.ReportedAt
		}
	}
	stored, err := st.MatchDecisions(ctx, store.MatchIncident)
	if err != nil {
		return out, fmt.Errorf("regroup incidents: %w", err)
	}
	decisions := make([]Decision, len(stored))
	for i, d := range stored {
		decisions[i] = Decision{A: d.A, B: d.B, Accept: d.Accept}
	}
	res, err := IncidentsWith(cases, decisions, cfg)
	if err != nil {
		return out, fmt.Errorf("regroup incidents: %w", err)
	}
	groups := IncidentGroups(res, func(key string) (int64, int64, string) {
		r := byKey[key]
		return r.ID, r.IncidentID, r.Title
	})
	if !from.IsZero() {
		recent := groups[:0]
		for _, g := range groups {
			for _, id := range g.Cases {
				if byID[id].ReportedAt.Compare(from) >= 0 {
					recent = append(recent, g)
					break
				}
			}
		}
		groups = recent
	}
	out.Groups = len(groups)
	err = st.InDerivedTx(ctx, func(w *store.Writer) error {
		var err error
		out.IncidentWrite, err = w.ReplaceIncidents(ctx, from, groups)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("regroup incidents: %w", err)
	}
	// A full regrouping rewrites the incidents and many cases' links:
	// their statistics are brought up to date now, not by the next
	// regrouping after a sync pass, which would analyze them first.
	if from.IsZero() {
		if err := st.RefreshIncidentStatistics(ctx); err != nil {
			return out, fmt.Errorf("regroup incidents: %w", err)
		}
	}
	return out, nil
}

// IncidentGroups turns the incidents of res with two or more cases into
// store groups; ids returns the store's case id, its current incident id
// (0 for none) and its title for a case key.
func IncidentGroups(res *IncidentResult, ids func(key string) (caseID, incidentID int64, title string)) []store.IncidentGroup {
	type claim struct {
		group int
		inc   int64
		n     int
	}
	var groups []store.IncidentGroup
	var claims []claim
	for _, members := range res.Incidents {
		if len(members) < 2 {
			continue
		}
		gi := len(groups)
		slices.SortFunc(members, func(a, b int) int {
			if c := res.Cases[a].Reported.Compare(res.Cases[b].Reported); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		g := store.IncidentGroup{Category: res.Cases[members[0]].Category, FirstReported: res.Cases[members[0]].Reported}
		count := map[int64]int{}
		for x, i := range members {
			c := &res.Cases[i]
			id, inc, title := ids(c.Key)
			if x == 0 {
				g.Title = title
			}
			g.Cases = append(g.Cases, id)
			g.Lat += c.Lat / float64(len(members))
			g.Lng += c.Lng / float64(len(members))
			if inc != 0 {
				count[inc]++
			}
		}
		for inc, n := range count {
			claims = append(claims, claim{gi, inc, n})
		}
		groups = append(groups, g)
	}
	slices.SortFunc(claims, func(a, b claim) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		if c := cmp.Compare(a.inc, b.inc); c != 0 {
			return c
		}
		return cmp.Compare(a.group, b.group)
	})
	taken := map[int64]bool{}
	for _, c := range claims {
		if groups[c.group].ID == 0 && !taken[c.inc] {
			groups[c.group].ID = c.inc
			taken[c.inc] = true
		}
	}
	return groups
}
