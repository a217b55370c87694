package city

import (
	"fmt"
	"time"

	"github.com/ywtg/hub/canon"
)

// Scale names a size of synthetic city.
type Scale string

// The scales the generator knows.
const (
	Small  Scale = "small"  // ≈30 grids, 5k residents, 5k cases; generated in well under a second
	Medium Scale = "medium" // ≈400 grids, 60k residents, 100k cases
	Large  Scale = "city"   // ≥2,500 grids, ≥300k residents, ≥20k party members, ≥1M cases
)

// ParseScale returns the scale named s.
func ParseScale(s string) (Scale, error) {
	switch Scale(s) {
	case Small, Medium, Large:
		return Scale(s), nil
	}
	return "", fmt.Errorf("unknown scale %q (want small, medium or city)", s)
}

// params are the sizes of a scale.
type params struct {
	districts      int
	streets        [2]int // per district, min..max (capped by the names known)
	communities    [2]int // per street
	grids          [2]int // per community
	residents      int
	cases          int     // governance events + city-management cases
	govShare       float64 // share of cases that are governance events
	bbox           Rect
	activitiesPerM int // volunteer activity rows per party member
}

func (s Scale) params() params {
	switch s {
	case Medium:
		return params{districts: 5, streets: [2]int{4, 6}, communities: [2]int{3, 5}, grids: [2]int{3, 5},
			residents: 60_000, cases: 100_000, govShare: 0.35,
			bbox: Rect{111.80, 31.80, 112.50, 32.30}, activitiesPerM: 3}
	case Large:
		return params{districts: 9, streets: [2]int{10, 14}, communities: [2]int{5, 7}, grids: [2]int{4, 6},
			residents: 420_000, cases: 1_100_000, govShare: 0.35,
			bbox: Rect{111.30, 31.40, 113.10, 32.60}, activitiesPerM: 3}
	default:
		return params{districts: 3, streets: [2]int{2, 2}, communities: [2]int{2, 2}, grids: [2]int{2, 3},
			residents: 5_000, cases: 5_000, govShare: 0.4,
			bbox: Rect{112.00, 31.95, 112.24, 32.11}, activitiesPerM: 3}
	}
}

// DefaultReference is the default reference instant: case history runs up
// to it and the simulator clock starts there.
var DefaultReference = time.Date(2026, 11, 1, 0, 0, 0, 0, CST)

// CST is China Standard Time, the zone of the working calendar
// (canon.ChinaTime).
var CST = canon.ChinaTime

// Config selects the city to generate. The zero value is not useful; use
// DefaultConfig and adjust.
type Config struct {
	Seed      uint64    // same seed and scale give byte-identical output
	Scale     Scale     // small, medium or city
	DirtyRate float64   // share of source records carrying an injected defect
	Reference time.Time // end of the generated history; never time.Now
}

// DefaultConfig returns seed 1, small scale, 2% dirty records and the
// default reference date.
func DefaultConfig() Config {
	return Config{Seed: 1, Scale: Small, DirtyRate: 0.02, Reference: DefaultReference}
}

func (c Config) validate() error {
	if _, err := ParseScale(string(c.Scale)); err != nil {
		return err
	}
	if c.DirtyRate < 0 || c.DirtyRate > 0.5 {
		return fmt.Errorf("dirty rate %v out of range [0, 0.5]", c.DirtyRate)
	}
	if c.Reference.IsZero() {
		return fmt.Errorf("reference time is zero")
	}
	return nil
}
