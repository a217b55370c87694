package address_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
)

func testGazetteer(t testing.TB) *address.Gazetteer {
	t.Helper()
	r := func(code, name string, level canon.RegionLevel, parent string) address.Region {
		return address.Region{Code: code, Name: name, Level: level, ParentCode: parent}
	}
	regions := []address.Region{
		r("420600", "襄阳市", canon.LevelCity, ""),
		r("420606", "樊城区", canon.LevelDistrict, "420600"),
		r("420602", "襄城区", canon.LevelDistrict, "420600"),
		r("420683", "枣阳市", canon.LevelDistrict, "420600"),
		r("420606001", "汉江街道", canon.LevelStreet, "420606"),
		r("420606002", "米公街道", canon.LevelStreet, "420606"),
		r("420602001", "古城街道", canon.LevelStreet, "420602"),
		r("420683001", "南城街道", canon.LevelStreet, "420683"),
		r("420606001001", "长虹社区", canon.LevelCommunity, "420606001"),
		r("420606001002", "幸福社区", canon.LevelCommunity, "420606001"),
		r("420606002001", "长虹社区", canon.LevelCommunity, "420606002"), // the same name in another street
		r("420602001001", "古城社区", canon.LevelCommunity, "420602001"),
		r("420683001001", "七里村", canon.LevelCommunity, "420683001"),
		r("420606001001001", "长虹一网格", canon.LevelGrid, "420606001001"),
		r("420606001001002", "长虹二网格", canon.LevelGrid, "420606001001"),
		r("420606001002001", "幸福一网格", canon.LevelGrid, "420606001002"),
		r("420606002001001", "米公长虹一网格", canon.LevelGrid, "420606002001"),
		r("420602001001001", "古城一网格", canon.LevelGrid, "420602001001"),
	}
	var c1 []address.Building
	for i := 1; i <= 12; i++ {
		b := address.Building{ID: fmt.Sprintf("C1-B%d", i), Number: fmt.Sprint(i)}
		if i == 3 {
			b.GridCode = "420606001001002"
		}
		c1 = append(c1, b)
	}
	compounds := []address.Compound{
		{ID: "C1", Name: "幸福小区", GridCode: "420606001001001", CommunityCode: "420606001001", Buildings: c1},
		{ID: "C2", Name: "幸福小区", GridCode: "420602001001001", CommunityCode: "420602001001", Buildings: []address.Building{{ID: "C2-B5", Number: "5栋"}}},
		{ID: "C3", Name: "铁路新村", GridCode: "420606002001001", CommunityCode: "420606002001", Buildings: []address.Building{{ID: "C3-B12", Number: "十二号楼"}}},
		{ID: "C4", Name: "幸福花园小区", CommunityCode: "420606001002"},
		{ID: "C5", Name: "万达广场", GridCode: "420606001001002", Buildings: []address.Building{{ID: "C5-A", Number: "A座"}, {ID: "C5-B", Number: "B座"}}},
	}
	g, err := address.NewGazetteer(regions, compounds)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGazetteerMatch(t *testing.T) {
	g := testGazetteer(t)
	tests := []struct {
		name     string
		addr     address.Address
		district string
		street   string
		comm     string
		grid     string
		compound string
		building string
		conf     float64
		explain  string // a fragment of the explanation
	}{
		{name: "full address, building with its own grid",
			addr:     address.Parse("樊城区汉江街道长虹社区幸福小区3栋2单元301"),
			district: "420606", street: "420606001", comm: "420606001001", grid: "420606001001002", compound: "C1", building: "C1-B3", conf: 0.95},
		{name: "building on the compound's grid",
			addr:     address.Parse("樊城区幸福小区12栋"),
			district: "420606", street: "420606001", comm: "420606001001", grid: "420606001001001", compound: "C1", building: "C1-B12", conf: 0.95},
		{name: "same compound name in another district",
			addr:     address.Parse("襄城区幸福小区五栋"),
			district: "420602", street: "420602001", comm: "420602001001", grid: "420602001001001", compound: "C2", building: "C2-B5", conf: 0.95},
		{name: "compound name ambiguous without a region",
			addr: address.Parse("幸福小区3栋"), explain: "ambiguous (2 candidates)"},
		{name: "unknown building: the compound's grid",
			addr:     address.Parse("樊城区幸福小区99栋"),
			district: "420606", street: "420606001", comm: "420606001001", grid: "420606001001001", compound: "C1", conf: 0.75, explain: "building 99 unknown"},
		{name: "legacy building number and numerals",
			addr:     address.Parse("铁路新村十二号楼一千零一室"),
			district: "420606", street: "420606002", comm: "420606002001", grid: "420606002001001", compound: "C3", building: "C3-B12", conf: 0.95},
		{name: "community from the compound's grid",
			addr:     address.Parse("万达广场B座1203"),
			district: "420606", street: "420606001", comm: "420606001001", grid: "420606001001002", compound: "C5", building: "C5-B", conf: 0.95},
		{name: "community only",
			addr:     address.Parse("汉江街道长虹社区"),
			district: "420606", street: "420606001", comm: "420606001001", conf: 0.45},
		{name: "community ambiguous within the district",
			addr:     address.Parse("樊城区长虹社区"),
			district: "420606", conf: 0.1, explain: "community 长虹社区 ambiguous"},
		{name: "suffixes differ",
			addr:     address.Address{District: "樊城", Street: "汉江街道办事处", Community: "长虹社区居委会"},
			district: "420606", street: "420606001", comm: "420606001001", conf: 0.4, explain: "name without suffix"},
		{name: "compound by stripped name within its community",
			addr:     address.Address{Community: "幸福社区", Compound: "幸福花园"},
			district: "420606", street: "420606001", comm: "420606001002", compound: "C4", conf: 0.7},
		{name: "compound by exact name",
			addr:     address.Address{Compound: "幸福花园小区"},
			district: "420606", street: "420606001", comm: "420606001002", compound: "C4", conf: 0.75},
		{name: "known name is a prefix of the address's",
			addr:     address.Parse("樊城区幸福小区二期3栋"),
			district: "420606", street: "420606001", comm: "420606001001", grid: "420606001001002", compound: "C1", building: "C1-B3", conf: 0.85},
		{name: "a compound outside the address's district never wins",
			addr:     address.Parse("襄城区铁路新村12栋"),
			district: "420602", conf: 0.1, explain: "outside the address's region: not matched"},
		{name: "one homophone typo within the named region",
			addr:     address.Parse("樊城区铁陆新村12栋"),
			district: "420606", street: "420606002", comm: "420606002001", grid: "420606002001001", compound: "C3", building: "C3-B12", conf: 0.8,
			explain: "one homophone typo"},
		{name: "one typo without a named region: no guess",
			addr: address.Parse("铁陆新村12栋"), explain: "compound 铁陆新村 unknown"},
		{name: "one typo outside the named region: no guess",
			addr:     address.Parse("襄城区铁陆新村12栋"),
			district: "420602", conf: 0.1, explain: "unknown"},
		{name: "community without suffix in front of the compound",
			addr:     address.Parse("樊城区汉江街道长虹幸福小区3栋"),
			district: "420606", street: "420606001", comm: "420606001001", grid: "420606001001002", compound: "C1", building: "C1-B3", conf: 0.85},
		{name: "traditional characters",
			addr:     address.Parse("襄陽市樊城區漢江街道長虹社區幸福小區3棟2單元301"),
			district: "420606", street: "420606001", comm: "420606001001", grid: "420606001001002", compound: "C1", building: "C1-B3", conf: 0.95},
		{name: "a phase marker follows the known name, other text does not",
			addr:     address.Parse("樊城区幸福小区北区3栋"),
			district: "420606", street: "420606001", comm: "420606001001", grid: "420606001001002", compound: "C1", building: "C1-B3", conf: 0.85},
		{name: "county-level city without district",
			addr:     address.Parse("枣阳市南城街道七里村"),
			district: "420683", street: "420683001", comm: "420683001001", conf: 0.45},
		{name: "unknown compound",
			addr:     address.Parse("樊城区未知小区3栋"),
			district: "420606", conf: 0.1, explain: "compound 未知小区 unknown"},
		{name: "nothing", addr: address.Parse("不详"), explain: "nothing matched"},
		// Found by fuzzing: a region name is never matched by the known
		// name being its prefix (樊城 in 樊城匏区).
		{name: "no reverse prefix for regions", addr: address.Parse("樊城匏区"), explain: "nothing matched"},
		{name: "district without suffix: half the base at least",
			addr:     address.Address{District: "枣阳"},
			district: "420683", conf: 0.05, explain: "name without suffix"},
	}
	for _, tc := range tests {
		m := g.Match(tc.addr)
		got := [6]string{m.DistrictCode, m.StreetCode, m.CommunityCode, m.GridCode, m.CompoundID, m.BuildingID}
		want := [6]string{tc.district, tc.street, tc.comm, tc.grid, tc.compound, tc.building}
		if got != want {
			t.Errorf("%s:\n got %v\nwant %v (%s)", tc.name, got, want, m.Explanation)
		}
		if d := m.Confidence - tc.conf; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: confidence %.3f, want %.3f (%s)", tc.name, m.Confidence, tc.conf, m.Explanation)
		}
		if !strings.Contains(m.Explanation, tc.explain) {
			t.Errorf("%s: explanation %q lacks %q", tc.name, m.Explanation, tc.explain)
		}
	}
}

func TestNewGazetteerRefusesInconsistentData(t *testing.T) {
	city := address.Region{Code: "420600", Name: "襄阳市", Level: canon.LevelCity}
	comm := address.Region{Code: "420606001001", Name: "长虹社区", Level: canon.LevelCommunity, ParentCode: "420600"}
	grid := address.Region{Code: "420606001001001", Name: "一网格", Level: canon.LevelGrid, ParentCode: "420606001001"}
	ok := []address.Region{city, comm, grid}
	tests := []struct {
		name      string
		regions   []address.Region
		compounds []address.Compound
		want      string
	}{
		{"duplicate region", []address.Region{city, city}, nil, "appears twice"},
		{"no code", []address.Region{{Name: "x", Level: canon.LevelCity}}, nil, "no code"},
		{"bad level", []address.Region{{Code: "1", Name: "x", Level: "PROVINCE"}}, nil, "unknown level"},
		{"unknown parent", []address.Region{{Code: "1", Name: "x", Level: canon.LevelDistrict, ParentCode: "9"}}, nil, "unknown parent"},
		{"compound without id", ok, []address.Compound{{Name: "幸福小区"}}, "needs an id"},
		{"duplicate compound", ok, []address.Compound{{ID: "C", Name: "a"}, {ID: "C", Name: "b"}}, "appears twice"},
		{"unknown community", ok, []address.Compound{{ID: "C", Name: "a", CommunityCode: "420606001009"}}, "not a known community"},
		{"community code of a grid", ok, []address.Compound{{ID: "C", Name: "a", CommunityCode: "420606001001001"}}, "not a known community"},
		{"grid code of a community", ok, []address.Compound{{ID: "C", Name: "a", GridCode: "420606001001"}}, "not a known grid"},
		{"building grid unknown", ok, []address.Compound{{ID: "C", Name: "a", Buildings: []address.Building{{ID: "B", Number: "1", GridCode: "x"}}}}, "not a known grid"},
		{"same building twice", ok, []address.Compound{{ID: "C", Name: "a", Buildings: []address.Building{{ID: "B1", Number: "12"}, {ID: "B2", Number: "十二栋"}}}}, "two buildings numbered 12"},
	}
	for _, tc := range tests {
		_, err := address.NewGazetteer(tc.regions, tc.compounds)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := address.NewGazetteer(ok, []address.Compound{{ID: "C", Name: "幸福小区", GridCode: grid.Code}}); err != nil {
		t.Fatal(err)
	}
	if g, err := address.NewGazetteer(nil, nil); err != nil || g.Match(address.Parse("幸福小区3栋")).Confidence != 0 {
		t.Fatalf("empty gazetteer: %v", err)
	}
}

// cityGazetteer is a synthetic city at full scale: 5 districts, 50 streets,
// 500 communities, 2,500 grids and 10,000 compounds of 10 buildings, with
// compound names repeating across communities as they do in real cities.
func cityGazetteer(tb testing.TB) (*address.Gazetteer, []string) {
	tb.Helper()
	regions := []address.Region{{Code: "420600", Name: "襄阳市", Level: canon.LevelCity}}
	var compounds []address.Compound
	var addrs []string
	words := []string{"幸福", "长虹", "汉江", "明珠", "阳光", "翡翠", "金色", "锦绣", "春华", "秋实", "东方", "华府", "滨江", "御景", "丽都", "绿洲", "书香", "和谐", "盛世", "银河"}
	suffixes := []string{"小区", "花园", "家园", "新村", "公寓"}
	districts := []string{"樊城区", "襄城区", "襄州区", "高新区", "东津新区"}
	for d, dn := range districts {
		dc := fmt.Sprintf("4206%02d", d+1)
		regions = append(regions, address.Region{Code: dc, Name: dn, Level: canon.LevelDistrict, ParentCode: "420600"})
		for s := 0; s < 10; s++ {
			sc := fmt.Sprintf("%s%03d", dc, s+1)
			sn := words[(d*10+s)%len(words)] + words[(s*3+d)%len(words)] + "街道"
			regions = append(regions, address.Region{Code: sc, Name: sn, Level: canon.LevelStreet, ParentCode: dc})
			for c := 0; c < 10; c++ {
				cc := fmt.Sprintf("%s%03d", sc, c+1)
				cn := words[(s+c)%len(words)] + words[(c*7+s)%len(words)] + "社区"
				regions = append(regions, address.Region{Code: cc, Name: cn, Level: canon.LevelCommunity, ParentCode: sc})
				for gi := 0; gi < 5; gi++ {
					regions = append(regions, address.Region{Code: fmt.Sprintf("%s%03d", cc, gi+1), Name: fmt.Sprintf("%d网格", gi+1), Level: canon.LevelGrid, ParentCode: cc})
				}
				for k := 0; k < 20; k++ {
					name := words[(k+c)%len(words)] + words[(k*3+s+d)%len(words)] + suffixes[k%len(suffixes)]
					id := fmt.Sprintf("%s-%02d", cc, k)
					var bs []address.Building
					for b := 1; b <= 10; b++ {
						bs = append(bs, address.Building{ID: fmt.Sprintf("%s-%d", id, b), Number: fmt.Sprintf("%d栋", b)})
					}
					compounds = append(compounds, address.Compound{ID: id, Name: name, GridCode: fmt.Sprintf("%s%03d", cc, k%5+1), CommunityCode: cc, Buildings: bs})
					if k%7 == 0 {
						addrs = append(addrs, fmt.Sprintf("湖北省襄阳市%s%s%s%s%d栋2单元301室", dn, sn, cn, name, k%10+1))
					}
				}
			}
		}
	}
	g, err := address.NewGazetteer(regions, compounds)
	if err != nil {
		tb.Fatal(err)
	}
	return g, addrs
}

func TestCityScaleGazetteer(t *testing.T) {
	g, addrs := cityGazetteer(t)
	matched := 0
	for _, s := range addrs {
		m := g.Match(address.Parse(s))
		if m.BuildingID != "" && m.Confidence >= 0.8 {
			matched++
		}
	}
	// Synthetic names repeat inside a community too, so not all are unique.
	if matched < len(addrs)*3/4 {
		t.Fatalf("%d of %d full addresses matched to a building", matched, len(addrs))
	}
	t.Logf("%d of %d full addresses matched to a building", matched, len(addrs))
}

func BenchmarkNewGazetteer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		cityGazetteer(b)
	}
}

func BenchmarkGazetteerMatch(b *testing.B) {
	g, addrs := cityGazetteer(b)
	parsed := make([]address.Address, len(addrs))
	for i, s := range addrs {
		parsed[i] = address.Parse(s)
	}
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g.Match(parsed[i%len(parsed)])
			i++
		}
	})
	b.Run("compound_only", func(b *testing.B) {
		a := address.Address{Compound: "幸福长虹小区", Building: "3"}
		b.ReportAllocs()
		for b.Loop() {
			g.Match(a)
		}
	})
	b.Run("parse_and_match", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g.Match(address.Parse(addrs[i%len(addrs)]))
			i++
		}
	})
}

func FuzzGazetteerMatch(f *testing.F) {
	g := testGazetteer(f)
	for _, s := range []string{"樊城区汉江街道长虹社区幸福小区3栋2单元301", "幸福小区3栋", "襄城区铁路新村12栋", "不详", "幸福", "区", "樊城区长虹社区"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := g.Match(address.Parse(s))
		if m.Confidence < 0 || m.Confidence > 1 || m.Explanation == "" {
			t.Fatalf("%q → %+v", s, m)
		}
		if m.BuildingID != "" && m.CompoundID == "" {
			t.Fatalf("%q: building without compound: %+v", s, m)
		}
		if (m.Confidence == 0) != (m.DistrictCode == "" && m.CompoundID == "") {
			t.Fatalf("%q: confidence %.2f with %+v", s, m.Confidence, m)
		}
	})
}

// TestTypoNeverPicksAnotherDistrict is the regression of 阳光亚苑 for 阳光雅苑
// and 翡翠华亭 for 翡翠华庭, which matched a different compound in another
// district at 0.51: the homophone typo finds the compound of the named
// district, and without a candidate there nothing matches.
func TestTypoNeverPicksAnotherDistrict(t *testing.T) {
	r := func(code, name string, level canon.RegionLevel, parent string) address.Region {
		return address.Region{Code: code, Name: name, Level: level, ParentCode: parent}
	}
	regions := []address.Region{
		r("420600", "襄阳市", canon.LevelCity, ""),
		r("420606", "樊城区", canon.LevelDistrict, "420600"),
		r("420602", "襄城区", canon.LevelDistrict, "420600"),
		r("420606001", "汉江街道", canon.LevelStreet, "420606"),
		r("420602001", "古城街道", canon.LevelStreet, "420602"),
		r("420606001001", "胜利社区", canon.LevelCommunity, "420606001"),
		r("420602001001", "古城社区", canon.LevelCommunity, "420602001"),
		r("420606001001001", "胜利一网格", canon.LevelGrid, "420606001001"),
		r("420602001001001", "古城一网格", canon.LevelGrid, "420602001001"),
	}
	b := []address.Building{{ID: "b3", Number: "3"}}
	g, err := address.NewGazetteer(regions, []address.Compound{
		{ID: "yaYuan", Name: "阳光雅苑", GridCode: "420606001001001", Buildings: b},
		{ID: "other", Name: "阳光小区", GridCode: "420602001001001", Buildings: []address.Building{{ID: "o3", Number: "3"}}},
		{ID: "huaTing", Name: "翡翠华庭", GridCode: "420602001001001", Buildings: []address.Building{{ID: "h3", Number: "3"}}},
		{ID: "feiCui", Name: "翡翠花园", GridCode: "420606001001001"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text, compound string
		minConf        float64
	}{
		{"樊城区汉江街道阳光亚苑3栋", "yaYuan", 0.8},
		{"襄城区阳光亚苑3栋", "", 0}, // no candidate in the named district: no guess
		{"阳光亚苑3栋", "", 0},    // no region named: no guess
		{"襄城区翡翠华亭3栋", "huaTing", 0.8},
		{"樊城区翡翠华亭3栋", "", 0}, // 翡翠华庭 lies in another district
	} {
		m := g.Match(address.Parse(tc.text))
		if m.CompoundID != tc.compound || m.Confidence < tc.minConf || (tc.compound == "" && m.CompoundID != "") {
			t.Errorf("%s → %q at %.2f (%s), want %q", tc.text, m.CompoundID, m.Confidence, m.Explanation, tc.compound)
		}
	}
}
