package store_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestStationsNearReachTheRadius places stations just inside and just
// outside a circle, due north, south, east and west of its centre, and
// expects exactly those inside: the bounding box that narrows the search
// must not cut off what the distance keeps.
func TestStationsNearReachTheRadius(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	ctx := context.Background()
	if err := st.InTx(ctx, func(w *store.Writer) error {
		return w.UpsertSource(ctx, canon.Source{Name: "party", Kind: canon.SourceSQL})
	}); err != nil {
		t.Fatal(err)
	}
	const lat, lng, radius = 32.0, 112.1, 1000.0
	// Metres a degree of latitude, on the sphere the distance is measured on.
	perDeg := 6371008.8 * math.Pi / 180
	var want []string
	var recs []any
	for _, f := range []float64{0.9995, 1.0005} {
		for _, dir := range []struct {
			name       string
			dLat, dLng float64
		}{{"N", 1, 0}, {"S", -1, 0}, {"E", 0, 1}, {"W", 0, -1}} {
			name := fmt.Sprintf("%s%.4f", dir.name, f)
			d := f * radius / perDeg
			p := canon.Point{Lat: lat + dir.dLat*d, Lng: lng + dir.dLng*d/math.Cos(lat*math.Pi/180)}
			recs = append(recs, &canon.ServiceStation{Provenance: storetest.Prov("party", name, name), Name: name,
				Kind: canon.StationRedPost, CommunityCode: "420606001001", Location: &canon.Location{Point: p}})
			if f < 1 {
				want = append(want, name)
			}
		}
	}
	storetest.Upsert(t, st, recs...)
	page, err := st.ServiceStations(store.Unscoped(ctx), store.StationQuery{Near: &store.Near{Lat: lat, Lng: lng, RadiusMeters: radius}},
		store.PageArgs{First: ptr(50)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Edges {
		got = append(got, e.Node.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("stations within %v m: %v, want %v", radius, got, want)
	}
}
