package resolve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ywtg/hub/store"
)

// Regrouped is what a regrouping of incidents read and wrote.
type Regrouped struct {
	store.IncidentWrite
	Full    bool      // every case was regrouped
	Changed int       // cases written since the last regrouping (IncidentRegrouper)
	Read    int       // cases regrouped: read, or held in the window regrouped
	Groups  int       // incidents of two or more cases among them
	Latest  time.Time // the latest report read
	epoch   int64     // incident regrouping's epoch after the write that took a queue
}

// RegroupIncidents groups, under the analysts' decisions
// (store.MatchDecisions), the located cases of the store reported at or
// after from (zero: all) into incidents and writes the result
// (store.Writer.ReplaceIncidents). The reports of one Window before from
// are read too, so a new report joins an older incident; groups made only
// of such older reports are left as they are. A full regrouping (zero
// from) re-reads everything. Incident IDs are
// stable: a group keeps the incident most of its cases already had (ties:
// the smaller ID), so a regrouping after a sync moves only the cases it
// has to. The incident's title, category and first report are its first
// case's; its location is the mean of its cases'. It holds nothing
// between calls and leaves the store's regroup queue alone: after sync
// passes, IncidentRegrouper reads only what they wrote. The context
// decides the access: internal work, so store.Unscoped.
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
	out, _, err := regroup(ctx, st, cfg, from, rows, nil)
	if err != nil {
		return out, fmt.Errorf("regroup incidents: %w", err)
	}
	return out, nil
}

// regroup groups rows (the located cases reported at or after one Window
// before from; zero from: every case) and writes the groups that hold a
// case reported at or after from (writeGroups).
func regroup(ctx context.Context, st *store.Store, cfg IncidentConfig, from time.Time, rows []store.IncidentCase, q *store.IncidentQueue) (Regrouped, []store.IncidentGroup, error) {
	cases := make([]Case, len(rows))
	byKey := make(map[string]*store.IncidentCase, len(rows))
	for i := range rows {
		r := &rows[i]
		k := r.Source + "/" + r.SourceID
		cases[i] = Case{Key: k, Source: r.Source, Category: r.Category, Lng: r.Lng, Lat: r.Lat, Reported: r.ReportedAt, Text: r.Text}
		byKey[k] = r
	}
	decisions, err := incidentDecisions(ctx, st)
	if err != nil {
		return Regrouped{}, nil, err
	}
	res, err := IncidentsWith(cases, decisions, cfg)
	if err != nil {
		return Regrouped{}, nil, err
	}
	return writeGroups(ctx, st, from, res, byKey, true, q)
}

// incidentDecisions reads the analysts' decisions on incidents.
func incidentDecisions(ctx context.Context, st *store.Store) ([]Decision, error) {
	stored, err := st.MatchDecisions(ctx, store.MatchIncident)
	if err != nil {
		return nil, err
	}
	decisions := make([]Decision, len(stored))
	for i, d := range stored {
		decisions[i] = Decision{A: d.A, B: d.B, Accept: d.Accept}
	}
	return decisions, nil
}

// writeGroups writes the incidents of res (byKey: the rows of its cases)
// that hold a case reported at or after from (zero: every incident),
// taking q (nil: none) in the same transaction, and returns them with
// their incident IDs. fresh: the rows' incident IDs were read with them
// (else they are read again). A full regrouping analyzes the tables it
// rewrote.
func writeGroups(ctx context.Context, st *store.Store, from time.Time, res *IncidentResult, byKey map[string]*store.IncidentCase,
	fresh bool, q *store.IncidentQueue) (Regrouped, []store.IncidentGroup, error) {
	out := Regrouped{Full: from.IsZero(), Read: len(res.Cases)}
	for i := range res.Cases {
		if t := res.Cases[i].Reported; t.After(out.Latest) {
			out.Latest = t
		}
	}
	// The groups to write: every one of two or more cases, or of a
	// regrouping from an instant those with a case reported since. An
	// incident's ID is kept by the cases it holds: the incidents their
	// cases stand in are those of rows just read (fresh), else read from
	// the store now.
	var keep [][]int
	var grouped []int64
	for _, members := range res.Incidents {
		if len(members) < 2 {
			continue
		}
		recent := from.IsZero()
		for _, i := range members {
			recent = recent || !res.Cases[i].Reported.Before(from)
		}
		if !recent {
			continue
		}
		keep = append(keep, members)
		for _, i := range members {
			grouped = append(grouped, byKey[res.Cases[i].Key].ID)
		}
	}
	res.Incidents = keep
	incidentOf := func(r *store.IncidentCase) int64 { return r.IncidentID }
	if !fresh {
		linked, err := st.CaseIncidents(ctx, grouped)
		if err != nil {
			return out, nil, err
		}
		incidentOf = func(r *store.IncidentCase) int64 { return linked[r.ID] }
	}
	groups := IncidentGroups(res, func(key string) (int64, int64, string) {
		r := byKey[key]
		return r.ID, incidentOf(r), r.Title
	})
	out.Groups = len(groups)
	err := st.InDerivedTx(ctx, func(w *store.Writer) error {
		var err error
		if out.IncidentWrite, err = w.ReplaceIncidents(ctx, from, groups); err != nil {
			return err
		}
		if q != nil {
			out.epoch, err = w.TakeIncidentQueue(ctx, *q, out.IncidentWrite != (store.IncidentWrite{}))
		}
		// A writer that holds nothing (RegroupIncidents) leaves the epoch:
		// it rewrites only incidents and the cases' links to them, which
		// a regrouper reads again from the store whenever it writes, and
		// what it regrouped for an analyst's decision is queued with the
		// decision (store.RecordMatchDecision).
		return err
	})
	if err != nil {
		return out, nil, err
	}
	// A full regrouping rewrites the incidents and many cases' links:
	// their statistics are brought up to date now, not by the next
	// regrouping after a sync pass, which would analyze them first.
	if from.IsZero() {
		if err := st.RefreshIncidentStatistics(ctx); err != nil {
			return out, nil, err
		}
	}
	return out, groups, nil
}

// IncidentRegrouper regroups the store's incidents after sync passes and
// holds the located cases reported lately between runs, with the evidence
// that joins them, so that a run reads only the cases written since the
// last one (the store's incident_regroup_queue, filled by triggers on
// "case"), weighs them against their held neighbours, and regroups from
// the earliest report among them and among the cases of the incidents
// they left, with the held cases of one Window before. A run whose
// reports reach back past what it holds reads that part of the store
// again. The first run, and a run after the cases were emptied, regroup
// every case. Runs are serialised; the held cases are the store's only
// while this regrouper is the one taking the queue.
type IncidentRegrouper struct {
	mu  sync.Mutex
	st  *store.Store
	cfg IncidentConfig
	// held are the located cases reported at or after since; nil until a
	// full regrouping.
	held  *heldCases
	since time.Time
	total int // located cases at the last full regrouping
	// epoch is incident regrouping's epoch in the store as this
	// regrouper last wrote it (store.ResolutionKind): another, read from
	// the queue, says another writer regrouped since.
	epoch int64
}

// NewIncidentRegrouper returns a regrouper of st's incidents that holds
// nothing yet: its first run regroups every case.
func NewIncidentRegrouper(st *store.Store, cfg IncidentConfig) *IncidentRegrouper {
	return &IncidentRegrouper{st: st, cfg: cfg}
}

// heldWindows is how many Windows before the latest report a regrouper
// holds: a sync pass's reports reach back a few days at most (a source's
// late history is read again from the store).
const heldWindows = 2

// Run regroups what the cases written since the last run can change, or
// everything when nothing is held yet. The context decides the access:
// internal work, so store.Unscoped.
func (r *IncidentRegrouper) Run(ctx context.Context) (Regrouped, error) {
	return r.RunFrom(ctx, time.Time{})
}

// RunFrom is Run regrouping from at the latest at (zero: from the cases
// written only): after an analyst's decision on two cases, from the
// earlier of their reports.
func (r *IncidentRegrouper) RunFrom(ctx context.Context, at time.Time) (Regrouped, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held == nil {
		return r.full(ctx)
	}
	q, err := r.st.IncidentRegroupQueue(ctx)
	if err != nil {
		return Regrouped{}, fmt.Errorf("regroup incidents: %w", err)
	}
	if q.Everything() || q.Epoch != r.epoch {
		return r.full(ctx)
	}
	if len(q.Seqs) == 0 && at.IsZero() {
		return Regrouped{}, nil
	}
	out, err := r.changed(ctx, q, at)
	if err != nil {
		r.held = nil // part-way through a change: start again
		if errors.Is(err, store.ErrStaleResolution) {
			// Another writer regrouped between the read and the write.
			return r.full(ctx)
		}
		return out, fmt.Errorf("regroup incidents: %w", err)
	}
	r.epoch = out.epoch
	return out, nil
}

// Full regroups every case, as the first run does.
func (r *IncidentRegrouper) Full(ctx context.Context) (Regrouped, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.full(ctx)
}

// full regroups every case; one whose write another writer's overtook
// starts again from its reads, up to staleAttempts times.
func (r *IncidentRegrouper) full(ctx context.Context) (Regrouped, error) {
	for attempt := 1; ; attempt++ {
		out, err := r.fullOnce(ctx)
		if attempt == staleAttempts || !errors.Is(err, store.ErrStaleResolution) {
			return out, err
		}
	}
}

// fullOnce is one attempt of full.
func (r *IncidentRegrouper) fullOnce(ctx context.Context) (Regrouped, error) {
	r.held = nil
	// Until the first regrouping begins, changes are not queued: every
	// case is new to it.
	first, err := r.st.BeginResolution(ctx, store.IncidentResolutionKind)
	if err != nil {
		return Regrouped{}, fmt.Errorf("regroup incidents: %w", err)
	}
	// The queue first: what lands after it is read stays queued.
	q, err := r.st.IncidentRegroupQueue(ctx)
	if err != nil {
		return Regrouped{}, fmt.Errorf("regroup incidents: %w", err)
	}
	if err := r.st.RefreshIncidentStatistics(ctx); err != nil {
		return Regrouped{}, fmt.Errorf("regroup incidents: %w", err)
	}
	rows, err := r.st.IncidentCases(ctx, time.Time{})
	if err != nil {
		return Regrouped{}, fmt.Errorf("regroup incidents: %w", err)
	}
	out, groups, err := regroup(ctx, r.st, r.cfg, time.Time{}, rows, &q)
	out.Changed = len(q.Seqs)
	if first {
		out.Changed = len(rows)
	}
	if err != nil {
		return out, fmt.Errorf("regroup incidents: %w", err)
	}
	if err := r.st.VacuumIncidentQueue(ctx); err != nil {
		return out, fmt.Errorf("regroup incidents: %w", err)
	}
	// Only the cases of the last heldWindows Windows are held (and
	// weighed again): the rest of the store's were grouped above.
	held := newHeldCases(r.cfg)
	r.since, r.total = heldFrom(out.Latest, r.cfg), len(rows)
	for _, c := range rows {
		if !c.ReportedAt.Before(r.since) {
			c.IncidentID = 0
			held.put(c)
		}
	}
	r.held = held
	r.linked(time.Time{}, groups)
	r.epoch = out.epoch
	return out, nil
}

// heldFrom is where the cases a regrouper holds begin, for the latest
// report held.
func heldFrom(latest time.Time, cfg IncidentConfig) time.Time {
	if latest.IsZero() {
		return time.Time{}
	}
	return latest.Add(-heldWindows * cfg.Window)
}

// changed regroups from the earliest report among the cases of q (as
// they were held and as they are now), or from at when earlier.
func (r *IncidentRegrouper) changed(ctx context.Context, q store.IncidentQueue, at time.Time) (Regrouped, error) {
	ids := slices.Clone(q.Cases)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	// The planner statistics are checked when the changes are a sizeable
	// part of the cases (a twentieth, as PersonResolver.Run does).
	if 20*len(ids) >= r.total {
		if err := r.st.RefreshIncidentStatistics(ctx); err != nil {
			return Regrouped{}, err
		}
	}
	now, err := r.st.IncidentCasesByID(ctx, ids)
	if err != nil {
		return Regrouped{}, err
	}
	// The regrouping starts from the earliest report among the cases
	// written, as held before and as they are now, and among the cases
	// still in the incidents they stood in: an incident a case left is
	// written again whole.
	var from time.Time
	earliest := func(t time.Time) {
		if from.IsZero() || t.Before(from) {
			from = t
		}
	}
	var left []int64
	for _, id := range ids {
		if c, ok := r.held.get(id); ok {
			earliest(c.ReportedAt)
			if c.IncidentID != 0 {
				left = append(left, c.IncidentID)
			}
			r.held.remove(id)
		}
	}
	for _, c := range now {
		earliest(c.ReportedAt)
		if c.IncidentID != 0 {
			left = append(left, c.IncidentID)
		}
		if !c.ReportedAt.Before(r.since) {
			r.held.put(c)
		}
	}
	if !at.IsZero() {
		earliest(at)
	}
	if len(left) > 0 {
		first, err := r.st.IncidentsFirstReported(ctx, left)
		if err != nil {
			return Regrouped{}, err
		}
		if !first.IsZero() {
			earliest(first)
		}
	}
	out := Regrouped{Changed: len(q.Seqs)}
	if from.IsZero() {
		// Only cases without a location, never held: nothing to regroup.
		err := r.st.InDerivedTx(ctx, func(w *store.Writer) error {
			var err error
			out.epoch, err = w.TakeIncidentQueue(ctx, q, false)
			return err
		})
		return out, err
	}
	read := from.Add(-r.cfg.Window)
	if read.Before(r.since) {
		// Reports older than those held: that part is read again.
		older, err := r.st.IncidentCases(ctx, read)
		if err != nil {
			return out, err
		}
		for _, c := range older {
			if c.ReportedAt.Before(r.since) {
				r.held.put(c)
			}
		}
		r.since = read
	}
	decisions, err := incidentDecisions(ctx, r.st)
	if err != nil {
		return out, err
	}
	res, byKey, window, err := r.held.group(read, decisions)
	if err != nil {
		return out, err
	}
	written, groups, err := writeGroups(ctx, r.st, from, res, byKey, false, &q)
	written.Changed, written.Read = out.Changed, window
	if err != nil {
		return written, err
	}
	r.linked(from, groups)
	r.trim()
	return written, nil
}

// linked records in the held cases the incidents a regrouping from from
// wrote: each grouped case's, none for the others reported since.
func (r *IncidentRegrouper) linked(from time.Time, groups []store.IncidentGroup) {
	var none []int64
	r.held.each(func(c *store.IncidentCase) {
		if c.IncidentID != 0 && !c.ReportedAt.Before(from) {
			none = append(none, c.ID)
		}
	})
	for _, id := range none {
		r.held.setIncident(id, 0)
	}
	for _, g := range groups {
		for _, id := range g.Cases {
			r.held.setIncident(id, g.ID)
		}
	}
}

// trim lets go of the cases reported more than heldWindows Windows before
// the latest report held.
func (r *IncidentRegrouper) trim() {
	var latest time.Time
	r.held.each(func(c *store.IncidentCase) {
		if c.ReportedAt.After(latest) {
			latest = c.ReportedAt
		}
	})
	bound := heldFrom(latest, r.cfg)
	if !bound.After(r.since) {
		return
	}
	var old []int64
	r.held.each(func(c *store.IncidentCase) {
		if c.ReportedAt.Before(bound) {
			old = append(old, c.ID)
		}
	})
	for _, id := range old {
		r.held.remove(id)
	}
	r.since = bound
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
