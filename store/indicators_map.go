package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// MaxMapRegions bounds the regions of one map answer.
const MaxMapRegions = 10000

// RegionDimension is the statistics dimension whose values are the regions
// of a level (nothing for the city).
func RegionDimension(l canon.RegionLevel) (Dimension, bool) {
	switch l {
	case canon.LevelDistrict:
		return DimDistrict, true
	case canon.LevelStreet:
		return DimStreet, true
	case canon.LevelCommunity:
		return DimCommunity, true
	case canon.LevelGrid:
		return DimGrid, true
	}
	return "", false
}

// MapRegions returns a map's parent and its regions, ordered by code: the
// regions of level under the parent (its children when level is nil). The
// parent is named by its code; nil names the top of the caller's
// jurisdiction (the city when unrestricted). A parent outside the
// jurisdiction is not found.
func (s *Store) MapRegions(ctx context.Context, parentCode *string, level *canon.RegionLevel) (*Region, []*Region, error) {
	var a sqlArgs
	sql := "SELECT " + regionColumns + " FROM region r WHERE " + scopePath(ctx, "r.path", &a)
	if parentCode != nil {
		sql += " AND r.code = " + a.add(*parentCode)
	}
	sql += " ORDER BY nlevel(r.path), r.code LIMIT 1"
	parent, err := scanRegion(s.pool.QueryRow(ctx, sql, a...))
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, canon.Errorf(canon.NotFound, "region not found")
		}
		return nil, nil, fmt.Errorf("map parent: %w", err)
	}
	want := canon.RegionLevels[min(parent.Level.Depth()+1, len(canon.RegionLevels)-1)]
	if level != nil {
		want = *level
	}
	if want.Depth() <= parent.Level.Depth() {
		return nil, nil, canon.Errorf(canon.BadUserInput, "level %s is not below the %s %s", want, parent.Level, parent.Code)
	}
	rows, err := s.pool.Query(ctx, "SELECT "+regionColumns+` FROM region r WHERE r.path <@ $1::ltree AND r.level = $2
		ORDER BY r.code LIMIT $3`, parent.Path, string(want), MaxMapRegions+1)
	if err != nil {
		return nil, nil, fmt.Errorf("map regions: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Region, error) { return scanRegion(r) })
	if err != nil {
		return nil, nil, fmt.Errorf("map regions: %w", err)
	}
	if len(list) > MaxMapRegions {
		return nil, nil, canon.Errorf(canon.BadUserInput, "more than %d regions: choose a lower parent or a higher level", MaxMapRegions)
	}
	return parent, list, nil
}
