package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// AddressVersion fingerprints the address reference (regions, compounds,
// buildings): it changes whenever rows are added, removed or updated.
func (s *Store) AddressVersion(ctx context.Context) (string, error) {
	ctx = Unscoped(ctx) // reference data of the shared gazetteer
	var v string
	err := s.pool.QueryRow(ctx, `SELECT concat_ws('/',
		(SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') FROM region),
		(SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(fetched_at)::text, '') FROM compound),
		(SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(fetched_at)::text, '') FROM building))`).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("address reference version: %w", err)
	}
	return v, nil
}

// AddressReference loads the whole city's address reference for the
// gazetteer: every region, and every compound with its buildings (ids are
// the store's, as decimal strings). It is reference data for the one
// gazetteer every caller shares, so it is read unscoped whatever the
// context (like AddressVersion, an exception to the reads' ErrNoScope);
// what a caller may see of a match is decided when the matched rows are
// loaded.
func (s *Store) AddressReference(ctx context.Context) (canon.AddressReference, error) {
	ctx = Unscoped(ctx) // reference data of the shared gazetteer
	var ref canon.AddressReference
	rows, err := s.pool.Query(ctx, `SELECT r.code, r.name, r.level, coalesce(p.code, '')
		FROM region r LEFT JOIN region p ON p.id = r.parent_id ORDER BY r.path`)
	if err != nil {
		return ref, fmt.Errorf("address reference regions: %w", err)
	}
	ref.Regions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (canon.RegionRef, error) {
		var a canon.RegionRef
		err := r.Scan(&a.Code, &a.Name, &a.Level, &a.ParentCode)
		return a, err
	})
	if err != nil {
		return ref, fmt.Errorf("address reference regions: %w", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT c.id, c.name, coalesce(g.code, ''), coalesce(m.code, ''), b.id, coalesce(b.number, ''), coalesce(bg.code, '')
		FROM compound c LEFT JOIN region g ON g.id = c.grid_id LEFT JOIN region m ON m.id = c.community_id
		LEFT JOIN building b ON b.compound_id = c.id LEFT JOIN region bg ON bg.id = b.grid_id
		WHERE c.name <> '' ORDER BY c.id, b.id`)
	if err != nil {
		return ref, fmt.Errorf("address reference compounds: %w", err)
	}
	defer rows.Close()
	var cur *canon.CompoundRef
	for rows.Next() {
		var (
			cid                   int64
			bid                   *int64
			name, grid, community string
			number, buildingGrid  string
		)
		if err := rows.Scan(&cid, &name, &grid, &community, &bid, &number, &buildingGrid); err != nil {
			return ref, fmt.Errorf("address reference compounds: %w", err)
		}
		id := strconv.FormatInt(cid, 10)
		if cur == nil || cur.ID != id {
			ref.Compounds = append(ref.Compounds, canon.CompoundRef{ID: id, Name: name, GridCode: grid, CommunityCode: community})
			cur = &ref.Compounds[len(ref.Compounds)-1]
		}
		if bid == nil || number == "" {
			continue
		}
		cur.Buildings = append(cur.Buildings, canon.BuildingRef{ID: strconv.FormatInt(*bid, 10), Number: number, GridCode: buildingGrid})
	}
	if err := rows.Err(); err != nil {
		return ref, fmt.Errorf("address reference compounds: %w", err)
	}
	return ref, nil
}

// BuildingsByID loads buildings in key order (nil where absent or out of
// scope).
func (s *Store) BuildingsByID(ctx context.Context, ids []int64) ([]*Building, error) {
	return byIDs(ctx, s, "buildings", buildingSelect, ids, inScope(ctx, "x.grid_id"), scanBuilding, func(b *Building) int64 { return b.ID })
}

func scanBuilding(r pgx.CollectableRow) (*Building, error) {
	b := &Building{}
	err := r.Scan(&b.ID, &b.Compound, &b.Number, &b.GridID, &b.Lat, &b.Lng, &b.Households)
	return b, err
}
