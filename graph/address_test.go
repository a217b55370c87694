package graph_test

import (
	"strings"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store/storetest"
)

const standardizeQuery = `query($raw: String!) { standardizeAddress(raw: $raw) {
	raw normalized repairs confidence explanation compound
	components { province city district street community road roadNumber compound building unit floor room rest }
	district { code } street { code } community { code } grid { code name }
	building { compound number grid { code } householdCount }
} }`

type standardAddress struct {
	Raw, Normalized, Explanation string
	Repairs                      []string
	Confidence                   float64
	Compound                     *string
	Components                   map[string]*string
	District, Street, Community  *struct{ Code string }
	Grid                         *struct{ Code, Name string }
	Building                     *struct {
		Compound, Number string
		Grid             struct{ Code string }
		HouseholdCount   int
	}
}

func standardize(t *testing.T, srv *graphtest.Server, raw string) (standardAddress, int64) {
	t.Helper()
	var d struct{ StandardizeAddress standardAddress }
	resp := srv.MustData(t, standardizeQuery, map[string]any{"raw": raw}, &d)
	return d.StandardizeAddress, resp.Statements
}

func code(r *struct{ Code string }) string {
	if r == nil {
		return ""
	}
	return r.Code
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The fixture city knows 幸福小区 building 3 (grid 420606001001001, 长虹社区)
// and 新华苑 building 1 (grid 420606001002001, 新华社区).
func TestStandardizeAddress(t *testing.T) {
	srv := newCityServer(t, 0)
	standardize(t, srv, "") // builds the gazetteer
	cases := []struct {
		name, raw                               string
		components                              map[string]string // all others null
		repairs                                 []string
		district, street, community, grid, bldg string
		minConfidence, maxConfidence            float64
	}{{
		name: "full address with prefixes, full-width digits and numerals",
		raw:  "湖北省襄阳市樊城区汉江街道长虹社区幸福小区三栋二单元３０１室",
		components: map[string]string{"province": "湖北省", "city": "襄阳市", "district": "樊城区", "street": "汉江街道",
			"community": "长虹社区", "compound": "幸福小区", "building": "3", "unit": "2", "room": "301"},
		repairs:  []string{"FULL_WIDTH_DIGITS", "CHINESE_NUMERALS"},
		district: "420606", street: "420606001", community: "420606001001", grid: "420606001001001", bldg: "3",
		minConfidence: 0.9, maxConfidence: 1,
	}, {
		name:       "compound and the short building-unit-room form; regions filled from the compound",
		raw:        "新华苑1-1-101",
		components: map[string]string{"compound": "新华苑", "building": "1", "unit": "1", "room": "101"},
		district:   "420606", street: "420606001", community: "420606001002", grid: "420606001002001", bldg: "1",
		minConfidence: 0.9, maxConfidence: 1,
	}, {
		name:       "known compound, unknown building: the compound's grid",
		raw:        "樊城区幸福小区12栋",
		components: map[string]string{"district": "樊城区", "compound": "幸福小区", "building": "12"},
		district:   "420606", street: "420606001", community: "420606001001", grid: "420606001001001",
		minConfidence: 0.6, maxConfidence: 0.8,
	}, {
		name:       "community only",
		raw:        "樊城区新华社区",
		components: map[string]string{"district": "樊城区", "community": "新华社区"},
		district:   "420606", street: "420606001", community: "420606001002",
		minConfidence: 0.3, maxConfidence: 0.5,
	}, {
		name:       "a road and number matches nothing",
		raw:        "长虹路8号",
		components: map[string]string{"road": "长虹路", "roadNumber": "8"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, statements := standardize(t, srv, tc.raw)
			if got.Raw != tc.raw {
				t.Errorf("raw %q, want the input", got.Raw)
			}
			for field, v := range got.Components {
				if want := tc.components[field]; str(v) != want {
					t.Errorf("components.%s = %q, want %q", field, str(v), want)
				}
			}
			if strings.Join(got.Repairs, ",") != strings.Join(tc.repairs, ",") {
				t.Errorf("repairs %v, want %v", got.Repairs, tc.repairs)
			}
			for _, c := range []struct{ what, got, want string }{
				{"district", code(got.District), tc.district}, {"street", code(got.Street), tc.street},
				{"community", code(got.Community), tc.community},
			} {
				if c.got != c.want {
					t.Errorf("%s %q, want %q (%s)", c.what, c.got, c.want, got.Explanation)
				}
			}
			if g := got.Grid; (g == nil) != (tc.grid == "") || (g != nil && g.Code != tc.grid) {
				t.Errorf("grid %+v, want %q (%s)", g, tc.grid, got.Explanation)
			}
			if b := got.Building; (b == nil) != (tc.bldg == "") || (b != nil && (b.Number != tc.bldg || b.Grid.Code != tc.grid || b.HouseholdCount != 1)) {
				t.Errorf("building %+v, want number %q in grid %q with 1 household", b, tc.bldg, tc.grid)
			}
			if got.Confidence < tc.minConfidence || got.Confidence > tc.maxConfidence {
				t.Errorf("confidence %v, want within [%v, %v] (%s)", got.Confidence, tc.minConfidence, tc.maxConfidence, got.Explanation)
			}
			if tc.grid != "" && !strings.Contains(got.Normalized, tc.components["compound"]) {
				t.Errorf("normalized %q lacks the compound", got.Normalized)
			}
			// After the first call built the gazetteer: one statement for
			// the regions, one for the building.
			if statements > 2 {
				t.Errorf("%d SQL statements, want at most 2", statements)
			}
		})
	}
}

func TestStandardizeAddressIsScoped(t *testing.T) {
	srv := newCityServer(t, 0)
	// Staff of 新华社区 may read the text service, but not the regions and
	// buildings of 长虹社区.
	srv.As(&auth.Principal{ID: "key:1", Role: auth.Staff, RegionCode: "420606001002"})
	got, _ := standardize(t, srv, "长虹社区幸福小区3栋")
	if got.Grid != nil || got.Building != nil || got.Community != nil {
		t.Errorf("out-of-scope grid %+v, building %+v, community %+v visible", got.Grid, got.Building, got.Community)
	}
	if str(got.Components["compound"]) != "幸福小区" || got.Confidence < 0.9 {
		t.Errorf("components %v, confidence %v: the text standardisation itself is not scoped", got.Components, got.Confidence)
	}
	if got, _ := standardize(t, srv, "新华苑1栋"); got.Building == nil || got.Grid == nil || got.Grid.Code != "420606001002001" {
		t.Errorf("in-scope match hidden: grid %+v, building %+v", got.Grid, got.Building)
	}
}

func TestStandardizeAddressRefusesLongInput(t *testing.T) {
	srv := newCityServer(t, 0)
	resp := srv.Do(t, standardizeQuery, map[string]any{"raw": strings.Repeat("长", 1001)})
	if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("errors %+v, want one BAD_USER_INPUT", resp.Errors)
	}
}

// A case keeps its address as reported; its standard line and components
// are fields of their own, null for a case without an address.
func TestCaseAddressIsStandardisedBesideTheReportedText(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	c := storetest.MakeCases(2)
	c[0].Address = "湖北省襄陽市樊城區幸福小区三栋２單元301"
	c[1].Address = ""
	storetest.SeedCases(t, st, c)
	srv := graphtest.New(t, st)
	var d struct {
		Cases struct {
			Edges []struct {
				Node struct {
					SourceID, Address string
					StandardAddress   *string
					AddressComponents *struct{ District, Compound, Building, Unit, Room *string }
				}
			}
		}
	}
	srv.MustData(t, `{ cases(first: 10) { edges { node { sourceId address standardAddress
		addressComponents { district compound building unit room } } } } }`, nil, &d)
	byID := map[string]int{}
	for i, e := range d.Cases.Edges {
		byID[e.Node.SourceID] = i
	}
	with, without := d.Cases.Edges[byID[c[0].SourceID]].Node, d.Cases.Edges[byID[c[1].SourceID]].Node
	if with.Address != c[0].Address {
		t.Errorf("address %q, want it as reported: %q", with.Address, c[0].Address)
	}
	comp := with.AddressComponents
	if with.StandardAddress == nil || strings.ContainsAny(*with.StandardAddress, "陽區單２三") || comp == nil ||
		str(comp.District) != "樊城区" || str(comp.Compound) != "幸福小区" || str(comp.Building) != "3" || str(comp.Unit) != "2" || str(comp.Room) != "301" {
		t.Errorf("standardised as %v, components %+v", with.StandardAddress, comp)
	}
	if without.StandardAddress != nil || without.AddressComponents != nil {
		t.Errorf("a case without an address: %v %+v, want nulls", without.StandardAddress, without.AddressComponents)
	}
}
