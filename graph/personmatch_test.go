package graph_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestPersonMatchDecisions: a hotline reporter known by name and phone
// only is a person of its own; an analyst accepts it as 张三's resident
// record, so it joins 张三 (whose ID stays the survivor's, the reporter's
// person ID now naming 张三), with the accepted link as evidence and an
// audited decision; a rejection splits it off again with a history; the
// review queue shows the pairs resolution left for a decision; a viewer
// may neither read the queue nor decide.
func TestPersonMatchDecisions(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st, dsn := dbtest.NewStoreDSN(t)
	storetest.SeedRegions(t, st)
	repKey, _ := storetest.SeedHotlineZhang(t, st)
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	// The two reporters are told apart by nothing but the pair a decision
	// names: a rejection first, so that the resolution cannot link them
	// whatever the few records weigh.
	resKey := "governance/RESIDENT/R1"
	if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchPerson, A: repKey, B: resKey, DecidedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := resolve.ResolvePersons(ctx, st, nil, cfg); err != nil {
		t.Fatal(err)
	}
	srv := graphtest.New(t, st)
	type rec struct{ ID, Key, MatchedBy string }
	type person struct {
		ID            string
		SourceRecords []rec
		MatchEvidence []struct {
			A, B    rec
			Outcome string
			Total   float64
			Fields  []struct{ Field, Level string }
		}
	}
	var ppl struct {
		People struct{ Edges []struct{ Node person } }
	}
	load := func() map[string]person {
		srv.As(graphtest.Admin)
		srv.MustData(t, `{ people(filter: {namePrefix: "张"}) { edges { node { id sourceRecords { id key matchedBy }
			matchEvidence { a { key } b { key } outcome total fields { field level } } } } } }`, nil, &ppl)
		out := map[string]person{}
		for _, e := range ppl.People.Edges {
			for _, r := range e.Node.SourceRecords {
				out[r.Key] = e.Node
			}
		}
		return out
	}
	byKey := load()
	if len(ppl.People.Edges) != 2 || byKey[repKey].ID == byKey[resKey].ID {
		t.Fatalf("the rejected reporter is not a person of its own: %+v", ppl.People.Edges)
	}
	reporterPerson := byKey[repKey].ID
	idOf := func(key string) string {
		for _, r := range byKey[key].SourceRecords {
			if r.Key == key {
				return r.ID
			}
		}
		t.Fatalf("no record %s", key)
		return ""
	}
	repID, resID := idOf(repKey), idOf(resKey)

	const accept = `mutation($a: ID!, $b: ID!) { acceptMatch(a: $a, b: $b, note: "来电人即户主") { kind a { id } recordA { key } recordB { key } accept decidedBy } }`
	srv.As(&auth.Principal{ID: "key:7", Role: auth.Viewer})
	if r := srv.Do(t, accept, map[string]any{"a": repID, "b": resID}); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
		t.Fatalf("a viewer decided: %+v", r)
	}
	if r := srv.Do(t, `{ matchReview { outcome } }`, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
		t.Fatalf("a viewer read the review queue: %+v", r)
	}
	analyst := &auth.Principal{ID: "key:8", Role: auth.Analyst}
	srv.As(analyst)
	var acc struct {
		AcceptMatch struct {
			Kind             string
			A                *struct{ ID string }
			RecordA, RecordB struct{ Key string }
			Accept           bool
			DecidedBy        string
		}
	}
	srv.MustData(t, accept, map[string]any{"a": repID, "b": resID}, &acc)
	if d := acc.AcceptMatch; d.Kind != "PERSON" || d.A != nil || !d.Accept || d.DecidedBy != "key:8" ||
		!((d.RecordA.Key == repKey && d.RecordB.Key == resKey) || (d.RecordA.Key == resKey && d.RecordB.Key == repKey)) {
		t.Fatalf("decision %+v", d)
	}
	byKey = load()
	z := byKey[resKey]
	if len(ppl.People.Edges) != 1 || byKey[repKey].ID != z.ID {
		t.Fatalf("after acceptMatch the reporter is not 张三: %+v", ppl.People.Edges)
	}
	matched := ""
	for _, r := range z.SourceRecords {
		if r.Key == repKey {
			matched = r.MatchedBy
		}
	}
	ev := z.MatchEvidence
	if matched != "DECISION" || len(ev) != 1 || ev[0].Outcome != "ACCEPTED" {
		t.Fatalf("after acceptMatch: reporter matched by %q, evidence %+v", matched, ev)
	}
	// The reporter's own person ID names 张三 now.
	var node struct{ Node struct{ ID string } }
	srv.As(graphtest.Admin)
	srv.MustData(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": reporterPerson}, &node)
	if node.Node.ID != z.ID {
		t.Fatalf("node(%s) = %s, want the survivor %s", reporterPerson, node.Node.ID, z.ID)
	}

	srv.As(analyst)
	var rej struct{ RejectMatch struct{ Accept bool } }
	srv.MustData(t, `mutation($a: ID!, $b: ID!) { rejectMatch(a: $a, b: $b) { accept } }`, map[string]any{"a": resID, "b": repID}, &rej)
	byKey = load()
	// The split gives the reporter a new person, split from 张三; the
	// person made for the reporter's record follows it, and names it.
	split := byKey[repKey].ID
	if split == reporterPerson || split == z.ID || byKey[resKey].ID != z.ID {
		t.Fatalf("after rejectMatch: reporter %s (want a new person), resident %s (want %s)", split, byKey[resKey].ID, z.ID)
	}
	srv.As(graphtest.Admin)
	srv.MustData(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": reporterPerson}, &node)
	if node.Node.ID != split {
		t.Fatalf("node(%s) = %s after the split, want the reporter's new person %s", reporterPerson, node.Node.ID, split)
	}
	pool := dbtest.Pool(t, dsn)
	num := func(id string) int64 {
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(string(b), "Person:"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var history []string
	rows, err := pool.Query(ctx, `SELECT person_id || ' ' || kind || ' ' || other_id FROM person_history ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		history = append(history, h)
	}
	own, zz, nw := num(reporterPerson), num(z.ID), num(split)
	if want := []string{fmt.Sprint(own, " MERGED ", zz), fmt.Sprint(nw, " SPLIT ", zz), fmt.Sprint(own, " MERGED ", nw)}; !slices.Equal(history, want) {
		t.Fatalf("history %q, want %q", history, want)
	}
	var audited int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('acceptMatch', 'rejectMatch') AND $1 = ANY(subjects)`, repKey).Scan(&audited); err != nil || audited != 2 {
		t.Fatalf("%d audited decisions on the reporter, %v", audited, err)
	}

	// The review queue: the pairs the last resolution left between the
	// thresholds.
	if _, err := pool.Exec(ctx, `INSERT INTO person_match (record_a, record_b, outcome, total, fields)
		VALUES ('governance/RESIDENT/R1', 'governance/RESIDENT/R2', 'REVIEW', 0.5, '[{"field":"name","level":"PINYIN","weight":3.5}]')`); err != nil {
		t.Fatal(err)
	}
	var q struct {
		MatchReview []struct {
			A, B    rec
			Outcome string
			Total   float64
			Fields  []struct {
				Field, Level string
				Weight       float64
			}
		}
	}
	srv.As(analyst)
	srv.MustData(t, `{ matchReview(first: 10) { a { key } b { key } outcome total fields { field level weight } } }`, nil, &q)
	if len(q.MatchReview) != 1 || q.MatchReview[0].B.Key != "governance/RESIDENT/R2" || q.MatchReview[0].Fields[0].Weight != 3.5 {
		t.Fatalf("review queue %+v", q.MatchReview)
	}
	// Analysts see the whole city; a read under a jurisdiction sees the
	// pairs both of whose persons are within it. R1 lives in community
	// 420606001001, R2 in 420606001002, both in the street 420606001.
	for _, c := range []struct {
		region string
		pairs  int
	}{{"420606001001", 0}, {"420606001002", 0}, {"420606001", 1}} {
		got, err := st.PersonReview(store.WithScope(context.Background(), store.Scope{RegionCode: c.region}), 10)
		if err != nil || len(got) != c.pairs {
			t.Errorf("under the jurisdiction %s: %d review pairs, want %d (%v)", c.region, len(got), c.pairs, err)
		}
	}
}
