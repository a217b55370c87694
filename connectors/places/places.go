// Package places holds the city's reference region and grid layer (多网合一):
// it reads the layer from a GeoJSON FeatureCollection, checks it, and answers
// the questions connectors ask of it — is this a known grid code, which grid
// contains this WGS-84 point, and (Place) which grid a record belongs to.
//
// The layer format: a FeatureCollection of Polygon or MultiPolygon features
// in WGS-84 ([lng, lat]), each with the properties code (string, unique),
// name, level (CITY, DISTRICT, STREET, COMMUNITY, GRID) and parent (the
// parent's code; absent for the one CITY feature).
//
// places imports canon and address only.
package places

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
)

// Layer is a loaded reference layer.
type Layer struct {
	regions []canon.Region
	byCode  map[string]int
	grids   []grid
	cell    float64 // side of an index cell in degrees
	index   map[[2]int32][]int
}

type grid struct {
	code  string
	geom  orb.Geometry
	bound orb.Bound
}

// Load reads a layer file.
func Load(path string) (*Layer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("region layer: %w", err)
	}
	return Parse(raw)
}

// Parse reads a layer from GeoJSON and checks it: codes unique, levels
// known, every parent present and one level up, geometries polygonal.
func Parse(raw []byte) (*Layer, error) {
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		return nil, fmt.Errorf("region layer: not a GeoJSON FeatureCollection: %w", err)
	}
	l := &Layer{byCode: map[string]int{}, cell: 0.01, index: map[[2]int32][]int{}}
	var errs []error
	for i, f := range fc.Features {
		code, _ := f.Properties["code"].(string)
		name, _ := f.Properties["name"].(string)
		level := canon.RegionLevel(str(f.Properties["level"]))
		parent := str(f.Properties["parent"])
		switch {
		case code == "":
			errs = append(errs, fmt.Errorf("feature %d: no code", i))
			continue
		case !level.Valid():
			errs = append(errs, fmt.Errorf("feature %s: level %q is not one of CITY, DISTRICT, STREET, COMMUNITY, GRID", code, level))
			continue
		}
		if _, dup := l.byCode[code]; dup {
			errs = append(errs, fmt.Errorf("feature %s: code used twice", code))
			continue
		}
		switch f.Geometry.(type) {
		case orb.Polygon, orb.MultiPolygon:
		default:
			errs = append(errs, fmt.Errorf("feature %s: geometry must be a Polygon or MultiPolygon", code))
			continue
		}
		if name == "" {
			name = code
		}
		l.byCode[code] = len(l.regions)
		l.regions = append(l.regions, canon.Region{Code: code, Name: name, Level: level, ParentCode: parent, Boundary: f.Geometry})
	}
	for _, r := range l.regions {
		if r.Level == canon.LevelCity {
			if r.ParentCode != "" {
				errs = append(errs, fmt.Errorf("feature %s: the city has no parent", r.Code))
			}
			continue
		}
		pi, ok := l.byCode[r.ParentCode]
		if !ok {
			errs = append(errs, fmt.Errorf("feature %s: parent %q is not in the layer", r.Code, r.ParentCode))
			continue
		}
		if p := l.regions[pi]; p.Level.Depth() != r.Level.Depth()-1 {
			errs = append(errs, fmt.Errorf("feature %s (%s): parent %s is a %s", r.Code, r.Level, p.Code, p.Level))
		}
	}
	if len(errs) > 0 {
		if len(errs) > 20 {
			errs = append(errs[:20], fmt.Errorf("and %d more problems", len(errs)-20))
		}
		return nil, fmt.Errorf("region layer: %w", errors.Join(errs...))
	}
	// Parents first, so the store can insert in order.
	sort.SliceStable(l.regions, func(i, j int) bool { return l.regions[i].Level.Depth() < l.regions[j].Level.Depth() })
	for i, r := range l.regions {
		l.byCode[r.Code] = i
		if r.Level == canon.LevelGrid {
			l.addGrid(r)
		}
	}
	return l, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// addGrid indexes a grid in a uniform cell index over its bounding box.
func (l *Layer) addGrid(r canon.Region) {
	g := grid{code: r.Code, geom: r.Boundary, bound: r.Boundary.Bound()}
	gi := len(l.grids)
	l.grids = append(l.grids, g)
	x0, y0 := l.cellOf(g.bound.Min)
	x1, y1 := l.cellOf(g.bound.Max)
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			l.index[[2]int32{x, y}] = append(l.index[[2]int32{x, y}], gi)
		}
	}
}

func (l *Layer) cellOf(p orb.Point) (int32, int32) {
	return int32(math.Floor(p[0] / l.cell)), int32(math.Floor(p[1] / l.cell))
}

// Regions returns the layer's regions, parents before children.
func (l *Layer) Regions() []canon.Region { return l.regions }

// Region returns a region by code.
func (l *Layer) Region(code string) (canon.Region, bool) {
	i, ok := l.byCode[code]
	if !ok {
		return canon.Region{}, false
	}
	return l.regions[i], true
}

// IsGrid reports whether code is a grid of the layer.
func (l *Layer) IsGrid(code string) bool {
	i, ok := l.byCode[code]
	return ok && l.regions[i].Level == canon.LevelGrid
}

// GridAt returns the grid containing a WGS-84 point, if any. A point on a
// shared edge belongs to the grid with the lower code, so the answer is
// deterministic.
func (l *Layer) GridAt(p canon.Point) (string, bool) {
	pt := orb.Point{p.Lng, p.Lat}
	best := ""
	for _, gi := range l.index[[2]int32(l.cell2(pt))] {
		g := l.grids[gi]
		if !g.bound.Contains(pt) {
			continue
		}
		if contains(g.geom, pt) && (best == "" || g.code < best) {
			best = g.code
		}
	}
	return best, best != ""
}

// Placement says how a record was placed on its grid.
type Placement string

// Placements, in the order Place tries them.
const (
	ByGridCode Placement = "GRID_CODE" // the grid the source names
	ByPosition Placement = "POSITION"  // the grid containing the position
	ByAddress  Placement = "ADDRESS"   // the grid of the matched compound or building
)

// minAddressConfidence is the least gazetteer confidence that places a
// record: a compound or building matched, not one contradicting the
// region the address names.
const minAddressConfidence = 0.5

// Place returns the grid a record belongs to: the grid the source names
// when the layer has it; otherwise the grid containing the WGS-84 position
// (nil when the record has none); otherwise the grid of the address text as
// g matches it to a known compound or building (g may be nil: no address
// fallback). It reports false when none applies.
func (l *Layer) Place(code string, pos *canon.Point, addr string, g *address.Gazetteer) (string, Placement, bool) {
	if l.IsGrid(code) {
		return code, ByGridCode, true
	}
	if pos != nil {
		if grid, ok := l.GridAt(*pos); ok {
			return grid, ByPosition, true
		}
	}
	if g != nil && addr != "" {
		if m := g.Match(address.Parse(addr)); m.GridCode != "" && m.Confidence >= minAddressConfidence && l.IsGrid(m.GridCode) {
			return m.GridCode, ByAddress, true
		}
	}
	return "", "", false
}

func (l *Layer) cell2(p orb.Point) [2]int32 {
	x, y := l.cellOf(p)
	return [2]int32{x, y}
}

func contains(g orb.Geometry, p orb.Point) bool {
	switch v := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(v, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(v, p)
	}
	return false
}

// MarshalRegions writes regions as a layer FeatureCollection (used by the
// synthetic city and by tests).
func MarshalRegions(regions []canon.Region) ([]byte, error) {
	fc := geojson.NewFeatureCollection()
	for _, r := range regions {
		f := geojson.NewFeature(r.Boundary)
		f.Properties["code"] = r.Code
		f.Properties["name"] = r.Name
		f.Properties["level"] = string(r.Level)
		if r.ParentCode != "" {
			f.Properties["parent"] = r.ParentCode
		}
		fc.Append(f)
	}
	return json.Marshal(fc)
}
