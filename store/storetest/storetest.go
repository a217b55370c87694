// Package storetest seeds a small, fixed fixture city into a store for
// tests of the store and of the layers above it.
package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

// Rect is a WGS-84 rectangle polygon.
func Rect(minLng, minLat, maxLng, maxLat float64) orb.Polygon {
	return orb.Polygon{{{minLng, minLat}, {maxLng, minLat}, {maxLng, maxLat}, {minLng, maxLat}, {minLng, minLat}}}
}

// Regions is a city with one district, one street, two communities and two
// grids in each.
func Regions() []canon.Region {
	regions := []canon.Region{
		{Code: "420600", Name: "襄阳市", Level: canon.LevelCity, Boundary: Rect(112.0, 31.9, 112.4, 32.2)},
		{Code: "420606", Name: "樊城区", Level: canon.LevelDistrict, ParentCode: "420600", Boundary: Rect(112.0, 31.9, 112.2, 32.1)},
		{Code: "420606001", Name: "汉江街道", Level: canon.LevelStreet, ParentCode: "420606", Boundary: Rect(112.0, 31.9, 112.2, 32.0)},
		{Code: "420606001001", Name: "长虹社区", Level: canon.LevelCommunity, ParentCode: "420606001", Boundary: Rect(112.0, 31.9, 112.1, 32.0)},
		{Code: "420606001002", Name: "新华社区", Level: canon.LevelCommunity, ParentCode: "420606001", Boundary: Rect(112.1, 31.9, 112.2, 32.0)},
	}
	for _, c := range []struct {
		code string
		lng  float64
	}{{"420606001001", 112.0}, {"420606001002", 112.1}} {
		regions = append(regions,
			canon.Region{Code: c.code + "001", Name: "第一网格", Level: canon.LevelGrid, ParentCode: c.code, Boundary: Rect(c.lng, 31.9, c.lng+0.05, 32.0)},
			canon.Region{Code: c.code + "002", Name: "第二网格", Level: canon.LevelGrid, ParentCode: c.code, Boundary: Rect(c.lng+0.05, 31.9, c.lng+0.1, 32.0)})
	}
	return regions
}

// SeedRegions stores the Regions fixture.
func SeedRegions(t testing.TB, st *store.Store) {
	t.Helper()
	regions := Regions()
	err := st.InTx(context.Background(), func(w *store.Writer) error {
		if err := w.UpsertSource(context.Background(), canon.Source{Name: "citymgmt", Kind: canon.SourceOpen311}); err != nil {
			return err
		}
		if err := w.UpsertCategories(context.Background(), []canon.Category{
			{Code: "SJ05", Name: "街面秩序", Kind: canon.KindEvent, Level: 1},
			{Code: "SJ0501", Name: "无照经营游商", ParentCode: "SJ05", Kind: canon.KindEvent, Level: 2},
			{Code: "SJ02", Name: "宣传广告", Kind: canon.KindEvent, Level: 1},
			{Code: "SJ0201", Name: "非法小广告", ParentCode: "SJ02", Kind: canon.KindEvent, Level: 2},
		}); err != nil {
			return err
		}
		return w.UpsertRegions(context.Background(), regions)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Base is the report time of the first fixture case.
var Base = time.Date(2026, 10, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// MakeCases returns n cases spread over the four grids, one hour apart.
func MakeCases(n int) []canon.Case {
	grids := []string{"420606001001001", "420606001001002", "420606001002001", "420606001002002"}
	out := make([]canon.Case, n)
	for i := range out {
		reported := Base.Add(time.Duration(i) * time.Hour)
		due := reported.Add(24 * time.Hour)
		cat := "SJ0501"
		if i%3 == 0 {
			cat = "SJ0201"
		}
		c := canon.Case{
			Provenance: canon.Provenance{Source: "citymgmt", SourceID: fmt.Sprintf("C%05d", i),
				SourceUpdatedAt: reported, FetchedAt: Base.Add(1000 * time.Hour)},
			Kind: canon.KindEvent, CategoryCode: cat, SourceCategory: canon.CodeName{Code: "020501", Name: "无照经营游商"},
			Title: fmt.Sprintf("第%d号 占道经营", i), Description: "人民路与长虹路交叉口有流动摊贩",
			Status: canon.StatusDispatched, Tier: canon.TierStreet, GridCode: grids[i%len(grids)],
			Location:   &canon.Location{Point: canon.Point{Lat: 31.95, Lng: 112.02}, Orig: canon.Point{Lat: 31.9478, Lng: 112.0255}, OrigDatum: canon.GCJ02},
			ReportedAt: reported, UpdatedAt: reported, DueAt: &due,
			Timeline: []canon.CaseEvent{
				{At: reported, Status: canon.StatusReported, Tier: canon.TierGrid, SourceStatus: "上报", Actor: "监督员王五"},
				{At: reported.Add(time.Hour), Status: canon.StatusDispatched, Tier: canon.TierStreet, SourceStatus: "派遣"},
			},
		}
		if i%2 == 0 {
			closed := reported.Add(2 * time.Hour)
			c.Status, c.ClosedAt = canon.StatusClosed, &closed
		}
		sum := sha256.Sum256([]byte(c.SourceID + c.Title + string(c.Status)))
		c.PayloadHash = sum[:]
		out[i] = c
	}
	return out
}

// SeedCases upserts cases in one transaction.
func SeedCases(t testing.TB, st *store.Store, cases []canon.Case) store.UpsertResult {
	t.Helper()
	var res store.UpsertResult
	err := st.InTx(context.Background(), func(w *store.Writer) error {
		var err error
		res, err = w.UpsertCases(context.Background(), cases)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
