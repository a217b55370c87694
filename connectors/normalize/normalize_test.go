package normalize_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/datum"
)

func TestCitizenID(t *testing.T) {
	tests := []struct {
		in, want string
		reason   normalize.Reason
		repaired normalize.Repair
		gender   canon.Gender
	}{
		{in: "420606198005011234", want: "", reason: normalize.BadChecksum},
		{in: "11010519491231002X", want: "11010519491231002X", gender: canon.Female},
		{in: "11010519491231002x", want: "11010519491231002X", repaired: normalize.UpperCasedX, gender: canon.Female},
		{in: " 1101 0519 4912 3100 2X ", want: "11010519491231002X", gender: canon.Female},
		{in: "１１０１０５１９４９１２３１００２Ｘ", want: "11010519491231002X", repaired: normalize.FullWidthDigits, gender: canon.Female},
		{in: "110105491231002", want: "11010519491231002X", repaired: normalize.UpgradedID15, gender: canon.Female},
		{in: "", reason: normalize.MissingField},
		{in: "12345", reason: normalize.BadCitizenID},
		{in: "11010519491331002X", reason: normalize.BadCitizenID}, // month 13: checksum-valid? no → either reason
		{in: "01010519491231002X", reason: normalize.BadCitizenID},
		{in: "1101051949123100AX", reason: normalize.BadCitizenID},
	}
	for _, tc := range tests {
		id, repairs, err := normalize.ParseCitizenID("idCard", tc.in)
		if tc.want == "" {
			d, ok := normalize.AsDefect(err)
			if !ok || (d.Reason != tc.reason && !(tc.reason == normalize.BadCitizenID && d.Reason == normalize.BadChecksum)) {
				t.Errorf("%q: err %v, want %s", tc.in, err, tc.reason)
			}
			continue
		}
		if err != nil || id.Number != tc.want || id.Gender != tc.gender {
			t.Errorf("%q: %+v %v", tc.in, id, err)
		}
		if tc.repaired != "" && !contains(repairs, tc.repaired) {
			t.Errorf("%q: repairs %v lack %s", tc.in, repairs, tc.repaired)
		}
	}
	if !normalize.ValidCitizenID("11010519491231002X") || normalize.ValidCitizenID("110105491231002") {
		t.Fatal("ValidCitizenID")
	}
}

func contains(rs []normalize.Repair, r normalize.Repair) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func TestPhone(t *testing.T) {
	for in, want := range map[string]string{"13800001111": "13800001111", "+86 138-0000-1111": "13800001111",
		"0086 13800001111": "13800001111", "８６１３８０００01111": "13800001111", "(138) 0000.1111": "13800001111"} {
		p, _, err := normalize.ParsePhone("mobile", in)
		if err != nil || p.Number != want {
			t.Errorf("%q: %+v %v", in, p, err)
		}
	}
	for _, in := range []string{"12345", "23800001111", "1380000111a", "0710-3456789"} {
		if _, _, err := normalize.ParsePhone("mobile", in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func haversine(a, b canon.Point) float64 {
	rad := math.Pi / 180
	dLat, dLng := (b.Lat-a.Lat)*rad, (b.Lng-a.Lng)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * 6371008.8 * math.Asin(math.Sqrt(h))
}

func TestDatumRoundTrips(t *testing.T) {
	for lat := 20.0; lat <= 50; lat += 2.5 {
		for lng := 80.0; lng <= 130; lng += 2.5 {
			w := canon.Point{Lat: lat, Lng: lng}
			for _, d := range []canon.Datum{canon.GCJ02, canon.BD09} {
				oLat, oLng := datum.Convert(lat, lng, canon.WGS84, d)
				if haversine(w, canon.Point{Lat: oLat, Lng: oLng}) < 1 {
					t.Fatalf("%v: %s transform did nothing", w, d)
				}
				loc, _, err := normalize.NormalizePoint("p", oLat, oLng, d)
				if err != nil {
					t.Fatal(err)
				}
				if e := haversine(w, loc.Point); e > 0.5 {
					t.Fatalf("%v via %s: error %.3f m", w, d, e)
				}
			}
		}
	}
	// Swapped and outside China.
	loc, rep, err := normalize.NormalizePoint("p", 112.1, 32.0, canon.WGS84)
	if err != nil || loc.Lat != 32.0 || !contains(rep, normalize.SwappedLatLng) {
		t.Fatalf("swapped: %+v %v %v", loc, rep, err)
	}
	for _, p := range [][2]float64{{48.85, 2.35}, {0, 0}, {math.NaN(), 1}} {
		if _, _, err := normalize.NormalizePoint("p", p[0], p[1], canon.BD09); err == nil {
			t.Errorf("%v accepted", p)
		}
	}
}

func TestTimes(t *testing.T) {
	tp := normalize.Times{Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }, Min: time.Date(1949, 10, 1, 0, 0, 0, 0, time.UTC)}
	want := time.Date(2024, 2, 24, 12, 10, 5, 0, time.UTC)
	for _, raw := range []string{`"2024-02-24 20:10:05"`, `"2024-02-24T20:10:05"`, `"2024/02/24 20:10:05"`, `1708776605000`, `"1708776605000"`, `"2024-02-24T20:10:05+08:00"`} {
		got, _, err := tp.Parse("t", json.RawMessage(raw))
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", raw, got, err)
		}
	}
	for _, raw := range []string{`"1900-01-01 00:00:00"`, `"2030-01-01 00:00:00"`, `"yesterday"`, `null`} {
		if _, _, err := tp.Parse("t", json.RawMessage(raw)); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
	// A deadline may lie ahead, within reason.
	if _, _, err := tp.ParseDeadline("due", json.RawMessage(`"2027-03-01 18:00:00"`)); err != nil {
		t.Errorf("future deadline refused: %v", err)
	}
	if _, _, err := tp.ParseDeadline("due", json.RawMessage(`"2035-01-01 00:00:00"`)); err == nil {
		t.Error("deadline nine years ahead accepted")
	}
}

func TestCodeTables(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range normalize.Categories() {
		if seen[c.Code] {
			t.Fatalf("duplicate %s", c.Code)
		}
		seen[c.Code] = true
		if c.ParentCode != "" && !seen[c.ParentCode] {
			t.Fatalf("%s: parent %s missing or after it", c.Code, c.ParentCode)
		}
	}
	for _, m := range normalize.Mappings() {
		if !seen[m.CategoryCode] {
			t.Fatalf("mapping %+v to an unknown category", m)
		}
	}
	if c, err := normalize.GovernanceEventType("t", "05", "0501"); err != nil || c.Code != "SJ0102" {
		t.Fatalf("0501 → %+v %v", c, err)
	}
	if c, err := normalize.GovernanceEventType("t", "01", "0103"); err != nil || c.Kind != canon.KindDispute {
		t.Fatalf("0103 → %+v %v", c, err)
	}
	if c, err := normalize.CityServiceCode("s", "020501"); err != nil || c.Code != "SJ0501" {
		t.Fatalf("020501 → %+v %v", c, err)
	}
	for _, bad := range [][2]string{{"01", "0201"}, {"09", "0901"}, {"01", "01"}} {
		if _, err := normalize.GovernanceEventType("t", bad[0], bad[1]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	for code, want := range map[string]canon.CaseStatus{"10": canon.StatusReported, "40": canon.StatusDispatched, "80": canon.StatusClosed, "90": canon.StatusRejected} {
		if s, _, _, err := normalize.GovernanceStatus("s", code); err != nil || s != want {
			t.Errorf("status %s → %s %v", code, s, err)
		}
	}
	if _, _, _, err := normalize.GovernanceStatus("s", "99"); err == nil {
		t.Fatal("unknown status accepted")
	}
}

func FuzzCitizenID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "110105491231002", "x", "１１０"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, _, err := normalize.ParseCitizenID("id", s)
		if err == nil && !normalize.ValidCitizenID(id.Number) {
			t.Fatalf("%q normalised to invalid %q", s, id.Number)
		}
	})
}

func FuzzPhone(f *testing.F) {
	f.Add("+86 138-0000-1111")
	f.Fuzz(func(t *testing.T, s string) {
		if p, _, err := normalize.ParsePhone("p", s); err == nil && len(p.Number) != 11 {
			t.Fatalf("%q → %q", s, p.Number)
		}
	})
}

func FuzzPoint(f *testing.F) {
	f.Add(32.0, 112.1)
	f.Fuzz(func(t *testing.T, lat, lng float64) {
		loc, _, err := normalize.NormalizePoint("p", lat, lng, canon.BD09)
		if err == nil && (loc.Lat < 3 || loc.Lat > 54 || loc.Lng < 73 || loc.Lng > 136) {
			t.Fatalf("(%v,%v) → %+v", lat, lng, loc)
		}
	})
}

func FuzzTime(f *testing.F) {
	f.Add(`"2024-02-24 20:10:05"`)
	f.Fuzz(func(t *testing.T, s string) {
		normalize.DefaultTimes().Parse("t", json.RawMessage(s))
	})
}
