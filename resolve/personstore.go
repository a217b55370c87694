package resolve

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
)

// PersonTrust ranks the roles of person records for survivorship: the
// population register (residents) first, then the party's and the grid's
// records of their own people, then what a reporter said on the phone.
var PersonTrust = map[string]int{"RESIDENT": 3, "PARTY_MEMBER": 2, "GRID_WORKER": 2, "REPORTER": 1}

// PersonsResolved is what a person resolution read and wrote.
type PersonsResolved struct {
	store.PersonsApplied
	Full     bool          // a resolution of every record (else of the changes)
	Changed  int           // records changed or removed since the last resolution
	Records  int           // person records read
	Persons  int           // persons they make
	Linked   int           // probabilistic and accepted links
	Review   int           // pairs waiting for a decision
	Analyzed time.Duration // analyzing tables whose statistics trailed (Store.RefreshPersonStatistics), and after a full run vacuuming the queue it took
	Read     time.Duration // reading the queue, the records and the decisions
	Resolved time.Duration // matching and clustering
	Written  time.Duration // writing the persons
}

// PersonResolver resolves the store's person records and keeps the
// resolution between runs (Persons), so that a run after a sync pass
// resolves only what changed: the records the store queued
// (person_resolve_queue) and the decisions taken since. The first run, a
// run after person_link was emptied, and a run once the records held have
// doubled or halved since the last full resolution (its model would be
// stale) resolve everything. Runs are serialised.
type PersonResolver struct {
	mu        sync.Mutex
	st        *store.Store
	cfg       Config
	eng       *Persons
	estimated int               // records of the last full resolution
	places    map[string]string // stated address → building key in gaz
	gaz       *address.Gazetteer
	// held is, per record key, its person_link row, the person made for
	// it (or its ID's), and where it stands: its person and how it was
	// matched. Only the sync engine and resolution write a record's
	// person: the sync engine when the record changes, which queues it
	// (read again at the next run), resolution in the plans it applies.
	held map[string]heldLink
}

type heldLink struct {
	id, own, person int64
	matched         string
}

// hold keeps a link as read from the store.
func (r *PersonResolver) hold(l *store.PersonLink) {
	r.held[l.Key] = heldLink{id: l.ID, own: l.OwnID, person: l.PersonID, matched: l.MatchedBy}
}

// applied moves the records of a plan the store applied to where it put
// them.
func (r *PersonResolver) applied(plan *store.PersonResolution) {
	for _, x := range plan.Records {
		h := r.held[x.Key]
		h.person, h.matched = plan.Persons[x.Person].ID, x.MatchedBy
		r.held[x.Key] = h
	}
}

// NewPersonResolver returns a resolver whose first run resolves every
// record.
func NewPersonResolver(st *store.Store, cfg Config) *PersonResolver {
	return &PersonResolver{st: st, cfg: cfg, places: map[string]string{}, held: map[string]heldLink{}}
}

// ResolvePersons resolves every person record of the store once; see
// PersonResolver.Full.
func ResolvePersons(ctx context.Context, st *store.Store, g *address.Gazetteer, cfg Config) (PersonsResolved, error) {
	return NewPersonResolver(st, cfg).Full(ctx, g)
}

// Run resolves what changed since the last run, or everything when the
// resolution held cannot answer (see PersonResolver). g finds the building
// of an address a record states (nil: only the store's). The context
// decides the access: internal work, so store.Unscoped.
func (r *PersonResolver) Run(ctx context.Context, g *address.Gazetteer) (PersonsResolved, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t0 := time.Now()
	if err := r.st.RefreshPersonStatistics(ctx); err != nil {
		return PersonsResolved{}, fmt.Errorf("resolve persons: %w", err)
	}
	analyzed := time.Since(t0)
	if r.eng == nil || r.eng.Len() >= 2*max(r.estimated, 1) || 2*r.eng.Len() < r.estimated {
		return r.full(ctx, g, analyzed)
	}
	out := PersonsResolved{Analyzed: analyzed}
	t0 = time.Now()
	q, err := r.st.PersonResolveQueue(ctx)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	if slices.Contains(q.Keys, "*") {
		return r.full(ctx, g, analyzed)
	}
	decisions, err := r.decisions(ctx)
	if err != nil {
		return out, err
	}
	links, err := r.st.PersonLinksOf(ctx, q.Keys)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	changed := make([]Record, len(links))
	have := make(map[string]bool, len(links))
	for i := range links {
		changed[i] = r.record(&links[i], g)
		have[links[i].Key] = true
	}
	var removed []string
	for _, k := range q.Keys {
		if !have[k] {
			removed = append(removed, k)
		}
	}
	for i := range links {
		r.hold(&links[i])
	}
	for _, k := range removed {
		delete(r.held, k)
	}
	out.Read = time.Since(t0)
	t0 = time.Now()
	res, err := r.eng.Update(changed, removed, decisions)
	if err != nil {
		// The state held may be part-way through the change: start again.
		r.eng = nil
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	out.Resolved = time.Since(t0)
	out.Changed = len(q.Keys)
	if len(res.Records) == 0 && len(removed) == 0 {
		if err := r.st.InTx(ctx, func(w *store.Writer) error { return w.TakePersonQueue(ctx, q) }); err != nil {
			r.eng = nil
			return out, fmt.Errorf("resolve persons: %w", err)
		}
		return out, nil
	}
	// The records resolved again, where each stands.
	byKey := make(map[string]*store.PersonLink, len(res.Records))
	for i := range res.Records {
		rec := &res.Records[i]
		h, ok := r.held[rec.Key]
		if !ok {
			r.eng = nil
			return out, fmt.Errorf("resolve persons: record %s is not held", rec.Key)
		}
		l := &store.PersonLink{ID: h.id, Key: rec.Key, Role: rec.Source, PersonID: h.person, MatchedBy: h.matched, OwnID: h.own}
		if rec.IDHash != "" {
			l.IDHash = []byte(rec.IDHash)
		}
		byKey[rec.Key] = l
	}
	t0 = time.Now()
	plan := PersonPlan(res, byKey, r.cfg)
	plan.Removed = removed
	out.Records, out.Persons, out.Linked, out.Review = len(res.Records), len(plan.Persons), len(res.Links), len(res.Review)
	out.PersonsApplied, err = r.apply(ctx, &plan, q)
	out.Written = time.Since(t0)
	if err != nil {
		r.eng = nil
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	r.applied(&plan)
	return out, nil
}

// apply writes a plan and takes the queue it answers in one transaction,
// written again (up to 4 attempts) when PostgreSQL rolls it back as a
// deadlock's or serialization conflict's victim: the sync engine writes
// the same records beside it.
func (r *PersonResolver) apply(ctx context.Context, plan *store.PersonResolution, q store.PersonQueue) (store.PersonsApplied, error) {
	var applied store.PersonsApplied
	persons := plan.Persons
	var err error
	for attempt := 1; attempt <= 4; attempt++ {
		// Persons made get their IDs in the transaction: a retry starts
		// from the plan as it was.
		plan.Persons = slices.Clone(persons)
		err = r.st.InTx(ctx, func(w *store.Writer) error {
			var err error
			if applied, err = w.ApplyPersonResolution(ctx, *plan); err != nil {
				return err
			}
			return w.TakePersonQueue(ctx, q)
		})
		if err == nil || !store.IsTransient(err) {
			break
		}
	}
	return applied, err
}

// Full resolves every person record of the store under the analysts'
// decisions (match_decision, kind PERSON) and writes the result
// (store.Writer.ApplyPersonResolution): deterministic links by valid ID
// hash first, then Resolve. Record keys are "source/ROLE/source_id"; a
// record's source for survivorship is its role (PersonTrust). The dwelling
// compared is a building: a resident's household's, a party member's
// linked home, else the building the address service finds for the
// address the record states (g; nil: only the store's). Persons keep
// their IDs as PersonPlan says. The result is a function of the records
// and decisions, so a full re-resolution (after `hub sync --full`) gives
// the same persons. The context decides the access: internal work, so
// store.Unscoped.
func (r *PersonResolver) Full(ctx context.Context, g *address.Gazetteer) (PersonsResolved, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t0 := time.Now()
	if err := r.st.RefreshPersonStatistics(ctx); err != nil {
		return PersonsResolved{}, fmt.Errorf("resolve persons: %w", err)
	}
	return r.full(ctx, g, time.Since(t0))
}

// full is Full once the statistics are current (analyzing took analyzed).
func (r *PersonResolver) full(ctx context.Context, g *address.Gazetteer, analyzed time.Duration) (PersonsResolved, error) {
	out := PersonsResolved{Full: true, Analyzed: analyzed}
	r.eng = nil
	t0 := time.Now()
	// The queue first: what lands after it is read stays queued.
	q, err := r.st.PersonResolveQueue(ctx)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	links, err := r.st.PersonLinks(ctx)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	out.Records, out.Changed = len(links), len(q.Keys)
	byKey := make(map[string]*store.PersonLink, len(links))
	recs := make([]Record, len(links))
	for i := range links {
		byKey[links[i].Key] = &links[i]
		recs[i] = r.record(&links[i], g)
	}
	decisions, err := r.decisions(ctx)
	if err != nil {
		return out, err
	}
	out.Read = time.Since(t0)
	t0 = time.Now()
	eng, res, err := NewPersons(recs, decisions, r.cfg)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	out.Resolved = time.Since(t0)
	t0 = time.Now()
	plan := PersonPlan(res, byKey, r.cfg)
	out.Persons, out.Linked, out.Review = len(plan.Persons), len(res.Links), len(res.Review)
	out.PersonsApplied, err = r.apply(ctx, &plan, q)
	out.Written = time.Since(t0)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	// A full resolution rewrites much of the person tables (after a first
	// load, most golden records and a fifth of the links): their
	// statistics are brought up to date now, as part of this run, not by
	// the next incremental one, and the queue it emptied is vacuumed.
	t0 = time.Now()
	if err := r.st.RefreshPersonStatistics(ctx); err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	if err := r.st.VacuumPersonQueue(ctx); err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	out.Analyzed += time.Since(t0)
	r.eng, r.estimated = eng, eng.Len()
	r.held = make(map[string]heldLink, len(links))
	for i := range links {
		r.hold(&links[i])
	}
	r.applied(&plan)
	return out, nil
}

// decisions reads the analysts' decisions on person records.
func (r *PersonResolver) decisions(ctx context.Context) ([]Decision, error) {
	stored, err := r.st.MatchDecisions(ctx, store.MatchPerson)
	if err != nil {
		return nil, fmt.Errorf("resolve persons: %w", err)
	}
	out := make([]Decision, len(stored))
	for i, d := range stored {
		out[i] = Decision{A: d.A, B: d.B, Accept: d.Accept}
	}
	return out, nil
}

// record is a person record as resolution compares it.
func (r *PersonResolver) record(l *store.PersonLink, g *address.Gazetteer) Record {
	rec := Record{Key: l.Key, Source: l.Role, Name: l.Name, Updated: l.Updated}
	if len(l.IDHash) > 0 {
		rec.IDHash = hex.EncodeToString(l.IDHash)
	}
	if len(l.PhoneHash) > 0 {
		rec.PhoneHash = hex.EncodeToString(l.PhoneHash)
	}
	if l.Birth != nil {
		rec.Birth = l.Birth.Format("20060102")
	}
	switch l.Gender {
	case "MALE":
		rec.Gender = "M"
	case "FEMALE":
		rec.Gender = "F"
	}
	switch {
	case l.BuildingID != nil:
		rec.Place = "b" + strconv.FormatInt(*l.BuildingID, 10)
	case l.Address != "" && g != nil:
		if g != r.gaz {
			r.places, r.gaz = map[string]string{}, g
		}
		p, ok := r.places[l.Address]
		if !ok {
			if m := Building(g, l.Address, address.Address{}); m.BuildingID != "" {
				p = "b" + m.BuildingID
			}
			r.places[l.Address] = p
		}
		rec.Place = p
	}
	return rec
}

// PersonPlan turns a resolution of the store's person records into what
// the store writes: each cluster's survivor, the persons merged into it,
// its golden record with provenance, each record's person and match, and
// the evidence of the links and of the review queue (of an incremental
// resolution, the change to it: Result.Fresh and Result.Gone).
//
// Survivors keep person IDs stable. A cluster with a valid ID hash is the
// person of that ID. Another keeps the person most of its records stand
// for now (ties: the person one of its records was made for, then the
// smaller ID), unless a cluster with more of them keeps it; the persons
// its records were made for or stand for now that no cluster kept are
// merged into its survivor. A cluster left with no person to keep — the part of
// a person that a split (a rejected link) took away — gets a new person,
// split from the one most of its records stood for.
func PersonPlan(res *Result, byKey map[string]*store.PersonLink, cfg Config) store.PersonResolution {
	var plan store.PersonResolution
	accepted := map[string]bool{}
	for _, p := range res.Links {
		if p.Outcome == Accepted {
			accepted[p.A], accepted[p.B] = true, true
		}
	}
	link := func(i int) *store.PersonLink { return byKey[res.Records[i].Key] }
	// Persons of a valid ID: only the cluster of that ID may keep them.
	idPerson := map[int64]bool{}
	survivor := make([]int64, len(res.Clusters))
	for c, members := range res.Clusters {
		for _, i := range members {
			if l := link(i); len(l.IDHash) > 0 {
				idPerson[l.OwnID] = true
				survivor[c] = l.OwnID
			}
		}
	}
	type claim struct {
		cluster int
		id      int64
		n       int
		own     bool
	}
	var claims []claim
	origin := make([]int64, len(res.Clusters)) // the person most of a cluster's records stand for
	for c, members := range res.Clusters {
		count, own := map[int64]int{}, map[int64]bool{}
		for _, i := range members {
			l := link(i)
			count[l.PersonID]++
			own[l.OwnID] = true
		}
		best := 0
		for id, n := range count {
			if n > best || (n == best && id < origin[c]) {
				best, origin[c] = n, id
			}
			if survivor[c] == 0 && !idPerson[id] {
				claims = append(claims, claim{c, id, n, own[id]})
			}
		}
	}
	slices.SortFunc(claims, func(a, b claim) int {
		if x := cmp.Compare(b.n, a.n); x != 0 {
			return x
		}
		if a.own != b.own {
			if a.own {
				return -1
			}
			return 1
		}
		if x := cmp.Compare(a.id, b.id); x != 0 {
			return x
		}
		return cmp.Compare(a.cluster, b.cluster)
	})
	kept := map[int64]bool{}
	for _, id := range survivor {
		if id != 0 {
			kept[id] = true
		}
	}
	for _, cl := range claims {
		if survivor[cl.cluster] == 0 && !kept[cl.id] {
			survivor[cl.cluster], kept[cl.id] = cl.id, true
		}
	}
	for c, members := range res.Clusters {
		p := store.ResolvedPerson{ID: survivor[c], Provenance: map[string]string{}}
		if p.ID == 0 {
			p.SplitFrom = origin[c]
		}
		merged := map[int64]bool{}
		for _, i := range members {
			l := link(i)
			for _, id := range []int64{l.OwnID, l.PersonID} {
				if id != p.ID && !idPerson[id] && !kept[id] {
					merged[id] = true
				}
			}
		}
		for id := range merged {
			p.Merged = append(p.Merged, id)
		}
		slices.Sort(p.Merged)
		gold := res.Golden(c, cfg.Trust)
		p.Name, p.NameMasked = gold.Name.Value, pii.MaskName(gold.Name.Value)
		switch gold.Gender.Value {
		case "M":
			p.Gender = "MALE"
		case "F":
			p.Gender = "FEMALE"
		}
		if b, err := time.Parse("20060102", gold.Birth.Value); err == nil {
			p.Birth = &b
		}
		if h, err := hex.DecodeString(gold.Phone.Value); err == nil && len(h) > 0 {
			p.PhoneHash, p.PhoneFrom = h, byKey[gold.Phone.Record].OwnID
		}
		// A person of one record takes every field from it, which its
		// provenance leaves unsaid (the store's default, {}): the sync
		// writes such a person as resolution would, so resolving it
		// again rewrites nothing (after a first load, two thirds of the
		// persons).
		if len(members) > 1 {
			for field, v := range map[string]Value{"name": gold.Name, "gender": gold.Gender, "birthDate": gold.Birth,
				"phone": gold.Phone, "address": gold.Place, "idNumber": gold.IDHash} {
				if v.Record != "" {
					p.Provenance[field] = v.Record
				}
			}
		}
		plan.Persons = append(plan.Persons, p)
		for _, i := range members {
			r := &res.Records[i]
			m := "PROBABILISTIC"
			switch {
			case r.IDHash != "":
				m = "ID_HASH"
			case len(members) == 1:
				m = "NONE"
			case accepted[r.Key]:
				m = "DECISION"
			}
			if l := byKey[r.Key]; l.PersonID != p.ID || l.MatchedBy != m {
				plan.Records = append(plan.Records, store.ResolvedRecord{Key: r.Key, LinkID: l.ID, Person: len(plan.Persons) - 1, MatchedBy: m})
			}
		}
	}
	seen := map[[2]string]bool{}
	sets := [][]Pair{res.Links, res.Review}
	if res.Incremental {
		sets = [][]Pair{res.Fresh}
		plan.Partial, plan.Gone = true, res.Gone
	}
	for _, set := range sets {
		for _, p := range set {
			if seen[[2]string{p.A, p.B}] {
				continue
			}
			seen[[2]string{p.A, p.B}] = true
			outcome := string(p.Outcome)
			if p.Outcome != Linked && p.Outcome != Accepted {
				outcome = string(Review)
			}
			plan.Pairs = append(plan.Pairs, store.PersonPair{A: p.A, B: p.B, Outcome: outcome, Total: p.Total, Fields: fieldsJSON(p.Fields)})
		}
	}
	return plan
}

// fieldsJSON is the evidence of a pair as the store keeps it.
func fieldsJSON(fs []FieldWeight) json.RawMessage {
	type fw struct {
		Field  string  `json:"field"`
		Level  string  `json:"level"`
		Weight float64 `json:"weight"`
	}
	out := make([]fw, len(fs))
	for i, f := range fs {
		out[i] = fw{f.Field, f.Level, f.Weight}
	}
	js, _ := json.Marshal(out)
	return js
}
