package resolve

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
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
	Full     bool // a resolution of every record (else of the changes)
	Changed  int  // records changed or removed since the last resolution
	Records  int  // person records read (of an incremental run: resolved again)
	Distinct int  // of Records, those distinct to resolution (twins folded: Record.Copies)
	Persons  int  // persons they make
	// Unchanged are the persons of Persons left unwritten: a record
	// stands for each already and its golden record is as last written.
	Unchanged int
	// Overwritten are the persons whose golden record another writer (the
	// sync engine) changed since the last run, written again.
	Overwritten int
	Linked      int           // probabilistic and accepted links
	Review      int           // pairs waiting for a decision
	Analyzed    time.Duration // analyzing tables whose statistics trailed (Store.RefreshPersonStatistics), and after a full run vacuuming the queue it took
	Read        time.Duration // reading the queue, the records and the decisions
	Resolved    time.Duration // matching and clustering
	Written     time.Duration // writing the persons
}

// PersonResolver resolves the store's person records and keeps the
// resolution between runs (Persons), so that a run after a sync pass
// resolves only what changed: the records the store queued
// (person_resolve_queue) and the decisions taken since. The first run, a
// run after person_link was emptied, and a run once the records held have
// doubled or halved since the last full resolution (its model would be
// stale) resolve everything. Runs are serialised.
type PersonResolver struct {
	mu  sync.Mutex
	st  *store.Store
	cfg Config
	eng *Persons
	// folds are the records eng holds, as twins, with where each source
	// record stands.
	folds     *folds
	estimated int               // records of the last full resolution
	places    map[string]string // stated address → building key in gaz
	gaz       *address.Gazetteer
	// golden is, by survivor, a digest of the golden record and merged
	// persons last written (goldenDigest), so that a run leaves out the
	// persons it would write as they are.
	golden map[int64]uint64
	seed   maphash.Seed
	// epoch is person resolution's epoch in the store as this resolver
	// last wrote it (store.ResolutionKind): another, read from the queue,
	// says another writer resolved since, and what is held is no longer
	// the store's.
	epoch int64
	// writing is called when a run's write begins (WhenWriting).
	writing func()
}

// WhenWriting sets fn (nil: none) to be called in each run once its reads
// and matching are done and its write begins, before the resolver runs:
// work that would compete with the matching for the CPU (`hub sync`
// builds a first load's deferred indexes) can start then, beside a write
// that leaves a core to spare.
func (r *PersonResolver) WhenWriting(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writing = fn
}

// applied moves the records of a plan the store applied to where it put
// them, and notes the golden records it wrote.
func (r *PersonResolver) applied(plan *store.PersonResolution) {
	for _, x := range plan.Records {
		if m := r.folds.member(x.Key); m != nil {
			m.person, m.matched = plan.Persons[x.Person].ID, x.MatchedBy
		}
	}
	for i := range plan.Persons {
		p := &plan.Persons[i]
		for _, m := range p.Merged {
			delete(r.golden, m)
		}
		r.golden[p.ID] = r.goldenDigest(p)
	}
}

// goldenDigest digests what writing a survivor would write: its golden
// record and the persons merged into it.
func (r *PersonResolver) goldenDigest(p *store.ResolvedPerson) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed)
	for _, v := range []string{p.Name, p.NameMasked, p.Gender, string(p.PhoneHash)} {
		h.WriteString(v)
		h.WriteByte(0)
	}
	if p.Birth != nil {
		h.WriteString(p.Birth.Format(time.DateOnly))
	}
	h.WriteByte(0)
	maphash.WriteComparable(&h, p.PhoneFrom)
	fields := slices.Sorted(maps.Keys(p.Provenance))
	for _, f := range fields {
		h.WriteString(f)
		h.WriteByte(1)
		h.WriteString(p.Provenance[f])
		h.WriteByte(0)
	}
	for _, m := range p.Merged {
		maphash.WriteComparable(&h, m)
	}
	return h.Sum64()
}

// unchanged leaves out of a plan the survivors it would write as the
// last plans wrote them: a person a record stands for already, no record
// moves to, whose golden record and merged persons are as last written,
// and whose golden record no other writer changed since (dirty). Most of
// an incremental run's clusters are answered because a record's
// timestamp changed, which rarely changes the golden record.
func (r *PersonResolver) unchanged(plan *store.PersonResolution, dirty map[int64]bool) {
	leaveOut(plan, func(p *store.ResolvedPerson) bool {
		d, ok := r.golden[p.ID]
		return ok && !dirty[p.ID] && d == r.goldenDigest(p)
	})
}

// stored leaves out of a full run's plan the survivors the store holds
// as the plan would write them (held, read before the plan was made): a
// person a record stands for already, no record moves to, whose golden
// record's compared fields are as planned and whose persons to merge are
// merged into it. Each is noted as if written (golden).
func (r *PersonResolver) stored(plan *store.PersonResolution, held map[int64]store.StoredPerson) {
	leaveOut(plan, func(p *store.ResolvedPerson) bool {
		s, ok := held[p.ID]
		if !ok || !holds(&s, p, held) {
			return false
		}
		r.golden[p.ID] = r.goldenDigest(p)
		return true
	})
}

// holds tells whether the stored person s is the planned survivor p as
// writing p would leave it (store.Writer.ApplyPersonResolution): not
// merged, the golden record's compared fields alike (a plan without a
// phone leaves the stored one), and every person to merge merged into
// it.
func holds(s *store.StoredPerson, p *store.ResolvedPerson, held map[int64]store.StoredPerson) bool {
	if s.MergedInto != 0 || s.Name != p.Name || s.Gender != p.Gender || !maps.Equal(s.Provenance, p.Provenance) {
		return false
	}
	if (s.Birth == nil) != (p.Birth == nil) || s.Birth != nil && !s.Birth.Equal(*p.Birth) {
		return false
	}
	if len(p.PhoneHash) > 0 && !bytes.Equal(s.PhoneHash, p.PhoneHash) {
		return false
	}
	for _, m := range p.Merged {
		if held[m].MergedInto != p.ID {
			return false
		}
	}
	return true
}

// leaveOut drops from a plan the survivors same says it need not write,
// among those a record stands for already (Current) that no record moves
// to; the records keep pointing at their persons.
func leaveOut(plan *store.PersonResolution, same func(p *store.ResolvedPerson) bool) {
	moving := make(map[int]bool, len(plan.Records))
	for _, x := range plan.Records {
		moving[x.Person] = true
	}
	at := make([]int, len(plan.Persons))
	kept := plan.Persons[:0]
	for i := range plan.Persons {
		p := plan.Persons[i]
		if p.Current && !moving[i] && same(&p) {
			continue
		}
		at[i] = len(kept)
		kept = append(kept, p)
	}
	for i := range plan.Records {
		plan.Records[i].Person = at[plan.Records[i].Person]
	}
	plan.Persons = kept
}

// NewPersonResolver returns a resolver whose first run resolves every
// record.
func NewPersonResolver(st *store.Store, cfg Config) *PersonResolver {
	return &PersonResolver{st: st, cfg: cfg, places: map[string]string{}, golden: map[int64]uint64{}, seed: maphash.MakeSeed()}
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
	full := func() (PersonsResolved, error) {
		t0 := time.Now()
		if err := r.st.RefreshPersonStatistics(ctx); err != nil {
			return PersonsResolved{}, fmt.Errorf("resolve persons: %w", err)
		}
		return r.full(ctx, g, time.Since(t0))
	}
	if r.eng == nil || r.eng.Len() >= 2*max(r.estimated, 1) || 2*r.eng.Len() < r.estimated {
		return full()
	}
	var out PersonsResolved
	t0 := time.Now()
	q, err := r.st.PersonResolveQueue(ctx)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	if slices.Contains(q.Keys, "*") || q.Epoch != r.epoch {
		return full()
	}
	// The planner statistics are checked when the changes are a sizeable
	// part of the records (a twentieth): after a source was pulled again,
	// the writes outrun autovacuum as after a first load. Smaller changes
	// are left to autovacuum, which analyzes a table once a tenth of it
	// changed.
	if 20*len(q.Keys) >= r.eng.Len() {
		if err := r.st.RefreshPersonStatistics(ctx); err != nil {
			return out, fmt.Errorf("resolve persons: %w", err)
		}
		out.Analyzed = time.Since(t0)
		t0 = time.Now()
	}
	// The decisions are read beside the records: one round trip less
	// to wait for.
	type read struct {
		decisions []Decision
		err       error
	}
	decided := make(chan read, 1)
	go func() {
		d, err := r.decisions(ctx)
		decided <- read{d, err}
	}()
	// A person whose golden record another writer changed (the sync
	// engine writes the person of a record's ID with that record's
	// values) has its cluster answered again, through one of its
	// records, and its golden record written.
	keys, force, dirty := q.Keys, map[string]bool{}, map[int64]bool{}
	out.Overwritten = len(q.Dirty)
	if len(q.Dirty) > 0 {
		for _, id := range q.Dirty {
			dirty[id] = true
		}
		of, err := r.st.PersonRecordsOf(ctx, q.Dirty)
		if err != nil {
			<-decided
			return out, fmt.Errorf("resolve persons: %w", err)
		}
		queued := make(map[string]bool, len(keys))
		for _, k := range keys {
			queued[k] = true
		}
		keys = slices.Clone(keys)
		for _, k := range of {
			force[k] = true
			if !queued[k] {
				keys = append(keys, k)
			}
		}
	}
	links, err := r.st.PersonLinksOf(ctx, keys, r.folds.known(keys))
	d := <-decided
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	if d.err != nil {
		return out, d.err
	}
	decisions := d.decisions
	changed, removed, quiet := r.fold(links, keys, force, decisions, g)
	out.Read = time.Since(t0)
	t0 = time.Now()
	res, err := r.eng.update(changed, removed, decisions, quiet)
	if err != nil {
		// The state held may be part-way through the change: start again.
		r.eng = nil
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	out.Resolved = time.Since(t0)
	out.Changed = len(q.Keys)
	var gone []string
	for _, k := range q.Keys {
		if r.folds.member(k) == nil {
			gone = append(gone, k)
		}
	}
	if len(res.Records) == 0 && len(gone) == 0 {
		var epoch int64
		if err := r.st.InDerivedTx(ctx, func(w *store.Writer) error {
			var err error
			epoch, err = w.TakePersonQueue(ctx, q, false)
			return err
		}); err != nil {
			r.eng = nil
			if errors.Is(err, store.ErrStaleResolution) {
				return full()
			}
			return out, fmt.Errorf("resolve persons: %w", err)
		}
		r.epoch = epoch
		return out, nil
	}
	for i := range res.Records {
		if r.folds.member(res.Records[i].Key) == nil {
			r.eng = nil
			return out, fmt.Errorf("resolve persons: record %s is not held", res.Records[i].Key)
		}
		out.Records += 1 + res.Records[i].Copies
	}
	out.Distinct = len(res.Records)
	t0 = time.Now()
	plan := personPlan(res, r.folds.members, r.folds.foldedName, r.cfg)
	plan.Removed = gone
	out.Persons, out.Linked, out.Review = len(plan.Persons), len(res.Links), len(res.Review)
	r.unchanged(&plan, dirty)
	out.Unchanged = out.Persons - len(plan.Persons)
	var epoch int64
	out.PersonsApplied, epoch, err = r.apply(ctx, &plan, q)
	out.Written = time.Since(t0)
	if err != nil {
		r.eng = nil
		if errors.Is(err, store.ErrStaleResolution) {
			// Another writer resolved between the read and the write:
			// what was planned from the state held is not written.
			return full()
		}
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	r.applied(&plan)
	r.epoch = epoch
	return out, nil
}

// fold moves the records a run reads (links: those of the queued keys
// that exist) and the records whose decisions changed into their twins
// now, and returns the change to the records the engine holds: the
// twins touched whose record is new or differs (their key, fields,
// latest timestamp or copies), and the keys of those gone. A twins whose
// member the sync engine moved (its link row, person or match is not the
// one held), or one of force, is resolved again even when its record is
// the same: the plan puts the member back where its cluster stands.
// Quiet are the keys of the records changed in their latest timestamp
// alone, or in copies added to copies, whose twins kept their members (none
// left or moved) and gained only members standing where those stand.
func (r *PersonResolver) fold(links []store.PersonLink, queued []string, force map[string]bool, decisions []Decision, g *address.Gazetteer) (changed []Record, removed []string, quiet map[string]bool) {
	f := r.folds
	named := namedKeys(decisions)
	type now struct {
		rec Record
		m   member
	}
	at := make(map[string]now, len(links))
	for i := range links {
		rec := r.record(&links[i], g)
		at[links[i].Key] = now{rec, memberOf(&links[i], &rec)}
	}
	affected := make(map[string]bool, len(queued))
	inQueue := make(map[string]bool, len(queued))
	for _, k := range queued {
		affected[k], inQueue[k] = true, true
	}
	for k := range named {
		if !f.named[k] {
			affected[k] = true
		}
	}
	for k := range f.named {
		if !named[k] {
			affected[k] = true
		}
	}
	before := map[string]Record{}
	touched := map[*twins]bool{}
	moved := map[string]bool{}
	// The twins (by signature) a member came to or left.
	was, restless := map[string]string{}, map[string]bool{}
	for k := range affected {
		t := f.twinsOf(k)
		if t == nil {
			continue
		}
		was[k] = t.sig
		if !touched[t] {
			touched[t] = true
			rec := t.record()
			before[rec.Key] = rec
		}
		m := f.member(k)
		if n, ok := at[k]; ok {
			moved[k] = force[k] || m.id != n.m.id || m.person != n.m.person || m.matched != n.m.matched
		} else if !inQueue[k] {
			// Named or no longer named, and unchanged: folded again as
			// it is held.
			rec := t.rec
			rec.Key, rec.Updated = k, m.updated
			at[k] = now{rec, *m}
		}
	}
	f.named = named
	for k := range affected {
		f.drop(k)
	}
	forced := map[*twins]bool{}
	// The members that came to twins held before: a worker's new reports.
	came := map[*twins][]string{}
	for k, n := range at {
		if _, held := was[k]; !held {
			// A member coming to twins held before, untouched so far.
			if t := f.bySig[f.sig(&n.rec)]; t != nil && !touched[t] {
				touched[t] = true
				rec := t.record()
				before[rec.Key] = rec
			}
		}
		t := f.add(&n.rec, n.m)
		touched[t] = true
		if moved[k] {
			forced[t] = true
		}
		if w, ok := was[k]; !ok || w != t.sig {
			if ok {
				restless[t.sig], restless[w] = true, true
			} else {
				came[t] = append(came[t], k)
			}
		}
		delete(was, k)
	}
	for _, w := range was {
		restless[w] = true
	}
	quiet = map[string]bool{}
	for t := range touched {
		if len(t.members) == 0 {
			continue
		}
		rec := t.record()
		if b, ok := before[rec.Key]; !ok || forced[t] || !sameRecord(&b, &rec) {
			changed = append(changed, rec)
			if ok && !forced[t] && !restless[t.sig] && sameFields(&b, &rec) && f.standAlike(t, came[t]) &&
				(b.Copies == rec.Copies || b.Copies > 0 && rec.Copies > b.Copies) {
				quiet[rec.Key] = true
			}
		}
		delete(before, rec.Key)
	}
	for k := range before {
		removed = append(removed, k)
	}
	slices.Sort(removed)
	return changed, removed, quiet
}

// standAlike tells whether the members that came to twins (their keys)
// stand where a member held before stands: its own person, person and
// match. The plan would leave them where they are.
func (f *folds) standAlike(t *twins, came []string) bool {
	if len(came) == 0 {
		return true
	}
	var held *member
	for i := range t.members {
		if !slices.Contains(came, t.members[i].key) {
			held = &t.members[i]
			break
		}
	}
	if held == nil {
		return false
	}
	for _, k := range came {
		m := f.member(k)
		if m == nil || m.own != held.own || m.person != held.person || m.matched != held.matched {
			return false
		}
	}
	return true
}

// apply writes a plan and takes the queue it answers in one transaction,
// written again (up to 4 attempts) when PostgreSQL rolls it back as a
// deadlock's or serialization conflict's victim: the sync engine writes
// the same records beside it. It returns person resolution's epoch after
// the write. Whether the write changed what resolution holds counts the
// persons and links written and an incremental run's evidence; a full
// run's evidence replaces the store's with what the same records and
// decisions always give (records changed since are in the queue).
func (r *PersonResolver) apply(ctx context.Context, plan *store.PersonResolution, q store.PersonQueue) (store.PersonsApplied, int64, error) {
	if r.writing != nil {
		r.writing()
	}
	var applied store.PersonsApplied
	var epoch int64
	persons := plan.Persons
	var err error
	for attempt := 1; attempt <= 4; attempt++ {
		// Persons made get their IDs in the transaction: a retry starts
		// from the plan as it was.
		plan.Persons = slices.Clone(persons)
		err = r.st.InDerivedTx(ctx, func(w *store.Writer) error {
			var err error
			if applied, err = w.ApplyPersonResolution(ctx, *plan); err != nil {
				return err
			}
			wrote := applied != (store.PersonsApplied{}) || plan.Partial && (len(plan.Pairs) > 0 || len(plan.Gone) > 0 || len(plan.Removed) > 0)
			epoch, err = w.TakePersonQueue(ctx, q, wrote)
			return err
		})
		if err == nil || !store.IsTransient(err) {
			break
		}
	}
	return applied, epoch, err
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
// A resolution whose write another writer's overtook (a `hub sync` beside
// a server) starts again from its reads, up to staleAttempts times.
func (r *PersonResolver) full(ctx context.Context, g *address.Gazetteer, analyzed time.Duration) (PersonsResolved, error) {
	for attempt := 1; ; attempt++ {
		out, err := r.fullOnce(ctx, g, analyzed)
		if attempt == staleAttempts || !errors.Is(err, store.ErrStaleResolution) {
			return out, err
		}
	}
}

// staleAttempts bounds the full resolutions or regroupings a run starts
// when other writers keep overtaking its write.
const staleAttempts = 3

// fullOnce is one attempt of full.
func (r *PersonResolver) fullOnce(ctx context.Context, g *address.Gazetteer, analyzed time.Duration) (PersonsResolved, error) {
	out := PersonsResolved{Full: true, Analyzed: analyzed}
	r.eng, r.golden = nil, map[int64]uint64{}
	t0 := time.Now()
	// Until the first resolution begins, changes are not queued: every
	// record is new to it.
	first, err := r.st.BeginResolution(ctx, store.PersonResolutionKind)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	// The queue first: what lands after it is read stays queued.
	q, err := r.st.PersonResolveQueue(ctx)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	// The persons as stored are read beside the records, on another
	// connection.
	type persons struct {
		held map[int64]store.StoredPerson
		err  error
	}
	read := make(chan persons, 1)
	go func() {
		held, err := r.st.StoredPersons(ctx)
		read <- persons{held, err}
	}()
	links, err := r.st.PersonLinks(ctx)
	held := <-read
	if err == nil {
		err = held.err
	}
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	out.Records, out.Changed = len(links), len(q.Keys)
	if first {
		out.Changed = len(links)
	}
	decisions, err := r.decisions(ctx)
	if err != nil {
		return out, err
	}
	folds := newFolds(len(links), decisions)
	for i := range links {
		rec := r.record(&links[i], g)
		folds.add(&rec, memberOf(&links[i], &rec))
	}
	out.Read = time.Since(t0)
	t0 = time.Now()
	eng, res, err := NewPersons(folds.records(), decisions, r.cfg)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	out.Resolved = time.Since(t0)
	out.Distinct = len(res.Records)
	t0 = time.Now()
	// The names as the engine folded them: folding each again took 0.65 s
	// at city scale.
	folded := func(rec *Record) string {
		if n, ok := eng.foldedName(rec.Key); ok {
			return n
		}
		return folds.foldedName(rec)
	}
	plan := personPlan(res, folds.members, folded, r.cfg)
	out.Persons, out.Linked, out.Review = len(plan.Persons), len(res.Links), len(res.Review)
	r.stored(&plan, held.held)
	held.held = nil
	out.Unchanged = out.Persons - len(plan.Persons)
	var epoch int64
	out.PersonsApplied, epoch, err = r.apply(ctx, &plan, q)
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
	r.eng, r.folds, r.estimated = eng, folds, eng.Len()
	r.applied(&plan)
	r.epoch = epoch
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
	return personPlan(res, func(rec *Record) []member {
		return []member{memberOf(byKey[rec.Key], rec)}
	}, func(rec *Record) string { return FoldName(rec.Name) }, cfg)
}

// personPlan is PersonPlan of a resolution of folded records: records
// returns where each source record a record of the resolution stands for
// stands (itself and its copies, which count as records), folded a
// record's folded name (FoldName).
func personPlan(res *Result, records func(rec *Record) []member, folded func(rec *Record) string, cfg Config) store.PersonResolution {
	// A person a cluster: grown by doubling, the city's 432k were copied
	// several times over.
	plan := store.PersonResolution{Persons: make([]store.ResolvedPerson, 0, len(res.Clusters))}
	// each calls fn with every source record of cluster c and the
	// resolution's record it is or is a copy of. Copies mostly stand
	// alike: fn is called once for a run of members alike (own person,
	// person, match), with its length.
	held := make([][]member, len(res.Records))
	membersOf := func(i int) []member {
		if held[i] == nil {
			held[i] = records(&res.Records[i])
		}
		return held[i]
	}
	each := func(c int, fn func(m *member, n int, rec *Record)) {
		for _, i := range res.Clusters[c] {
			rec := &res.Records[i]
			ms := membersOf(i)
			for x := 0; x < len(ms); {
				y := x + 1
				for y < len(ms) && ms[y].own == ms[x].own && ms[y].person == ms[x].person && ms[y].matched == ms[x].matched {
					y++
				}
				fn(&ms[x], y-x, rec)
				x = y
			}
		}
	}
	accepted := map[string]bool{}
	for _, p := range res.Links {
		if p.Outcome == Accepted {
			accepted[p.A], accepted[p.B] = true, true
		}
	}
	// Persons of a valid ID: only the cluster of that ID may keep them.
	idPerson := map[int64]bool{}
	survivor := make([]int64, len(res.Clusters))
	for c := range res.Clusters {
		each(c, func(m *member, _ int, rec *Record) {
			if rec.IDHash != "" {
				idPerson[m.own] = true
				survivor[c] = m.own
			}
		})
	}
	type claim struct {
		cluster int
		id      int64
		n       int
		own     bool
	}
	var claims []claim
	origin := make([]int64, len(res.Clusters)) // the person most of a cluster's records stand for
	for c := range res.Clusters {
		count, own := map[int64]int{}, map[int64]bool{}
		each(c, func(m *member, n int, _ *Record) {
			count[m.person] += n
			own[m.own] = true
		})
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
	for c := range res.Clusters {
		p := store.ResolvedPerson{ID: survivor[c], Provenance: map[string]string{}}
		if p.ID == 0 {
			p.SplitFrom = origin[c]
		}
		gold := res.golden(c, cfg.Trust, folded)
		merged := map[int64]bool{}
		n := 0
		each(c, func(m *member, k int, _ *Record) {
			n += k
			if m.person == p.ID && p.ID != 0 {
				p.Current = true
			}
			for _, id := range [2]int64{m.own, m.person} {
				if id != p.ID && !idPerson[id] && !kept[id] {
					merged[id] = true
				}
			}
		})
		for id := range merged {
			p.Merged = append(p.Merged, id)
		}
		slices.Sort(p.Merged)
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
			p.PhoneHash = h
			for _, i := range res.Clusters[c] {
				if rec := &res.Records[i]; rec.Key == gold.Phone.Record {
					for _, m := range membersOf(i) {
						if m.key == rec.Key {
							p.PhoneFrom = m.own
						}
					}
				}
			}
		}
		// A person of one record takes every field from it, which its
		// provenance leaves unsaid (the store's default, {}): the sync
		// writes such a person as resolution would, so resolving it
		// again rewrites nothing (after a first load, two thirds of the
		// persons).
		if n > 1 {
			for field, v := range map[string]Value{"name": gold.Name, "gender": gold.Gender, "birthDate": gold.Birth,
				"phone": gold.Phone, "address": gold.Place, "idNumber": gold.IDHash} {
				if v.Record != "" {
					p.Provenance[field] = v.Record
				}
			}
		}
		plan.Persons = append(plan.Persons, p)
		for _, i := range res.Clusters[c] {
			r := &res.Records[i]
			m := "PROBABILISTIC"
			switch {
			case r.IDHash != "":
				m = "ID_HASH"
			case n == 1:
				m = "NONE"
			case accepted[r.Key]:
				m = "DECISION"
			}
			for _, l := range membersOf(i) {
				if l.person != p.ID || l.matched != m {
					plan.Records = append(plan.Records, store.ResolvedRecord{Key: l.key, LinkID: l.id, Person: len(plan.Persons) - 1, MatchedBy: m})
				}
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
