package normalize_test

import (
	"strings"
	"testing"

	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/pii"
)

func TestParsePhone(t *testing.T) {
	const (
		fw  = normalize.FullWidthDigits
		cc  = normalize.CountryCodeStripped
		fmt = normalize.PhoneFormatting
	)
	tests := []struct {
		in      string
		want    string
		kind    normalize.PhoneKind
		repairs []normalize.Repair
		reason  normalize.Reason
	}{
		{in: "13800001111", want: "13800001111", kind: normalize.Mobile},
		{in: " 13800001111 ", want: "13800001111", kind: normalize.Mobile},
		{in: "19912345678", want: "19912345678", kind: normalize.Mobile},
		{in: "+86 138-0000-1111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{cc, fmt}},
		{in: "+8613800001111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{cc}},
		{in: "+86-13800001111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{cc}},
		{in: "0086 13800001111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{cc}},
		{in: "008613800001111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{cc}},
		{in: "8613800001111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{cc}},
		{in: "138 0000 1111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{fmt}},
		{in: "138-0000-1111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{fmt}},
		{in: "138.0000.1111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{fmt}},
		{in: "(138) 0000.1111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{fmt}},
		{in: "１３８００００１１１１", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{fw}},
		{in: "８６１３８０００01111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{fw, cc}},
		{in: "＋８６　１３８－００００－１１１１", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{fw, cc, fmt}},
		{in: "138—0000—1111", want: "13800001111", kind: normalize.Mobile, repairs: []normalize.Repair{fmt}},
		{in: "0710-3456789", want: "0710-3456789", kind: normalize.Landline},
		{in: "07103456789", want: "0710-3456789", kind: normalize.Landline, repairs: []normalize.Repair{fmt}},
		{in: "(0710)3456789", want: "0710-3456789", kind: normalize.Landline, repairs: []normalize.Repair{fmt}},
		{in: "（0710）3456789", want: "0710-3456789", kind: normalize.Landline, repairs: []normalize.Repair{fw, fmt}},
		{in: "0710 345 6789", want: "0710-3456789", kind: normalize.Landline, repairs: []normalize.Repair{fmt}},
		{in: "010-62345678", want: "010-62345678", kind: normalize.Landline},
		{in: "021-87654321", want: "021-87654321", kind: normalize.Landline},
		{in: "0710-83456789", want: "0710-83456789", kind: normalize.Landline},
		{in: "+86 710 3456789", want: "0710-3456789", kind: normalize.Landline, repairs: []normalize.Repair{cc, fmt}},
		{in: "+86 (0)710 3456789", want: "0710-3456789", kind: normalize.Landline, repairs: []normalize.Repair{cc, fmt}},
		{in: "0086-10-62345678", want: "010-62345678", kind: normalize.Landline, repairs: []normalize.Repair{cc, fmt}},
		{in: "86-0710-3456789", want: "0710-3456789", kind: normalize.Landline, repairs: []normalize.Repair{cc}},
		{in: "8607103456789", want: "0710-3456789", kind: normalize.Landline, repairs: []normalize.Repair{cc, fmt}},
		{in: "86 010 62345678", want: "010-62345678", kind: normalize.Landline, repairs: []normalize.Repair{cc, fmt}},
		{in: "400-810-8888", want: "400-810-8888", kind: normalize.Service},
		{in: "800-820-8820", want: "800-820-8820", kind: normalize.Service},
		{in: "4008108888", want: "400-810-8888", kind: normalize.Service, repairs: []normalize.Repair{fmt}},
		{in: "400 810 8888", want: "400-810-8888", kind: normalize.Service, repairs: []normalize.Repair{fmt}},
		{in: "４００-８１０-８８８８", want: "400-810-8888", kind: normalize.Service, repairs: []normalize.Repair{fw}},
		{in: "+86 400 810 8888", want: "400-810-8888", kind: normalize.Service, repairs: []normalize.Repair{cc, fmt}},

		{in: "", reason: normalize.MissingField},
		{in: "  ", reason: normalize.MissingField},
		{in: "12345", reason: normalize.BadPhone},
		{in: "23800001111", reason: normalize.BadPhone},
		{in: "12800001111", reason: normalize.BadPhone},     // 12x is no mobile prefix
		{in: "1380000111", reason: normalize.BadPhone},      // 10 digits
		{in: "138000011112", reason: normalize.BadPhone},    // 12 digits
		{in: "1380000111a", reason: normalize.BadPhone},     // letter
		{in: "+1 415 555 0100", reason: normalize.BadPhone}, // foreign
		{in: "+44 20 7946 0958", reason: normalize.BadPhone},
		{in: "3456789", reason: normalize.BadPhone},          // no area code
		{in: "0710-0456789", reason: normalize.BadPhone},     // local number starts with 0
		{in: "0710-1456789", reason: normalize.BadPhone},     // or 1
		{in: "011-62345678", reason: normalize.BadPhone},     // 01x other than 010
		{in: "0710-345678", reason: normalize.BadPhone},      // 6-digit local number
		{in: "400-800-123", reason: normalize.BadPhone},      // 9-digit service number
		{in: "500-810-8888", reason: normalize.BadPhone},     // no 500 service numbers
		{in: "0710-3456789转123", reason: normalize.BadPhone}, // extension
		{in: "无", reason: normalize.BadPhone},
		{in: "138+0000+1111", reason: normalize.BadPhone},
		{in: "010-12345678", reason: normalize.BadPhone}, // local numbers never start with 1
		{in: "+86 12345", reason: normalize.BadPhone},
	}
	for _, tc := range tests {
		p, repairs, err := normalize.ParsePhone("mobile", tc.in)
		if tc.reason != "" {
			wantDefect(t, tc.in, err, tc.reason)
			if err != nil && strings.Contains(err.Error(), "0000") {
				t.Errorf("%q: the defect repeats the number: %v", tc.in, err)
			}
			continue
		}
		if err != nil || p.Number != tc.want || p.Kind != tc.kind {
			t.Errorf("%q → %+v %v, want %s %s", tc.in, p, err, tc.want, tc.kind)
			continue
		}
		if !sameRepairs(repairs, tc.repairs) {
			t.Errorf("%q: repairs %v, want %v", tc.in, repairs, tc.repairs)
		}
	}
}

func TestPhoneMasked(t *testing.T) {
	for in, want := range map[string]string{
		"13800000000": "138****0000", "+86 139-1234-5678": "139****5678",
		"0710-3456789": "0710-***6789", "010-62345678": "010-****5678", "4008108888": "400-***-8888",
	} {
		p, _, err := normalize.ParsePhone("p", in)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Masked(); got != want {
			t.Errorf("%q masked %q, want %q", in, got, want)
		}
		if p.Kind == normalize.Mobile && p.Masked() != pii.MaskPhone(p.Number) {
			t.Errorf("%q: Masked differs from pii.MaskPhone", in)
		}
	}
	if got := (normalize.Phone{Number: "123"}).Masked(); got != "***" {
		t.Errorf("unparsed phone masked %q", got)
	}
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"+86 138-0000-1111", "0086 13800001111", "８６１３８０００01111", "0710-3456789", "+86 (0)710 3456789",
		"010-62345678", "(138) 0000.1111", "400-810-8888", "86-0710-3456789", "+", "86", "0", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _, err := normalize.ParsePhone("p", s)
		if err != nil {
			if _, ok := normalize.AsDefect(err); !ok {
				t.Fatalf("%q: error %v is no defect", s, err)
			}
			return
		}
		switch p.Kind {
		case normalize.Mobile:
			if len(p.Number) != 11 || p.Number[0] != '1' {
				t.Fatalf("%q → mobile %q", s, p.Number)
			}
		case normalize.Landline:
			if !strings.HasPrefix(p.Number, "0") || strings.Count(p.Number, "-") != 1 {
				t.Fatalf("%q → landline %q", s, p.Number)
			}
		case normalize.Service:
			if len(p.Number) != 12 || strings.Count(p.Number, "-") != 2 {
				t.Fatalf("%q → service number %q", s, p.Number)
			}
		default:
			t.Fatalf("%q → kind %q", s, p.Kind)
		}
		// The canonical form is a fixed point.
		again, repairs, err := normalize.ParsePhone("p", p.Number)
		if err != nil || again != p || len(repairs) != 0 {
			t.Fatalf("%q → %q → %+v %v %v", s, p.Number, again, repairs, err)
		}
		if m := p.Masked(); len(m) != len(p.Number) || !strings.Contains(m, "*") {
			t.Fatalf("%q masked %q", p.Number, m)
		}
	})
}

func BenchmarkParsePhone(b *testing.B) {
	for _, in := range []string{"13800001111", "+86 138-0000-1111", "0710-3456789"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := normalize.ParsePhone("p", in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
