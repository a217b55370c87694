// Package datum converts positions between the geodetic datums of Chinese
// map services: WGS-84 (GPS), GCJ-02 (the national "Mars" datum, used by
// AMap and Tencent) and BD-09 (Baidu). GCJ-02 applies inside China only;
// its inverse is computed by fixed-point iteration to well under a
// millimetre.
//
// datum imports canon only; the normalisers and the API share it.
package datum

import (
	"math"

	"github.com/ywtg/hub/canon"
)

// China's rough bounds: GCJ-02 obfuscation applies inside them only.
// InChina reports whether a position lies inside China's rough bounds.
func InChina(lat, lng float64) bool {
	return lng >= 73.66 && lng <= 135.05 && lat >= 3.86 && lat <= 53.55
}

const (
	krasovskyA  = 6378245.0
	krasovskyEE = 0.00669342162296594323
	xPi         = math.Pi * 3000.0 / 180.0
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

func wgsToGCJ(lat, lng float64) (float64, float64) {
	if !InChina(lat, lng) {
		return lat, lng
	}
	dLat := transformLat(lng-105.0, lat-35.0)
	dLng := transformLng(lng-105.0, lat-35.0)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - krasovskyEE*magic*magic
	sq := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((krasovskyA * (1 - krasovskyEE)) / (magic * sq) * math.Pi)
	dLng = (dLng * 180.0) / (krasovskyA / sq * math.Cos(radLat) * math.Pi)
	return lat + dLat, lng + dLng
}

// gcjToWGS inverts the forward transform by fixed-point iteration to well
// under a millimetre.
func gcjToWGS(lat, lng float64) (float64, float64) {
	wLat, wLng := lat, lng
	for i := 0; i < 30; i++ {
		gLat, gLng := wgsToGCJ(wLat, wLng)
		dLat, dLng := gLat-lat, gLng-lng
		wLat, wLng = wLat-dLat, wLng-dLng
		if math.Abs(dLat) < 1e-9 && math.Abs(dLng) < 1e-9 {
			break
		}
	}
	return wLat, wLng
}

func gcjToBD(lat, lng float64) (float64, float64) {
	z := math.Sqrt(lng*lng+lat*lat) + 0.00002*math.Sin(lat*xPi)
	theta := math.Atan2(lat, lng) + 0.000003*math.Cos(lng*xPi)
	return z*math.Sin(theta) + 0.006, z*math.Cos(theta) + 0.0065
}

func bdToGCJ(lat, lng float64) (float64, float64) {
	x, y := lng-0.0065, lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*xPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*xPi)
	return z * math.Sin(theta), z * math.Cos(theta)
}

// Convert converts a position between datums.
func Convert(lat, lng float64, from, to canon.Datum) (float64, float64) {
	if from == to {
		return lat, lng
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
		return gcjToBD(lat, lng)
	}
	return lat, lng
}
