package normalize

import (
	"math"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/datum"
)

// knownDatum reports whether d is one of the datums the hub converts.
func knownDatum(d canon.Datum) bool {
	return d == canon.WGS84 || d == canon.GCJ02 || d == canon.BD09
}

// usable reports whether a pair is finite and within ±90/±180.
func usable(lat, lng float64) bool {
	return !math.IsNaN(lat) && !math.IsNaN(lng) && !math.IsInf(lat, 0) && !math.IsInf(lng, 0) &&
		math.Abs(lat) <= 90 && math.Abs(lng) <= 180
}

// Convert converts a position between datums (package datum does the
// arithmetic: the GCJ-02 forward transform on the Krasovsky ellipsoid, its
// inverse by iteration, and BD-09 on top of GCJ-02). It is pure conversion
// with no bounds policy: outside China GCJ-02 equals WGS-84 by definition.
// A non-finite or out-of-range pair is BAD_COORDINATES, an unknown datum
// UNKNOWN_CODE.
func Convert(lat, lng float64, from, to canon.Datum) (float64, float64, error) {
	if !knownDatum(from) || !knownDatum(to) {
		return 0, 0, defect(UnknownCode, "datum", "unknown datum %q → %q", from, to)
	}
	if !usable(lat, lng) {
		return 0, 0, defect(BadCoordinates, "lat/lng", "(%v, %v) is not a position", lat, lng)
	}
	la, ln, err := datum.Convert(lat, lng, from, to)
	if err != nil {
		return 0, 0, defect(OutOfChina, "lat/lng", "(%v, %v) in %s: %v", lat, lng, from, err)
	}
	return la, ln, nil
}

// NormalizePoint validates a source position published in datum d and
// converts it to WGS-84, keeping the original. Swapped latitude and
// longitude are detected (a "latitude" beyond ±90, or a pair that lies in
// China only when swapped) and repaired; NaN, infinities, (0, 0) and pairs
// beyond ±90/±180 are BAD_COORDINATES; a valid position outside China's
// bounds (lng 73.66–135.05, lat 3.86–53.55) is OUT_OF_CHINA, since every
// source of this hub is a Chinese city's; an unknown datum is UNKNOWN_CODE.
func NormalizePoint(field string, lat, lng float64, d canon.Datum) (canon.Location, []Repair, error) {
	if !knownDatum(d) {
		return canon.Location{}, nil, defect(UnknownCode, field, "unknown datum %q", d)
	}
	if math.IsNaN(lat) || math.IsNaN(lng) || math.IsInf(lat, 0) || math.IsInf(lng, 0) || (lat == 0 && lng == 0) {
		return canon.Location{}, nil, defect(BadCoordinates, field, "no usable position (%v, %v)", lat, lng)
	}
	var repairs []Repair
	if (math.Abs(lat) > 90 && math.Abs(lng) <= 90) || (!datum.InChina(lat, lng) && datum.InChina(lng, lat)) {
		lat, lng = lng, lat
		repairs = append(repairs, SwappedLatLng)
	}
	if !usable(lat, lng) {
		return canon.Location{}, nil, defect(BadCoordinates, field, "(%v, %v) is beyond ±90/±180", lat, lng)
	}
	if !datum.InChina(lat, lng) {
		return canon.Location{}, nil, defect(OutOfChina, field, "position (%.6f, %.6f) lies outside China", lat, lng)
	}
	wLat, wLng, err := datum.Convert(lat, lng, d, canon.WGS84)
	if err != nil {
		// GCJ-02 is discontinuous at China's bounds: a source point just
		// inside them can be the image of no WGS-84 position.
		return canon.Location{}, nil, defect(OutOfChina, field, "position (%.6f, %.6f) lies on the edge of China's bounds, where %s has no inverse", lat, lng, d)
	}
	if d != canon.WGS84 {
		repairs = append(repairs, DatumConverted)
	}
	return canon.Location{Point: canon.Point{Lat: wLat, Lng: wLng}, Orig: canon.Point{Lat: lat, Lng: lng}, OrigDatum: d}, repairs, nil
}
