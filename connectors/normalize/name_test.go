package normalize_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/pii"
)

func TestPersonName(t *testing.T) {
	tests := []struct {
		in, want string
		repairs  []normalize.Repair
		reason   normalize.Reason
	}{
		{in: "张三", want: "张三"},
		{in: "  张三 ", want: "张三"},
		{in: "张 三", want: "张三", repairs: []normalize.Repair{normalize.NameCleaned}},
		{in: "欧阳 娜娜", want: "欧阳娜娜", repairs: []normalize.Repair{normalize.NameCleaned}},
		{in: "张\u3000三", want: "张三", repairs: []normalize.Repair{normalize.FullWidthDigits, normalize.NameCleaned}},
		{in: "张\t三", want: "张三", repairs: []normalize.Repair{normalize.NameCleaned}},
		{in: "买买提·艾力", want: "买买提·艾力"},
		{in: "买买提•艾力", want: "买买提·艾力", repairs: []normalize.Repair{normalize.NameCleaned}},
		{in: "买买提.艾力", want: "买买提·艾力", repairs: []normalize.Repair{normalize.NameCleaned}},
		{in: "买买提 · 艾力", want: "买买提·艾力", repairs: []normalize.Repair{normalize.NameCleaned}},
		{in: "阿依古丽・买买提", want: "阿依古丽·买买提", repairs: []normalize.Repair{normalize.NameCleaned}},
		{in: "John Smith", want: "John Smith"},
		{in: "John   Smith", want: "John Smith", repairs: []normalize.Repair{normalize.NameCleaned}},
		{in: "Ｊｏｈｎ　Ｓｍｉｔｈ", want: "John Smith", repairs: []normalize.Repair{normalize.FullWidthDigits}},
		{in: "Mary-Jane O'Neil", want: "Mary-Jane O'Neil"},
		{in: "J. Smith", want: "J. Smith"},
		{in: "<b>张三</b>", want: "张三", repairs: []normalize.Repair{normalize.HTMLStripped}},
		{in: "José Martínez", want: "José Martínez"},

		{in: "", reason: normalize.MissingField},
		{in: "   ", reason: normalize.MissingField},
		{in: "<br/>", reason: normalize.MissingField},
		{in: "\u200b", reason: normalize.MissingField},                                             // found by fuzzing
		{in: "\u200bAnn Lee", want: "Ann Lee", repairs: []normalize.Repair{normalize.NameCleaned}}, // found by fuzzing
		{in: "张\u200b三", want: "张三", repairs: []normalize.Repair{normalize.NameCleaned}},
		{in: "张三1", reason: normalize.BadName},
		{in: "张三（已故）", reason: normalize.BadName},
		{in: "test@example.com", reason: normalize.BadName},
		{in: "张\x00三", reason: normalize.BadName},
		{in: "\xd5\xc5\xc8\xfd", reason: normalize.BadEncoding}, // 张三 in GBK
		{in: strings.Repeat("张", 65), reason: normalize.TextTooLong},
	}
	for _, tc := range tests {
		got, repairs, err := normalize.PersonName("xm", tc.in)
		if tc.reason != "" {
			wantDefect(t, tc.in, err, tc.reason)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q → %q %v, want %q", tc.in, got, err, tc.want)
			continue
		}
		if !sameRepairs(repairs, tc.repairs) {
			t.Errorf("%q: repairs %v, want %v", tc.in, repairs, tc.repairs)
		}
	}
}

func FuzzPersonName(f *testing.F) {
	for _, s := range []string{"张三", "张 三", "买买提•艾力", "John  Smith", "<b>x</b>", "·", "\xff", "a\u200bb", "Ｊｏｈｎ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, _, err := normalize.PersonName("n", s)
		if err != nil {
			if _, ok := normalize.AsDefect(err); !ok {
				t.Fatalf("%q: error %v is no defect", s, err)
			}
			return
		}
		if name == "" || !utf8.ValidString(name) || strings.TrimSpace(name) != name || strings.Contains(name, "  ") {
			t.Fatalf("%q → %q", s, name)
		}
		// Cleaning is idempotent.
		again, repairs, err := normalize.PersonName("n", name)
		if err != nil || again != name || len(repairs) != 0 {
			t.Fatalf("%q → %q → %q %v %v", s, name, again, repairs, err)
		}
		if m := pii.MaskName(name); utf8.RuneCountInString(m) != utf8.RuneCountInString(name) {
			t.Fatalf("mask of %q is %q", name, m)
		}
	})
}

func BenchmarkPersonName(b *testing.B) {
	for _, in := range []string{"张三", "张 三", "买买提•艾力"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := normalize.PersonName("n", in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
