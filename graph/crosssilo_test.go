package graph_test

import (
	"testing"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store/storetest"
)

func newCityServer(t *testing.T, cases int) *graphtest.Server {
	t.Helper()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	if cases > 0 {
		c := storetest.MakeCases(cases)
		li := storetest.Person("420606199001011245", "李四", "13900002222")
		c[2].Reporter = &li // a case in 新华社区, where 李四 lives
		c[2].AssigneeDept = "樊城区城管局"
		storetest.SeedCases(t, st, c)
	}
	return graphtest.New(t, st)
}

func TestRegionIsTheCrossSiloView(t *testing.T) {
	srv := newCityServer(t, 40)
	var d struct {
		Region struct {
			Stats struct {
				Population, Households, PartyMembers, DualReportMembers, GridWorkers, ServiceStations, Grids int
				OpenCases, OverdueCases, ClosedCases                                                         int
			}
			PartyOrgs struct {
				Edges []struct{ Node struct{ Name string } }
			}
			GridWorkers struct {
				Edges []struct {
					Node struct {
						Role   string
						Person struct{ Name string }
						Grids  []struct{ Code string }
					}
				}
			}
			ServiceStations struct {
				Edges []struct {
					Node struct {
						Name     string
						Services []string
					}
				}
			}
			Buildings struct {
				Edges []struct {
					Node struct {
						Compound, Number string
						HouseholdCount   int
					}
				}
			}
			Cases struct {
				TotalCount int
				Edges      []struct {
					Node struct{ Grid struct{ Code string } }
				}
			}
			CaseStats []struct{ Count int }
		}
	}
	srv.MustData(t, `{ region(code: "420606001001") {
		stats { population households partyMembers dualReportMembers gridWorkers serviceStations grids openCases overdueCases closedCases }
		partyOrgs { edges { node { name } } }
		gridWorkers { edges { node { role person { name } grids { code } } } }
		serviceStations { edges { node { name services } } }
		buildings { edges { node { compound number householdCount } } }
		cases(first: 500) { totalCount edges { node { grid { code } } } }
		caseStats(groupBy: []) { count }
	} }`, nil, &d)
	r := d.Region
	s := r.Stats
	if s.Population != 1 || s.Households != 1 || s.PartyMembers != 1 || s.DualReportMembers != 1 || s.GridWorkers != 1 || s.ServiceStations != 1 || s.Grids != 2 {
		t.Fatalf("stats = %+v", s)
	}
	if s.OpenCases+s.ClosedCases != 20 || r.Cases.TotalCount != 20 || len(r.Cases.Edges) != 20 || r.CaseStats[0].Count != 20 {
		t.Fatalf("cases: stats %+v, total %d, stat buckets %+v", s, r.Cases.TotalCount, r.CaseStats)
	}
	if len(r.PartyOrgs.Edges) != 2 { // the committee (by community name) and the branch (by grid)
		t.Fatalf("party orgs = %+v", r.PartyOrgs)
	}
	gw := r.GridWorkers.Edges[0].Node
	if gw.Role != "LEADER" || gw.Person.Name != "张*" || gw.Grids[0].Code != "420606001001001" {
		t.Fatalf("grid worker = %+v", gw)
	}
	if r.Buildings.Edges[0].Node.Compound != "幸福小区" || r.Buildings.Edges[0].Node.HouseholdCount != 1 {
		t.Fatalf("buildings = %+v", r.Buildings)
	}
	// A filter naming another community under this one's field yields nothing.
	var e struct {
		Region struct{ Cases struct{ TotalCount int } }
		Other  struct{ ID string }
	}
	other := regionID(t, srv, "420606001002")
	srv.MustData(t, `query($o: ID) { region(code: "420606001001") { cases(filter: {region: $o}) { totalCount } } }`, map[string]any{"o": other}, &e)
	if e.Region.Cases.TotalCount != 0 {
		t.Fatalf("intersection of two communities has %d cases", e.Region.Cases.TotalCount)
	}
}

func TestPeopleAreMaskedAndLinkedAcrossSilos(t *testing.T) {
	srv := newCityServer(t, 3)
	var d struct {
		People struct {
			Edges []struct {
				Node struct {
					ID, Name, IDNumber string
					Phone              *string
					Gender             string
					BirthYear          int
					Roles              []string
					Household          *struct{ Compound, Room string }
					PartyMembership    *struct {
						CentralHousehold bool
						ServiceHours     float64
						Points           int
						JoinedOn         string
						Org              struct {
							Name   string
							Parent struct {
								Name   string
								Parent struct{ Kind string }
							}
						}
						DualReports []struct {
							Employer  string
							Community struct{ Name string }
							Branch    struct{ Name string }
						}
						Activities []struct {
							Title   string
							Station struct{ Name string }
						}
					}
					GridWorker    *struct{ Role string }
					ReportedCases struct{ TotalCount int }
					SourceRecords []struct {
						Role       string
						Provenance struct {
							Source   struct{ Name string }
							SourceId string
						}
					}
				}
			}
		}
	}
	srv.MustData(t, `{ people(filter: {role: [PARTY_MEMBER, REPORTER]}) { edges { node { id name idNumber phone gender birthYear roles
		household { compound room }
		partyMembership { centralHousehold serviceHours points joinedOn org { name parent { name parent { kind } } }
			dualReports { employer community { name } branch { name } } activities { title station { name } } }
		gridWorker { role } reportedCases { totalCount } sourceRecords { role provenance { source { name } sourceId } } } } } }`, nil, &d)
	if len(d.People.Edges) != 2 {
		t.Fatalf("people = %+v", d.People)
	}
	zhang, li := d.People.Edges[0].Node, d.People.Edges[1].Node
	if zhang.Name != "张*" {
		zhang, li = li, zhang
	}
	if zhang.Name != "张*" || zhang.IDNumber != "420606********1234" || *zhang.Phone != "138****1111" || zhang.Gender != "MALE" || zhang.BirthYear != 1980 {
		t.Fatalf("zhang identity = %+v", zhang)
	}
	if len(zhang.Roles) != 3 || len(zhang.SourceRecords) != 3 || zhang.GridWorker.Role != "LEADER" || zhang.Household.Compound != "幸福小区" {
		t.Fatalf("zhang roles = %+v", zhang)
	}
	m := zhang.PartyMembership
	if !m.CentralHousehold || m.ServiceHours != 2.5 || m.Points != 5 || m.JoinedOn != "2005-07-01" || m.Org.Parent.Parent.Kind != "WORKING_COMMITTEE" {
		t.Fatalf("membership = %+v", m)
	}
	if m.DualReports[0].Community.Name != "长虹社区" || m.DualReports[0].Branch.Name != "第一网格党支部" || m.Activities[0].Station.Name != "长虹红色驿站" {
		t.Fatalf("dual reports / activities = %+v", m)
	}
	if li.Name != "李*" || li.ReportedCases.TotalCount != 1 || li.PartyMembership != nil {
		t.Fatalf("li = %+v", li)
	}
	// node() round trip for a person.
	var n struct{ Node struct{ Name string } }
	srv.MustData(t, `query($id: ID!) { node(id: $id) { ... on Person { name } } }`, map[string]any{"id": li.ID}, &n)
	if n.Node.Name != "李*" {
		t.Fatalf("node = %+v", n)
	}
}

func TestServiceStationsNear(t *testing.T) {
	srv := newCityServer(t, 0)
	var d struct {
		Near struct {
			Edges []struct {
				Node struct {
					Name           string
					DistanceMeters float64
				}
			}
		}
		Far struct {
			Edges []struct{ Node struct{ Name string } }
		}
	}
	srv.MustData(t, `{ near: serviceStations(near: {lat: 31.95, lng: 112.02, radiusMeters: 500}) { edges { node { name distanceMeters } } }
		far: serviceStations(near: {lat: 31.90, lng: 112.02, radiusMeters: 500}) { edges { node { name } } } }`, nil, &d)
	if len(d.Near.Edges) != 1 || d.Near.Edges[0].Node.DistanceMeters < 100 || d.Near.Edges[0].Node.DistanceMeters > 200 {
		t.Fatalf("near = %+v", d.Near)
	}
	if len(d.Far.Edges) != 0 {
		t.Fatalf("far = %+v", d.Far)
	}
	r := srv.Do(t, `{ serviceStations(near: {lat: 31.95, lng: 112.02, radiusMeters: 0}) { edges { cursor } } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("radius 0: %+v", r.Errors)
	}
}

func TestCaseLookupAndExtras(t *testing.T) {
	srv := newCityServer(t, 3)
	var d struct {
		Case *struct {
			SourceID string
			Assignee *string
			Reporter *struct{ Name string }
			Incident *struct{ ID string }
		}
		Missing *struct{ SourceID string }
	}
	srv.MustData(t, `{ case(source: "citymgmt", sourceId: "C00002") { sourceId assignee reporter { name } incident { id } }
		missing: case(source: "citymgmt", sourceId: "nope") { sourceId } }`, nil, &d)
	if d.Case == nil || *d.Case.Assignee != "樊城区城管局" || d.Case.Reporter.Name != "李*" || d.Case.Incident != nil || d.Missing != nil {
		t.Fatalf("case = %+v", d)
	}
}

// TestRegionCasesAreBatched: grids × first N cases × category × grid costs
// the same number of statements for 2 grids as for 4.
func TestRegionCasesAreBatched(t *testing.T) {
	srv := newCityServer(t, 80)
	q := `query($n: Int) { regions(level: GRID, first: $n) { edges { node { code stats { openCases }
		cases(first: 10) { edges { node { category { name } grid { code } } } } } } } }`
	var a, b struct {
		Regions struct {
			Edges []struct {
				Node struct{ Cases struct{ Edges []any } }
			}
		}
	}
	// The first request reads the reference tables the server then holds.
	srv.MustData(t, q, map[string]any{"n": 1}, &a)
	ra := srv.MustData(t, q, map[string]any{"n": 2}, &a)
	rb := srv.MustData(t, q, map[string]any{"n": 4}, &b)
	if len(b.Regions.Edges) != 4 || len(b.Regions.Edges[3].Node.Cases.Edges) != 10 {
		t.Fatalf("regions = %+v", b.Regions)
	}
	if ra.Statements != rb.Statements || rb.Statements > 2 {
		t.Fatalf("statements: %d for 2 grids, %d for 4\n%q\n%q", ra.Statements, rb.Statements, ra.SQL, rb.SQL)
	}
}
