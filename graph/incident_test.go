package graph_test

import (
	"context"
	"crypto/sha256"
	"math"
	"testing"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// incidentCase is a case of 长虹社区's first grid dx metres east of a fixed
// point.
func incidentCase(src, id, cat, title string, status canon.CaseStatus, at time.Time, dx float64) canon.Case {
	lat, lng := 31.95, 112.02+dx/(111_000*math.Cos(31.95*math.Pi/180))
	c := canon.Case{
		Provenance: canon.Provenance{Source: src, SourceID: id, SourceUpdatedAt: at, FetchedAt: at},
		Kind:       canon.KindEvent, CategoryCode: cat, Title: title, Description: title, Status: status,
		Tier: canon.TierStreet, GridCode: "420606001001001",
		Location:   &canon.Location{Point: canon.Point{Lat: lat, Lng: lng}, Orig: canon.Point{Lat: lat, Lng: lng}, OrigDatum: canon.WGS84},
		ReportedAt: at, UpdatedAt: at,
	}
	sum := sha256.Sum256([]byte(src + id + title))
	c.PayloadHash = sum[:]
	return c
}

// stallReports stores three reports of street stalls on 长虹路 — a 城管
// case and a 综治 event about one stall 25 m and 40 minutes apart, and a
// 城管 case 600 m away — and groups them into incidents.
func stallReports(t *testing.T) (*store.Store, context.Context) {
	t.Helper()
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	if err := st.InTx(ctx, func(w *store.Writer) error {
		return w.UpsertSource(ctx, canon.Source{Name: "governance", Kind: canon.SourceREST, Description: "综治"})
	}); err != nil {
		t.Fatal(err)
	}
	t0 := storetest.Base
	storetest.SeedCases(t, st, []canon.Case{
		incidentCase("citymgmt", "c1", "SJ0501", "长虹路12号流动摊贩占道经营", canon.StatusClosed, t0, 0),
		incidentCase("governance", "g1", "SJ05", "长虹路12号门前流动摊贩占道经营", canon.StatusInProgress, t0.Add(40*time.Minute), 25),
		incidentCase("citymgmt", "c2", "SJ0501", "长虹路80号流动摊贩", canon.StatusDispatched, t0, 600),
	})
	if _, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	return st, ctx
}

// TestIncidentExplainsItself groups a 城管 case and a 综治 event about one
// street stall and reads the incident back: its cases with their own
// statuses, its sources, the rolled-up status, first report, place,
// category, grid and the evidence on the pair; a staff key of another
// community does not see it.
func TestIncidentExplainsItself(t *testing.T) {
	st, _ := stallReports(t)
	srv := graphtest.New(t, st)
	const q = `{ case(source: "citymgmt", sourceId: "c1") { incident {
		title sources status firstReportedAt location { lat lng } category { code } grid { code }
		cases { sourceId status }
		evidence { a { sourceId } b { sourceId } total metres hours linked fields { field level weight } } } } }`
	var d struct {
		Case struct {
			Incident *struct {
				Title, Status   string
				Sources         []string
				FirstReportedAt time.Time
				Location        struct{ Lat, Lng float64 }
				Category        struct{ Code string }
				Grid            struct{ Code string }
				Cases           []struct{ SourceID, Status string }
				Evidence        []struct {
					A, B                 struct{ SourceID string }
					Total, Metres, Hours float64
					Linked               bool
					Fields               []struct {
						Field, Level string
						Weight       float64
					}
				}
			}
		}
	}
	srv.MustData(t, q, nil, &d)
	inc := d.Case.Incident
	if inc == nil {
		t.Fatal("c1 has no incident")
	}
	if len(inc.Cases) != 2 || inc.Cases[0].SourceID != "c1" || inc.Cases[0].Status != "CLOSED" || inc.Cases[1].SourceID != "g1" || inc.Cases[1].Status != "IN_PROGRESS" {
		t.Errorf("cases %+v: want c1 (CLOSED) then g1 (IN_PROGRESS)", inc.Cases)
	}
	if inc.Status != "IN_PROGRESS" || len(inc.Sources) != 2 || inc.Sources[0] != "citymgmt" || inc.Sources[1] != "governance" {
		t.Errorf("status %s, sources %v", inc.Status, inc.Sources)
	}
	if !inc.FirstReportedAt.Equal(storetest.Base) || inc.Category.Code != "SJ0501" || inc.Grid.Code != "420606001001001" || math.Abs(inc.Location.Lat-31.95) > 1e-6 {
		t.Errorf("incident %+v", inc)
	}
	if len(inc.Evidence) != 1 {
		t.Fatalf("evidence %+v, want the one pair", inc.Evidence)
	}
	e := inc.Evidence[0]
	sum := 0.0
	for _, f := range e.Fields {
		sum += f.Weight
	}
	if !e.Linked || math.Abs(sum-e.Total) > 1e-9 || math.Abs(e.Metres-25) > 1 || math.Abs(e.Hours-40.0/60) > 1e-6 || len(e.Fields) < 4 {
		t.Errorf("evidence %+v", e)
	}
	// Three reports, two problems.
	var stats struct {
		Reports, Problems []struct{ Count, Open, Closed int }
	}
	srv.MustData(t, `{ reports: caseStats(groupBy: []) { count open closed }
		problems: caseStats(groupBy: [], countBy: PROBLEM) { count open closed } }`, nil, &stats)
	if r, p := stats.Reports[0], stats.Problems[0]; r.Count != 3 || r.Open != 2 || r.Closed != 1 || p.Count != 2 || p.Open != 2 || p.Closed != 1 {
		t.Errorf("reports %+v, problems %+v; want 3 reports (2 open, 1 closed), 2 problems (both open, 1 with a closed report)", r, p)
	}
	// A staff key of 新华社区 sees neither the case nor its incident.
	srv.As(&auth.Principal{ID: "key:9", Role: auth.Staff, RegionCode: "420606001002"})
	var s struct {
		Case *struct{ Incident *struct{ Title string } }
	}
	srv.MustData(t, q, nil, &s)
	if s.Case != nil {
		t.Errorf("another community's staff sees %+v", s.Case)
	}
}
