package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestDecisionsOnAReplicaThatDoesNotResolve: on a replica without the
// resolution lease, an analyst's decision on two cases regroups their
// incidents at once without the replica's regrouper (which holds nothing
// current there: it is left as it was), and one on two person records is
// stored and left to the replica that resolves, whose next run applies it.
func TestDecisionsOnAReplicaThatDoesNotResolve(t *testing.T) {
	notResolving := func(context.Context) bool { return false }
	analyst := &auth.Principal{ID: "key:8", Role: auth.Analyst}

	t.Run("incidents", func(t *testing.T) {
		st, ctx := stallReports(t)
		// The replica that resolves has regrouped every case already.
		holder := resolve.NewIncidentRegrouper(st, resolve.DefaultIncidentConfig())
		if res, err := holder.Run(ctx); err != nil || !res.Full {
			t.Fatalf("the resolving replica's first run: %+v, %v", res, err)
		}
		regrouper := resolve.NewIncidentRegrouper(st, resolve.DefaultIncidentConfig())
		srv := graphtest.NewWith(t, graph.Config{Store: st, Incidents: regrouper, Resolving: notResolving})
		var ids struct{ C1, C2 struct{ ID string } }
		srv.MustData(t, `{ c1: case(source: "citymgmt", sourceId: "c1") { id } c2: case(source: "citymgmt", sourceId: "c2") { id } }`, nil, &ids)
		srv.As(analyst)
		var acc struct{ AcceptMatch struct{ Accept bool } }
		srv.MustData(t, `mutation($a: ID!, $b: ID!) { acceptMatch(a: $a, b: $b) { accept } }`, map[string]any{"a": ids.C1.ID, "b": ids.C2.ID}, &acc)
		var d struct {
			C1, C2 struct{ Incident *struct{ ID string } }
		}
		srv.As(graphtest.Admin)
		srv.MustData(t, `{ c1: case(source: "citymgmt", sourceId: "c1") { incident { id } } c2: case(source: "citymgmt", sourceId: "c2") { incident { id } } }`, nil, &d)
		if d.C1.Incident == nil || d.C2.Incident == nil || d.C1.Incident.ID != d.C2.Incident.ID {
			t.Fatalf("after acceptMatch on a replica that does not resolve: %+v, want c1 and c2 in one incident", d)
		}
		// The resolving replica goes on incrementally: the decision queued
		// its two cases, and the regrouping beside it left what that
		// replica holds current. Its run keeps c1 and c2 together, and a
		// regrouping from scratch finds nothing to change.
		if res, err := holder.Run(ctx); err != nil || res.Full || res.Changed != 2 {
			t.Fatalf("the resolving replica's run after the decision: %+v, %v; want the two cases regrouped incrementally", res, err)
		}
		srv.MustData(t, `{ c1: case(source: "citymgmt", sourceId: "c1") { incident { id } } c2: case(source: "citymgmt", sourceId: "c2") { incident { id } } }`, nil, &d)
		if d.C1.Incident == nil || d.C2.Incident == nil || d.C1.Incident.ID != d.C2.Incident.ID {
			t.Fatalf("after the resolving replica's run: %+v, want c1 and c2 still in one incident", d)
		}
		if w, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), time.Time{}); err != nil || w.IncidentWrite != (store.IncidentWrite{}) {
			t.Fatalf("a regrouping from scratch afterwards wrote %+v, %v; want nothing", w.IncidentWrite, err)
		}
		// The replica's own regrouper was not run: its first run regroups
		// everything.
		if res, err := regrouper.Run(ctx); err != nil || !res.Full {
			t.Fatalf("the replica's regrouper after the decision: %+v, %v; want its first run", res, err)
		}
	})

	t.Run("persons", func(t *testing.T) {
		ctx := store.Unscoped(context.Background())
		st := dbtest.NewStore(t)
		storetest.SeedRegions(t, st)
		zhangReporter, _ := storetest.SeedHotlineZhang(t, st)
		const zhangResident = "governance/RESIDENT/R1"
		// Told apart by a rejection first, which the analyst's acceptance
		// replaces (as in TestPersonMatchDecisions).
		if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchPerson, A: zhangReporter, B: zhangResident, DecidedBy: "test"}); err != nil {
			t.Fatal(err)
		}
		cfg := resolve.DefaultConfig()
		cfg.Trust = resolve.PersonTrust
		resolver := resolve.NewPersonResolver(st, cfg)
		if res, err := resolver.Run(ctx, nil); err != nil || !res.Full {
			t.Fatalf("first run: %+v, %v", res, err)
		}
		srv := graphtest.NewWith(t, graph.Config{Store: st, Persons: resolver, Resolving: notResolving})
		var recs struct {
			People struct {
				Edges []struct {
					Node struct {
						ID            string
						SourceRecords []struct{ ID, Key string }
					}
				}
			}
		}
		persons := func() map[string]string {
			t.Helper()
			srv.As(graphtest.Admin)
			srv.MustData(t, `{ people(filter: {namePrefix: "张"}) { edges { node { id sourceRecords { id key } } } } }`, nil, &recs)
			out := map[string]string{}
			for _, e := range recs.People.Edges {
				for _, r := range e.Node.SourceRecords {
					out[r.Key] = e.Node.ID
				}
			}
			return out
		}
		recordID := func(key string) string {
			for _, e := range recs.People.Edges {
				for _, r := range e.Node.SourceRecords {
					if r.Key == key {
						return r.ID
					}
				}
			}
			t.Fatalf("no record %s", key)
			return ""
		}
		before := persons()
		if before[zhangReporter] == before[zhangResident] {
			t.Fatalf("the reporter is 张三 before any decision: %v", before)
		}
		srv.As(analyst)
		var acc struct{ AcceptMatch struct{ Accept bool } }
		srv.MustData(t, `mutation($a: ID!, $b: ID!) { acceptMatch(a: $a, b: $b) { accept } }`,
			map[string]any{"a": recordID(zhangReporter), "b": recordID(zhangResident)}, &acc)
		if now := persons(); now[zhangReporter] == now[zhangResident] {
			t.Fatalf("the decision was applied by a replica that does not resolve: %v", now)
		}
		// The replica that resolves, after its next pass.
		if res, err := resolver.Run(ctx, nil); err != nil || res.Full {
			t.Fatalf("the resolving replica's run: %+v, %v", res, err)
		}
		if now := persons(); now[zhangReporter] != now[zhangResident] {
			t.Fatalf("after the resolving replica's run the reporter is not 张三: %v", now)
		}
	})
}
