// Package datum converts positions between the geodetic datums of Chinese
// map services: WGS-84 (GPS), GCJ-02 (the national "Mars" datum, used by
// AMap and Tencent) and BD-09 (Baidu).
//
// Where the GCJ-02 offset applies: to WGS-84 positions inside China's rough
// rectangle (InChina: longitude 73.66–135.05, latitude 3.86–53.55); outside
// it GCJ-02 equals WGS-84. The forward transform is therefore discontinuous
// at the rectangle's edges. Where the offset pushes positions outward, a
// GCJ-02 position just outside the rectangle has two preimages (itself,
// and the position inside whose offset lands there): the inverse answers
// the one inside, so that every position inside converts forward and back
// to itself. Where the offset pushes inward, a GCJ-02 position in a strip
// of up to a few hundred metres inside the edge is the image of no WGS-84
// position: Convert answers ErrNoPreimage there instead of a wrong
// position. Everywhere else the inverses (GCJ-02 → WGS-84, BD-09 → GCJ-02)
// are computed by fixed-point iteration, so that converting a result
// forward again gives the input back to well under a millimetre
// (datum_test.go checks it over the whole domain). BD-09 is defined on
// GCJ-02 everywhere.
//
// datum imports canon only; the normalisers and the API share it.
package datum

import (
	"errors"
	"math"

	"github.com/ywtg/hub/canon"
)

// ErrNoPreimage is the error of converting a GCJ-02 (or BD-09) position
// that no WGS-84 position maps to: it lies inside China's rectangle, but
// the WGS-84 position it would come from lies outside, where no offset is
// applied.
var ErrNoPreimage = errors.New("no WGS-84 position maps to this position: it lies on the edge of China's rectangle, where GCJ-02 is discontinuous")

// InChina reports whether a position lies inside China's rough rectangle,
// where the GCJ-02 offset applies.
func InChina(lat, lng float64) bool {
	return lng >= 73.66 && lng <= 135.05 && lat >= 3.86 && lat <= 53.55
}

const (
	krasovskyA  = 6378245.0
	krasovskyEE = 0.00669342162296594323
	xPi         = math.Pi * 3000.0 / 180.0
	// iterTol is the convergence bound of the inverse iterations in
	// degrees (about 0.1 mm).
	iterTol = 1e-9
	maxIter = 50
	// edgeMargin exceeds the largest GCJ-02 offset (under 0.01°): a
	// position farther than this outside the rectangle is no image of a
	// position inside it.
	edgeMargin = 0.05
)

func transformLat(x, y float64) float64 {
	r := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	r += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return r
}

func transformLng(x, y float64) float64 {
	r := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	r += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return r
}

// gcjOffset is the GCJ-02 offset of a WGS-84 position, computed without
// regard to China's rectangle.
func gcjOffset(lat, lng float64) (float64, float64) {
	dLat := transformLat(lng-105.0, lat-35.0)
	dLng := transformLng(lng-105.0, lat-35.0)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - krasovskyEE*magic*magic
	sq := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((krasovskyA * (1 - krasovskyEE)) / (magic * sq) * math.Pi)
	dLng = (dLng * 180.0) / (krasovskyA / sq * math.Cos(radLat) * math.Pi)
	return dLat, dLng
}

func wgsToGCJ(lat, lng float64) (float64, float64) {
	if !InChina(lat, lng) {
		return lat, lng
	}
	dLat, dLng := gcjOffset(lat, lng)
	return lat + dLat, lng + dLng
}

// gcjToWGS inverts wgsToGCJ: it solves w + offset(w) = g by fixed-point
// iteration. A solution inside China's rectangle is the preimage (also for
// a g just outside the rectangle, the image of a position near its edge);
// otherwise g is its own preimage when it lies outside the rectangle, and
// has none when it lies inside.
func gcjToWGS(lat, lng float64) (float64, float64, error) {
	if lng < 73.66-edgeMargin || lng > 135.05+edgeMargin || lat < 3.86-edgeMargin || lat > 53.55+edgeMargin {
		return lat, lng, nil // far outside: no position of the rectangle maps here
	}
	wLat, wLng := lat, lng
	for i := 0; i < maxIter; i++ {
		dLat, dLng := gcjOffset(wLat, wLng)
		nLat, nLng := lat-dLat, lng-dLng
		done := math.Abs(nLat-wLat) < iterTol && math.Abs(nLng-wLng) < iterTol
		wLat, wLng = nLat, nLng
		if done {
			break
		}
	}
	// A preimage on the edge itself can come out a rounding error outside.
	wLat, wLng = snap(wLat, 3.86, 53.55), snap(wLng, 73.66, 135.05)
	switch {
	case InChina(wLat, wLng):
		return wLat, wLng, nil
	case !InChina(lat, lng):
		return lat, lng, nil
	}
	return 0, 0, ErrNoPreimage
}

// snap moves v onto [lo, hi] when it lies within iterTol outside.
func snap(v, lo, hi float64) float64 {
	switch {
	case v < lo && v > lo-iterTol:
		return lo
	case v > hi && v < hi+iterTol:
		return hi
	}
	return v
}

func gcjToBD(lat, lng float64) (float64, float64) {
	z := math.Sqrt(lng*lng+lat*lat) + 0.00002*math.Sin(lat*xPi)
	theta := math.Atan2(lat, lng) + 0.000003*math.Cos(lng*xPi)
	return z*math.Sin(theta) + 0.006, z*math.Cos(theta) + 0.0065
}

// bdToGCJ inverts gcjToBD. The published closed form is only approximate
// (up to a metre off); it is the start of a fixed-point iteration on the
// forward transform, which converges to well under a millimetre.
func bdToGCJ(lat, lng float64) (float64, float64) {
	x, y := lng-0.0065, lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*xPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*xPi)
	gLat, gLng := z*math.Sin(theta), z*math.Cos(theta)
	for i := 0; i < maxIter; i++ {
		bLat, bLng := gcjToBD(gLat, gLng)
		dLat, dLng := bLat-lat, bLng-lng
		gLat, gLng = gLat-dLat, gLng-dLng
		if math.Abs(dLat) < iterTol && math.Abs(dLng) < iterTol {
			break
		}
	}
	return gLat, gLng
}

// Convert converts a position between datums. It fails with ErrNoPreimage
// for a GCJ-02 or BD-09 position that no WGS-84 position maps to (see the
// package documentation); every other conversion succeeds, and converting
// its result back to the input datum gives the input again.
func Convert(lat, lng float64, from, to canon.Datum) (float64, float64, error) {
	if from == to {
		return lat, lng, nil
	}
	// To GCJ-02 first, then to the target.
	switch from {
	case canon.WGS84:
		lat, lng = wgsToGCJ(lat, lng)
	case canon.BD09:
		lat, lng = bdToGCJ(lat, lng)
	}
	switch to {
	case canon.WGS84:
		return gcjToWGS(lat, lng)
	case canon.BD09:
		la, ln := gcjToBD(lat, lng)
		return la, ln, nil
	}
	return lat, lng, nil
}
