package address_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ywtg/hub/address"
)

// parts is the expected components, as "District|Street|Community|Road|RoadNo|Compound|Building|Unit|Floor|Room".
type parts string

func partsOf(a address.Address) parts {
	return parts(strings.Join([]string{a.District, a.Street, a.Community, a.Road, a.RoadNo, a.Compound, a.Building, a.Unit, a.Floor, a.Room}, "|"))
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in         string
		want       parts
		normalized string
		rest       string
		numerals   bool // CHINESE_NUMERALS repair expected
	}{
		// The house part in its spellings.
		{in: "幸福小区3栋2单元301", want: "|||||幸福小区|3|2||301", normalized: "幸福小区3栋2单元301室"},
		{in: "幸福小区三栋二单元301", want: "|||||幸福小区|3|2||301", numerals: true},
		{in: "幸福小区3幢2单元301室", want: "|||||幸福小区|3|2||301"},
		{in: "幸福小区3号楼2单元301室", want: "|||||幸福小区|3|2||301"},
		{in: "幸福小区十二号楼", want: "|||||幸福小区|12|||", numerals: true},
		{in: "幸福小区12栋3单元1001", want: "|||||幸福小区|12|3||1001"},
		{in: "幸福小区12号楼3单元10层1001室", want: "|||||幸福小区|12|3|10|1001", normalized: "幸福小区12栋3单元10层1001室"},
		{in: "幸福小区12栋3单元10楼1001", want: "|||||幸福小区|12|3|10|1001"},
		{in: "幸福小区12-3-1001", want: "|||||幸福小区|12|3||1001"},
		{in: "12-3-1001", want: "||||||12|3||1001", normalized: "12栋3单元1001室"},
		{in: "幸福小区12-1001", want: "|||||幸福小区|12|||1001"},
		{in: "幸福小区12栋3-1001", want: "|||||幸福小区|12|3||1001"},
		{in: "幸福小区12-3-10-1001", want: "|||||幸福小区|12|3|10|1001"},
		{in: "幸福小区3#楼2单元502", want: "|||||幸福小区|3|2||502"},
		{in: "幸福小区3#502", want: "|||||幸福小区|3|||502"},
		{in: "幸福小区3栋-2单元-301", want: "|||||幸福小区|3|2||301"},
		{in: "幸福小区3栋301号", want: "|||||幸福小区|3|||301"},
		{in: "幸福小区3栋301号房", want: "|||||幸福小区|3|||301"},
		{in: "幸福小区3栋2单元2户", want: "|||||幸福小区|3|2||2"},
		{in: "万达广场B座1203", want: "|||||万达广场|B|||1203"},
		{in: "万达广场b座1203室", want: "|||||万达广场|B|||1203"},
		{in: "幸福小区03栋02单元0301", want: "|||||幸福小区|3|2||301"},
		{in: "幸福小区第三层", want: "|||||幸福小区|||3|", numerals: true},
		{in: "襄阳市樊城区铁路新村十二号楼一千零一室", want: "樊城区|||||铁路新村|12|||1001", numerals: true},
		{in: "幸福小区5栋二〇三室", want: "|||||幸福小区|5|||203", numerals: true},
		{in: "幸福小区二十一栋", want: "|||||幸福小区|21|||", numerals: true},
		{in: "幸福小区一百零五号楼", want: "|||||幸福小区|105|||", numerals: true},
		{in: "幸福小区十栋", want: "|||||幸福小区|10|||", numerals: true},

		// Full width, spaces and punctuation.
		{in: "ｘｘ小区１２栋３单元１００１", want: "|||||XX小区|12|3||1001"},
		{in: "幸福小区 3 栋 2 单元 301", want: "|||||幸福小区|3|2||301"},
		{in: "幸福小区，3栋，2单元，301室", want: "|||||幸福小区|3|2||301"},
		{in: "幸福小区３栋２单元３０１室", want: "|||||幸福小区|3|2||301"},
		{in: "幸福小区3栋—2单元—301", want: "|||||幸福小区|3|2||301"},

		// Administrative prefixes and the street address.
		{in: "湖北省襄阳市樊城区汉江街道长虹社区长虹路12号幸福小区12栋3单元10层1001室",
			want: "樊城区|汉江街道|长虹社区|长虹路|12|幸福小区|12|3|10|1001", normalized: "樊城区汉江街道长虹社区长虹路12号幸福小区12栋3单元10层1001室"},
		{in: "襄阳市樊城区长虹路12号", want: "樊城区|||长虹路|12|||||", normalized: "樊城区长虹路12号"},
		{in: "樊城区汉江街道办事处幸福花园小区3#楼2单元502", want: "樊城区|汉江街道||||幸福花园小区|3|2||502"},
		{in: "汉江街道长虹社区居委会幸福小区3栋", want: "|汉江街道|长虹社区|||幸福小区|3|||"},
		{in: "枣阳市南城街道七里村", want: "|南城街道|七里村|||||||", normalized: "枣阳市南城街道七里村"},
		{in: "襄阳市枣阳市南城街道", want: "枣阳市|南城街道||||||||"},
		{in: "南漳县城关镇", want: "南漳县|城关镇||||||||"},
		{in: "襄州区张湾街道", want: "襄州区|张湾街道||||||||"},
		{in: "东津新区幸福小区3栋", want: "东津新区|||||幸福小区|3|||"},
		{in: "长虹北路12-3号万达广场B座1203", want: "|||长虹北路|12-3|万达广场|B|||1203"},
		{in: "解放大道88号", want: "|||解放大道|88|||||"},
		{in: "鼓楼巷5号", want: "|||鼓楼巷|5|||||"},
		{in: "人民路菜市场", want: "|||人民路||||||", rest: "菜市场"},
		{in: "解放路街道三号路一号", want: "|解放路街道||三号路|1|||||", numerals: true},
		{in: "樊城区长虹路12号院3栋201", want: "樊城区|||长虹路|12||3|||201"},

		// Names that look like parts but are not.
		{in: "铁路新村3栋", want: "|||||铁路新村|3|||"},
		{in: "春天路小区3幢201", want: "|||||春天路小区|3|||201"},
		{in: "江南水乡花园二〇三室", want: "|||||江南水乡花园||||203", numerals: true},
		{in: "城市花园3栋", want: "|||||城市花园|3|||"},
		{in: "一品花园二栋", want: "|||||一品花园|2|||", numerals: true},
		{in: "二环路8号", want: "|||二环路|8|||||"},
		// A road named with two suffixes is one road; a crossing of two
		// roads names no compound, and stays in Rest.
		{in: "古城街道邓城团山社区陈老巷街149号", want: "|古城街道|邓城团山社区|陈老巷街|149|||||"},
		{in: "樊城区汉江街与春园路交叉口", want: "樊城区|||汉江街||||||", rest: "与春园路交叉口"},
		{in: "襄城区解放路和环城路路口附近", want: "襄城区|||解放路||||||", rest: "和环城路路口附近"},
		{in: "人民路与解放路口", want: "|||人民路||||||", rest: "与解放路口"},
		{in: "人民路与解放路交叉口幸福小区1栋", want: "|||人民路||与解放路交叉口幸福小区|1|||"},
		{in: "汉江街和平小区3栋", want: "|||汉江街||和平小区|3|||"},
		{in: "21世纪花园3栋", want: "|||||21世纪花园|3|||"},
		{in: "SOHO现代城A座", want: "|||||SOHO现代城|A|||"},
		{in: "幸福小区二期5栋3单元", want: "|||||幸福小区二期|5|3||"},
		{in: "幸福小区东门", want: "|||||幸福小区||||", rest: "东门"},

		// Degenerate input.
		{in: "", want: "|||||||||", normalized: ""},
		{in: "   ", want: "|||||||||", normalized: ""},
		{in: "不详", want: "|||||||||", normalized: "不详", rest: "不详"},
	}
	for _, tc := range tests {
		a := address.Parse(tc.in)
		if got := partsOf(a); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, got, tc.want)
			continue
		}
		if tc.normalized != "" || tc.in == "" {
			if a.Normalized != tc.normalized {
				t.Errorf("%q: normalized %q, want %q", tc.in, a.Normalized, tc.normalized)
			}
		}
		if a.Rest != tc.rest {
			t.Errorf("%q: rest %q, want %q", tc.in, a.Rest, tc.rest)
		}
		if hasRepair(a.Repairs, address.ChineseNumerals) != tc.numerals {
			t.Errorf("%q: repairs %v", tc.in, a.Repairs)
		}
	}
}

func TestParseAddressPrefixes(t *testing.T) {
	a := address.Parse("湖北省襄阳市樊城区长虹路12号")
	if a.Province != "湖北省" || a.City != "襄阳市" || a.District != "樊城区" {
		t.Fatalf("%+v", a)
	}
	a = address.Parse("ＸＸ小区１２栋")
	if !hasRepair(a.Repairs, address.FullWidthDigits) {
		t.Fatalf("repairs %v", a.Repairs)
	}
	// A canonical line parses to itself.
	for _, s := range []string{"樊城区汉江街道长虹社区长虹路12号幸福小区12栋3单元10层1001室", "幸福小区3栋2单元301室", "长虹北路12-3号万达广场B栋1203室"} {
		if got := address.Parse(s).Normalized; got != s {
			t.Errorf("%q → %q", s, got)
		}
	}
	// An overlong text keeps its tail in Rest.
	long := "幸福小区3栋" + strings.Repeat("备注", 300)
	if a := address.Parse(long); a.Building != "3" || utf8.RuneCountInString(a.Rest) != 600 {
		t.Fatalf("long: building %q, rest %d runes", a.Building, utf8.RuneCountInString(a.Rest))
	}
}

func TestBuildingNumber(t *testing.T) {
	for in, want := range map[string]string{"12": "12", "12栋": "12", "12号楼": "12", "012": "12", "１２": "12", "十二": "12",
		"十二栋": "12", "A座": "A", "a": "A", "3#": "3", "0": "0", "": "", "B2": "B2"} {
		if got := address.BuildingNumber(in); got != want {
			t.Errorf("BuildingNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"湖北省襄阳市樊城区汉江街道长虹社区长虹路12号幸福小区12栋3单元10层1001室", "幸福小区三栋二单元301", "12-3-1001",
		"铁路新村十二号楼一千零一室", "江南水乡花园二〇三室", "十百千", "一千零一室", "十十栋", "第", "-", "#", "\xff\xfe", "A", "3#楼", "9999999999栋"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := address.Parse(s)
		for _, v := range []string{a.Province, a.City, a.District, a.Street, a.Community, a.Road, a.RoadNo, a.Compound,
			a.Building, a.Unit, a.Floor, a.Room, a.Normalized, a.Rest} {
			if !utf8.ValidString(v) {
				t.Fatalf("%q: invalid UTF-8 in %+v", s, a)
			}
		}
		for _, n := range []string{a.Unit, a.Floor, a.Room} {
			if n != "" && strings.Trim(n, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				t.Fatalf("%q: house number %q in %+v", s, n, a)
			}
		}
		if a.Normalized == "" && strings.TrimSpace(s) != "" && a.Rest != "" {
			t.Fatalf("%q: empty normalized with rest %q", s, a.Rest)
		}
	})
}

func BenchmarkParseAddress(b *testing.B) {
	for name, in := range map[string]string{
		"full":     "湖北省襄阳市樊城区汉江街道长虹社区长虹路12号幸福小区12栋3单元10层1001室",
		"short":    "幸福小区三栋二单元301",
		"numerals": "铁路新村十二号楼一千零一室",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				address.Parse(in)
			}
		})
	}
}

func hasRepair(rs []address.Repair, r address.Repair) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}
