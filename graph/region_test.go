package graph_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store/storetest"
)

// TestRegionCaseStatsMatchQueryStats checks the batched Region.caseStats of
// a drill-down against Query.caseStats of each region on its own: the same
// buckets for communities (region paths) and grids (the grid index), for
// every measure, for only some measures, and for a filter that leaves a
// region no cases.
func TestRegionCaseStatsMatchQueryStats(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(41))
	// A loader window far shorter than the time between the regions'
	// resolvers: the statements below must not depend on it.
	srv := graphtest.NewWith(t, graph.Config{Store: st, LoaderWait: 20 * time.Microsecond})
	for _, tc := range []struct {
		name, filter, groupBy, fields string
	}{
		{"by status, every measure", "", `[STATUS]`, `key { value } count open closed overdue avgHoursToClose`},
		{"by status, count only", "", `[STATUS]`, `key { value } count`},
		{"no dimension", "", `[]`, `key { value } count closed avgHoursToClose`},
		{"filter without cases", `status: [REJECTED]`, `[]`, `count open`},
		{"filter and two dimensions", `category: ["SJ05"]`, `[STATUS, CATEGORY]`, `key { value } count overdue`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d struct {
				Region struct {
					Children struct {
						Edges []struct {
							Node struct {
								ID        string
								CaseStats []bucketJSON
								Children  struct {
									Edges []struct {
										Node struct {
											ID        string
											CaseStats []bucketJSON
										}
									}
								}
							}
						}
					}
				}
			}
			stats := fmt.Sprintf(`caseStats(filter: {%s}, groupBy: %s) { %s }`, tc.filter, tc.groupBy, tc.fields)
			r := srv.MustData(t, fmt.Sprintf(`{ region(code: "420606001") { children { edges { node { id %s
				children { edges { node { id %s } } } } } } } }`, stats, stats), nil, &d)
			got := map[string][]bucketJSON{}
			for _, c := range d.Region.Children.Edges {
				got[c.Node.ID] = c.Node.CaseStats
				for _, g := range c.Node.Children.Edges {
					got[g.Node.ID] = g.Node.CaseStats
				}
			}
			if len(got) != 6 {
				t.Fatalf("got %d regions, want 2 communities and 4 grids", len(got))
			}
			// the region, the street's children, the communities' children,
			// per level the statistics (and the grid check) of all its
			// regions, and the category labels
			if r.Statements > 8 {
				t.Errorf("drill-down ran %d statements, want at most 8:\n%q", r.Statements, r.SQL)
			}
			for id, buckets := range got {
				var want struct{ CaseStats []bucketJSON }
				srv.MustData(t, fmt.Sprintf(`{ caseStats(filter: {region: %q, %s}, groupBy: %s) { %s } }`, id, tc.filter, tc.groupBy, tc.fields), nil, &want)
				if !sameBuckets(buckets, want.CaseStats) {
					a, _ := json.Marshal(buckets)
					b, _ := json.Marshal(want.CaseStats)
					t.Errorf("region %s: Region.caseStats %s, Query.caseStats %s", id, a, b)
				}
			}
		})
	}
}

func sameBuckets(a, b []bucketJSON) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if (x.AvgHoursToClose == nil) != (y.AvgHoursToClose == nil) ||
			x.AvgHoursToClose != nil && fmt.Sprintf("%.6f", *x.AvgHoursToClose) != fmt.Sprintf("%.6f", *y.AvgHoursToClose) {
			return false
		}
		x.AvgHoursToClose, y.AvgHoursToClose = nil, nil
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// TestRegionPagesCostStatementsByDepth checks that a page of regions with
// their cases, and a drill-down with statistics, run as many statements for
// one region as for every region, also when the arguments come in
// variables with defaults and the fields in fragments on Node (the
// prefetch of the page reads them as the resolvers do). Regions come from
// the server's region directory once it holds them, so what is left is
// the cases, the timelines and the statistics: one statement each.
func TestRegionPagesCostStatementsByDepth(t *testing.T) {
	srv, _ := newServer(t, 60)
	for _, tc := range []struct {
		name, query string
		max         int64
	}{
		{"grids with their cases", `query($n: Int) { regions(level: GRID, first: $n) { edges { node { code
			cases(first: 10) { edges { node { id title status reportedAt category { name } location { lat lng } } } } } } } }`, 1},
		{"street drill-down", `query($n: Int) { region(code: "420606001") { children(first: $n) { edges { node { code
			children(first: $n) { edges { node { code caseStats(groupBy: [STATUS]) { key { value label } count } } } } } } } } }`, 1},
		{"arguments in variables, defaults and fragments", `query($n: Int, $f: CaseFilter, $o: CaseOrder = {direction: DESC}, $g: [CaseDimension!]!) {
			regions(level: GRID, first: $n) { edges { node { ...onNode } } } }
			fragment onNode on Node { ... on Region { code cases(first: 5, filter: $f, orderBy: $o) { edges { node { ...c } } }
				caseStats(filter: $f, groupBy: $g) { count closed } } }
			fragment c on Node { id ... on Case { status grid { parent { code } } timeline { status } } }`, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var one, all json.RawMessage
			vars := func(n int) map[string]any {
				return map[string]any{"n": n, "f": map[string]any{"status": []string{"REPORTED", "CLOSED"}}, "g": []string{"TIER"}}
			}
			// The first request reads the reference tables the server
			// then holds.
			srv.MustData(t, tc.query, vars(1), &one)
			a := srv.MustData(t, tc.query, vars(1), &one)
			b := srv.MustData(t, tc.query, vars(30), &all)
			if a.Statements != b.Statements || b.Statements > tc.max {
				t.Fatalf("statements: %d for one region, %d for all; want equal and at most %d\n%q\n%q", a.Statements, b.Statements, tc.max, a.SQL, b.SQL)
			}
			if len(all) <= len(one) {
				t.Fatalf("the page of all regions is no larger than the page of one: %s", all)
			}
		})
	}
}
