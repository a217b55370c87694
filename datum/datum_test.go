package datum

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ywtg/hub/canon"
)

// metres is the great-circle distance between two positions.
func metres(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371008.8
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lng2-lng1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// domainSample is a deterministic sample of the whole domain: a world grid,
// a dense band across each edge of China's rectangle (where GCJ-02 is
// discontinuous), and random positions.
func domainSample() [][2]float64 {
	var pts [][2]float64
	for lat := -89.5; lat <= 89.5; lat += 0.5 {
		for lng := -179.5; lng <= 179.5; lng += 0.5 {
			pts = append(pts, [2]float64{lat, lng})
		}
	}
	const band, step = 0.02, 0.0002
	for off := -band; off <= band; off += step {
		for t := 0.0; t <= 1; t += 0.01 {
			lat := 3.86 + t*(53.55-3.86)
			lng := 73.66 + t*(135.05-73.66)
			pts = append(pts, [2]float64{lat, 73.66 + off}, [2]float64{lat, 135.05 + off},
				[2]float64{3.86 + off, lng}, [2]float64{53.55 + off, lng})
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		pts = append(pts, [2]float64{r.Float64()*180 - 90, r.Float64()*360 - 180})
	}
	return pts
}

// TestForwardOfInverse is the consistency property: for every datum pair
// and every position of the domain that has an inverse, converting the
// inverse forward again gives the position back within 0.5 m; a position
// without one lies in the strip along the rectangle's edges.
func TestForwardOfInverse(t *testing.T) {
	pairs := [][2]canon.Datum{
		{canon.GCJ02, canon.WGS84}, {canon.BD09, canon.WGS84},
		{canon.BD09, canon.GCJ02}, {canon.GCJ02, canon.BD09},
	}
	for _, pr := range pairs {
		from, to := pr[0], pr[1]
		worst, none := 0.0, 0
		for _, p := range domainSample() {
			la, ln, err := Convert(p[0], p[1], from, to)
			if err != nil {
				if !errors.Is(err, ErrNoPreimage) || to != canon.WGS84 {
					t.Fatalf("%s→%s (%v): %v", from, to, p, err)
				}
				if !nearEdge(p[0], p[1], 0.02) {
					t.Fatalf("%s→%s (%v): no preimage far from the rectangle's edges", from, to, p)
				}
				none++
				continue
			}
			ba, bn, err := Convert(la, ln, to, from)
			if err != nil {
				t.Fatalf("%s→%s→%s (%v): %v", from, to, from, p, err)
			}
			if d := metres(p[0], p[1], ba, bn); d > worst {
				worst = d
				if d > 0.5 {
					t.Fatalf("%s→%s→%s (%v) = (%v, %v): %.3f m off", from, to, from, p, ba, bn, d)
				}
			}
		}
		t.Logf("%s→%s→%s: worst %.2e m, %d positions without preimage", from, to, from, worst, none)
	}
}

// TestInverseOfForward: every WGS-84 position inside China's rectangle
// converts to GCJ-02 or BD-09 and back to itself within 0.5 m, including
// those whose image lies just outside the rectangle.
func TestInverseOfForward(t *testing.T) {
	for _, to := range []canon.Datum{canon.GCJ02, canon.BD09} {
		worst := 0.0
		for _, p := range domainSample() {
			if !InChina(p[0], p[1]) {
				continue
			}
			la, ln, err := Convert(p[0], p[1], canon.WGS84, to)
			if err != nil {
				t.Fatalf("WGS84→%s (%v): %v", to, p, err)
			}
			ba, bn, err := Convert(la, ln, to, canon.WGS84)
			if err != nil {
				t.Fatalf("WGS84→%s→WGS84 (%v): %v", to, p, err)
			}
			if d := metres(p[0], p[1], ba, bn); d > worst {
				worst = d
				if d > 0.5 {
					t.Fatalf("WGS84→%s→WGS84 (%v) = (%v, %v): %.3f m off", to, p, ba, bn, d)
				}
			}
		}
		t.Logf("WGS84→%s→WGS84: worst %.2e m", to, worst)
	}
}

func nearEdge(lat, lng, tol float64) bool {
	return math.Abs(lng-73.66) < tol || math.Abs(lng-135.05) < tol || math.Abs(lat-3.86) < tol || math.Abs(lat-53.55) < tol
}

// TestEdgeOfChina is the regression of a GCJ-02 position on the western
// edge, whose inverse used to come back unchanged (268 m off what the
// forward conversion gives back): it has no preimage and says so, and a
// position just inside the edge converts both ways.
func TestEdgeOfChina(t *testing.T) {
	if _, _, err := Convert(40.0, 73.661, canon.GCJ02, canon.WGS84); !errors.Is(err, ErrNoPreimage) {
		t.Fatalf("GCJ-02 (40, 73.661) → WGS-84: err = %v, want ErrNoPreimage", err)
	}
	la, ln, err := Convert(40.0, 73.67, canon.GCJ02, canon.WGS84)
	if err != nil {
		t.Fatal(err)
	}
	ga, gn, _ := Convert(la, ln, canon.WGS84, canon.GCJ02)
	if d := metres(40.0, 73.67, ga, gn); d > 0.5 {
		t.Fatalf("round trip %.3f m off", d)
	}
	// Outside the rectangle GCJ-02 is WGS-84.
	if la, ln, err := Convert(48.85, 2.35, canon.GCJ02, canon.WGS84); err != nil || la != 48.85 || ln != 2.35 {
		t.Fatalf("outside China: (%v, %v, %v)", la, ln, err)
	}
}

// TestKnownOffset pins the forward transform to a published reference
// pair (Tiananmen: WGS-84 39.908692, 116.397477 → GCJ-02 about 39.910093,
// 116.403718) so that the property test cannot pass on an identity.
func TestKnownOffset(t *testing.T) {
	la, ln, err := Convert(39.908692, 116.397477, canon.WGS84, canon.GCJ02)
	if err != nil {
		t.Fatal(err)
	}
	if d := metres(la, ln, 39.910093, 116.403718); d > 5 {
		t.Fatalf("GCJ-02 of Tiananmen = (%v, %v), %.1f m from the reference", la, ln, d)
	}
	if d := metres(la, ln, 39.908692, 116.397477); d < 100 {
		t.Fatalf("no offset applied: %.1f m", d)
	}
}
