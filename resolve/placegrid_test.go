package resolve

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPlaceGridFindsEveryNearPlace holds the grid to its promise: a place
// within MaxMetres of another (as Metres measures) lies in one of the cells
// near the other's, at every latitude people live at, whichever way the
// two lie apart; and the cells near one are few.
func TestPlaceGridFindsEveryNearPlace(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, maxMetres := range []float64{50, 150, 1000} {
		g := newPlaceGrid(maxMetres)
		most := 0
		for range 200_000 {
			lat := -60 + 125*rnd.Float64()
			lng := 73 + 62*rnd.Float64()
			// A place up to MaxMetres away in any direction, often at the
			// edge, where the cells are tested.
			d := maxMetres * (1 - rnd.Float64()*rnd.Float64()*rnd.Float64())
			dir := 2 * math.Pi * rnd.Float64()
			lat2 := lat + d*math.Sin(dir)/metresPerDegree
			lng2 := lng + d*math.Cos(dir)/(metresPerDegree*math.Cos((lat+lat2)/2*math.Pi/180))
			if Metres(lng, lat, lng2, lat2) > maxMetres {
				continue
			}
			near := g.near(nil, g.cell(lng, lat))
			most = max(most, len(near))
			if !slices.Contains(near, g.cell(lng2, lat2)) {
				t.Fatalf("MaxMetres %v: (%v, %v) and (%v, %v) are %.2f m apart, but cell %v is not near %v (%v)",
					maxMetres, lng, lat, lng2, lat2, Metres(lng, lat, lng2, lat2), g.cell(lng2, lat2), g.cell(lng, lat), near)
			}
		}
		if most > 16 {
			t.Errorf("MaxMetres %v: up to %d cells near one, want at most 16", maxMetres, most)
		}
	}
}
