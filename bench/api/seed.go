package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

type size struct {
	districts, streets, communities, gridsPer int // streets per district, …
	cases                                     int
}

func (s size) grids() int { return s.districts * s.streets * s.communities * s.gridsPer }

var scales = map[string]size{
	"small":  {1, 2, 3, 5, 10_000},
	"medium": {3, 4, 5, 5, 100_000},
	"city":   {5, 10, 10, 5, 1_000_000},
}

var categories = []canon.Category{
	{Code: "SJ05", Name: "街面秩序", Kind: canon.KindEvent, Level: 1},
	{Code: "SJ0501", Name: "无照经营游商", ParentCode: "SJ05", Kind: canon.KindEvent, Level: 2},
	{Code: "SJ0502", Name: "店外经营", ParentCode: "SJ05", Kind: canon.KindEvent, Level: 2},
	{Code: "SJ02", Name: "宣传广告", Kind: canon.KindEvent, Level: 1},
	{Code: "SJ0201", Name: "非法小广告", ParentCode: "SJ02", Kind: canon.KindEvent, Level: 2},
	{Code: "SJ01", Name: "市容环境", Kind: canon.KindEvent, Level: 1},
	{Code: "SJ0102", Name: "暴露垃圾", ParentCode: "SJ01", Kind: canon.KindEvent, Level: 2},
	{Code: "BJ01", Name: "公用设施", Kind: canon.KindComponent, Level: 1},
	{Code: "BJ0101", Name: "上水井盖", ParentCode: "BJ01", Kind: canon.KindComponent, Level: 2},
}

var statuses = []canon.CaseStatus{canon.StatusReported, canon.StatusDispatched, canon.StatusInProgress, canon.StatusClosed, canon.StatusClosed, canon.StatusClosed}

// seed writes the region tree and cases; it returns the code of the first
// street (the drill-down of query B).
func seed(ctx context.Context, st *store.Store, s size) (string, error) {
	regions := []canon.Region{{Code: "420600", Name: "襄阳市", Level: canon.LevelCity}}
	var grids []string
	for d := 0; d < s.districts; d++ {
		dc := fmt.Sprintf("4206%02d", d+2)
		regions = append(regions, canon.Region{Code: dc, Name: fmt.Sprintf("第%d区", d+1), Level: canon.LevelDistrict, ParentCode: "420600"})
		for t := 0; t < s.streets; t++ {
			sc := fmt.Sprintf("%s%03d", dc, t+1)
			regions = append(regions, canon.Region{Code: sc, Name: fmt.Sprintf("第%d街道", t+1), Level: canon.LevelStreet, ParentCode: dc})
			for c := 0; c < s.communities; c++ {
				cc := fmt.Sprintf("%s%03d", sc, c+1)
				regions = append(regions, canon.Region{Code: cc, Name: fmt.Sprintf("第%d社区", c+1), Level: canon.LevelCommunity, ParentCode: sc})
				for g := 0; g < s.gridsPer; g++ {
					gc := fmt.Sprintf("%s%03d", cc, g+1)
					grids = append(grids, gc)
					regions = append(regions, canon.Region{Code: gc, Name: fmt.Sprintf("第%d网格", g+1), Level: canon.LevelGrid, ParentCode: cc})
				}
			}
		}
	}
	err := st.InTx(ctx, func(w *store.Writer) error {
		if err := w.UpsertSource(ctx, canon.Source{Name: "citymgmt", Kind: canon.SourceOpen311, Description: "数字城管"}); err != nil {
			return err
		}
		if err := w.UpsertCategories(ctx, categories); err != nil {
			return err
		}
		return w.UpsertRegions(ctx, regions)
	})
	if err != nil {
		return "", err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ref := time.Date(2026, 11, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	const batch = 20_000
	for start := 0; start < s.cases; start += batch {
		n := min(batch, s.cases-start)
		cases := make([]canon.Case, n)
		for i := range cases {
			id := start + i
			reported := ref.Add(-time.Duration(rng.IntN(540*24*3600)) * time.Second)
			due := reported.Add(time.Duration(4+rng.IntN(68)) * time.Hour)
			cat := categories[1+2*rng.IntN(4)]
			if cat.Level == 1 {
				cat = categories[2]
			}
			status := statuses[rng.IntN(len(statuses))]
			c := canon.Case{
				Provenance: canon.Provenance{Source: "citymgmt", SourceID: fmt.Sprintf("CM%08d", id), SourceUpdatedAt: reported, FetchedAt: ref},
				Kind:       cat.Kind, CategoryCode: cat.Code, SourceCategory: canon.CodeName{Code: "02" + cat.Code[2:], Name: cat.Name},
				Title:       cat.Name + "：" + []string{"占道经营", "流动摊贩", "小广告", "垃圾堆放", "井盖缺失"}[rng.IntN(5)],
				Description: "群众反映该处存在问题，请尽快处置。", Status: status, Tier: canon.TierStreet,
				GridCode: grids[rng.IntN(len(grids))], ReportedAt: reported, UpdatedAt: reported, DueAt: &due,
				Location: &canon.Location{Point: canon.Point{Lat: 32 + rng.Float64()*0.2, Lng: 112 + rng.Float64()*0.2}},
				Timeline: []canon.CaseEvent{{At: reported, Status: canon.StatusReported, Tier: canon.TierGrid, SourceStatus: "上报"}},
			}
			if status == canon.StatusClosed {
				closed := reported.Add(time.Duration(1+rng.IntN(96)) * time.Hour)
				c.ClosedAt = &closed
			}
			sum := sha256.Sum256([]byte(c.SourceID))
			c.PayloadHash = sum[:]
			cases[i] = c
		}
		if err := st.InTx(ctx, func(w *store.Writer) error { _, err := w.UpsertCases(ctx, cases); return err }); err != nil {
			return "", err
		}
	}
	return firstStreet, nil
}

// firstStreet is the street of query B in every seeded city.
const firstStreet = "420602001"

// freshDatabase creates a new database on the server of dsn.
func freshDatabase(ctx context.Context, dsn string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("hubbench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	fmt.Printf("benchmark database: %s (drop it when done)\n", name)
	return u.String(), nil
}
