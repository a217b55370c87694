package normalize_test

import (
	"math"
	"testing"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors/normalize"
)

// haversine is the great-circle distance in metres.
func haversine(a, b canon.Point) float64 {
	rad := math.Pi / 180
	dLat, dLng := (b.Lat-a.Lat)*rad, (b.Lng-a.Lng)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * 6371008.8 * math.Asin(math.Sqrt(h))
}

func convert(t testing.TB, p canon.Point, from, to canon.Datum) canon.Point {
	t.Helper()
	lat, lng, err := normalize.Convert(p.Lat, p.Lng, from, to)
	if err != nil {
		t.Fatalf("%v %s→%s: %v", p, from, to, err)
	}
	return canon.Point{Lat: lat, Lng: lng}
}

// TestReferenceValues pins the forward transforms to values computed
// independently (a separate implementation of the published GCJ-02 and
// BD-09 formulas), and checks the inverses land on the WGS-84 input.
func TestReferenceValues(t *testing.T) {
	tests := []struct {
		name     string
		wgs, gcj canon.Point
		bd       canon.Point
	}{
		{"Beijing (39.9, 116.4)", canon.Point{Lat: 39.9, Lng: 116.4},
			canon.Point{Lat: 39.901403529849, Lng: 116.406242784911}, canon.Point{Lat: 39.907733781649, Lng: 116.412628029282}},
		{"Xiangyang, Fancheng", canon.Point{Lat: 32.0421, Lng: 112.1443},
			canon.Point{Lat: 32.040106941737, Lng: 112.150345891222}, canon.Point{Lat: 32.045818691569, Lng: 112.156928357159}},
	}
	for _, tc := range tests {
		gcj := convert(t, tc.wgs, canon.WGS84, canon.GCJ02)
		bd := convert(t, tc.wgs, canon.WGS84, canon.BD09)
		if math.Abs(gcj.Lat-tc.gcj.Lat) > 1e-9 || math.Abs(gcj.Lng-tc.gcj.Lng) > 1e-9 {
			t.Errorf("%s: GCJ-02 %v, want %v", tc.name, gcj, tc.gcj)
		}
		if math.Abs(bd.Lat-tc.bd.Lat) > 1e-9 || math.Abs(bd.Lng-tc.bd.Lng) > 1e-9 {
			t.Errorf("%s: BD-09 %v, want %v", tc.name, bd, tc.bd)
		}
		if e := haversine(tc.wgs, convert(t, tc.gcj, canon.GCJ02, canon.WGS84)); e > 0.01 {
			t.Errorf("%s: GCJ-02 inverse off by %.4f m", tc.name, e)
		}
		if e := haversine(tc.wgs, convert(t, tc.bd, canon.BD09, canon.WGS84)); e > 0.5 {
			t.Errorf("%s: BD-09 inverse off by %.4f m", tc.name, e)
		}
	}
}

// TestRoundTripsAcrossChina: every datum round trip stays under half a
// metre on a grid over China's bounds, and the obfuscation really moves
// points (by tens to hundreds of metres).
func TestRoundTripsAcrossChina(t *testing.T) {
	worst := map[string]float64{}
	for lat := 18.0; lat <= 53.5; lat += 0.5 {
		for lng := 74.0; lng <= 135.0; lng += 0.5 {
			w := canon.Point{Lat: lat, Lng: lng}
			for _, d := range []canon.Datum{canon.GCJ02, canon.BD09} {
				o := convert(t, w, canon.WGS84, d)
				if moved := haversine(w, o); moved < 1 || moved > 2000 {
					t.Fatalf("%v → %s moved %.1f m", w, d, moved)
				}
				back := convert(t, o, d, canon.WGS84)
				e := haversine(w, back)
				if e > 0.5 {
					t.Fatalf("%v via %s: error %.3f m", w, d, e)
				}
				worst[string(d)] = math.Max(worst[string(d)], e)
			}
			g := convert(t, w, canon.WGS84, canon.GCJ02)
			if e := haversine(g, convert(t, convert(t, g, canon.GCJ02, canon.BD09), canon.BD09, canon.GCJ02)); e > 0.5 {
				t.Fatalf("%v GCJ→BD→GCJ error %.3f m", g, e)
			}
		}
	}
	t.Logf("worst round-trip error: GCJ-02 %.2g m, BD-09 %.2g m", worst["GCJ02"], worst["BD09"])
}

func TestConvert(t *testing.T) {
	// Outside China GCJ-02 is WGS-84.
	if lat, lng, err := normalize.Convert(48.85, 2.35, canon.WGS84, canon.GCJ02); err != nil || lat != 48.85 || lng != 2.35 {
		t.Fatalf("Paris → %v %v %v", lat, lng, err)
	}
	if lat, lng, err := normalize.Convert(32, 112, canon.GCJ02, canon.GCJ02); err != nil || lat != 32 || lng != 112 {
		t.Fatalf("identity → %v %v %v", lat, lng, err)
	}
	_, _, err := normalize.Convert(32, 112, "MARS", canon.WGS84)
	wantDefect(t, "unknown datum", err, normalize.UnknownCode)
	for _, p := range [][2]float64{{math.NaN(), 112}, {32, math.Inf(1)}, {91, 112}, {32, 181}} {
		_, _, err := normalize.Convert(p[0], p[1], canon.BD09, canon.WGS84)
		wantDefect(t, "bad pair", err, normalize.BadCoordinates)
	}
}

func TestNormalizePoint(t *testing.T) {
	xiangyangBD := canon.Point{Lat: 32.045818691569, Lng: 112.156928357159}
	tests := []struct {
		name     string
		lat, lng float64
		datum    canon.Datum
		wantOrig canon.Point
		repairs  []normalize.Repair
		reason   normalize.Reason
	}{
		{name: "BD-09", lat: xiangyangBD.Lat, lng: xiangyangBD.Lng, datum: canon.BD09, wantOrig: xiangyangBD,
			repairs: []normalize.Repair{normalize.DatumConverted}},
		{name: "BD-09 swapped", lat: xiangyangBD.Lng, lng: xiangyangBD.Lat, datum: canon.BD09, wantOrig: xiangyangBD,
			repairs: []normalize.Repair{normalize.DatumConverted, normalize.SwappedLatLng}},
		{name: "WGS-84 as is", lat: 32.0421, lng: 112.1443, datum: canon.WGS84, wantOrig: canon.Point{Lat: 32.0421, Lng: 112.1443}},
		{name: "WGS-84 swapped", lat: 112.1443, lng: 32.0421, datum: canon.WGS84, wantOrig: canon.Point{Lat: 32.0421, Lng: 112.1443},
			repairs: []normalize.Repair{normalize.SwappedLatLng}},
		{name: "Harbin, northern edge", lat: 45.75, lng: 126.63, datum: canon.GCJ02, wantOrig: canon.Point{Lat: 45.75, Lng: 126.63},
			repairs: []normalize.Repair{normalize.DatumConverted}},
		{name: "Sanya, southern edge", lat: 18.25, lng: 109.5, datum: canon.GCJ02, wantOrig: canon.Point{Lat: 18.25, Lng: 109.5},
			repairs: []normalize.Repair{normalize.DatumConverted}},

		{name: "(0, 0)", lat: 0, lng: 0, datum: canon.BD09, reason: normalize.BadCoordinates},
		{name: "NaN", lat: math.NaN(), lng: 112, datum: canon.BD09, reason: normalize.BadCoordinates},
		{name: "infinity", lat: 32, lng: math.Inf(-1), datum: canon.BD09, reason: normalize.BadCoordinates},
		{name: "beyond ±90 both ways", lat: 95, lng: 200, datum: canon.WGS84, reason: normalize.BadCoordinates},
		{name: "Paris", lat: 48.85, lng: 2.35, datum: canon.WGS84, reason: normalize.OutOfChina},
		{name: "simulator's outside point", lat: 48.8566, lng: 2.3522, datum: canon.BD09, reason: normalize.OutOfChina},
		{name: "southern hemisphere", lat: -32, lng: 112, datum: canon.GCJ02, reason: normalize.OutOfChina},
		{name: "swapped but outside", lat: 150, lng: 40, datum: canon.WGS84, reason: normalize.OutOfChina},
		// Found by fuzzing: GCJ-02 has no inverse on the edge of the bounds.
		{name: "GCJ-02 at the bounds' corner", lat: 3.86, lng: 73.66, datum: canon.GCJ02, reason: normalize.OutOfChina},
		{name: "unknown datum", lat: 32, lng: 112, datum: "CGCS2000", reason: normalize.UnknownCode},
		{name: "empty datum", lat: 32, lng: 112, datum: "", reason: normalize.UnknownCode},
	}
	for _, tc := range tests {
		loc, repairs, err := normalize.NormalizePoint("lat/lng", tc.lat, tc.lng, tc.datum)
		if tc.reason != "" {
			wantDefect(t, tc.name, err, tc.reason)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if loc.Orig != tc.wantOrig || loc.OrigDatum != tc.datum {
			t.Errorf("%s: orig %v %s", tc.name, loc.Orig, loc.OrigDatum)
		}
		if !sameRepairs(repairs, tc.repairs) {
			t.Errorf("%s: repairs %v, want %v", tc.name, repairs, tc.repairs)
		}
		// The WGS-84 point converts back onto the original.
		if e := haversine(convert(t, loc.Point, canon.WGS84, tc.datum), tc.wantOrig); e > 0.5 {
			t.Errorf("%s: WGS-84 %v is %.3f m off the original", tc.name, loc.Point, e)
		}
	}
}

func FuzzNormalizePoint(f *testing.F) {
	f.Add(32.0458, 112.1569, uint8(2))
	f.Add(112.1569, 32.0458, uint8(0))
	f.Add(0.0, 0.0, uint8(1))
	f.Add(53.55, 135.05, uint8(1))
	f.Add(3.86, 73.66, uint8(2))
	f.Add(math.NaN(), 1.0, uint8(0))
	datums := []canon.Datum{canon.WGS84, canon.GCJ02, canon.BD09, "X"}
	f.Fuzz(func(t *testing.T, lat, lng float64, di uint8) {
		d := datums[int(di)%len(datums)]
		loc, _, err := normalize.NormalizePoint("p", lat, lng, d)
		if err != nil {
			if _, ok := normalize.AsDefect(err); !ok {
				t.Fatalf("(%v, %v): error %v is no defect", lat, lng, err)
			}
			return
		}
		if loc.Lat < 3 || loc.Lat > 54.5 || loc.Lng < 73 || loc.Lng > 136 || math.IsNaN(loc.Lat) || math.IsNaN(loc.Lng) {
			t.Fatalf("(%v, %v) %s → %+v", lat, lng, d, loc)
		}
		// Round trip: the WGS-84 point converts back onto the original.
		back := convert(t, loc.Point, canon.WGS84, d)
		if e := haversine(back, loc.Orig); e > 0.5 {
			t.Fatalf("(%v, %v) %s: round trip off by %.3f m", lat, lng, d, e)
		}
	})
}

func BenchmarkNormalizePoint(b *testing.B) {
	for _, d := range []canon.Datum{canon.WGS84, canon.GCJ02, canon.BD09} {
		b.Run(string(d), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := normalize.NormalizePoint("p", 32.0458, 112.1569, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
