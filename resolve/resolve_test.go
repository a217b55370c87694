package resolve_test

import (
	"encoding/hex"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
)

// corpus is a simulated city's person mentions as records, with the true
// person of each record key.
type corpus struct {
	recs  []resolve.Record
	truth map[string]string // record key → true person
	hard  map[string]string // record key → hard case
}

func newCorpus(tb testing.TB, scale city.Scale) *corpus {
	tb.Helper()
	cfg := city.DefaultConfig()
	cfg.Scale = scale
	c, err := city.Generate(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := pii.NewKeys([]byte(strings.Repeat("k", 32)))
	if err != nil {
		tb.Fatal(err)
	}
	h := func(kind, v string) string { return hex.EncodeToString(keys.Hash(kind, v)) }
	ms := c.PersonMentions()
	co := &corpus{truth: make(map[string]string, len(ms)), hard: make(map[string]string)}
	for _, m := range ms {
		r := resolve.Record{Key: m.System + "/" + m.Entity + "/" + m.ID, Source: m.System, Name: m.Name,
			Updated: time.Unix(m.Updated, 0), Place: m.Address}
		if m.IDCard != "" {
			if id, _, err := normalize.ParseCitizenID("id", m.IDCard); err == nil {
				r.IDHash = h("id", id.Number)
			}
			// The birth date and sex digits are kept from an ID that fails
			// its check digit: the other digits are usually right.
			if len(m.IDCard) == 18 {
				if _, err := time.Parse("20060102", m.IDCard[6:14]); err == nil {
					r.Birth = m.IDCard[6:14]
				}
				if (m.IDCard[16]-'0')%2 == 1 {
					r.Gender = "M"
				} else {
					r.Gender = "F"
				}
			}
		}
		switch m.Gender {
		case "男":
			r.Gender = "M"
		case "女":
			r.Gender = "F"
		}
		if m.Phone != "" {
			if ph, _, err := normalize.ParsePhone("phone", m.Phone); err == nil {
				r.PhoneHash = h("phone", ph.Number)
			}
		}
		co.recs = append(co.recs, r)
		co.truth[r.Key] = m.Person
		if m.Hard != "" {
			co.hard[r.Key] = m.Hard
		}
	}
	return co
}

// quality is a resolution measured against the truth, over record pairs.
type quality struct {
	truePairs, predPairs, correct, inReview int
	conflicts                               int // clusters holding two valid IDs
	missedByHard                            map[string]int
}

func (q quality) precision() float64 { return float64(q.correct) / float64(max(q.predPairs, 1)) }
func (q quality) recall() float64    { return float64(q.correct) / float64(max(q.truePairs, 1)) }
func (q quality) review() float64    { return float64(q.inReview) / float64(max(q.truePairs, 1)) }

func (q quality) String() string {
	return fmt.Sprintf("true pairs %d, predicted %d, correct %d: precision %.4f recall %.4f, in review %.4f, ID conflicts %d, missed by hard case %v",
		q.truePairs, q.predPairs, q.correct, q.precision(), q.recall(), q.review(), q.conflicts, q.missedByHard)
}

func measure(co *corpus, r *resolve.Result) quality {
	q := quality{missedByHard: map[string]int{}}
	byPerson := map[string][]int{}
	for i, rec := range r.Records {
		byPerson[co.truth[rec.Key]] = append(byPerson[co.truth[rec.Key]], i)
	}
	reviewed := map[[2]int]bool{}
	for _, p := range r.Review {
		a, b := r.Cluster[index(r, p.A)], r.Cluster[index(r, p.B)]
		reviewed[[2]int{min(a, b), max(a, b)}] = true
	}
	for _, rs := range byPerson {
		for x := 0; x < len(rs); x++ {
			for y := x + 1; y < len(rs); y++ {
				q.truePairs++
				a, b := r.Cluster[rs[x]], r.Cluster[rs[y]]
				if a == b {
					continue
				}
				if reviewed[[2]int{min(a, b), max(a, b)}] {
					q.inReview++
				}
				k := co.hard[r.Records[rs[x]].Key] + "|" + co.hard[r.Records[rs[y]].Key]
				q.missedByHard[k]++
			}
		}
	}
	for _, members := range r.Clusters {
		ids := map[string]bool{}
		n := map[string]int{}
		for _, i := range members {
			if h := r.Records[i].IDHash; h != "" {
				ids[h] = true
			}
			n[co.truth[r.Records[i].Key]]++
		}
		if len(ids) > 1 {
			q.conflicts++
		}
		k := len(members)
		q.predPairs += k * (k - 1) / 2
		for _, c := range n {
			q.correct += c * (c - 1) / 2
		}
	}
	return q
}

func index(r *resolve.Result, key string) int {
	i, _ := slices.BinarySearchFunc(r.Records, key, func(x resolve.Record, k string) int { return strings.Compare(x.Key, k) })
	return i
}

// TestPersonQualitySmall holds person resolution to its targets against
// the small city's ground truth, hard cases included.
func TestPersonQualitySmall(t *testing.T) {
	co := newCorpus(t, city.Small)
	r, err := resolve.Resolve(co.recs, nil, resolve.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	q := measure(co, r)
	t.Logf("%d records, %d clusters, %d compared, %d links, %d in review; %v", len(r.Records), len(r.Clusters), r.Compared, len(r.Links), len(r.Review), q)
	if q.precision() < 0.995 || q.recall() < 0.98 || q.review() > 0.01 || q.conflicts != 0 {
		t.Errorf("below target (precision ≥ 0.995, recall ≥ 0.98, review ≤ 0.01, 0 ID conflicts): %v", q)
	}
	hard := map[string]int{}
	for _, h := range co.hard {
		hard[h]++
	}
	for _, h := range []string{city.HardNameSpace, city.HardNameTrad, city.HardNameHomophone, city.HardPhoneChanged, city.HardFamilyPhone,
		city.HardSecondAddress, city.HardBadID, city.HardNoID, city.HardLookAlike} {
		if hard[h] == 0 && !anyHard(co.hard, h) {
			t.Errorf("the small city has no mention of hard case %s", h)
		}
	}
	if os.Getenv("RESOLVE_VERBOSE") != "" {
		for _, p := range r.Review[:min(len(r.Review), 20)] {
			t.Logf("review %s (%s) %s (%s) %.1f %v", p.A, co.truth[p.A], p.B, co.truth[p.B], p.Total, p.Fields)
		}
	}
}

// TestResolveIsOrderIndependent shuffles the records: the clusters are the
// same.
func TestResolveIsOrderIndependent(t *testing.T) {
	co := newCorpus(t, city.Small)
	a, err := resolve.Resolve(co.recs, nil, resolve.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	shuffled := slices.Clone(co.recs)
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b, err := resolve.Resolve(shuffled, nil, resolve.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Cluster, b.Cluster) || len(a.Review) != len(b.Review) {
		t.Fatalf("shuffled input resolved differently: %d vs %d clusters, %d vs %d in review", len(a.Clusters), len(b.Clusters), len(a.Review), len(b.Review))
	}
}

func anyHard(hard map[string]string, h string) bool {
	for _, v := range hard {
		if slices.Contains(strings.Split(v, ","), h) {
			return true
		}
	}
	return false
}

// TestDecisionsHold rejects a probabilistic link and accepts a pair from
// the review queue: the rejected records are apart and the accepted ones
// together after a fresh resolution under the same decisions, and the
// stable IDs follow (the split part gets a new ID, the merged ID names
// the survivor).
func TestDecisionsHold(t *testing.T) {
	co := newCorpus(t, city.Small)
	cfg := resolve.DefaultConfig()
	r0, err := resolve.Resolve(co.recs, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(r0.Review) == 0 {
		t.Fatal("no review item to decide")
	}
	var link resolve.Pair
	for _, p := range r0.Links {
		if p.Outcome == resolve.Linked {
			link = p
			break
		}
	}
	if link.A == "" {
		t.Fatal("no probabilistic link")
	}
	rev := r0.Review[0]
	// The store's view: each record has a person made for it (its ID's
	// for records with a valid ID), and stands for the person a plan gave it.
	own := map[string]int64{}
	byID := map[string]int64{}
	for i, rec := range co.recs {
		own[rec.Key] = int64(i + 1)
		if rec.IDHash != "" {
			if id, ok := byID[rec.IDHash]; ok {
				own[rec.Key] = id
			} else {
				byID[rec.IDHash] = own[rec.Key]
			}
		}
	}
	links := func(r *resolve.Result, now map[string]int64) map[string]*store.PersonLink {
		m := map[string]*store.PersonLink{}
		for _, rec := range r.Records {
			l := &store.PersonLink{Key: rec.Key, OwnID: own[rec.Key], PersonID: own[rec.Key]}
			if rec.IDHash != "" {
				l.IDHash = []byte(rec.IDHash)
			}
			if id, ok := now[rec.Key]; ok {
				l.PersonID = id
			}
			m[rec.Key] = l
		}
		return m
	}
	made := int64(1 << 40)
	// apply is what the store keeps of a plan: each record's person, a
	// person made getting a new ID.
	apply := func(plan store.PersonResolution) map[string]int64 {
		now := map[string]int64{}
		for i := range plan.Persons {
			if plan.Persons[i].ID == 0 {
				made++
				plan.Persons[i].ID = made
			}
		}
		for _, r := range plan.Records {
			now[r.Key] = plan.Persons[r.Person].ID
		}
		return now
	}
	plan0 := resolve.PersonPlan(r0, links(r0, nil), cfg)
	for _, p := range plan0.Persons {
		if p.ID == 0 {
			t.Fatal("a first resolution makes a person: every cluster has persons of its own records")
		}
	}
	prev := apply(plan0)
	decisions := []resolve.Decision{{A: link.A, B: link.B, Accept: false}, {A: rev.A, B: rev.B, Accept: true}}
	r1, err := resolve.Resolve(co.recs, decisions, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := func(r *resolve.Result, k string) int { return r.Cluster[index(r, k)] }
	if c(r1, link.A) == c(r1, link.B) {
		t.Errorf("rejected pair %s %s still together", link.A, link.B)
	}
	if c(r1, rev.A) != c(r1, rev.B) {
		t.Errorf("accepted pair %s %s apart", rev.A, rev.B)
	}
	for _, p := range r1.Review {
		if (p.A == rev.A && p.B == rev.B) || (p.A == link.A && p.B == link.B) {
			t.Errorf("decided pair %s %s back in review", p.A, p.B)
		}
	}
	plan1 := resolve.PersonPlan(r1, links(r1, prev), cfg)
	personOf := func(plan store.PersonResolution, k string) store.ResolvedPerson {
		for _, r := range plan.Records {
			if r.Key == k {
				return plan.Persons[r.Person]
			}
		}
		t.Fatalf("no record %s in the plan", k)
		return store.ResolvedPerson{}
	}
	old := prev[link.A]
	pa, pb := personOf(plan1, link.A), personOf(plan1, link.B)
	kept, split := pa, pb
	if pb.ID == old {
		kept, split = pb, pa
	}
	if kept.ID != old || split.ID != 0 || split.SplitFrom != old {
		t.Errorf("split of %d: parts %d and %d (split from %d), want one keeping it and a new one split from it",
			old, kept.ID, split.ID, split.SplitFrom)
	}
	survivor := personOf(plan1, rev.A)
	for _, k := range []string{rev.A, rev.B} {
		if id := prev[k]; id != survivor.ID && !slices.Contains(survivor.Merged, id) {
			t.Errorf("person %d of %s is not merged into the survivor %d: %v", id, k, survivor.ID, survivor.Merged)
		}
	}
	// The same records and decisions again: the same persons, none made.
	now := apply(plan1)
	r2, err := resolve.Resolve(co.recs, decisions, cfg)
	if err != nil {
		t.Fatal(err)
	}
	plan2 := resolve.PersonPlan(r2, links(r2, now), cfg)
	for _, r := range plan2.Records {
		if id := plan2.Persons[r.Person].ID; id != now[r.Key] {
			t.Fatalf("re-resolution moved %s from %d to %d", r.Key, now[r.Key], id)
		}
	}
}

// TestNeverTwoValidIDs accepts a pair of records with different valid IDs:
// the decision cannot merge them.
func TestNeverTwoValidIDs(t *testing.T) {
	recs := []resolve.Record{
		{Key: "a", Source: "gov", IDHash: "h1", Name: "张伟", Birth: "19800101", Gender: "M", PhoneHash: "p1"},
		{Key: "b", Source: "party", IDHash: "h2", Name: "张伟", Birth: "19800101", Gender: "M", PhoneHash: "p1"},
		{Key: "c", Source: "city", Name: "张 伟", PhoneHash: "p1"},
	}
	r, err := resolve.Resolve(recs, []resolve.Decision{{A: "a", B: "b", Accept: true}}, resolve.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if r.Cluster[0] == r.Cluster[1] {
		t.Fatal("two valid IDs merged")
	}
}

// TestGoldenRecord takes each field from the most trusted source, then the
// most recent record, and names the record.
func TestGoldenRecord(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := []resolve.Record{
		{Key: "gov/residents/1", Source: "gov", IDHash: "h1", Name: "陳偉", Birth: "19800101", PhoneHash: "old", Updated: t0},
		{Key: "party/t_dy/1", Source: "party", IDHash: "h1", Name: "陈伟", PhoneHash: "new", Place: "b1", Updated: t0.Add(time.Hour)},
		{Key: "gov/workers/1", Source: "gov", IDHash: "h1", Name: "陈伟", PhoneHash: "newest", Updated: t0.Add(2 * time.Hour)},
	}
	r, err := resolve.Resolve(recs, nil, resolve.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Clusters) != 1 {
		t.Fatalf("%d clusters", len(r.Clusters))
	}
	g := r.Golden(0, resolve.DefaultConfig().Trust)
	if g.Phone.Value != "newest" || g.Phone.Record != "gov/workers/1" {
		t.Errorf("phone %+v, want the newest of the most trusted source", g.Phone)
	}
	if g.Name.Value != "陈伟" || g.Place.Value != "b1" || g.Place.Source != "party" || g.Birth.Record != "gov/residents/1" {
		t.Errorf("golden %+v", g)
	}
}

// TestIncrementalMatchesFull resolves 70% of the small city in full and
// adds the rest in batches of 50 as a sync would: the quality targets hold,
// and the clusters agree with a full resolution of everything on all but a
// few record pairs (the model of the first 70% is kept).
func TestIncrementalMatchesFull(t *testing.T) {
	co := newCorpus(t, city.Small)
	cfg := resolve.DefaultConfig()
	var base, later []resolve.Record
	for i, r := range co.recs {
		if i%10 < 7 {
			base = append(base, r)
		} else {
			later = append(later, r)
		}
	}
	x, _, err := resolve.NewPersons(base, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for len(later) > 0 {
		n := min(50, len(later))
		if _, err := x.Update(later[:n], nil, nil); err != nil {
			t.Fatal(err)
		}
		later = later[n:]
	}
	inc := x.Snapshot()
	q := measure(co, inc)
	t.Logf("incremental: %v", q)
	if q.precision() < 0.995 || q.recall() < 0.98 || q.review() > 0.01 || q.conflicts != 0 {
		t.Errorf("incremental below target: %v", q)
	}
	full, err := resolve.Resolve(co.recs, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, b := pairsTogether(inc), pairsTogether(full)
	differ := 0
	for k := range a {
		if !b[k] {
			differ++
		}
	}
	for k := range b {
		if !a[k] {
			differ++
		}
	}
	t.Logf("%d pairs together incrementally, %d differ from the full resolution", len(a), differ)
	if float64(differ) > 0.01*float64(len(a)) {
		t.Errorf("incremental and full resolution differ on %d of %d pairs", differ, len(a))
	}
}

// pairsTogether is every pair of record keys one cluster holds.
func pairsTogether(r *resolve.Result) map[[2]string]bool {
	m := map[[2]string]bool{}
	for _, members := range r.Clusters {
		for x, i := range members {
			for _, j := range members[x+1:] {
				m[[2]string{r.Records[i].Key, r.Records[j].Key}] = true
			}
		}
	}
	return m
}

// TestUpdateAnswersOnlyWhatChanged runs changes through Update — records
// added, changed (a new phone, another dwelling, a name typed otherwise,
// a timestamp, copies), removed, and decisions taken — and keeps, record by record, the cluster
// each Update answered. After every step that map must be the clustering
// of everything (Snapshot): the records an Update leaves out are exactly
// those whose cluster it could not change. The pairs it answered, kept
// as the store keeps them, must likewise be those of everything.
func TestUpdateAnswersOnlyWhatChanged(t *testing.T) {
	co := newCorpus(t, city.Small)
	cfg := resolve.DefaultConfig()
	rng := rand.New(rand.NewPCG(7, 9))
	recs := slices.Clone(co.recs)
	x, r0, err := resolve.NewPersons(recs[:len(recs)*8/10], nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]string{} // record key → its cluster's smallest key
	// The golden record each cluster was last answered with, by its
	// smallest key.
	gold := map[string]resolve.Golden{}
	note := func(r *resolve.Result) {
		for c, members := range r.Clusters {
			for _, i := range members {
				held[r.Records[i].Key] = r.Records[members[0]].Key
			}
			gold[r.Records[members[0]].Key] = r.Golden(c, cfg.Trust)
		}
	}
	note(r0)
	// The evidence as the store would keep it from the answers alone: all
	// pairs of the full resolution, then each Update's change to it — the
	// pairs gone deleted (those of records removed among them), the fresh
	// ones written. A pair's weight counts too, except for a pair linked
	// by a decision, weighed when it is answered.
	type shown struct {
		outcome resolve.Outcome
		total   float64
	}
	seen := func(p resolve.Pair) shown {
		if p.Outcome == resolve.Accepted {
			return shown{outcome: p.Outcome}
		}
		return shown{p.Outcome, p.Total}
	}
	pairs := map[[2]string]shown{}
	for _, set := range [][]resolve.Pair{r0.Links, r0.Review} {
		for _, p := range set {
			pairs[[2]string{p.A, p.B}] = seen(p)
		}
	}
	written := 0
	notePairs := func(r *resolve.Result) {
		if !r.Incremental {
			t.Fatal("an Update's answer is not incremental")
		}
		for _, k := range r.Gone {
			delete(pairs, k)
		}
		for _, p := range r.Fresh {
			pairs[[2]string{p.A, p.B}] = seen(p)
		}
		written += len(r.Gone) + len(r.Fresh)
	}
	live := map[string]resolve.Record{}
	for _, r := range recs[:len(recs)*8/10] {
		live[r.Key] = r
	}
	rest := recs[len(recs)*8/10:]
	var decisions []resolve.Decision
	answered := 0
	quieted := 0
	for step := range 40 {
		var changed []resolve.Record
		var removed []string
		// Every other step names the records changed as quiet (changed
		// in their timestamp alone, as PersonResolver says of its twins):
		// the engine must still answer those whose fields or copies
		// changed, and a retimed one whenever its golden record moves.
		quiet := map[string]bool{}
		n := min(25, len(rest))
		changed, rest = append(changed, rest[:n]...), rest[n:]
		keys := make([]string, 0, len(live))
		for k := range live {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for range 10 {
			r := live[keys[rng.IntN(len(keys))]]
			switch rng.IntN(6) {
			case 0:
				r.PhoneHash = fmt.Sprintf("%x", rng.Uint64())
			case 1:
				r.Place = live[keys[rng.IntN(len(keys))]].Place
			case 2:
				r.Name = strings.Join(strings.Split(r.Name, ""), " ")
			case 4: // updated at its source, its person fields as they were
				r.Updated = r.Updated.Add(time.Hour)
			case 5: // a record alike added beside it, or one of them gone
				if r.IDHash != "" {
					r.Copies = max(r.Copies+rng.IntN(3)-1, 0)
				}
			case 3:
				if !slices.Contains(removed, r.Key) {
					removed = append(removed, r.Key)
				}
				continue
			}
			if !slices.ContainsFunc(changed, func(c resolve.Record) bool { return c.Key == r.Key }) && !slices.Contains(removed, r.Key) {
				changed = append(changed, r)
			}
		}
		// A record of a decided pair updated at its source: its cluster is
		// answered as held, accepted links included.
		if len(decisions) > 0 {
			d := decisions[rng.IntN(len(decisions))]
			if r, ok := live[d.A]; ok && !slices.Contains(removed, r.Key) && !slices.ContainsFunc(changed, func(c resolve.Record) bool { return c.Key == r.Key }) {
				r.Updated = r.Updated.Add(time.Minute)
				changed = append(changed, r)
			}
		}
		if step%5 == 4 { // an analyst rejects the strongest link of a cluster, or accepts a pair in review
			snap := x.Snapshot()
			if len(snap.Links) > 0 {
				p := snap.Links[rng.IntN(len(snap.Links))]
				decisions = append(decisions, resolve.Decision{A: p.A, B: p.B})
			}
			if len(snap.Review) > 0 {
				p := snap.Review[rng.IntN(len(snap.Review))]
				decisions = append(decisions, resolve.Decision{A: p.A, B: p.B, Accept: true})
			}
			// Two records no pair joins, said to be one person.
			a, b := live[keys[rng.IntN(len(keys))]], live[keys[rng.IntN(len(keys))]]
			if a.Key != b.Key && a.IDHash == "" && b.IDHash == "" && held[a.Key] != held[b.Key] {
				decisions = append(decisions, resolve.Decision{A: min(a.Key, b.Key), B: max(a.Key, b.Key), Accept: true})
			}
		}
		if step%2 == 1 {
			for _, c := range changed {
				if _, ok := live[c.Key]; ok {
					quiet[c.Key] = true
				}
			}
		}
		r, err := x.UpdateQuiet(changed, removed, decisions, quiet)
		if err != nil {
			t.Fatal(err)
		}
		answered += len(r.Records)
		// A changed record's cluster is answered, a timestamp alone
		// included (its golden record may change), unless it is quiet.
		for _, c := range changed {
			if !slices.ContainsFunc(r.Records, func(a resolve.Record) bool {
				return a.Key == c.Key && a.Updated.Equal(c.Updated) && a.Copies == c.Copies
			}) {
				if !quiet[c.Key] {
					t.Fatalf("step %d: record %s changed and is not answered as it is now", step, c.Key)
				}
				quieted++
			}
		}
		for _, k := range removed {
			delete(held, k)
			delete(live, k)
		}
		for _, c := range changed {
			live[c.Key] = c
		}
		note(r)
		notePairs(r)
		snap := x.Snapshot()
		if len(snap.Records) != len(live) {
			t.Fatalf("step %d: %d records held, want %d", step, len(snap.Records), len(live))
		}
		want := map[string]string{}
		for _, members := range snap.Clusters {
			for _, i := range members {
				want[snap.Records[i].Key] = snap.Records[members[0]].Key
			}
		}
		if !maps.Equal(held, want) {
			bad := 0
			for k, v := range want {
				if held[k] != v {
					bad++
				}
			}
			t.Fatalf("step %d: %d records' clusters differ from the clustering of everything", step, bad)
		}
		// Each cluster's golden record is the one it was last answered
		// with: a record left unanswered moved no field of it.
		for c, members := range snap.Clusters {
			first := snap.Records[members[0]].Key
			if got, want := gold[first], snap.Golden(c, cfg.Trust); got != want {
				t.Fatalf("step %d: cluster %s was last answered with golden record %+v, everything gives %+v", step, first, got, want)
			}
		}
		// The links an answer reports within its clusters are those of
		// everything: a cluster answered as held (a record only retimed)
		// keeps its links, accepted ones included.
		inAnswer := map[string]bool{}
		for _, rec := range r.Records {
			inAnswer[rec.Key] = true
		}
		linksOf := func(set []resolve.Pair) map[[2]string]resolve.Outcome {
			m := map[[2]string]resolve.Outcome{}
			for _, p := range set {
				if inAnswer[p.A] && inAnswer[p.B] {
					m[[2]string{p.A, p.B}] = p.Outcome
				}
			}
			return m
		}
		if got, want := linksOf(r.Links), linksOf(snap.Links); !maps.Equal(got, want) {
			t.Fatalf("step %d: the answer's links within its clusters (%d) differ from those of everything (%d)", step, len(got), len(want))
		}
		if !slices.IsSortedFunc(r.Records, func(a, b resolve.Record) int { return strings.Compare(a.Key, b.Key) }) {
			t.Fatalf("step %d: the answer's records are not in key order", step)
		}
		wantPairs := map[[2]string]shown{}
		notePairs := func(set []resolve.Pair) {
			for _, p := range set {
				wantPairs[[2]string{p.A, p.B}] = seen(p)
			}
		}
		notePairs(snap.Links)
		notePairs(snap.Review)
		if !maps.Equal(pairs, wantPairs) {
			t.Fatalf("step %d: the evidence kept (%d pairs) differs from that of everything (%d pairs)", step, len(pairs), len(wantPairs))
		}
	}
	t.Logf("%d records, %d answered over 40 updates (%d quiet records left unanswered), %d pairs written", len(live), answered, quieted, written)
	if quieted == 0 {
		t.Error("no quiet record was left unanswered: the steps never retime a record whose golden record stays")
	}
	if answered > len(live) {
		t.Errorf("updates answered %d records, more than the %d there are: they are not incremental", answered, len(live))
	}
}

// TestCopiesResolveAsTheirRecords folds the records of the small city
// that are the same to resolution (a valid ID hash, source and compared
// fields alike) into one record with copies, as PersonResolver does, and
// resolves both: the model's m and prior, estimated from the records
// with an ID, must be the same, and so must the clusters once each
// folded record's copies are put back beside it.
func TestCopiesResolveAsTheirRecords(t *testing.T) {
	co := newCorpus(t, city.Small)
	cfg := resolve.DefaultConfig()
	type sig struct{ id, source, name, birth, gender, phone, place string }
	first := map[sig]int{}
	var folded []resolve.Record
	copyOf := map[string]string{} // copy key → the key of the record it is folded into
	for _, r := range co.recs {
		if r.IDHash == "" {
			folded = append(folded, r)
			continue
		}
		s := sig{r.IDHash, r.Source, r.Name, r.Birth, r.Gender, r.PhoneHash, r.Place}
		i, ok := first[s]
		if !ok {
			first[s] = len(folded)
			folded = append(folded, r)
			continue
		}
		f := &folded[i]
		f.Copies++
		if r.Updated.After(f.Updated) {
			f.Updated = r.Updated
		}
		if r.Key < f.Key {
			copyOf[f.Key], f.Key = r.Key, r.Key
		} else {
			copyOf[r.Key] = f.Key
		}
	}
	// A record folded into one that was later folded into a smaller key
	// follows it.
	for k, to := range copyOf {
		for copyOf[to] != "" {
			to = copyOf[to]
		}
		copyOf[k] = to
	}
	if len(copyOf) == 0 {
		t.Fatal("the small city has no records alike to fold")
	}
	full, err := resolve.Resolve(co.recs, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	small, err := resolve.Resolve(folded, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d records, %d folded into others", len(co.recs), len(copyOf))
	if full.Model.M != small.Model.M || full.Model.Pairs != small.Model.Pairs || full.Model.Prior != small.Model.Prior {
		t.Errorf("the model differs once records are folded:\nm %v\n  %v\npairs %d %d, prior %v %v", full.Model.M, small.Model.M,
			full.Model.Pairs, small.Model.Pairs, full.Model.Prior, small.Model.Prior)
	}
	// The clusters of the folded records, copies put back.
	clusterOf := map[string]int{}
	for c, members := range small.Clusters {
		for _, i := range members {
			clusterOf[small.Records[i].Key] = c
		}
	}
	differ := 0
	for _, members := range full.Clusters {
		want := -1
		for n, i := range members {
			k := full.Records[i].Key
			if to := copyOf[k]; to != "" {
				k = to
			}
			c, ok := clusterOf[k]
			if !ok {
				t.Fatalf("record %s is not resolved once folded", k)
			}
			if n == 0 {
				want = c
			} else if c != want {
				differ++
			}
		}
	}
	if differ > 0 || len(full.Clusters) != len(small.Clusters) {
		t.Errorf("%d clusters unfolded, %d folded; %d records apart from their cluster once folded", len(full.Clusters), len(small.Clusters), differ)
	}
}

// TestRetimedClusterKeepsItsAcceptedLink: two records nothing pairs (other
// names, phones and dwellings), accepted as one person by an analyst, are
// one cluster. When one of them is updated at its source and nothing else
// changes, Update answers that cluster as held, with the accepted link:
// the plan keeps their match as the analyst's (DECISION).
func TestRetimedClusterKeepsItsAcceptedLink(t *testing.T) {
	co := newCorpus(t, city.Small)
	recs := slices.Clone(co.recs)
	a := resolve.Record{Key: "test/REPORTER/a", Source: "city", Name: "欧阳明", PhoneHash: "aa01", Place: "b-test-1", Updated: time.Unix(1, 0)}
	b := resolve.Record{Key: "test/REPORTER/b", Source: "city", Name: "司马青", PhoneHash: "bb02", Place: "b-test-2", Updated: time.Unix(2, 0)}
	recs = append(recs, a, b)
	decisions := []resolve.Decision{{A: a.Key, B: b.Key, Accept: true}}
	x, r0, err := resolve.NewPersons(recs, decisions, resolve.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	accepted := func(r *resolve.Result) bool {
		return slices.ContainsFunc(r.Links, func(p resolve.Pair) bool { return p.A == a.Key && p.B == b.Key && p.Outcome == resolve.Accepted })
	}
	if !accepted(r0) {
		t.Fatal("the accepted pair is not linked")
	}
	a.Updated = time.Unix(3, 0)
	r, err := x.Update([]resolve.Record{a}, nil, decisions)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Clusters) != 1 || len(r.Records) != 2 || !accepted(r) || len(r.Fresh) != 0 || len(r.Gone) != 0 {
		t.Fatalf("answer to a record retimed: %d clusters, records %v, links %v, fresh %v, gone %v", len(r.Clusters), r.Records, r.Links, r.Fresh, r.Gone)
	}
	if !r.Records[0].Updated.Equal(a.Updated) {
		t.Errorf("the answer holds the record as it was: %v", r.Records[0])
	}
}

// TestQuietRecordAnsweredWhenItsGoldenRecordMoves: a record changed in its
// timestamp alone (quiet) has its cluster answered only when the new time
// moves a field of the cluster's golden record to another record; the
// time is held either way, so that the next answer takes it into account.
func TestQuietRecordAnsweredWhenItsGoldenRecordMoves(t *testing.T) {
	cfg := resolve.DefaultConfig()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := map[string]resolve.Record{}
	for _, r := range []resolve.Record{
		{Key: "gov/residents/1", Source: "gov", IDHash: "h1", Name: "陈伟", Birth: "19800101", PhoneHash: "p1", Updated: t0},
		{Key: "gov/workers/1", Source: "gov", IDHash: "h1", Name: "陈伟", PhoneHash: "p2", Updated: t0.Add(time.Hour)},
		{Key: "city/REPORTER/1", Source: "city", IDHash: "h1", Name: "陈伟", PhoneHash: "p3", Updated: t0.Add(2 * time.Hour)},
		{Key: "city/REPORTER/2", Source: "city", Name: "李明", PhoneHash: "p9", Updated: t0},
	} {
		recs[r.Key] = r
	}
	x, r0, err := resolve.NewPersons(slices.Collect(maps.Values(recs)), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(r0.Clusters) != 2 {
		t.Fatalf("%d clusters, want the ID's and the lone reporter's", len(r0.Clusters))
	}
	phone := func(r *resolve.Result) string {
		for c, members := range r.Clusters {
			if r.Records[members[0]].IDHash == "h1" {
				return r.Golden(c, cfg.Trust).Phone.Record
			}
		}
		return ""
	}
	if got := phone(r0); got != "gov/workers/1" {
		t.Fatalf("golden phone from %s, want the newest of the most trusted source", got)
	}
	for _, step := range []struct {
		what, key string
		at        time.Duration
		quiet     bool
		answered  bool
		phoneFrom string
	}{
		{"a less trusted record retimed newest", "city/REPORTER/1", 5 * time.Hour, true, false, "gov/workers/1"},
		{"a record alone retimed", "city/REPORTER/2", 5 * time.Hour, true, false, ""},
		{"a trusted record retimed past the other", "gov/residents/1", 3 * time.Hour, true, true, "gov/residents/1"},
		{"the record taken from retimed newer still", "gov/residents/1", 4 * time.Hour, true, false, "gov/residents/1"},
		{"the record taken from retimed behind the other", "gov/residents/1", 30 * time.Minute, true, true, "gov/workers/1"},
		{"a record retimed without being quiet", "city/REPORTER/2", 6 * time.Hour, false, true, ""},
	} {
		rec := recs[step.key]
		rec.Updated = t0.Add(step.at)
		recs[rec.Key] = rec
		r, err := x.UpdateQuiet([]resolve.Record{rec}, nil, nil, map[string]bool{rec.Key: step.quiet})
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.ContainsFunc(r.Records, func(a resolve.Record) bool { return a.Key == rec.Key }); got != step.answered {
			t.Fatalf("%s: answered %v, want %v", step.what, got, step.answered)
		}
		if step.answered && step.phoneFrom != "" {
			if got := phone(r); got != step.phoneFrom {
				t.Fatalf("%s: golden phone from %s, want %s", step.what, got, step.phoneFrom)
			}
		}
		snap := x.Snapshot()
		for i := range snap.Records {
			if k := snap.Records[i].Key; !snap.Records[i].Updated.Equal(recs[k].Updated) {
				t.Fatalf("%s: record %s held at %v, want %v", step.what, k, snap.Records[i].Updated, recs[k].Updated)
			}
		}
		if got := phone(snap); got != step.phoneFrom && step.phoneFrom != "" {
			t.Fatalf("%s: everything takes the golden phone from %s, want %s", step.what, got, step.phoneFrom)
		}
	}
}

// TestRecordsChecked: a resolution refuses a key given twice and copies of
// a record without a valid ID hash, naming the record.
func TestRecordsChecked(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := resolve.Record{Key: "gov/residents/1", Source: "gov", IDHash: "h1", Name: "陈伟", Updated: t0}
	b := resolve.Record{Key: "city/REPORTER/2", Source: "city", Name: "李明", PhoneHash: "p9", Updated: t0}
	copied := b
	copied.Copies = 2
	for _, c := range []struct {
		recs []resolve.Record
		want string
	}{
		{[]resolve.Record{a, b, a}, `record key "gov/residents/1" twice`},
		{[]resolve.Record{a, copied}, `record "city/REPORTER/2" has 2 copies`},
	} {
		_, _, err := resolve.NewPersons(c.recs, nil, resolve.DefaultConfig())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewPersons: %v, want an error naming %s", err, c.want)
		}
		x, _, err := resolve.NewPersons([]resolve.Record{a}, nil, resolve.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.Update(c.recs, nil, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Update: %v, want an error naming %s", err, c.want)
		}
	}
}
