package resolve

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Case is the part of a case report that incident merging sees.
type Case struct {
	Key       string    // unique and stable: "system/entity/source id"
	Source    string    // the source system
	Category  string    // unified category code (BJ0106, SJ0102, ZZ0502)
	Component string    // the component's ID for 部件 reports, "" otherwise
	Lng, Lat  float64   // WGS-84 (after datum conversion)
	Reported  time.Time // first report
	Text      string    // title and description
}

// IncidentConfig holds the limits and the threshold of incident merging.
type IncidentConfig struct {
	MaxMetres float64       // reports farther apart are never one incident
	Window    time.Duration // reports farther apart in time are never one incident
	Threshold float64       // total evidence (bits) from which two reports are one incident
}

// DefaultIncidentConfig returns the limits the quality tests hold to.
func DefaultIncidentConfig() IncidentConfig {
	return IncidentConfig{MaxMetres: 150, Window: 7 * 24 * time.Hour, Threshold: 8}
}

// Compatible reports whether two unified categories may be one problem:
// the same category, one the ancestor of the other (SJ01 and SJ0102), or a
// pair the two taxonomies name differently (a 综治 设施报修 is a broken street
// lamp, a manhole cover or a blocked sewer of 数字城管; 违规经营 is 店外经营 or
// 无照经营游商; 燃气隐患 a 燃气管道破裂; 房屋安全隐患 a 私搭乱建).
func Compatible(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
		return true
	}
	return crossTaxonomy[[2]string{a, b}] || crossTaxonomy[[2]string{b, a}]
}

var crossTaxonomy = func() map[[2]string]bool {
	m := map[[2]string]bool{}
	for gov, city := range map[string][]string{
		"ZZ0502": {"BJ0106", "BJ0101", "BJ0102", "BJ0103", "SJ0404", "SJ0402"},
		"ZZ0401": {"SJ0501", "SJ0502"},
		"ZZ0303": {"SJ0403"},
		"ZZ0302": {"SJ0101"},
	} {
		for _, c := range city {
			m[[2]string{gov, c}] = true
		}
	}
	return m
}()

// Bigrams returns the set of character bigrams of the Han characters,
// letters and digits of s: the unit of text similarity for Chinese, which
// has no spaces between words. The set is never nil, even when empty.
func Bigrams(s string) BigramSet {
	out := make(BigramSet, 0, utf8.RuneCountInString(s))
	prev := rune(-1)
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		if prev >= 0 {
			out = append(out, uint64(prev)<<32|uint64(r))
		}
		prev = r
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// BigramSet is a set of character bigrams, each two runes in one word,
// sorted: a text's set is one allocation, and two sets meet in one merge.
type BigramSet []uint64

// Dice is the Sørensen–Dice coefficient of two bigram sets.
func Dice(a, b BigramSet) float64 {
	if len(a)+len(b) == 0 {
		return 0
	}
	n := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}

// Metres is the distance between two WGS-84 points (equirectangular, exact
// enough below a few kilometres).
func Metres(lng1, lat1, lng2, lat2 float64) float64 {
	const r = 6_371_000.0
	x := (lng2 - lng1) * math.Pi / 180 * math.Cos((lat1+lat2)/2*math.Pi/180)
	y := (lat2 - lat1) * math.Pi / 180
	return r * math.Hypot(x, y)
}

// Evidence is the comparison of two reports.
type Evidence struct {
	A, B   string
	Fields []FieldWeight // place, time, category, text, component
	Total  float64
	Metres float64
	Hours  float64
	Linked bool
}

// IncidentResult is the grouping of reports into incidents.
type IncidentResult struct {
	Cases     []Case  // sorted by key
	Incident  []int   // incident index of each case
	Incidents [][]int // case indices of each incident, ordered by their first case
	Evidence  []Evidence
	Compared  int
}

// Weights of the incident evidence, in bits. Place and time are the
// strong evidence; category agreement is required (an incompatible pair
// is never compared) and adds more when exact; text similarity of
// character bigrams decides the middle cases.
const (
	wPlace30, wPlace80, wPlace150      = 6.0, 4.5, -4.0
	wTime2h, wTime1d, wTime3d, wTime7d = 4.0, 2.5, 1.5, -3.0
	wCatSame, wCatCompatible           = 3.0, 2.0
	wTextHigh, wTextMid, wTextLow      = 3.0, 1.0, -0.5
	wComponentSame                     = 4.0
)

// Incidents groups cases into incidents. Two reports are compared when
// they lie within MaxMetres and Window and their categories are
// compatible, and never when they are two components with different IDs;
// a pair whose evidence reaches Threshold is linked, strongest first,
// unless the incidents it joins hold two different component IDs or would
// span more than Window. The result does not depend on the order of cases.
func Incidents(cases []Case, cfg IncidentConfig) (*IncidentResult, error) {
	return IncidentsWith(cases, nil, cfg)
}

// IncidentsWith is Incidents under review decisions on pairs of case keys:
// an accepted pair is joined before any evidence is weighed (never two
// components with different IDs), a rejected pair is never in one
// incident, whatever its evidence.
func IncidentsWith(cases []Case, decisions []Decision, cfg IncidentConfig) (*IncidentResult, error) {
	cases = slices.Clone(cases)
	slices.SortFunc(cases, func(a, b Case) int { return strings.Compare(a.Key, b.Key) })
	for i := 1; i < len(cases); i++ {
		if cases[i].Key == cases[i-1].Key {
			return nil, fmt.Errorf("incidents: case key %q twice", cases[i].Key)
		}
	}
	r := &IncidentResult{Cases: cases}
	// The cases of each cell of the grid, sorted by report time, the
	// times beside them.
	grid := newPlaceGrid(cfg.MaxMetres)
	type cellCases struct {
		at    cellKey
		cases []int
		times []time.Time
	}
	byKey := map[cellKey]*cellCases{}
	var cells []*cellCases
	for i := range cases {
		k := grid.cell(cases[i].Lng, cases[i].Lat)
		c := byKey[k]
		if c == nil {
			c = &cellCases{at: k}
			byKey[k] = c
			cells = append(cells, c)
		}
		c.cases = append(c.cases, i)
	}
	for _, c := range cells {
		slices.SortFunc(c.cases, func(a, b int) int {
			if c := cases[a].Reported.Compare(cases[b].Reported); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		c.times = make([]time.Time, len(c.cases))
		for n, i := range c.cases {
			c.times[n] = cases[i].Reported
		}
	}
	// A case's bigrams are made when a pair of it first gets as far as
	// its text: most pairs stop at the category or the distance.
	grams := make([]BigramSet, len(cases))
	gram := func(i int) BigramSet {
		if grams[i] == nil {
			grams[i] = Bigrams(cases[i].Text) // never nil
		}
		return grams[i]
	}
	// Cell by cell, each case against the cases of the cells near its
	// own reported within Window of it. The cases of a cell come in report
	// order, so where each near cell's candidates start only moves
	// forward: the near cells are looked up once a cell, not once a case,
	// and no search runs (at city scale the lookups and searches per case
	// were three fifths of grouping).
	var ev []Evidence
	var keys []cellKey
	var near []*cellCases
	var from []int
	for _, c := range cells {
		keys, near, from = grid.near(keys[:0], c.at), near[:0], from[:0]
		for _, k := range keys {
			if o := byKey[k]; o != nil {
				near, from = append(near, o), append(from, 0)
			}
		}
		for _, i := range c.cases {
			a := &cases[i]
			start := a.Reported.Add(-cfg.Window)
			for d, o := range near {
				for from[d] < len(o.times) && o.times[from[d]].Before(start) {
					from[d]++
				}
				for x, j := range o.cases[from[d]:] {
					if o.times[from[d]+x].Sub(a.Reported) > cfg.Window {
						break
					}
					if j <= i {
						continue
					}
					b := &cases[j]
					if e, ok := compareCases(a, b, func() (BigramSet, BigramSet) { return gram(i), gram(j) }, cfg); ok {
						r.Compared++
						ev = append(ev, e)
					}
				}
			}
		}
	}
	sortEvidence(ev)
	r.Evidence = ev
	clusterIncidents(r, decisions, cfg)
	return r, nil
}

// sortEvidence orders evidence strongest first (ties: by keys), the order
// in which pairs are linked.
func sortEvidence(ev []Evidence) {
	slices.SortFunc(ev, func(x, y Evidence) int {
		if c := cmp.Compare(y.Total, x.Total); c != 0 {
			return c
		}
		if c := strings.Compare(x.A, y.A); c != 0 {
			return c
		}
		return strings.Compare(x.B, y.B)
	})
}

// clusterIncidents groups r.Cases (sorted by key) into incidents from r.Evidence
// (sorted by sortEvidence): accepted decisions first, then the pairs from
// the Threshold, strongest first. Only those pairs join cases, so
// evidence below the Threshold may be left out of r.Evidence without
// changing the incidents.
func clusterIncidents(r *IncidentResult, decisions []Decision, cfg IncidentConfig) {
	cases, ev := r.Cases, r.Evidence
	idx := make(map[string]int, len(cases))
	for i := range cases {
		idx[cases[i].Key] = i
	}
	// Union–find with each incident's component and time span.
	parent := make([]int, len(cases))
	comp := make([]string, len(cases))
	first := make([]time.Time, len(cases))
	last := make([]time.Time, len(cases))
	for i := range cases {
		parent[i], comp[i], first[i], last[i] = i, cases[i].Component, cases[i].Reported, cases[i].Reported
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	var rejects [][2]int
	for _, d := range decisions {
		a, okA := idx[d.A]
		b, okB := idx[d.B]
		if okA && okB && !d.Accept {
			rejects = append(rejects, [2]int{a, b})
		}
	}
	// join merges the incidents of a and b unless two components, a
	// rejected pair or (for evidence, not decisions) the window stand
	// between them.
	join := func(a, b int, window bool) bool {
		ra, rb := find(a), find(b)
		if ra == rb {
			return true
		}
		if comp[ra] != "" && comp[rb] != "" && comp[ra] != comp[rb] {
			return false
		}
		for _, x := range rejects {
			fx, fy := find(x[0]), find(x[1])
			if (fx == ra && fy == rb) || (fx == rb && fy == ra) {
				return false
			}
		}
		f, l := first[ra], last[ra]
		if first[rb].Before(f) {
			f = first[rb]
		}
		if last[rb].After(l) {
			l = last[rb]
		}
		if window && l.Sub(f) > cfg.Window {
			return false
		}
		if rb < ra {
			ra, rb = rb, ra
		}
		parent[rb] = ra
		if comp[ra] == "" {
			comp[ra] = comp[rb]
		}
		first[ra], last[ra] = f, l
		return true
	}
	for _, d := range decisions {
		a, okA := idx[d.A]
		b, okB := idx[d.B]
		if okA && okB && d.Accept {
			join(a, b, false)
		}
	}
	for n := range ev {
		e := &ev[n]
		if e.Total >= cfg.Threshold && join(idx[e.A], idx[e.B], true) {
			e.Linked = true
		}
	}
	r.Incident = make([]int, len(cases))
	root := map[int]int{}
	for i := range cases {
		ro := find(i)
		g, ok := root[ro]
		if !ok {
			g = len(r.Incidents)
			root[ro] = g
			r.Incidents = append(r.Incidents, nil)
		}
		r.Incident[i] = g
		r.Incidents[g] = append(r.Incidents[g], i)
	}
}

// CompareCases weighs two reports as Incidents does: the evidence that
// they are one problem, ok false when they can never be (too far apart in
// place or time, incompatible categories, two components).
func CompareCases(a, b Case, cfg IncidentConfig) (Evidence, bool) {
	if a.Key > b.Key {
		a, b = b, a
	}
	if b.Reported.Sub(a.Reported) > cfg.Window || a.Reported.Sub(b.Reported) > cfg.Window {
		return Evidence{}, false
	}
	e, ok := compareCases(&a, &b, func() (BigramSet, BigramSet) { return Bigrams(a.Text), Bigrams(b.Text) }, cfg)
	e.Linked = ok && e.Total >= cfg.Threshold
	return e, ok
}

// compareCases weighs two reports; ok is false when they can never be one
// incident. grams gives their bigram sets.
func compareCases(a, b *Case, grams func() (BigramSet, BigramSet), cfg IncidentConfig) (Evidence, bool) {
	if a.Component != "" && b.Component != "" && a.Component != b.Component {
		return Evidence{}, false
	}
	if !Compatible(a.Category, b.Category) {
		return Evidence{}, false
	}
	m := Metres(a.Lng, a.Lat, b.Lng, b.Lat)
	if m > cfg.MaxMetres {
		return Evidence{}, false
	}
	h := math.Abs(b.Reported.Sub(a.Reported).Hours())
	e := Evidence{A: a.Key, B: b.Key, Metres: m, Hours: h}
	add := func(field, level string, w float64) {
		e.Fields = append(e.Fields, FieldWeight{Field: field, Level: level, Weight: w})
		e.Total += w
	}
	switch {
	case m <= 30:
		add("place", "WITHIN_30M", wPlace30)
	case m <= 80:
		add("place", "WITHIN_80M", wPlace80)
	default:
		add("place", "WITHIN_150M", wPlace150)
	}
	switch {
	case h <= 2:
		add("time", "WITHIN_2H", wTime2h)
	case h <= 24:
		add("time", "WITHIN_1D", wTime1d)
	case h <= 72:
		add("time", "WITHIN_3D", wTime3d)
	default:
		add("time", "WITHIN_7D", wTime7d)
	}
	if a.Category == b.Category {
		add("category", "SAME", wCatSame)
	} else {
		add("category", "COMPATIBLE", wCatCompatible)
	}
	ga, gb := grams()
	switch d := Dice(ga, gb); {
	case d >= 0.5:
		add("text", "SIMILAR", wTextHigh)
	case d >= 0.2:
		add("text", "RELATED", wTextMid)
	default:
		add("text", "DIFFERENT", wTextLow)
	}
	if a.Component != "" && a.Component == b.Component {
		add("component", "SAME", wComponentSame)
	}
	return e, true
}
