package normalize

import (
	"math"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/datum"
)

// NormalizePoint validates a source position in its datum and converts it
// to WGS-84, keeping the original. Swapped latitude and longitude are
// detected and repaired; positions outside China, (0, 0) and non-numbers
// are defects.
func NormalizePoint(field string, lat, lng float64, d canon.Datum) (canon.Location, []Repair, error) {
	var repairs []Repair
	if math.IsNaN(lat) || math.IsNaN(lng) || math.IsInf(lat, 0) || math.IsInf(lng, 0) || (lat == 0 && lng == 0) {
		return canon.Location{}, nil, defect(BadCoordinates, field, "no usable position (%v, %v)", lat, lng)
	}
	if !datum.InChina(lat, lng) && datum.InChina(lng, lat) {
		lat, lng = lng, lat
		repairs = append(repairs, SwappedLatLng)
	}
	if !datum.InChina(lat, lng) {
		return canon.Location{}, nil, defect(OutOfChina, field, "position (%.6f, %.6f) lies outside China", lat, lng)
	}
	wLat, wLng := datum.Convert(lat, lng, d, canon.WGS84)
	if d != canon.WGS84 {
		repairs = append(repairs, DatumConverted)
	}
	return canon.Location{Point: canon.Point{Lat: wLat, Lng: wLng}, Orig: canon.Point{Lat: lat, Lng: lng}, OrigDatum: d}, repairs, nil
}
