package resolve

import (
	"fmt"
	"slices"
	"strings"
)

// Index resolves records as they land: it keeps the model (m, u, prior)
// and the clusters of a full resolution, and links each new record to the
// strongest cluster its blocking keys reach, under the same rules as
// Resolve (thresholds, never two valid IDs, rejected pairs, ambiguity).
// The model is not re-estimated per batch; a periodic full resolution
// re-estimates it and, being order-independent, gives the answer the
// index converges to.
type Index struct {
	cfg     Config
	model   Model
	recs    []Record
	pr      []prep
	u       *union
	byKey   map[string]int
	blocks  map[string][]int32
	byID    map[string]int
	places  map[string]map[string]bool
	names   map[string]int
	readers map[string]int
	rejects [][2]int
	pending []Decision // decisions naming records not seen yet
	review  []Pair
}

// NewIndex starts an index from a full resolution and its decisions.
func NewIndex(r *Result, decisions []Decision, cfg Config) *Index {
	x := &Index{cfg: cfg, model: r.Model, byKey: map[string]int{}, blocks: map[string][]int32{}, byID: map[string]int{},
		places: map[string]map[string]bool{}, names: map[string]int{}, readers: map[string]int{}}
	x.u = &union{}
	for i := range r.Records {
		x.append(r.Records[i])
	}
	// The clusters of the full resolution, as they are.
	for _, members := range r.Clusters {
		for _, i := range members[1:] {
			a, b := members[0], i
			ra, rb := x.u.find(a), x.u.find(b)
			if ra != rb {
				if rb < ra {
					ra, rb = rb, ra
				}
				x.u.parent[rb] = ra
				if x.u.id[ra] == "" {
					x.u.id[ra] = x.u.id[rb]
				}
			}
		}
	}
	x.pending = slices.Clone(decisions)
	x.applyDecisions()
	x.review = slices.Clone(r.Review)
	return x
}

// append adds a record to the arrays and blocks without linking it.
func (x *Index) append(rec Record) int {
	i := len(x.recs)
	x.recs = append(x.recs, rec)
	x.byKey[rec.Key] = i
	x.u.parent = append(x.u.parent, i)
	x.u.id = append(x.u.id, rec.IDHash)
	if h := rec.IDHash; h != "" {
		if _, ok := x.byID[h]; !ok {
			x.byID[h] = i
		}
	}
	if rec.PhoneHash != "" && rec.Place != "" {
		if x.places[rec.PhoneHash] == nil {
			x.places[rec.PhoneHash] = map[string]bool{}
		}
		x.places[rec.PhoneHash][rec.Place] = true
	}
	n := FoldName(rec.Name)
	p := prep{name: n, pinyin: Pinyin(n), place: rec.Place, phonePlaces: x.places[rec.PhoneHash]}
	if r := []rune(n); len(r) > 0 {
		p.surname = string(r[0])
	}
	if p.place == "" && len(p.phonePlaces) == 1 {
		for pl := range p.phonePlaces {
			p.place = pl
		}
	}
	x.pr = append(x.pr, p)
	x.names[p.name]++
	x.readers[p.pinyin]++
	for _, k := range blockKeys(&rec, &p) {
		x.blocks[k] = append(x.blocks[k], int32(i))
	}
	return i
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

func (x *Index) applyDecisions() {
	rest := x.pending[:0]
	for _, d := range x.pending {
		a, okA := x.byKey[d.A]
		b, okB := x.byKey[d.B]
		if !okA || !okB {
			rest = append(rest, d)
			continue
		}
		if d.Accept {
			x.u.join(a, b, x.rejects)
		} else {
			x.rejects = append(x.rejects, [2]int{a, b})
		}
	}
	x.pending = rest
}

// Add resolves a batch of new records (keys not seen before) and returns
// the review pairs it raised.
func (x *Index) Add(batch []Record) ([]Pair, error) {
	batch = slices.Clone(batch)
	slices.SortFunc(batch, func(a, b Record) int { return strings.Compare(a.Key, b.Key) })
	var raised []Pair
	for _, rec := range batch {
		if _, dup := x.byKey[rec.Key]; dup {
			return raised, fmt.Errorf("resolve: record key %q already indexed", rec.Key)
		}
		f, had := x.byID[rec.IDHash]
		i := x.append(rec)
		x.applyDecisions()
		if rec.IDHash != "" && had {
			x.u.join(f, i, x.rejects)
		}
		raised = append(raised, x.link(i)...)
	}
	x.review = append(x.review, raised...)
	return raised, nil
}

// link compares record i with the records its blocks reach and links it.
func (x *Index) link(i int) []Pair {
	rec, p := &x.recs[i], &x.pr[i]
	seen := map[int]bool{i: true}
	n := float64(len(x.recs))
	var pairs []Pair
	for _, k := range blockKeys(rec, p) {
		b := x.blocks[k]
		if len(b) > x.cfg.MaxBlock {
			continue
		}
		for _, j32 := range b {
			j := int(j32)
			if seen[j] {
				continue
			}
			seen[j] = true
			if rec.IDHash != "" && x.recs[j].IDHash != "" {
				continue
			}
			a, bb := i, j
			if x.recs[bb].Key < x.recs[a].Key {
				a, bb = bb, a
			}
			pr := x.model.score(&x.recs[a], &x.recs[bb], &x.pr[a], &x.pr[bb],
				float64(x.names[x.pr[a].name])/n, float64(x.readers[x.pr[a].pinyin])/n)
			if pr.Total >= x.cfg.Lower && pr.Outcome != Unlinked {
				pairs = append(pairs, pr)
			}
		}
	}
	slices.SortFunc(pairs, func(a, b Pair) int {
		if a.Total != b.Total {
			if a.Total > b.Total {
				return -1
			}
			return 1
		}
		return strings.Compare(a.A+"\x00"+a.B, b.A+"\x00"+b.B)
	})
	// Ambiguity: the two strongest candidates in clusters of different
	// valid IDs.
	if rec.IDHash == "" {
		var ids []string
		var tops []float64
		for _, pr := range pairs {
			other := x.byKey[pr.A]
			if other == i {
				other = x.byKey[pr.B]
			}
			id := x.u.id[x.u.find(other)]
			if id == "" || slices.Contains(ids, id) {
				continue
			}
			ids, tops = append(ids, id), append(tops, pr.Total)
			if len(ids) == 2 {
				break
			}
		}
		if len(ids) == 2 && tops[0] >= x.cfg.Upper && tops[1] >= tops[0]-x.cfg.Margin {
			for k := range pairs {
				pairs[k].Outcome = Review
			}
			return pairs
		}
	}
	var raised []Pair
	for _, pr := range pairs {
		a, b := x.byKey[pr.A], x.byKey[pr.B]
		if pr.Total >= x.cfg.Upper && x.u.join(a, b, x.rejects) {
			continue
		}
		if x.u.find(a) != x.u.find(b) && x.u.allowed(a, b, x.rejects) {
			pr.Outcome = Review
			raised = append(raised, pr)
		}
	}
	return raised
}

// Together reports whether two records are in one cluster.
func (x *Index) Together(a, b string) bool {
	i, okA := x.byKey[a]
	j, okB := x.byKey[b]
	return okA && okB && x.u.find(i) == x.u.find(j)
}

// Cluster returns the cluster (its smallest record's position) of a record,
// or -1 for an unknown key.
func (x *Index) Cluster(key string) int {
	i, ok := x.byKey[key]
	if !ok {
		return -1
	}
	return x.u.find(i)
}

// Result returns the index's current state as a resolution: the records
// sorted by key, their clusters and the review pairs raised so far whose
// records are still apart.
func (x *Index) Result() *Result {
	order := make([]int, len(x.recs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(x.recs[a].Key, x.recs[b].Key) })
	r := &Result{Model: x.model, Records: make([]Record, len(order)), Cluster: make([]int, len(order))}
	num := map[int]int{}
	for pos, i := range order {
		r.Records[pos] = x.recs[i]
		root := x.u.find(i)
		c, ok := num[root]
		if !ok {
			c = len(r.Clusters)
			num[root] = c
			r.Clusters = append(r.Clusters, nil)
		}
		r.Cluster[pos] = c
		r.Clusters[c] = append(r.Clusters[c], pos)
	}
	for _, p := range x.review {
		if !x.Together(p.A, p.B) {
			r.Review = append(r.Review, p)
		}
	}
	return r
}
