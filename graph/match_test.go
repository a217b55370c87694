package graph_test

import (
	"testing"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/resolve"
)

// TestMatchDecisions: an analyst joins two reports the evidence keeps
// apart and splits two it joined; the incidents change at once, the
// decisions are audited and hold across a full regrouping; a viewer may
// not decide.
func TestMatchDecisions(t *testing.T) {
	st, ctx := stallReports(t)
	srv := graphtest.New(t, st)
	var ids struct{ C1, G1, C2 struct{ ID string } }
	srv.MustData(t, `{ c1: case(source: "citymgmt", sourceId: "c1") { id } g1: case(source: "governance", sourceId: "g1") { id }
		c2: case(source: "citymgmt", sourceId: "c2") { id } }`, nil, &ids)
	incidents := func() (c1, g1, c2 string) {
		var d struct {
			C1, G1, C2 struct{ Incident *struct{ ID string } }
		}
		srv.As(graphtest.Admin)
		srv.MustData(t, `{ c1: case(source: "citymgmt", sourceId: "c1") { incident { id } } g1: case(source: "governance", sourceId: "g1") { incident { id } }
			c2: case(source: "citymgmt", sourceId: "c2") { incident { id } } }`, nil, &d)
		id := func(x *struct{ ID string }) string {
			if x == nil {
				return ""
			}
			return x.ID
		}
		return id(d.C1.Incident), id(d.G1.Incident), id(d.C2.Incident)
	}
	if c1, g1, c2 := incidents(); c1 == "" || c1 != g1 || c2 != "" {
		t.Fatalf("before the decisions: c1 %q g1 %q c2 %q", c1, g1, c2)
	}
	const accept = `mutation($a: ID!, $b: ID!) { acceptMatch(a: $a, b: $b, note: "同一摊点") { a { sourceId } b { sourceId } accept note decidedBy } }`
	const reject = `mutation($a: ID!, $b: ID!) { rejectMatch(a: $a, b: $b, note: "门前另一摊点") { accept } }`
	srv.As(&auth.Principal{ID: "key:7", Role: auth.Viewer})
	if r := srv.Do(t, accept, map[string]any{"a": ids.C1.ID, "b": ids.C2.ID}); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
		t.Fatalf("a viewer decided: %+v", r)
	}
	analyst := &auth.Principal{ID: "key:8", Role: auth.Analyst}
	srv.As(analyst)
	var acc struct {
		AcceptMatch struct {
			A, B            struct{ SourceID string }
			Accept          bool
			Note, DecidedBy string
		}
	}
	srv.MustData(t, accept, map[string]any{"a": ids.C1.ID, "b": ids.C2.ID}, &acc)
	if d := acc.AcceptMatch; !d.Accept || d.A.SourceID != "c1" || d.B.SourceID != "c2" || d.Note != "同一摊点" || d.DecidedBy != "key:8" {
		t.Fatalf("decision %+v", d)
	}
	if c1, g1, c2 := incidents(); c1 == "" || c1 != c2 || g1 != c1 {
		t.Fatalf("after acceptMatch: c1 %q g1 %q c2 %q, want all three together", c1, g1, c2)
	}
	srv.As(analyst)
	var rej struct{ RejectMatch struct{ Accept bool } }
	srv.MustData(t, reject, map[string]any{"a": ids.G1.ID, "b": ids.C1.ID}, &rej)
	check := func(when string) {
		if c1, g1, c2 := incidents(); c1 == "" || c1 != c2 || g1 == c1 {
			t.Fatalf("%s: c1 %q g1 %q c2 %q, want c1 and c2 together and g1 apart", when, c1, g1, c2)
		}
	}
	check("after rejectMatch")
	if _, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	check("after a full regrouping")
	var audit struct {
		AuditLog struct {
			Edges []struct {
				Node struct {
					Principal, Action, Purpose string
					Subjects                   []string
				}
			}
		}
	}
	srv.As(graphtest.Admin)
	srv.MustData(t, `{ auditLog(first: 10) { edges { node { principal action purpose subjects } } } }`, nil, &audit)
	var actions []string
	for _, e := range audit.AuditLog.Edges {
		if e.Node.Principal == "key:8" {
			actions = append(actions, e.Node.Action)
		}
	}
	if len(actions) != 2 || actions[0] != "rejectMatch" || actions[1] != "acceptMatch" {
		t.Fatalf("audit log of the analyst: %v, want rejectMatch then acceptMatch (newest first)", actions)
	}
}
