package city

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
)

// Rect is an axis-aligned WGS-84 rectangle (degrees).
type Rect struct {
	MinLng, MinLat, MaxLng, MaxLat float64
}

// Ring returns the rectangle as a closed counter-clockwise ring of [lng, lat]
// positions (RFC 7946 outer ring orientation).
func (r Rect) Ring() [][2]float64 {
	return [][2]float64{
		{r.MinLng, r.MinLat}, {r.MaxLng, r.MinLat}, {r.MaxLng, r.MaxLat}, {r.MinLng, r.MaxLat}, {r.MinLng, r.MinLat},
	}
}

// Contains reports whether p lies strictly inside the rectangle.
func (r Rect) Contains(lng, lat float64) bool {
	return lng > r.MinLng && lng < r.MaxLng && lat > r.MinLat && lat < r.MaxLat
}

// Center returns the centre of the rectangle.
func (r Rect) Center() (float64, float64) {
	return (r.MinLng + r.MaxLng) / 2, (r.MinLat + r.MaxLat) / 2
}

// randomPoint returns a point strictly inside r, away from its edges by
// margin (a share of each side).
func (r Rect) randomPoint(rng *rand.Rand, margin float64) (float64, float64) {
	w, h := r.MaxLng-r.MinLng, r.MaxLat-r.MinLat
	lng := r.MinLng + w*(margin+(1-2*margin)*rng.Float64())
	lat := r.MinLat + h*(margin+(1-2*margin)*rng.Float64())
	return round6(lng), round6(lat)
}

// clampInside moves p into r, keeping it a little inside the edges.
func (r Rect) clampInside(lng, lat float64) (float64, float64) {
	w, h := r.MaxLng-r.MinLng, r.MaxLat-r.MinLat
	lng = math.Min(math.Max(lng, r.MinLng+0.05*w), r.MaxLng-0.05*w)
	lat = math.Min(math.Max(lat, r.MinLat+0.05*h), r.MaxLat-0.05*h)
	return round6(lng), round6(lat)
}

// split tiles r into exactly n rectangles: columns of stacked cells.
// Break coordinates are rounded to 6 decimals once and shared by the
// neighbours on either side, so edges are exactly equal; the parent's own
// edges are reused unchanged, so the children tile the parent exactly.
func (r Rect) split(rng *rand.Rand, n int) []Rect {
	if n <= 1 {
		return []Rect{r}
	}
	w := (r.MaxLng - r.MinLng) * math.Cos((r.MinLat+r.MaxLat)/2*math.Pi/180)
	h := r.MaxLat - r.MinLat
	cols := int(math.Round(math.Sqrt(float64(n) * w / h)))
	cols = max(1, min(cols, n))
	per := make([]int, cols)
	for i := range n {
		per[i%cols]++
	}
	xs := breaks(rng, r.MinLng, r.MaxLng, per)
	out := make([]Rect, 0, n)
	for c := range cols {
		ys := breaks(rng, r.MinLat, r.MaxLat, ones(per[c]))
		for k := range per[c] {
			out = append(out, Rect{xs[c], ys[k], xs[c+1], ys[k+1]})
		}
	}
	return out
}

func ones(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// breaks returns len(weights)+1 increasing coordinates from lo to hi, the
// segments roughly proportional to weights with some jitter.
func breaks(rng *rand.Rand, lo, hi float64, weights []int) []float64 {
	ws := make([]float64, len(weights))
	total := 0.0
	for i, w := range weights {
		ws[i] = float64(w) * (0.8 + 0.4*rng.Float64())
		total += ws[i]
	}
	out := make([]float64, len(weights)+1)
	out[0] = lo
	acc := 0.0
	for i := 0; i < len(weights)-1; i++ {
		acc += ws[i]
		out[i+1] = round6(lo + (hi-lo)*acc/total)
	}
	out[len(weights)] = hi
	return out
}

// WriteGeoJSON writes the region and grid layer as a GeoJSON
// FeatureCollection: one Polygon feature per region with the properties
// code, name, level (CITY, DISTRICT, STREET, COMMUNITY, GRID) and parent
// (absent for the city); positions [lng, lat] in WGS-84, closed
// counter-clockwise rings. The output is byte-identical for the same seed
// and scale.
func (c *City) WriteGeoJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	first := true
	for i := range c.Regions {
		r := &c.Regions[i]
		if !first {
			bw.WriteByte(',')
		}
		first = false
		bw.WriteString("\n")
		bw.WriteString(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[`)
		for k, p := range r.Rect.Ring() {
			if k > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('[')
			bw.WriteString(strconv.FormatFloat(p[0], 'f', -1, 64))
			bw.WriteByte(',')
			bw.WriteString(strconv.FormatFloat(p[1], 'f', -1, 64))
			bw.WriteByte(']')
		}
		bw.WriteString(`]]},"properties":{"code":`)
		bw.WriteString(strconv.Quote(r.Code))
		bw.WriteString(`,"name":`)
		writeJSONString(bw, r.Name)
		bw.WriteString(`,"level":"`)
		bw.WriteString(string(r.Level))
		bw.WriteByte('"')
		if r.Parent >= 0 {
			bw.WriteString(`,"parent":`)
			bw.WriteString(strconv.Quote(c.Regions[r.Parent].Code))
		}
		bw.WriteString("}}")
	}
	bw.WriteString("\n]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write region layer: %w", err)
	}
	return nil
}

// writeJSONString writes s as a JSON string without escaping non-ASCII
// text (valid UTF-8 is assumed).
func writeJSONString(w *bufio.Writer, s string) {
	w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '"' || b == '\\':
			w.WriteByte('\\')
			w.WriteByte(b)
		case b == '\n':
			w.WriteString(`\n`)
		case b == '\r':
			w.WriteString(`\r`)
		case b == '\t':
			w.WriteString(`\t`)
		case b < 0x20:
			fmt.Fprintf(w, `\u%04x`, b)
		default:
			w.WriteByte(b)
		}
	}
	w.WriteByte('"')
}
