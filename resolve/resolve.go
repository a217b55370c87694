package resolve

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/longbridgeapp/opencc"
	"github.com/mozillazg/go-pinyin"
)

// Record is the person part of one source record, as resolution sees it.
type Record struct {
	Key       string // unique and stable: "system/entity/source id"
	Source    string // the source system, for Config.Trust
	IDHash    string // keyed hash of the validated citizen ID; "" when none or invalid
	Name      string // in clear; folded here
	Birth     string // YYYYMMDD, "" unknown (taken from an ID even when its check digit fails)
	Gender    string // "M", "F", "" unknown
	PhoneHash string // keyed hash of the normalised phone, "" none
	Place     string // the standardised dwelling (a building key), "" unknown
	Updated   time.Time
	// Copies is the number of further source records this one stands
	// for: records with the same valid ID hash, source and compared
	// fields (a grid worker's reports each name the worker alike), which
	// PersonResolver folds into the one of the smallest key. They weigh
	// as records in the name frequencies, the block sizes and the model,
	// and are clustered with it. Only a record with an ID hash has copies.
	Copies int
}

// Config holds the thresholds and limits of a resolution.
type Config struct {
	Upper    float64        // total weight (bits, prior included) from which a pair is linked
	Lower    float64        // total weight from which a pair below Upper goes to review
	Margin   float64        // a record's best links to two different IDs closer than this are ambiguous
	MaxBlock int            // blocks with more records are not compared
	Samples  int            // random pairs u is estimated from
	Trust    map[string]int // source → rank for survivorship (higher wins)
}

// DefaultConfig returns the thresholds the quality tests hold to: link
// from 2 bits, review from −2 bits, ambiguity within 4 bits. The prior is
// taken over all pairs of records, so the totals are conservative: on the
// simulated cities no false pair scores above 2 bits once ambiguous
// records are held back (docs/resolution.md).
func DefaultConfig() Config {
	return Config{Upper: 2, Lower: -2, Margin: 4, MaxBlock: 400, Samples: 200_000,
		Trust: map[string]int{"gov": 3, "party": 2, "city": 1}}
}

// Decision is an analyst's verdict on a pair of records.
type Decision struct {
	A, B   string // record keys
	Accept bool   // true: the same person; false: never the same
}

// Fields compared, in the order of Pair.Fields.
var fieldNames = [...]string{"name", "birthDate", "gender", "phone", "address"}

const nFields = len(fieldNames)

// Comparison levels. Each field uses a subset; MISSING always weighs 0.
const (
	lvMissing = iota
	lvExact   // name folded equal, birth date, gender, phone, dwelling equal
	lvPinyin  // name: same reading; birth: same year
	lvDiff
	nLevels
)

var levelNames = [nFields][nLevels]string{
	{"MISSING", "EXACT", "PINYIN", "DIFFERENT"},
	{"MISSING", "EXACT", "SAME_YEAR", "DIFFERENT"},
	{"MISSING", "SAME", "", "DIFFERENT"},
	{"MISSING", "SAME", "HOUSEHOLD", "DIFFERENT"},
	{"MISSING", "SAME", "", "DIFFERENT"},
}

// FieldWeight is one field's part of a pair's evidence.
type FieldWeight struct {
	Field  string  // name, birthDate, gender, phone, address
	Level  string  // the comparison level the pair reached
	Weight float64 // log2(m/u), bits
}

// Outcome is what became of a compared pair.
type Outcome string

// Outcomes of a pair.
const (
	Linked    Outcome = "LINKED"    // above Upper and applied
	Review    Outcome = "REVIEW"    // between the thresholds, clusters apart
	Refused   Outcome = "REFUSED"   // above Upper but two valid IDs or a rejection stand between
	Accepted  Outcome = "ACCEPTED"  // linked by a review decision
	Rejected  Outcome = "REJECTED"  // kept apart by a review decision
	Unlinked  Outcome = "NONE"      // below Lower, or names different
	Identical Outcome = "ID_HASH"   // the same valid ID
	Unchecked Outcome = "UNCHECKED" // not compared
)

// Pair is the evidence on two records.
type Pair struct {
	A, B        string // record keys, A < B
	Fields      []FieldWeight
	Prior       float64 // bits
	Total       float64 // prior + field weights, bits
	Probability float64 // 2^Total / (1 + 2^Total)
	Outcome     Outcome
}

// Model is the estimated m and u per field and level.
type Model struct {
	Prior float64 // log2(λ/(1−λ))
	M, U  [nFields][nLevels]float64
	Pairs int // labelled pairs m was estimated from
}

// Result is a resolution: the records sorted by key, the cluster of each,
// the links made and the review queue.
type Result struct {
	Records  []Record
	Cluster  []int   // cluster index of each record
	Clusters [][]int // record indices of each cluster, clusters ordered by their first record
	Links    []Pair  // probabilistic and accepted links, strongest first
	Review   []Pair  // pairs waiting for a decision, strongest first
	Model    Model
	Compared int // candidate pairs compared
	// Incremental: an answer of Persons.Update, whose evidence is given as
	// a change to what the answers before it reported: Fresh the pairs of
	// Links and Review that are new, scored again or of another outcome,
	// Gone the pairs reported before that no longer stand. A full
	// resolution reports all its pairs in Links and Review.
	Incremental bool
	Fresh       []Pair
	Gone        [][2]string
}

// prep is a record with its derived comparison values.
type prep struct {
	name, pinyin, surname string
	place                 string         // the record's dwelling, or the one its phone is known at
	phonePlaces           map[string]int // dwellings the record's phone is known at (records)
}

var t2s = sync.OnceValues(func() (*opencc.OpenCC, error) { return opencc.New("t2s") })

// FoldName folds a name for comparison: spaces and middle dots removed,
// traditional characters converted to simplified ones.
func FoldName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '·' || r == '•' {
			return -1
		}
		return r
	}, s)
	han := false
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			han = true
			break
		}
	}
	if !han {
		return strings.ToLower(s)
	}
	if cc, err := t2s(); err == nil {
		if out, err := cc.Convert(s); err == nil {
			s = out
		}
	}
	return s
}

// Pinyin returns the toneless reading of a folded name, one syllable per
// Han character (the first reading of a character with several); other
// characters are kept.
func Pinyin(folded string) string { return readings{}.of(folded) }

// readings keeps the toneless reading of each Han character met:
// go-pinyin works a character's out anew every time (a regular expression
// over its toned readings), which was two fifths of preparing a record.
type readings map[rune]string

// of is Pinyin, with the readings kept in m.
func (m readings) of(folded string) string {
	var b strings.Builder
	for _, r := range folded {
		if unicode.Is(unicode.Han, r) {
			py, ok := m[r]
			if !ok {
				if all := pinyin.SinglePinyin(r, pinyin.NewArgs()); len(all) > 0 {
					py = all[0]
				}
				m[r] = py
			}
			if py != "" {
				b.WriteString(py)
				b.WriteByte(' ')
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// compare returns the comparison level of each field.
func compare(a, b *Record, pa, pb *prep) (lv [nFields]int8) {
	switch {
	case pa.name == "" || pb.name == "":
	case pa.name == pb.name:
		lv[0] = lvExact
	case pa.pinyin == pb.pinyin:
		lv[0] = lvPinyin
	default:
		lv[0] = lvDiff
	}
	switch {
	case a.Birth == "" || b.Birth == "":
	case a.Birth == b.Birth:
		lv[1] = lvExact
	case a.Birth[:4] == b.Birth[:4]:
		lv[1] = lvPinyin
	default:
		lv[1] = lvDiff
	}
	same := func(x, y string) int8 {
		switch {
		case x == "" || y == "":
			return lvMissing
		case x == y:
			return lvExact
		}
		return lvDiff
	}
	lv[2], lv[3], lv[4] = same(a.Gender, b.Gender), same(a.PhoneHash, b.PhoneHash), same(pa.place, pb.place)
	if lv[3] == lvDiff && (pa.phonePlaces[pb.place] > 0 || pb.phonePlaces[pa.place] > 0) {
		lv[3] = lvPinyin // a phone known at the other's dwelling: a housemate's
	}
	return lv
}

// cluster clusters records sorted by key (with their derived values)
// given their scored pairs and the decisions on them: deterministic links
// by valid ID hash, accepted pairs, then links strongest first under the
// rules of the package documentation, and the review queue.
func cluster(recs []Record, pr []prep, pairs []Pair, decisions []Decision, model Model, cfg Config, scorePair func(a, b int) Pair) *Result {
	r := &Result{Records: recs, Model: model}
	idx := make(map[string]int, len(recs))
	for i := range recs {
		idx[recs[i].Key] = i
	}
	// Strongest first, then by keys: a total order (no two pairs have
	// the same keys), so an unstable sort gives the same order as a
	// stable one, whose merges moved the pairs (88 bytes each) over and
	// over.
	slices.SortFunc(pairs, func(a, b Pair) int {
		if c := cmp.Compare(b.Total, a.Total); c != 0 {
			return c
		}
		if c := strings.Compare(a.A, b.A); c != 0 {
			return c
		}
		return strings.Compare(a.B, b.B)
	})

	// Clustering.
	u := newUnion(recs)
	var rejects [][2]int
	for _, d := range decisions {
		a, okA := idx[d.A]
		b, okB := idx[d.B]
		if okA && okB && !d.Accept {
			rejects = append(rejects, [2]int{a, b})
		}
	}
	first := make(map[string]int, len(recs))
	for i := range recs {
		if h := recs[i].IDHash; h != "" {
			if f, ok := first[h]; ok {
				u.join(f, i, rejects)
			} else {
				first[h] = i
			}
		}
	}
	for _, d := range decisions {
		a, okA := idx[d.A]
		b, okB := idx[d.B]
		if !okA || !okB || !d.Accept {
			continue
		}
		if a > b {
			a, b = b, a
		}
		if u.join(a, b, rejects) {
			p := scorePair(a, b)
			p.Outcome = Accepted
			r.Links = append(r.Links, p)
		}
	}
	// A record without an ID whose best candidates lie in two clusters of
	// different valid IDs within Margin bits of each other is ambiguous
	// (two people of one name in one household): its pairs go to review.
	ambiguous := make(map[int]bool)
	{
		type best struct {
			total float64
			id    string
		}
		top := make(map[int][2]best)
		note := func(rec, other int, total float64) {
			if recs[rec].IDHash != "" {
				return
			}
			id := u.id[u.find(other)]
			if id == "" {
				return
			}
			t := top[rec]
			switch {
			case t[0].id == "" || total > t[0].total:
				if t[0].id != id {
					t[1] = t[0]
				}
				t[0] = best{total, id}
			case id != t[0].id && (t[1].id == "" || total > t[1].total):
				t[1] = best{total, id}
			}
			top[rec] = t
		}
		for _, p := range pairs {
			if p.Outcome == Unlinked {
				continue
			}
			a, b := idx[p.A], idx[p.B]
			note(a, b, p.Total)
			note(b, a, p.Total)
		}
		for rec, t := range top {
			if t[1].id != "" && t[0].total >= cfg.Upper && t[1].total >= t[0].total-cfg.Margin {
				ambiguous[rec] = true
			}
		}
	}
	var band []Pair
	for _, p := range pairs {
		a, b := idx[p.A], idx[p.B]
		if p.Total < cfg.Upper || p.Outcome == Unlinked || ambiguous[a] || ambiguous[b] {
			band = append(band, p)
			continue
		}
		if u.find(a) == u.find(b) {
			continue
		}
		if u.join(a, b, rejects) {
			p.Outcome = Linked
			r.Links = append(r.Links, p)
		}
	}
	for _, p := range band {
		if p.Outcome == Unlinked {
			continue
		}
		a, b := idx[p.A], idx[p.B]
		if u.find(a) != u.find(b) && u.allowed(a, b, rejects) {
			p.Outcome = Review
			r.Review = append(r.Review, p)
		}
	}
	r.Cluster = make([]int, len(recs))
	root := make(map[int]int)
	for i := range recs {
		ro := u.find(i)
		c, ok := root[ro]
		if !ok {
			c = len(r.Clusters)
			root[ro] = c
			r.Clusters = append(r.Clusters, nil)
		}
		r.Cluster[i] = c
		r.Clusters[c] = append(r.Clusters[c], i)
	}
	return r
}

// score weighs a pair; nameU and pyU are the frequencies of a's folded
// name and reading.
func (m *Model) score(a, b *Record, pa, pb *prep, nameU, pyU float64) Pair {
	lv := compare(a, b, pa, pb)
	p := Pair{A: a.Key, B: b.Key, Prior: m.Prior, Total: m.Prior, Outcome: Unlinked, Fields: make([]FieldWeight, nFields)}
	for f := range nFields {
		l := lv[f]
		w := 0.0
		if l != lvMissing && !(f == 3 && l == lvPinyin) {
			uu := m.U[f][l]
			if f == 0 && l == lvExact {
				uu = max(nameU, 1e-7)
			} else if f == 0 && l == lvPinyin {
				uu = max(pyU, 1e-7)
			}
			w = math.Log2(m.M[f][l] / uu)
		}
		p.Fields[f] = FieldWeight{Field: fieldNames[f], Level: levelNames[f][l], Weight: w}
		p.Total += w
	}
	p.Probability = 1 / (1 + math.Exp2(-p.Total))
	if lv[0] != lvDiff {
		p.Outcome = Review // provisional: set by the caller
	}
	return p
}

// estimate derives m from the pairs that share a valid ID hash and u from
// a fixed sample of record pairs.
func estimate(recs []Record, pr []prep, cfg Config) Model {
	var m Model
	var mc, uc [nFields][nLevels]float64
	groups := make(map[string][]int)
	for i := range recs {
		if h := recs[i].IDHash; h != "" {
			groups[h] = append(groups[h], i)
		}
	}
	// A record with copies stands for 1+Copies records: its pairs weigh
	// as the pairs of the records it stands for, and its copies are pairs
	// with itself.
	weight := func(i int) float64 { return float64(1 + recs[i].Copies) }
	labelled, withID := 0.0, 0.0
	for _, g := range groups {
		for x := 0; x < len(g); x++ {
			wx := weight(g[x])
			withID += wx
			if wx > 1 {
				lv := compare(&recs[g[x]], &recs[g[x]], &pr[g[x]], &pr[g[x]])
				for f := range nFields {
					mc[f][lv[f]] += wx * (wx - 1) / 2
				}
				labelled += wx * (wx - 1) / 2
			}
			for y := x + 1; y < len(g); y++ {
				w := wx * weight(g[y])
				lv := compare(&recs[g[x]], &recs[g[y]], &pr[g[x]], &pr[g[y]])
				for f := range nFields {
					mc[f][lv[f]] += w
				}
				labelled += w
			}
		}
	}
	m.Pairs = int(labelled)
	// u is sampled over the records stood for: a position past a record's
	// start is one of its copies.
	var starts []int
	n := len(recs)
	for i := range recs {
		if recs[i].Copies > 0 {
			starts = make([]int, len(recs))
			n = 0
			for j := range recs {
				starts[j] = n
				n += 1 + recs[j].Copies
			}
			break
		}
	}
	at := func(pos int) int {
		if starts == nil {
			return pos
		}
		i, found := slices.BinarySearch(starts, pos)
		if !found {
			i--
		}
		return i
	}
	if n >= 2 {
		s := uint64(0x9e3779b97f4a7c15)
		next := func() int {
			s += 0x9e3779b97f4a7c15
			z := s
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
			z = (z ^ (z >> 27)) * 0x94d049bb133111eb
			return int((z ^ (z >> 31)) % uint64(n))
		}
		for k := 0; k < cfg.Samples; k++ {
			i, j := at(next()), at(next())
			if i == j || (recs[i].IDHash != "" && recs[i].IDHash == recs[j].IDHash) {
				continue
			}
			lv := compare(&recs[i], &recs[j], &pr[i], &pr[j])
			for f := range nFields {
				uc[f][lv[f]]++
			}
		}
	}
	for f := range nFields {
		levels := 0
		var mt, ut float64
		for l := 1; l < nLevels; l++ {
			if levelNames[f][l] == "" {
				continue
			}
			levels++
			mt += mc[f][l]
			ut += uc[f][l]
		}
		for l := 1; l < nLevels; l++ {
			if levelNames[f][l] == "" {
				continue
			}
			m.M[f][l] = (mc[f][l] + 1) / (mt + float64(levels))
			m.U[f][l] = (uc[f][l] + 1) / (ut + float64(levels))
		}
	}
	// λ: the share of pairs among the records with an ID that the IDs make
	// true, at least one in a million pairs.
	lambda := 1e-6
	if withID >= 2 {
		lambda = max(lambda, labelled/(withID*(withID-1)/2))
	}
	m.Prior = math.Log2(lambda / (1 - lambda))
	return m
}

// union is a union–find over records that keeps, per cluster, its valid ID
// hash (a cluster never holds two).
type union struct {
	parent []int
	id     []string
}

func newUnion(recs []Record) *union {
	u := &union{parent: make([]int, len(recs)), id: make([]string, len(recs))}
	for i := range recs {
		u.parent[i] = i
		u.id[i] = recs[i].IDHash
	}
	return u
}

func (u *union) find(i int) int {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

// allowed reports whether the clusters of a and b may become one.
func (u *union) allowed(a, b int, rejects [][2]int) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return true
	}
	if u.id[ra] != "" && u.id[rb] != "" && u.id[ra] != u.id[rb] {
		return false
	}
	for _, x := range rejects {
		fx, fy := u.find(x[0]), u.find(x[1])
		if (fx == ra && fy == rb) || (fx == rb && fy == ra) {
			return false
		}
	}
	return true
}

// join merges the clusters of a and b when allowed; the smaller root
// index survives, so the result does not depend on the order of joins.
func (u *union) join(a, b int, rejects [][2]int) bool {
	if !u.allowed(a, b, rejects) {
		return false
	}
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return true
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	if u.id[ra] == "" {
		u.id[ra] = u.id[rb]
	}
	return true
}
