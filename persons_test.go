package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
)

// personKey is the hub's key of the source record a mention names
// ("source/ROLE/source_id"), "" for mentions no served system holds.
func personKey(m city.Mention) string {
	switch m.System + "/" + m.Entity {
	case "gov/residents":
		return "governance/RESIDENT/" + m.ID
	case "gov/workers":
		return "governance/GRID_WORKER/" + m.ID
	case "gov/events":
		return "governance/REPORTER/" + m.ID
	case "party/t_dy":
		return "party/PARTY_MEMBER/" + m.ID
	case "city/requests":
		return "citymgmt/REPORTER/" + m.ID
	}
	return ""
}

// personQuality measures the hub's persons against the simulator's truth
// over record pairs: precision, recall, the share of true pairs left apart
// whose persons a review pair connects, and persons holding two valid IDs.
type personQuality struct {
	records, unknown                                int
	truePairs, predPairs, correct, inReview, twoIDs int
}

func (q personQuality) precision() float64 { return float64(q.correct) / float64(max(q.predPairs, 1)) }
func (q personQuality) recall() float64    { return float64(q.correct) / float64(max(q.truePairs, 1)) }
func (q personQuality) review() float64    { return float64(q.inReview) / float64(max(q.truePairs, 1)) }

func measurePersons(t *testing.T, st *store.Store, truth map[string]string) personQuality {
	t.Helper()
	ctx := store.Unscoped(context.Background())
	links, err := st.PersonLinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	person := map[string]int64{}
	q := personQuality{records: len(links)}
	byTrue := map[string][]int64{}
	members := map[int64][]string{}
	ids := map[int64]map[string]bool{}
	for _, l := range links {
		person[l.Key] = l.PersonID
		if len(l.IDHash) > 0 {
			if ids[l.PersonID] == nil {
				ids[l.PersonID] = map[string]bool{}
			}
			ids[l.PersonID][string(l.IDHash)] = true
		}
		tp, ok := truth[l.Key]
		if !ok {
			q.unknown++
			continue
		}
		byTrue[tp] = append(byTrue[tp], l.PersonID)
		members[l.PersonID] = append(members[l.PersonID], tp)
	}
	for _, s := range ids {
		if len(s) > 1 {
			q.twoIDs++
		}
	}
	review := map[[2]int64]bool{}
	rows, err := st.Pool().Query(ctx, `SELECT record_a, record_b FROM person_match WHERE outcome = 'REVIEW'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		pa, pb := person[a], person[b]
		review[[2]int64{min(pa, pb), max(pa, pb)}] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, ps := range byTrue {
		for x := range ps {
			for y := x + 1; y < len(ps); y++ {
				q.truePairs++
				if a, b := ps[x], ps[y]; a != b && review[[2]int64{min(a, b), max(a, b)}] {
					q.inReview++
				}
			}
		}
	}
	for _, tps := range members {
		k := len(tps)
		q.predPairs += k * (k - 1) / 2
		n := map[string]int{}
		for _, tp := range tps {
			n[tp]++
		}
		for _, c := range n {
			q.correct += c * (c - 1) / 2
		}
	}
	return q
}

// TestSyncResolvesPersons: `hub sync` of the demo city through the real
// connectors resolves its person records — residents, grid workers, party
// members, governance reporters, and the 12345 hotline and public
// reporters the city-management system names only by name and phone —
// into persons that meet the targets against the simulator's truth
// (City.PersonMentions): precision ≥ 0.995, recall ≥ 0.98, ≤ 1% of true
// pairs in review, no person with two valid IDs. A review decision that
// rejects a link splits the person and holds across `hub sync --full`;
// the merged person's ID keeps naming the survivor.
func TestSyncResolvesPersons(t *testing.T) {
	t.Parallel()
	ctx := store.Unscoped(context.Background())
	st, sync := syncDemo(t, bytes.Repeat([]byte{0xcd}, 32))
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]string{}
	for _, m := range c.PersonMentions() {
		if k := personKey(m); k != "" {
			truth[k] = m.Person
		}
	}
	// The mentions leave out governance events grid workers reported:
	// their reporter is the worker's person.
	for i, ev := range c.GovEvents {
		if k := "governance/REPORTER/" + c.SourceID(city.GovEvents, i); ev.Person >= 0 && truth[k] == "" {
			truth[k] = fmt.Sprintf("P%07d", ev.Person+1)
		}
	}
	q := measurePersons(t, st, truth)
	t.Logf("%d records (%d without truth): true pairs %d, predicted %d, correct %d: precision %.4f recall %.4f in review %.4f, persons with two IDs %d",
		q.records, q.unknown, q.truePairs, q.predPairs, q.correct, q.precision(), q.recall(), q.review(), q.twoIDs)
	if q.unknown > 0 || q.precision() < 0.995 || q.recall() < 0.98 || q.review() > 0.01 || q.twoIDs != 0 {
		t.Errorf("below target (every record known to the truth, precision ≥ 0.995, recall ≥ 0.98, review ≤ 0.01, no two valid IDs in a person)")
	}

	// Incremental: a resolver holding its state resolves only the records
	// that changed, and answers what a full resolution of everything does.
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	held := resolve.NewPersonResolver(st, cfg)
	if r, err := held.Run(ctx, nil); err != nil || !r.Full {
		t.Fatalf("first run: %+v, %v", r, err)
	}
	// Phones typed otherwise, names typed in traditional characters,
	// records removed; an INSERT puts one back under a new key.
	if _, err := st.Pool().Exec(ctx, `CREATE TABLE phone_before AS SELECT id, phone_hash FROM person_link
		WHERE phone_hash IS NOT NULL AND role = 'REPORTER' ORDER BY id LIMIT 20`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE person_link SET phone_hash = sha256(phone_hash)
		WHERE id IN (SELECT id FROM phone_before)`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE person_link SET name = translate(name, '张刘陈杨赵黄吴', '張劉陳楊趙黃吳')
		WHERE id IN (SELECT id FROM person_link WHERE role = 'RESIDENT' AND name ~ '[张刘陈杨赵黄吴]' ORDER BY id LIMIT 20)`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `WITH gone AS (DELETE FROM person_link WHERE id IN (
			SELECT id FROM person_link WHERE role = 'REPORTER' ORDER BY id DESC LIMIT 10) RETURNING *)
		INSERT INTO person_link (person_id, role, matched_by, name, phone_hash, id_hash, gender, birth_date, address,
			source, source_id, source_updated_at, fetched_at, payload_hash)
		SELECT person_id, role, 'NONE', name, phone_hash, id_hash, gender, birth_date, address,
			source, source_id || '-again', source_updated_at, fetched_at, payload_hash FROM gone LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	inc, err := held.Run(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("incremental run: %d records changed, %d resolved again of %d, in %s: %+v", inc.Changed, inc.Records, q.records, inc.Resolved, inc.PersonsApplied)
	if inc.Full || inc.Changed != 51 || inc.Records == 0 || inc.Records > q.records/4 {
		t.Fatalf("incremental run: full %v, %d records changed (want 51), %d resolved again", inc.Full, inc.Changed, inc.Records)
	}
	standsForMerged(t, st, "after the incremental run")
	// The phones typed back: the reporters split off by the run before
	// join their persons again, from where that run put them.
	if _, err := st.Pool().Exec(ctx, `UPDATE person_link l SET phone_hash = b.phone_hash FROM phone_before b WHERE l.id = b.id`); err != nil {
		t.Fatal(err)
	}
	back, err := held.Run(ctx, nil)
	if err != nil || back.Full || back.Changed != 20 {
		t.Fatalf("the phones typed back: %+v, %v", back, err)
	}
	t.Logf("the phones typed back: %d records resolved again: %+v", back.Records, back.PersonsApplied)
	standsForMerged(t, st, "after the phones were typed back")
	if again, err := held.Run(ctx, nil); err != nil || again.Full || again.Changed != 0 || again.Records != 0 {
		t.Fatalf("a run with nothing changed: %+v, %v", again, err)
	}
	before := personsByKey(t, st)
	full, err := resolve.ResolvePersons(ctx, st, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	after := personsByKey(t, st)
	moved := 0
	for k, p := range after {
		if before[k] != p {
			moved++
		}
	}
	standsForMerged(t, st, "after a full resolution")
	t.Logf("a full resolution after it moved %d of %d records: %+v", moved, len(after), full.PersonsApplied)
	if len(after) != len(before) || moved > len(after)/1000 {
		t.Errorf("a full resolution moved %d of %d records the incremental run had placed", moved, len(after))
	}
	if full.Golden != 0 {
		t.Errorf("a full resolution wrote %d golden records the incremental runs had left otherwise", full.Golden)
	}

	// A probabilistic link of a hotline reporter, rejected: the reporter
	// gets a person of its own again, with the history of the split.
	var a, b string
	err = st.Pool().QueryRow(ctx, `SELECT record_a, record_b FROM person_match
		WHERE outcome = 'LINKED' AND (record_a LIKE 'citymgmt/REPORTER/%' OR record_b LIKE 'citymgmt/REPORTER/%')
		ORDER BY total LIMIT 1`).Scan(&a, &b)
	if err != nil {
		t.Fatal(err)
	}
	rep := a
	if !strings.HasPrefix(rep, "citymgmt/REPORTER/") {
		rep = b
	}
	var merged, survivor int64
	if err := st.Pool().QueryRow(ctx, `SELECT p.id, p.merged_into FROM person p WHERE p.record_key = $1`, rep).Scan(&merged, &survivor); err != nil {
		t.Fatalf("the linked reporter %s has no merged person: %v", rep, err)
	}
	ppl, err := st.PeopleByID(ctx, []int64{survivor})
	if err != nil || len(ppl) != 1 || ppl[0] == nil {
		t.Fatalf("survivor %d: %v %v", survivor, ppl, err)
	}
	if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchPerson, A: a, B: b, DecidedBy: "key:1"}); err != nil {
		t.Fatal(err)
	}
	out := sync("--full")
	i := strings.Index(out, "persons: ")
	if i < 0 {
		t.Fatalf("hub sync prints no resolution:\n%s", out)
	}
	t.Logf("after the decision, hub sync --full: %s", strings.TrimSpace(out[i:]))
	var pa, pb int64
	if err := st.Pool().QueryRow(ctx, `SELECT
			(SELECT person_id FROM person_link WHERE source || '/' || role || '/' || source_id = $1),
			(SELECT person_id FROM person_link WHERE source || '/' || role || '/' || source_id = $2)`, a, b).Scan(&pa, &pb); err != nil {
		t.Fatal(err)
	}
	if pa == pb {
		t.Fatalf("the rejected pair %s %s is one person (%d) after sync --full:\n%s", a, b, pa, out)
	}
	var splits int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM person_history WHERE kind = 'SPLIT' AND other_id = $1`, survivor).Scan(&splits); err != nil || splits == 0 {
		t.Fatalf("no split from %d in the history: %d, %v", survivor, splits, err)
	}
	standsForMerged(t, st, "after the decision and sync --full")
	q = measurePersons(t, st, truth)
	if q.precision() < 0.995 || q.recall() < 0.98 || q.twoIDs != 0 {
		t.Errorf("after the decision and sync --full: precision %.4f recall %.4f, two IDs %d", q.precision(), q.recall(), q.twoIDs)
	}
}

// personsByKey is the person of every person record, by key.
func personsByKey(t *testing.T, st *store.Store) map[string]int64 {
	t.Helper()
	links, err := st.PersonLinks(store.Unscoped(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]int64, len(links))
	for _, l := range links {
		m[l.Key] = l.PersonID
	}
	return m
}

// standsForMerged fails the test when a person record stands for a person
// merged into another: every record's person is its cluster's survivor.
func standsForMerged(t *testing.T, st *store.Store, when string) {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(store.Unscoped(context.Background()), `SELECT count(*) FROM person_link l
		JOIN person p ON p.id = l.person_id WHERE p.merged_into IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%s: %d person records stand for a merged person", when, n)
	}
}

// TestSyncLeavesResolutionToARunningHub: `hub sync` beside a hub that
// holds the resolution lease links addresses to buildings but leaves
// incidents and persons to that hub: what it queued stays queued and
// neither resolution epoch moves. Alone, it resolves them.
func TestSyncLeavesResolutionToARunningHub(t *testing.T) {
	t.Parallel()
	ctx := store.Unscoped(context.Background())
	st, sync := syncDemo(t, bytes.Repeat([]byte{0xab}, 32))
	state := func() (queued int, persons, incidents int64) {
		t.Helper()
		pq, err := st.PersonResolveQueue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		iq, err := st.IncidentRegroupQueue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(pq.Keys), pq.Epoch, iq.Epoch
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE person_link SET phone_hash = sha256(coalesce(phone_hash, 'x'))
		WHERE id = (SELECT min(id) FROM person_link WHERE role = 'REPORTER')`); err != nil {
		t.Fatal(err)
	}
	queued, persons, incidents := state()
	if queued != 1 {
		t.Fatalf("%d records queued, want the one changed", queued)
	}
	hub, err := st.TryResolutionLease(ctx)
	if err != nil || hub == nil {
		t.Fatalf("the running hub's lease: %v, %v", hub, err)
	}
	out := sync()
	if !strings.Contains(out, "building links:") || !strings.Contains(out, "left to the running hub") || strings.Contains(out, "\npersons: ") {
		t.Fatalf("hub sync beside a hub that resolves:\n%s", out)
	}
	if q, p, i := state(); q != queued || p != persons || i != incidents {
		t.Fatalf("after hub sync beside a hub that resolves: %d queued, epochs %d and %d; want %d, %d and %d", q, p, i, queued, persons, incidents)
	}
	hub.Release()
	out = sync()
	if !strings.Contains(out, "\npersons: ") || !strings.Contains(out, "\nincidents: ") {
		t.Fatalf("hub sync alone:\n%s", out)
	}
	if q, p, _ := state(); q != 0 || p == persons {
		t.Fatalf("after hub sync alone: %d queued, person epoch %d (was %d); want the queue taken", q, p, persons)
	}
}
