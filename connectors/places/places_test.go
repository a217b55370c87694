package places_test

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors/places"
)

func rect(x0, y0, x1, y1 float64) orb.Polygon {
	return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

func layer(t *testing.T) *places.Layer {
	t.Helper()
	regions := []canon.Region{
		{Code: "420606001001001", Name: "一网格", Level: canon.LevelGrid, ParentCode: "420606001001", Boundary: rect(112.0, 32.0, 112.005, 32.005)},
		{Code: "420606001001002", Name: "二网格", Level: canon.LevelGrid, ParentCode: "420606001001", Boundary: rect(112.005, 32.0, 112.01, 32.005)},
		{Code: "420600", Name: "襄阳市", Level: canon.LevelCity, Boundary: rect(111, 31, 113, 33)},
		{Code: "420606", Name: "樊城区", Level: canon.LevelDistrict, ParentCode: "420600", Boundary: rect(112, 32, 112.1, 32.1)},
		{Code: "420606001", Name: "汉江街道", Level: canon.LevelStreet, ParentCode: "420606", Boundary: rect(112, 32, 112.01, 32.01)},
		{Code: "420606001001", Name: "长虹社区", Level: canon.LevelCommunity, ParentCode: "420606001", Boundary: rect(112, 32, 112.01, 32.005)},
	}
	raw, err := places.MarshalRegions(regions)
	if err != nil {
		t.Fatal(err)
	}
	l, err := places.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLayerOrdersAndLocates(t *testing.T) {
	l := layer(t)
	rs := l.Regions()
	if rs[0].Level != canon.LevelCity || rs[len(rs)-1].Level != canon.LevelGrid {
		t.Fatalf("not parents first: %v … %v", rs[0].Level, rs[len(rs)-1].Level)
	}
	tests := []struct {
		p    canon.Point
		want string
	}{
		{canon.Point{Lat: 32.002, Lng: 112.002}, "420606001001001"},
		{canon.Point{Lat: 32.002, Lng: 112.008}, "420606001001002"},
		{canon.Point{Lat: 32.002, Lng: 112.005}, "420606001001001"}, // shared edge: lower code
		{canon.Point{Lat: 32.2, Lng: 112.008}, ""},
	}
	for _, tc := range tests {
		got, ok := l.GridAt(tc.p)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("GridAt(%v) = %q, %v; want %q", tc.p, got, ok, tc.want)
		}
	}
	if !l.IsGrid("420606001001002") || l.IsGrid("420606001001") || l.IsGrid("x") {
		t.Fatal("IsGrid wrong")
	}
}

func TestLayerErrors(t *testing.T) {
	bad := `{"type":"FeatureCollection","features":[
		{"type":"Feature","geometry":{"type":"Point","coordinates":[112,32]},"properties":{"code":"1","level":"CITY"}},
		{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[112,32],[113,32],[113,33],[112,32]]]},"properties":{"code":"2","level":"GRID","parent":"9"}},
		{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[112,32],[113,32],[113,33],[112,32]]]},"properties":{"code":"3","level":"TOWN"}}]}`
	_, err := places.Parse([]byte(bad))
	for _, want := range []string{"Polygon or MultiPolygon", `parent "9"`, `level "TOWN"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error should mention %q: %v", want, err)
		}
	}
}

func TestPlace(t *testing.T) {
	l := layer(t)
	var regions []address.Region
	for _, r := range l.Regions() {
		regions = append(regions, address.Region{Code: r.Code, Name: r.Name, Level: r.Level, ParentCode: r.ParentCode})
	}
	g, err := address.NewGazetteer(regions, []address.Compound{
		{ID: "1", Name: "幸福小区", GridCode: "420606001001002", Buildings: []address.Building{{ID: "7", Number: "3", GridCode: "420606001001001"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	inFirst := &canon.Point{Lat: 32.002, Lng: 112.002}
	outside := &canon.Point{Lat: 30, Lng: 110}
	for _, tc := range []struct {
		name, code string
		pos        *canon.Point
		addr       string
		g          *address.Gazetteer
		want       string
		how        places.Placement
	}{
		{"the source's grid wins over position and address", "420606001001002", inFirst, "幸福小区3栋", g, "420606001001002", places.ByGridCode},
		{"unknown code: the position's grid", "999", inFirst, "幸福小区3栋", g, "420606001001001", places.ByPosition},
		{"no position: the building's grid", "", nil, "长虹社区幸福小区三栋2单元", g, "420606001001001", places.ByAddress},
		{"position in no grid: the compound's grid", "", outside, "樊城区幸福小区12栋", g, "420606001001002", places.ByAddress},
		{"community only is not a grid", "", nil, "樊城区长虹社区", g, "", ""},
		{"unknown compound", "", nil, "铁路新村1栋", g, "", ""},
		{"no gazetteer: no address fallback", "", nil, "幸福小区3栋", nil, "", ""},
	} {
		grid, how, ok := l.Place(tc.code, tc.pos, tc.addr, tc.g)
		if grid != tc.want || how != tc.how || ok != (tc.want != "") {
			t.Errorf("%s: (%q, %q, %v), want (%q, %q)", tc.name, grid, how, ok, tc.want, tc.how)
		}
	}
}
