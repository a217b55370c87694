package resolve

import "math"

// placeGrid cuts the map into cells for finding the reports that may lie
// within MaxMetres of one (as Metres measures): rows MaxMetres of latitude
// high, each row cut into cells of the same width in degrees of longitude.
// A degree of longitude shortens away from the equator (at 32°N it is 0.85
// of a degree of latitude), so the cells a report is compared across reach
// MaxMetres east and west at the latitude of the row and the rows beside
// it, however many cells that takes. A case's cell depends only on its
// own place, so a held case is found again where it was put.
type placeGrid struct {
	rowDeg float64 // a row's height, MaxMetres in degrees of latitude
}

// cellKey is a cell of a placeGrid: its column x in row y.
type cellKey struct{ x, y int64 }

// metresPerDegree is a degree of latitude as Metres measures it.
const metresPerDegree = 6_371_000 * math.Pi / 180

func newPlaceGrid(maxMetres float64) placeGrid {
	return placeGrid{rowDeg: maxMetres / metresPerDegree}
}

// colDeg is the width of the cells of row y: its height, widened by the
// length of a degree of longitude at the latitude of rows y-1 to y+1
// farthest from the equator.
func (g placeGrid) colDeg(y int64) float64 {
	return g.rowDeg / math.Cos(g.far(y)*math.Pi/180)
}

// far is the latitude of rows y-1 to y+1 farthest from the equator, in
// degrees (at most 89: the grid serves the latitudes people live at).
func (g placeGrid) far(y int64) float64 {
	return min(max(math.Abs(float64(y-1)*g.rowDeg), math.Abs(float64(y+2)*g.rowDeg)), 89)
}

// cell is the cell of a place.
func (g placeGrid) cell(lng, lat float64) cellKey {
	y := int64(math.Floor(lat / g.rowDeg))
	return cellKey{int64(math.Floor(lng / g.colDeg(y))), y}
}

// near appends to dst the cells that may hold a place within MaxMetres of
// a place in cell k (k among them): the rows beside it, and in each the
// columns that span k's column widened by MaxMetres each way. Two places
// within MaxMetres are at most a row apart, and their distance along the
// parallel is at least their difference in longitude at the cosine of the
// latitude farthest from the equator in k's row and the rows beside.
func (g placeGrid) near(dst []cellKey, k cellKey) []cellKey {
	// k's column width is MaxMetres in degrees of longitude at that
	// farthest latitude: the reach each way.
	w := g.colDeg(k.y)
	west, east := float64(k.x-1)*w, float64(k.x+2)*w
	for y := k.y - 1; y <= k.y+1; y++ {
		ww := g.colDeg(y)
		for x := int64(math.Floor(west / ww)); x <= int64(math.Floor(east/ww)); x++ {
			dst = append(dst, cellKey{x, y})
		}
	}
	return dst
}
