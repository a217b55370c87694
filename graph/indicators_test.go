package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store"
)

type indicatorsJSON struct {
	Reported, Filed, DueForClosing, Closed, ClosedOnTime, OverdueUndisposed int
	ClosingRate, OnTimeClosingRate                                          *float64
	Score, AvgWorkHoursToClose                                              *float64
}

// The fixture: 120 cases from 2026-10-01 09:00 one hour apart over four
// grids, each due 24 hours after its report; every second one closed two
// hours after it (its timeline lags: the status decides).
func TestCaseIndicatorsAgreeWithCaseStats(t *testing.T) {
	srv, _ := newServer(t, 120)
	var d struct {
		CaseIndicators []struct {
			Key        []struct{ Value, Label *string }
			Indicators indicatorsJSON
			Rank       *int
		}
		CaseStats []struct{ Count, Closed int }
	}
	srv.MustData(t, `{
		caseIndicators(groupBy: [], asOf: "2026-12-01T00:00:00+08:00") { key { value } indicators { reported filed dueForClosing closed closedOnTime overdueUndisposed closingRate onTimeClosingRate score avgWorkHoursToClose } }
		caseStats(groupBy: []) { count closed } }`, nil, &d)
	x, s := d.CaseIndicators[0].Indicators, d.CaseStats[0]
	// Every case was dispatched; the open ones are all past their deadline.
	if x.Reported != s.Count || x.Closed != s.Closed || x.Filed != 120 || x.DueForClosing != 120 ||
		x.ClosedOnTime != 60 || x.OverdueUndisposed != 60 || x.ClosingRate == nil || *x.ClosingRate != 0.5 {
		t.Fatalf("indicators %+v, stats %+v", x, s)
	}
	// Closed two hours after the report: at most two working hours each.
	if x.AvgWorkHoursToClose == nil || *x.AvgWorkHoursToClose <= 0 || *x.AvgWorkHoursToClose > 2 {
		t.Errorf("avgWorkHoursToClose = %v", x.AvgWorkHoursToClose)
	}
	// 0.5×50 + 0.5×30 + (1−0)×10 + (1−0)×10
	if x.Score == nil || *x.Score != 60 {
		t.Errorf("score = %v, want 60", x.Score)
	}

	// Ranked by grid: all equal scores, so ranks 1..4 in key order.
	srv.MustData(t, `{ caseIndicators(groupBy: [GRID], asOf: "2026-12-01T00:00:00+08:00", rankBy: "GRID_GOV") { key { value label } indicators { reported } rank } }`, nil, &d)
	if len(d.CaseIndicators) != 4 || d.CaseIndicators[0].Rank == nil || *d.CaseIndicators[3].Rank != 4 ||
		*d.CaseIndicators[0].Key[0].Label != "第一网格" {
		t.Fatalf("ranked grids: %+v", d.CaseIndicators)
	}

	r := srv.Do(t, `{ caseIndicators(groupBy: [], rankBy: "NO_SUCH") { rank } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("unknown preset: %+v", r.Errors)
	}
	r = srv.Do(t, `{ caseIndicators(groupBy: []) { indicators { score(preset: "CITY_MGMT", weights: []) } } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("preset and weights: %+v", r.Errors)
	}
}

func TestRegionIndicatorsPeriodsAndMap(t *testing.T) {
	srv, _ := newServer(t, 120)
	var d struct {
		Region struct {
			Indicators struct {
				Period, PreviousPeriod struct{ Label, From, To string }
				Current, Previous      indicatorsJSON
				Breakdown              []struct {
					Key        []struct{ Value, Label *string }
					Indicators indicatorsJSON
					Rank       *int
				}
			}
		}
	}
	srv.MustData(t, `{ region(code: "420606001") { indicators(period: MONTH, at: "2026-10-15T12:00:00+08:00", asOf: "2026-12-01T00:00:00+08:00") {
		period { label from to } previousPeriod { label from to }
		current { reported closed } previous { reported closed }
		breakdown(by: [COMMUNITY], rankBy: "CITY_MGMT") { key { value label } indicators { reported closed } rank } } } }`, nil, &d)
	ind := d.Region.Indicators
	if ind.Period.Label != "2026-10" || ind.PreviousPeriod.Label != "2026-09" || ind.Period.From != "2026-10-01T00:00:00+08:00" ||
		ind.Period.To != "2026-11-01T00:00:00+08:00" {
		t.Fatalf("periods %+v %+v", ind.Period, ind.PreviousPeriod)
	}
	if ind.Current.Reported != 120 || ind.Current.Closed != 60 || ind.Previous.Reported != 0 {
		t.Fatalf("current %+v previous %+v", ind.Current, ind.Previous)
	}
	sum := 0
	for _, b := range ind.Breakdown {
		sum += b.Indicators.Reported
		if b.Rank == nil {
			t.Errorf("unranked %+v", b)
		}
	}
	if len(ind.Breakdown) != 2 || sum != 120 {
		t.Fatalf("breakdown %+v", ind.Breakdown)
	}
	// A week: 2026-10-05 is a Monday; its cases are those of 10-05 00:00 to
	// 10-06 08:00, the last 33.
	d.Region.Indicators = struct {
		Period, PreviousPeriod struct{ Label, From, To string }
		Current, Previous      indicatorsJSON
		Breakdown              []struct {
			Key        []struct{ Value, Label *string }
			Indicators indicatorsJSON
			Rank       *int
		}
	}{}
	srv.MustData(t, `{ region(code: "420606001") { indicators(period: WEEK, at: "2026-10-07T12:00:00+08:00") { period { label from to } previousPeriod { label } current { reported } } } }`, nil, &d)
	if ind := d.Region.Indicators; ind.Period.Label != "2026-W41" || ind.Period.From != "2026-10-05T00:00:00+08:00" ||
		ind.PreviousPeriod.Label != "2026-W40" || ind.Current.Reported != 33 {
		t.Fatalf("week %+v", ind)
	}

	// The map of the street: its communities with boundaries and indicators.
	var m struct{ RegionMap json.RawMessage }
	srv.MustData(t, `{ regionMap(parent: "420606001", period: MONTH, at: "2026-10-15T12:00:00+08:00") }`, nil, &m)
	type featureCollection struct {
		Type     string
		Features []struct {
			Type       string
			Properties struct {
				Code, Name, Level string
				Indicators        *struct{ Reported, Closed int }
			}
			Geometry struct {
				Type        string
				Coordinates [][][]float64
			}
		}
	}
	var fc featureCollection
	if err := json.Unmarshal(m.RegionMap, &fc); err != nil {
		t.Fatal(err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != 2 || fc.Features[0].Properties.Code != "420606001001" ||
		fc.Features[0].Properties.Name != "长虹社区" || fc.Features[0].Geometry.Type != "Polygon" ||
		fc.Features[0].Properties.Indicators == nil ||
		fc.Features[0].Properties.Indicators.Reported+fc.Features[1].Properties.Indicators.Reported != 120 {
		t.Fatalf("map %s", m.RegionMap)
	}
	// Every grid of the district, without indicators.
	srv.MustData(t, `{ regionMap(parent: "420606", level: GRID) }`, nil, &m)
	fc = featureCollection{}
	if err := json.Unmarshal(m.RegionMap, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 4 || fc.Features[0].Properties.Level != "GRID" || fc.Features[0].Properties.Indicators != nil {
		t.Fatalf("grids %s", m.RegionMap)
	}
	r := srv.Do(t, `{ regionMap(parent: "420606001001001") }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("map below a grid: %+v", r.Errors)
	}

	// A community's staff: the default map is its own grids; the street is
	// outside its jurisdiction.
	srv.As(&auth.Principal{ID: "key:9", Role: auth.Staff, RegionCode: "420606001001"})
	srv.MustData(t, `{ regionMap(period: MONTH, at: "2026-10-15T12:00:00+08:00") }`, nil, &m)
	fc = featureCollection{}
	if err := json.Unmarshal(m.RegionMap, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 2 || fc.Features[0].Properties.Code != "420606001001001" || fc.Features[0].Properties.Indicators.Reported != 30 {
		t.Fatalf("staff map %s", m.RegionMap)
	}
	r = srv.Do(t, `{ regionMap(parent: "420606001") }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "NOT_FOUND" {
		t.Fatalf("map outside the jurisdiction: %+v", r.Errors)
	}
	var c struct {
		CaseIndicators []struct{ Indicators indicatorsJSON }
	}
	srv.MustData(t, `{ caseIndicators(groupBy: []) { indicators { reported } } }`, nil, &c)
	if c.CaseIndicators[0].Indicators.Reported != 60 {
		t.Fatalf("staff sees %d cases, want its community's 60", c.CaseIndicators[0].Indicators.Reported)
	}
}

// A hub configured with its own presets lists and scores with them.
func TestConfiguredScorePresets(t *testing.T) {
	_, st := newServer(t, 120)
	presets, err := store.LoadScorePresets([]byte(`[{"name": "STREET", "description": "街道考核", "terms": [{"rate": "CLOSING_RATE", "weight": 100}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	srv := graphtest.NewWith(t, graph.Config{Store: st, ScorePresets: presets})
	var d struct {
		ScorePresets   []struct{ Name string }
		CaseIndicators []struct{ Indicators indicatorsJSON }
	}
	srv.MustData(t, `{ scorePresets { name } caseIndicators(groupBy: [], asOf: "2026-12-01T00:00:00+08:00") { indicators { score(preset: "STREET") } } }`, nil, &d)
	if len(d.ScorePresets) != 3 || d.ScorePresets[2].Name != "STREET" {
		t.Fatalf("presets %+v", d.ScorePresets)
	}
	if s := d.CaseIndicators[0].Indicators.Score; s == nil || *s != 50 {
		t.Fatalf("STREET score = %v, want 50 (结案率 0.5 × 100)", s)
	}
}
