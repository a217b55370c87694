package graph_test

import (
	"fmt"
	"testing"
)

type bucketJSON struct {
	Key []struct {
		Dimension    string
		Value, Label *string
	}
	Count, Open, Closed, Overdue int
	AvgHoursToClose              *float64
}

func TestCaseStatsAddUp(t *testing.T) {
	srv, _ := newServer(t, 120)
	groupings := [][]string{{}, {"STATUS"}, {"GRID"}, {"COMMUNITY", "STATUS"}, {"CATEGORY_MAJOR", "CATEGORY"},
		{"DISTRICT", "STREET", "DAY"}, {"SOURCE", "KIND", "TIER", "MONTH"}, {"WEEK"}}
	filters := []string{`{}`, `{status: [CLOSED]}`, `{category: ["SJ05"], overdue: false}`}
	for _, g := range groupings {
		for _, f := range filters {
			t.Run(fmt.Sprintf("%v %s", g, f), func(t *testing.T) {
				var d struct {
					CaseStats []bucketJSON
					Cases     struct{ TotalCount int }
				}
				dims := "["
				for _, x := range g {
					dims += x + " "
				}
				dims += "]"
				srv.MustData(t, fmt.Sprintf(`{ caseStats(filter: %s, groupBy: %s) { key { dimension value label } count open closed overdue avgHoursToClose }
					cases(filter: %s) { totalCount } }`, f, dims, f), nil, &d)
				sum := 0
				for _, b := range d.CaseStats {
					sum += b.Count
					if len(b.Key) != len(g) || b.Open+b.Closed > b.Count {
						t.Fatalf("bucket %+v", b)
					}
				}
				if sum != d.Cases.TotalCount {
					t.Fatalf("buckets add up to %d, totalCount %d", sum, d.Cases.TotalCount)
				}
			})
		}
	}
}

func TestCaseStatsLabels(t *testing.T) {
	srv, _ := newServer(t, 40)
	var d struct{ CaseStats []bucketJSON }
	srv.MustData(t, `{ caseStats(groupBy: [COMMUNITY, STATUS, CATEGORY_MAJOR]) { key { dimension value label } count closed avgHoursToClose } }`, nil, &d)
	seen := map[string]bool{}
	for _, b := range d.CaseStats {
		seen[*b.Key[0].Value+"/"+*b.Key[0].Label+"/"+*b.Key[1].Label+"/"+*b.Key[2].Label] = true
		if *b.Key[1].Value == "CLOSED" && (b.AvgHoursToClose == nil || *b.AvgHoursToClose != 2) {
			t.Fatalf("closed bucket avg hours = %v, want 2", b.AvgHoursToClose)
		}
	}
	for _, want := range []string{"420606001001/长虹社区/结案/街面秩序", "420606001002/新华社区/派遣/宣传广告"} {
		if !seen[want] {
			t.Errorf("missing bucket %s in %v", want, seen)
		}
	}
	r := srv.Do(t, `{ caseStats(groupBy: [STATUS, STATUS]) { count } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("repeated dimension: %+v", r.Errors)
	}
	r = srv.Do(t, `{ caseStats(groupBy: [STATUS, TIER, KIND, DAY, GRID]) { count } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("five dimensions: %+v", r.Errors)
	}
}
