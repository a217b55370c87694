package normalize_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ywtg/hub/connectors/normalize"
)

func TestAddress(t *testing.T) {
	tests := []struct {
		in, want string
		repairs  []normalize.Repair
		reason   normalize.Reason
	}{
		{in: "樊城区长虹路8号", want: "樊城区长虹路8号"},
		{in: "樊城区王寨街道环城路一百一十二号附近", want: "樊城区王寨街道环城路112号附近", repairs: []normalize.Repair{normalize.ChineseNumerals}},
		{in: "樊城区王寨街道炮铺路１５４号附近", want: "樊城区王寨街道炮铺路154号附近", repairs: []normalize.Repair{normalize.FullWidthDigits}},
		{in: "湖北省襄阳市樊城区王寨街道山水小区一栋二单元1302室", want: "樊城区王寨街道山水小区1栋2单元1302室", repairs: []normalize.Repair{normalize.ChineseNumerals}},
		{in: "  襄州区民主路与米公路交叉口 ", want: "襄州区民主路与米公路交叉口"},
		{in: "<b>樊城区</b>长虹路8号", want: "樊城区长虹路8号"},
		{in: "", want: ""},
		{in: "\xb3\xa4\xba\xe7\xc2\xb7", reason: normalize.BadEncoding}, // 长虹路 in GBK
		{in: strings.Repeat("路", 501), reason: normalize.TextTooLong},
	}
	for _, tc := range tests {
		got, repairs, err := normalize.Address("address", tc.in, 500)
		if tc.reason != "" {
			wantDefect(t, tc.in, err, tc.reason)
			continue
		}
		if err != nil || got != tc.want || !slices.Equal(repairs, tc.repairs) {
			t.Errorf("Address(%q) = %q %v %v, want %q %v", tc.in, got, repairs, err, tc.want, tc.repairs)
		}
	}
}

func BenchmarkAddress(b *testing.B) {
	for _, in := range []string{"樊城区长虹路8号", "湖北省襄阳市樊城区王寨街道山水小区一栋二单元1302室"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				normalize.Address("address", in, 500)
			}
		})
	}
}

func FuzzAddress(f *testing.F) {
	for _, s := range []string{"樊城区长虹路8号", "湖北省襄阳市樊城区山水小区一栋二单元1302室", "炮铺路１５４号", "<p>x</p>", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, _, err := normalize.Address("address", s, 500)
		if err == nil && !utf8.ValidString(out) {
			t.Fatalf("Address(%q) = %q, not UTF-8", s, out)
		}
	})
}
