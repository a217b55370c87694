package resolve

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Persons is a person resolution kept between sync passes: the records,
// their blocks, the model (m, u, prior) of the last full resolution and
// the scored pairs. Update resolves what changed: the changed records are
// compared again with the records their blocks reach, and the connected
// parts of the pair graph (scored pairs above Config.Lower whose names are
// not DIFFERENT, shared valid ID hashes, decisions) that hold a changed
// record, or held it before, are clustered again under the same rules as
// Resolve. A part of the graph holding no changed record is left as it
// is: clustering never crosses parts, so it would come out the same.
//
// The model and the weights of pairs that did not change stay those of
// the last full resolution (NewPersons): term frequencies move a little
// as records arrive, and a block that grows past Config.MaxBlock keeps the
// pairs scored while it was smaller. A periodic full resolution
// re-estimates the model and gives the answer the increments converge to;
// it does not depend on the order records arrived in.
type Persons struct {
	cfg     Config
	model   Model
	recs    []Record // by slot; a free slot has Key ""
	pr      []prep
	free    []int32
	slot    map[string]int32
	blocks  map[string][]int32
	places  map[string]map[string]int // phone hash → dwelling → records
	names   map[string]int            // folded name → records (copies included)
	readers map[string]int            // reading → records (copies included)
	total   int                       // records held, copies included
	edges   [][]edge                  // per slot
	ids     map[string][]int32        // valid ID hash → slots
	// decisions by pair (A < B) → accept.
	decisions map[[2]string]bool
	decidedOn map[string][][2]string // record key → its decided pairs
	cluster   []int32                // slot → the cluster's label (a member's slot)
	members   map[int32][]int32      // label → slots
	compared  int
	readings  readings          // of the names prepared
	folded    map[string]string // name → FoldName(name), while a build prepares its records
	// shown is the evidence the answers so far reported (pair → LINKED,
	// ACCEPTED or REVIEW); during an Update, fresh holds the pairs it
	// scored and dropped those whose edge or decision it took away.
	shown   map[[2]string]Outcome
	fresh   map[[2]string]bool
	dropped [][2]string
}

// edge is a scored pair seen from one of its records.
type edge struct {
	to int32
	p  *Pair
}

// NewPersons resolves recs (any order; keys unique) in full under the
// decisions: the model is estimated from them. The answer is that of
// Resolve.
func NewPersons(recs []Record, decisions []Decision, cfg Config) (*Persons, *Result, error) {
	// The records are put in key order by their positions: sorting a
	// copy of a city's million records moved 150 MB over and over (2.6 s,
	// and 1.5 s to copy them first).
	order, err := keyOrder(recs)
	if err != nil {
		return nil, nil, err
	}
	// The slot slices are made to size, with room for the records later
	// updates add: grown by doubling they were copied (and their fresh
	// pages faulted in) over and over during the build, and made exactly
	// to size the first record an update adds would copy them all (a
	// million records at city scale, 0.6 s).
	room := len(recs) + len(recs)/4 + 64
	x := &Persons{cfg: cfg, slot: make(map[string]int32, len(recs)), blocks: make(map[string][]int32, len(recs)*3),
		places: map[string]map[string]int{}, names: make(map[string]int, len(recs)), readers: make(map[string]int, len(recs)),
		ids: map[string][]int32{}, members: map[int32][]int32{}, readings: readings{},
		recs: make([]Record, 0, room), pr: make([]prep, 0, room), edges: make([][]edge, 0, room), cluster: make([]int32, 0, room)}
	for i := range recs {
		x.notePlace(&recs[i], 1)
	}
	// Names repeat: each is folded once for the build (FoldName converts
	// traditional characters, 1.4 s for a city's records one by one).
	x.folded = make(map[string]string, len(recs)/2)
	for _, i := range order {
		x.put(recs[i])
	}
	x.folded = nil
	x.model = estimate(x.recs, x.pr, cfg)
	x.setDecisions(decisions)

	// Candidate pairs: every two records of a block (blocks of MaxBlock
	// records at most), unless both have a valid ID (decided by the IDs).
	cand := make(map[uint64]struct{}, len(recs)*2)
	for _, b := range x.blocks {
		if len(b) < 2 || x.oversize(b) {
			continue
		}
		for p := 0; p < len(b); p++ {
			for q := p + 1; q < len(b); q++ {
				i, j := min(b[p], b[q]), max(b[p], b[q])
				if x.recs[i].IDHash != "" && x.recs[j].IDHash != "" {
					continue
				}
				cand[uint64(i)<<32|uint64(j)] = struct{}{}
			}
		}
	}
	keys := make([]uint64, 0, len(cand))
	for k := range cand {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	x.compared = len(keys)
	for _, k := range keys {
		x.score(int32(k>>32), int32(k&0xffffffff))
	}
	all := make([]int32, len(x.recs))
	for i := range all {
		all[i] = int32(i)
	}
	r := x.solve(all)
	r.Compared = x.compared
	x.shown = make(map[[2]string]Outcome, len(r.Links)+len(r.Review))
	for _, set := range [][]Pair{r.Links, r.Review} {
		for _, p := range set {
			x.shown[[2]string{p.A, p.B}] = p.Outcome
		}
	}
	return x, r, nil
}

// Resolve resolves recs (any order; keys unique) under the decisions.
func Resolve(recs []Record, decisions []Decision, cfg Config) (*Result, error) {
	_, r, err := NewPersons(recs, decisions, cfg)
	return r, err
}

// Len is the number of records held (each with its copies counted once).
func (x *Persons) Len() int { return len(x.slot) }

// sortRecords sorts records by key and checks them: keys unique, copies
// only of a record with a valid ID hash.
func sortRecords(recs []Record) error {
	slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a.Key, b.Key) })
	for i := range recs {
		if err := checkRecord(recs, i, i-1); err != nil {
			return err
		}
	}
	return nil
}

// keyOrder returns the positions of records in key order, and checks them
// as sortRecords does.
func keyOrder(recs []Record) ([]int32, error) {
	order := make([]int32, len(recs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(recs[a].Key, recs[b].Key) })
	for n, i := range order {
		prev := -1
		if n > 0 {
			prev = int(order[n-1])
		}
		if err := checkRecord(recs, int(i), prev); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// checkRecord checks record i of recs, which follows record prev in key
// order (-1: none).
func checkRecord(recs []Record, i, prev int) error {
	if prev >= 0 && recs[i].Key == recs[prev].Key {
		return fmt.Errorf("resolve: record key %q twice", recs[i].Key)
	}
	if c := recs[i].Copies; c < 0 || (c > 0 && recs[i].IDHash == "") {
		return fmt.Errorf("resolve: record %q has %d copies (only a record with a valid ID hash has copies)", recs[i].Key, c)
	}
	return nil
}

// sameFields tells whether two records are compared alike: all but their
// timestamps and copies are the same.
func sameFields(a, b *Record) bool {
	return a.Key == b.Key && a.Source == b.Source && a.IDHash == b.IDHash && a.Name == b.Name && a.Birth == b.Birth &&
		a.Gender == b.Gender && a.PhoneHash == b.PhoneHash && a.Place == b.Place
}

// weight is the number of source records a slot's record stands for.
func (x *Persons) weight(i int32) int { return 1 + x.recs[i].Copies }

// oversize tells whether a block holds more than Config.MaxBlock records,
// copies included.
func (x *Persons) oversize(b []int32) bool {
	n := len(b)
	for _, i := range b {
		if n > x.cfg.MaxBlock {
			break
		}
		n += x.recs[i].Copies
	}
	return n > x.cfg.MaxBlock
}

// notePlace counts (d = 1) or uncounts (d = −1) a record's phone at its
// dwelling.
func (x *Persons) notePlace(r *Record, d int) {
	ph, pl := r.PhoneHash, r.Place
	if ph == "" || pl == "" {
		return
	}
	m := x.places[ph]
	if m == nil {
		m = map[string]int{}
		x.places[ph] = m
	}
	m[pl] += d
	if m[pl] <= 0 {
		delete(m, pl)
		if len(m) == 0 {
			delete(x.places, ph)
		}
	}
}

// prepOne derives a record's comparison values.
func (x *Persons) prepOne(rc *Record) prep {
	n := x.foldName(rc.Name)
	p := prep{name: n, pinyin: x.readings.of(n), place: rc.Place, phonePlaces: x.places[rc.PhoneHash]}
	if r := []rune(n); len(r) > 0 {
		p.surname = string(r[0])
	}
	if p.place == "" && len(p.phonePlaces) == 1 {
		for pl := range p.phonePlaces {
			p.place = pl
		}
	}
	return p
}

// foldName is FoldName, kept in folded while it is made (a build).
func (x *Persons) foldName(name string) string {
	if x.folded == nil {
		return FoldName(name)
	}
	n, ok := x.folded[name]
	if !ok {
		n = FoldName(name)
		x.folded[name] = n
	}
	return n
}

// foldedName returns the folded name (FoldName) of a record held, by key.
func (x *Persons) foldedName(key string) (string, bool) {
	s, ok := x.slot[key]
	if !ok {
		return "", false
	}
	return x.pr[s].name, true
}

// put stores a record (its phone already counted at its dwelling) in a
// free slot, or a new one, and blocks it.
func (x *Persons) put(rc Record) int32 {
	var i int32
	if n := len(x.free); n > 0 {
		i, x.free = x.free[n-1], x.free[:n-1]
		x.recs[i] = rc
	} else {
		i = int32(len(x.recs))
		x.recs = append(x.recs, rc)
		x.pr = append(x.pr, prep{})
		x.edges = append(x.edges, nil)
		x.cluster = append(x.cluster, -1)
	}
	x.slot[rc.Key] = i
	x.total += x.weight(i)
	x.index(i)
	if h := rc.IDHash; h != "" {
		x.ids[h] = append(x.ids[h], i)
	}
	return i
}

// index prepares a slot's record and adds it to its blocks and counts.
func (x *Persons) index(i int32) {
	x.pr[i] = x.prepOne(&x.recs[i])
	p := &x.pr[i]
	x.names[p.name] += x.weight(i)
	x.readers[p.pinyin] += x.weight(i)
	for _, k := range blockKeys(&x.recs[i], p) {
		x.blocks[k] = append(x.blocks[k], i)
	}
}

// unindex takes a slot's record out of its blocks and counts, and drops
// its pairs.
func (x *Persons) unindex(i int32) {
	p := &x.pr[i]
	for _, k := range blockKeys(&x.recs[i], p) {
		x.blocks[k] = dropSlot(x.blocks[k], i)
		if len(x.blocks[k]) == 0 {
			delete(x.blocks, k)
		}
	}
	decr(x.names, p.name, x.weight(i))
	decr(x.readers, p.pinyin, x.weight(i))
	for _, e := range x.edges[i] {
		x.edges[e.to] = slices.DeleteFunc(x.edges[e.to], func(f edge) bool { return f.to == i })
		x.dropped = append(x.dropped, [2]string{e.p.A, e.p.B})
	}
	x.edges[i] = nil
}

func decr(m map[string]int, k string, n int) {
	if m[k] -= n; m[k] <= 0 {
		delete(m, k)
	}
}

func dropSlot(s []int32, i int32) []int32 {
	if k := slices.Index(s, i); k >= 0 {
		s[k] = s[len(s)-1]
		return s[:len(s)-1]
	}
	return s
}

// remove takes a record out entirely and frees its slot.
func (x *Persons) remove(i int32) {
	rc := &x.recs[i]
	x.unindex(i)
	x.total -= x.weight(i)
	x.notePlace(rc, -1)
	if h := rc.IDHash; h != "" {
		x.ids[h] = dropSlot(x.ids[h], i)
		if len(x.ids[h]) == 0 {
			delete(x.ids, h)
		}
	}
	delete(x.slot, rc.Key)
	if l := x.cluster[i]; l >= 0 {
		x.members[l] = dropSlot(x.members[l], i)
		if len(x.members[l]) == 0 {
			delete(x.members, l)
		}
	}
	x.cluster[i] = -1
	x.recs[i], x.pr[i] = Record{}, prep{}
	x.free = append(x.free, i)
}

// blockKeys are the blocking keys of a record (see the package
// documentation).
func blockKeys(rc *Record, p *prep) []string {
	var ks []string
	if rc.PhoneHash != "" {
		ks = append(ks, "p\x00"+rc.PhoneHash)
	}
	if rc.Birth != "" && p.surname != "" {
		ks = append(ks, "b\x00"+rc.Birth+p.surname)
	}
	if p.pinyin != "" && p.place != "" {
		ks = append(ks, "a\x00"+p.pinyin+"\x00"+p.place)
	}
	if p.pinyin != "" && rc.Birth != "" {
		ks = append(ks, "y\x00"+p.pinyin+"\x00"+rc.Birth[:4])
	}
	return ks
}

// score weighs the pair of two slots and keeps it as an edge of both when
// it can matter: a total from Config.Lower and names not DIFFERENT.
func (x *Persons) score(i, j int32) {
	a, b := i, j
	if x.recs[b].Key < x.recs[a].Key {
		a, b = b, a
	}
	n := float64(x.total)
	p := x.model.score(&x.recs[a], &x.recs[b], &x.pr[a], &x.pr[b],
		float64(x.names[x.pr[a].name])/n, float64(x.readers[x.pr[a].pinyin])/n)
	if p.Total < x.cfg.Lower || p.Outcome == Unlinked {
		return
	}
	pp := &p
	x.edges[i] = append(x.edges[i], edge{j, pp})
	x.edges[j] = append(x.edges[j], edge{i, pp})
	if x.fresh != nil {
		x.fresh[[2]string{p.A, p.B}] = true
	}
}

// setDecisions replaces the decisions and returns the keys of those that
// are new, changed or gone.
func (x *Persons) setDecisions(ds []Decision) []string {
	next := make(map[[2]string]bool, len(ds))
	for _, d := range ds {
		a, b := d.A, d.B
		if b < a {
			a, b = b, a
		}
		next[[2]string{a, b}] = d.Accept
	}
	var changed []string
	for k, v := range next {
		if old, ok := x.decisions[k]; !ok || old != v {
			changed = append(changed, k[0], k[1])
		}
	}
	for k := range x.decisions {
		if _, ok := next[k]; !ok {
			changed = append(changed, k[0], k[1])
			x.dropped = append(x.dropped, k)
		}
	}
	x.decisions = next
	x.decidedOn = make(map[string][][2]string, 2*len(next))
	for k := range next {
		x.decidedOn[k[0]] = append(x.decidedOn[k[0]], k)
		x.decidedOn[k[1]] = append(x.decidedOn[k[1]], k)
	}
	return changed
}

// Update resolves a change: records new or changed (by key), records
// removed (keys), and the analysts' decisions as they stand now. The
// parts of the pair graph holding a changed record or a decided pair that
// changed, before or after, are clustered again; it returns the clusters
// among them that changed — in membership, or holding a record changed,
// compared again or decided on — and nothing else: Result.Records are
// their records, Links the links within them and Review the review pairs
// with a record among them (the other record may lie in a cluster left
// out). Every other record keeps its cluster, links and review pairs.
// Fresh and Gone give the evidence as a change to what NewPersons and the
// Updates before reported (Result.Incremental). A record changed only in
// its timestamp or copies is not compared or clustered again: its cluster
// is answered as held, with the links last reported within it.
func (x *Persons) Update(changed []Record, removed []string, decisions []Decision) (*Result, error) {
	return x.update(changed, removed, decisions, nil)
}

// update is Update where the records of quiet (keys) are known to have
// changed in their timestamp alone, or in copies added to copies, their
// members standing where the answers put them: a cluster is answered for
// such a record only when the new timestamp moves a field of its golden
// record to another record.
func (x *Persons) update(changed []Record, removed []string, decisions []Decision, quiet map[string]bool) (*Result, error) {
	changed = slices.Clone(changed)
	if err := sortRecords(changed); err != nil {
		return nil, err
	}
	x.fresh, x.dropped = map[[2]string]bool{}, nil
	defer func() { x.fresh, x.dropped = nil, nil }()
	seeds := map[int32]bool{}
	// The clusters a change touched, by their label before it: their
	// members' persons may change even where the membership does not.
	dirty := map[int32]bool{}
	// What a record touched before it changed: its pairs and its cluster.
	touch := func(i int32) {
		seeds[i] = true
		dirty[x.cluster[i]] = true
		for _, e := range x.edges[i] {
			seeds[e.to] = true
		}
		if l := x.cluster[i]; l >= 0 {
			for _, m := range x.members[l] {
				seeds[m] = true
			}
		}
	}
	for _, k := range x.setDecisions(decisions) {
		if i, ok := x.slot[k]; ok {
			touch(i)
		}
	}
	// A record whose compared fields are as held, changed only in its
	// timestamp or copies (a case updated at its source; a worker's new
	// report), keeps its blocks and pairs: neither changes what it is
	// compared with or how, so its cluster cannot change, only the
	// cluster's golden record. It is answered with its cluster as held
	// (retimed), unless a change beside it clusters its part again. Its
	// counts follow its copies.
	kept := changed[:0]
	var retimed []int32
	for i := range changed {
		rc := &changed[i]
		s, ok := x.slot[rc.Key]
		if !ok || !sameFields(&x.recs[s], rc) {
			kept = append(kept, *rc)
			continue
		}
		// A quiet record's copies only grow from some: its cluster's
		// persons and golden record's provenance stay.
		held := quiet[rc.Key] && (rc.Copies == x.recs[s].Copies || x.recs[s].Copies > 0 && rc.Copies > x.recs[s].Copies) &&
			!x.goldenMoves(s, rc.Updated)
		if !held {
			retimed = append(retimed, s)
		}
		if d := rc.Copies - x.recs[s].Copies; d != 0 {
			x.names[x.pr[s].name] += d
			x.readers[x.pr[s].pinyin] += d
			x.total += d
		}
		x.recs[s].Updated, x.recs[s].Copies = rc.Updated, rc.Copies
	}
	changed = kept
	// The dwellings each phone of a changed record is known at, before.
	phones := map[string]string{}
	notePhone := func(ph string) {
		if _, ok := phones[ph]; ph != "" && !ok {
			phones[ph] = placeSet(x.places[ph])
		}
	}
	for _, k := range removed {
		if i, ok := x.slot[k]; ok {
			notePhone(x.recs[i].PhoneHash)
			touch(i)
			x.remove(i)
			delete(seeds, i)
		}
	}
	var rescore []int32
	for i := range changed {
		notePhone(changed[i].PhoneHash)
		if s, ok := x.slot[changed[i].Key]; ok {
			notePhone(x.recs[s].PhoneHash)
			touch(s)
			x.remove(s)
			delete(seeds, s)
		}
	}
	for i := range changed {
		x.notePlace(&changed[i], 1)
	}
	for i := range changed {
		s := x.put(changed[i])
		seeds[s] = true
		rescore = append(rescore, s)
	}
	// A phone now known at other dwellings changes what its other records
	// infer (their dwelling, a housemate's phone): they are prepared and
	// scored again.
	again := map[int32]bool{}
	for _, s := range rescore {
		again[s] = true
	}
	for ph, before := range phones {
		if placeSet(x.places[ph]) == before {
			continue
		}
		for _, s := range slices.Clone(x.blocks["p\x00"+ph]) {
			if again[s] {
				continue
			}
			again[s] = true
			touch(s)
			x.unindex(s)
			x.index(s)
			rescore = append(rescore, s)
		}
	}
	slices.SortFunc(rescore, func(a, b int32) int { return strings.Compare(x.recs[a].Key, x.recs[b].Key) })
	done := map[uint64]bool{}
	for _, i := range rescore {
		rc, p := &x.recs[i], &x.pr[i]
		for _, k := range blockKeys(rc, p) {
			b := x.blocks[k]
			if len(b) < 2 || x.oversize(b) {
				continue
			}
			for _, j := range b {
				if j == i || (rc.IDHash != "" && x.recs[j].IDHash != "") {
					continue
				}
				pk := uint64(min(i, j))<<32 | uint64(max(i, j))
				if done[pk] {
					continue
				}
				done[pk] = true
				x.compared++
				x.score(i, j)
			}
		}
	}
	// The parts of the graph the seeds are in, clustered again; the
	// answer keeps the clusters that came out otherwise than they were.
	part := x.reach(seeds)
	label := make(map[int32]int32, len(part))
	size := map[int32]int{}
	for _, i := range part {
		l := x.cluster[i]
		label[i] = l
		if _, ok := size[l]; !ok && l >= 0 {
			size[l] = len(x.members[l])
		}
	}
	r := x.solve(part)
	r = x.changedOnly(r, label, size, dirty)
	r.Compared = x.compared
	x.evidence(r)
	x.answerRetimed(r, retimed)
	return r, nil
}

// goldenMoves tells whether retiming record s to t changes the record a
// field of its cluster's golden record is taken from (Result.golden:
// the most trusted source, then the most recent record, then the
// smallest key, among those with a value). Only s moves in that order: a
// field moves when s comes first among the records with a value before
// the retiming and not after, or after and not before. A record alone in
// its cluster moves nothing.
func (x *Persons) goldenMoves(s int32, t time.Time) bool {
	l := x.cluster[s]
	if l < 0 || len(x.members[l]) < 2 {
		return false
	}
	r := &x.recs[s]
	trust := x.cfg.Trust[r.Source]
	// precedes tells whether s at time at comes before record m.
	precedes := func(at time.Time, m *Record) bool {
		if tm := x.cfg.Trust[m.Source]; tm != trust {
			return trust > tm
		}
		if c := at.Compare(m.Updated); c != 0 {
			return c > 0
		}
		return r.Key < m.Key
	}
	fields := [...]func(i int32) string{
		func(i int32) string { return x.pr[i].name },
		func(i int32) string { return x.recs[i].Birth },
		func(i int32) string { return x.recs[i].Gender },
		func(i int32) string { return x.recs[i].PhoneHash },
		func(i int32) string { return x.recs[i].Place },
		func(i int32) string { return x.recs[i].IDHash },
	}
	for _, f := range fields {
		if f(s) == "" {
			continue
		}
		before, after := true, true
		for _, m := range x.members[l] {
			if m == s || f(m) == "" {
				continue
			}
			before = before && precedes(r.Updated, &x.recs[m])
			after = after && precedes(t, &x.recs[m])
		}
		if before != after {
			return true
		}
	}
	return false
}

// answerRetimed adds to an Update's answer the clusters of the retimed
// slots it does not hold, as they are: their records, and the links
// within them as last reported (from their pairs and accepted
// decisions). Their evidence did not change (Result.Fresh, Gone); the
// answer's records stay sorted by key.
func (x *Persons) answerRetimed(r *Result, slots []int32) {
	if len(slots) == 0 {
		return
	}
	in := make(map[string]bool, len(r.Records))
	for i := range r.Records {
		in[r.Records[i].Key] = true
	}
	n := float64(x.total)
	added := false
	for _, s := range slots {
		if in[x.recs[s].Key] {
			continue
		}
		added = true
		l := x.cluster[s]
		members := slices.Clone(x.members[l])
		slices.SortFunc(members, func(a, b int32) int { return strings.Compare(x.recs[a].Key, x.recs[b].Key) })
		c := make([]int, len(members))
		for m, i := range members {
			in[x.recs[i].Key] = true
			c[m] = len(r.Records)
			r.Records = append(r.Records, x.recs[i])
			r.Cluster = append(r.Cluster, len(r.Clusters))
		}
		r.Clusters = append(r.Clusters, c)
		for _, i := range members {
			key := x.recs[i].Key
			for _, e := range x.edges[i] {
				k := [2]string{e.p.A, e.p.B}
				if e.p.A != key || x.cluster[e.to] != l {
					continue
				}
				if o := x.shown[k]; o == Linked || o == Accepted {
					p := *e.p
					p.Outcome = o
					r.Links = append(r.Links, p)
				}
			}
			for _, k := range x.decidedOn[key] {
				j, ok := x.slot[k[1]]
				if k[0] != key || !ok || x.cluster[j] != l || x.shown[k] != Accepted || slices.ContainsFunc(x.edges[i], func(e edge) bool { return e.to == j }) {
					continue
				}
				a, b := i, j
				p := x.model.score(&x.recs[a], &x.recs[b], &x.pr[a], &x.pr[b], float64(x.names[x.pr[a].name])/n, float64(x.readers[x.pr[a].pinyin])/n)
				p.Outcome = Accepted
				r.Links = append(r.Links, p)
			}
		}
	}
	if added {
		r.sortRecords()
	}
}

// sortRecords puts a result's records in key order, its clusters in the
// order of their first record.
func (r *Result) sortRecords() {
	order := make([]int, len(r.Records))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(r.Records[a].Key, r.Records[b].Key) })
	at := make([]int, len(order)) // old index → new
	recs := make([]Record, len(order))
	for n, i := range order {
		at[i] = n
		recs[n] = r.Records[i]
	}
	for _, c := range r.Clusters {
		for m, i := range c {
			c[m] = at[i]
		}
		slices.Sort(c)
	}
	slices.SortFunc(r.Clusters, func(a, b []int) int { return a[0] - b[0] })
	r.Records = recs
	r.Cluster = make([]int, len(recs))
	for c, members := range r.Clusters {
		for _, i := range members {
			r.Cluster[i] = c
		}
	}
}

// evidence sets an Update's answer's Fresh and Gone against the evidence
// shown so far, and shows the answer's. A pair shown before that may no
// longer stand is one whose edge or decision the Update dropped, or a pair
// of a record of the answer (its edges and decided pairs); one the answer
// does not report is gone.
func (x *Persons) evidence(r *Result) {
	r.Incremental = true
	reported := make(map[[2]string]bool, len(r.Links)+len(r.Review))
	for _, set := range [][]Pair{r.Links, r.Review} {
		for _, p := range set {
			k := [2]string{p.A, p.B}
			reported[k] = true
			if x.fresh[k] || x.shown[k] != p.Outcome {
				r.Fresh = append(r.Fresh, p)
			}
		}
	}
	gone := map[[2]string]bool{}
	maybe := func(k [2]string) {
		if _, ok := x.shown[k]; ok && !reported[k] {
			gone[k] = true
		}
	}
	for _, k := range x.dropped {
		maybe(k)
	}
	for i := range r.Records {
		key := r.Records[i].Key
		for _, e := range x.edges[x.slot[key]] {
			maybe([2]string{e.p.A, e.p.B})
		}
		for _, k := range x.decidedOn[key] {
			maybe(k)
		}
	}
	for k := range gone {
		r.Gone = append(r.Gone, k)
		delete(x.shown, k)
	}
	slices.SortFunc(r.Gone, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	for _, p := range r.Fresh {
		x.shown[[2]string{p.A, p.B}] = p.Outcome
	}
}

// changedOnly narrows an Update's resolution of its parts to the clusters
// that changed: a cluster is kept unless it is, member for member, a
// cluster of before (label and size: the slot → label map and the sizes
// taken before clustering) that no change touched (dirty labels; a new or
// changed record has label −1). A cluster left out keeps its person,
// golden record and links as they were. The pairs kept are those with a
// record in a kept cluster: the links within them and the review pairs
// from them, also to a cluster left out, whose pairs did not change.
func (x *Persons) changedOnly(r *Result, label map[int32]int32, size map[int32]int, dirty map[int32]bool) *Result {
	keep := make([]bool, len(r.Clusters))
	for c, members := range r.Clusters {
		l := label[x.slot[r.Records[members[0]].Key]]
		if l < 0 || dirty[l] || size[l] != len(members) {
			keep[c] = true
			continue
		}
		for _, i := range members[1:] {
			if label[x.slot[r.Records[i].Key]] != l {
				keep[c] = true
				break
			}
		}
	}
	in := make(map[string]bool, len(r.Records))
	out := &Result{Model: r.Model}
	for c, members := range r.Clusters {
		if !keep[c] {
			continue
		}
		for _, i := range members {
			in[r.Records[i].Key] = true
		}
	}
	at := make(map[string]int, len(in))
	for i := range r.Records {
		if in[r.Records[i].Key] {
			at[r.Records[i].Key] = len(out.Records)
			out.Records = append(out.Records, r.Records[i])
		}
	}
	out.Cluster = make([]int, len(out.Records))
	for c, members := range r.Clusters {
		if !keep[c] {
			continue
		}
		nc := make([]int, len(members))
		for n, i := range members {
			nc[n] = at[r.Records[i].Key]
			out.Cluster[nc[n]] = len(out.Clusters)
		}
		out.Clusters = append(out.Clusters, nc)
	}
	touches := func(p Pair) bool { return in[p.A] || in[p.B] }
	for _, p := range r.Links {
		if touches(p) {
			out.Links = append(out.Links, p)
		}
	}
	for _, p := range r.Review {
		if touches(p) {
			out.Review = append(out.Review, p)
		}
	}
	return out
}

// placeSet names the dwellings of a phone, for comparison.
func placeSet(m map[string]int) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, "\x00")
}

// reach returns the slots connected to the seeds by pairs, shared valid
// ID hashes and decisions.
func (x *Persons) reach(seeds map[int32]bool) []int32 {
	seen := make(map[int32]bool, len(seeds))
	ids := map[string]bool{}
	var queue, out []int32
	visit := func(i int32) {
		if !seen[i] && x.recs[i].Key != "" {
			seen[i] = true
			queue = append(queue, i)
		}
	}
	for s := range seeds {
		visit(s)
	}
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		out = append(out, i)
		for _, e := range x.edges[i] {
			visit(e.to)
		}
		// A valid ID's records are reached together, once: expanding the
		// group from each of its records made reaching a grid worker's
		// hundreds of reports quadratic.
		rc := &x.recs[i]
		if rc.IDHash != "" && !ids[rc.IDHash] {
			ids[rc.IDHash] = true
			for _, j := range x.ids[rc.IDHash] {
				visit(j)
			}
		}
		for _, k := range x.decidedOn[rc.Key] {
			for _, key := range k {
				if j, ok := x.slot[key]; ok {
					visit(j)
				}
			}
		}
	}
	return out
}

// Snapshot returns the resolution of every record as it stands: the
// clusters Update leaves are those a clustering of all the pairs held
// gives, since clustering never crosses parts of the pair graph.
func (x *Persons) Snapshot() *Result {
	all := make([]int32, 0, len(x.slot))
	for _, i := range x.slot {
		all = append(all, i)
	}
	r := x.solve(all)
	r.Compared = x.compared
	return r
}

// solve clusters a closed set of slots (no pair leaves it) and labels
// their clusters.
func (x *Persons) solve(set []int32) *Result {
	set = slices.Clone(set)
	slices.SortFunc(set, func(a, b int32) int { return strings.Compare(x.recs[a].Key, x.recs[b].Key) })
	local := make(map[int32]int, len(set))
	recs := make([]Record, len(set))
	pr := make([]prep, len(set))
	for n, i := range set {
		local[i] = n
		recs[n], pr[n] = x.recs[i], x.pr[i]
	}
	var pairs []Pair
	for _, i := range set {
		for _, e := range x.edges[i] {
			if _, in := local[e.to]; in && e.p.A == x.recs[i].Key {
				pairs = append(pairs, *e.p)
			}
		}
	}
	var decisions []Decision
	for _, i := range set {
		for _, k := range x.decidedOn[x.recs[i].Key] {
			if k[0] != x.recs[i].Key {
				continue
			}
			if j, ok := x.slot[k[1]]; ok {
				if _, in := local[j]; in {
					decisions = append(decisions, Decision{A: k[0], B: k[1], Accept: x.decisions[k]})
				}
			}
		}
	}
	slices.SortFunc(decisions, func(a, b Decision) int {
		if c := strings.Compare(a.A, b.A); c != 0 {
			return c
		}
		return strings.Compare(a.B, b.B)
	})
	n := float64(x.total)
	r := cluster(recs, pr, pairs, decisions, x.model, x.cfg, func(a, b int) Pair {
		return x.model.score(&recs[a], &recs[b], &pr[a], &pr[b], float64(x.names[pr[a].name])/n, float64(x.readers[pr[a].pinyin])/n)
	})
	for _, i := range set {
		if l := x.cluster[i]; l >= 0 {
			x.members[l] = dropSlot(x.members[l], i)
			if len(x.members[l]) == 0 {
				delete(x.members, l)
			}
		}
	}
	for _, c := range r.Clusters {
		l := set[c[0]]
		for _, n := range c {
			x.cluster[set[n]] = l
			x.members[l] = append(x.members[l], set[n])
		}
	}
	return r
}
