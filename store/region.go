package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// Region is a stored node of the reference layer.
type Region struct {
	ID          int64
	Code        string
	Name        string
	Level       canon.RegionLevel
	ParentID    *int64
	Path        string // ids from the root, "1.7.42"
	Boundary    json.RawMessage
	CentroidLat *float64
	CentroidLng *float64
	UpdatedAt   time.Time
}

// AncestorIDs returns the ids of the region's ancestors, root first.
func (r *Region) AncestorIDs() []int64 {
	parts := strings.Split(r.Path, ".")
	ids := make([]int64, 0, len(parts))
	for _, p := range parts[:max(len(parts)-1, 0)] {
		var id int64
		if _, err := fmt.Sscan(p, &id); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

const regionColumns = `r.id, r.code, r.name, r.level, r.parent_id, r.path::text, r.boundary,
	r.centroid_lat, r.centroid_lng, r.updated_at`

// scanRegion reads the regionColumns, after any leading columns given.
func scanRegion(row pgx.Row, lead ...any) (*Region, error) {
	r := &Region{}
	err := row.Scan(append(lead, &r.ID, &r.Code, &r.Name, &r.Level, &r.ParentID, &r.Path, &r.Boundary,
		&r.CentroidLat, &r.CentroidLng, &r.UpdatedAt)...)
	return r, err
}

// RegionQuery selects regions for Query.regions and Region.children.
type RegionQuery struct {
	Level    *canon.RegionLevel
	ParentID *int64
	Page     PageArgs
}

func (q RegionQuery) where(ctx context.Context, a *sqlArgs) string {
	conds := []string{scopePath(ctx, "r.path", a)}
	if q.Level != nil {
		conds = append(conds, "r.level = "+a.add(string(*q.Level)))
	}
	if q.ParentID != nil {
		conds = append(conds, "r.parent_id = "+a.add(*q.ParentID))
	}
	return strings.Join(conds, " AND ")
}

const regionOrder = "code"

// Regions lists regions ordered by code.
func (s *Store) Regions(ctx context.Context, q RegionQuery) (Page[*Region], error) {
	limit, err := q.Page.limit()
	if err != nil {
		return Page[*Region]{}, err
	}
	after, err := afterPosition(q.Page.After, regionOrder)
	if err != nil {
		return Page[*Region]{}, err
	}
	var a sqlArgs
	sql := "SELECT " + regionColumns + " FROM region r WHERE " + q.where(ctx, &a)
	if after != nil {
		sql += fmt.Sprintf(" AND (r.code, r.id) > (%s, %s)", a.add(after.Key), a.add(after.ID))
	}
	sql += " ORDER BY r.code, r.id LIMIT " + a.add(limit+1)
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return Page[*Region]{}, fmt.Errorf("list regions: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Region, error) { return scanRegion(r) })
	if err != nil {
		return Page[*Region]{}, fmt.Errorf("list regions: %w", err)
	}
	return newPage(list, limit, func(r *Region) Position { return Position{Order: regionOrder, Key: r.Code, ID: r.ID} }), nil
}

// RegionChildren lists one page of the children of each of a batch of
// regions (Regions with ParentID, for many parents) in one statement,
// returning the pages in key order.
func (s *Store) RegionChildren(ctx context.Context, parentIDs []int64, p PageArgs) ([]Page[*Region], error) {
	limit, err := p.limit()
	if err != nil {
		return nil, err
	}
	after, err := afterPosition(p.After, regionOrder)
	if err != nil {
		return nil, err
	}
	a := sqlArgs{parentIDs}
	where := "r.parent_id = k.id AND " + scopePath(ctx, "r.path", &a)
	if after != nil {
		where += fmt.Sprintf(" AND (r.code, r.id) > (%s, %s)", a.add(after.Key), a.add(after.ID))
	}
	rows, err := s.pool.Query(ctx, "SELECT k.id, "+regionColumns+` FROM unnest($1::bigint[]) AS k(id)
		CROSS JOIN LATERAL (SELECT r.* FROM region r WHERE `+where+" ORDER BY r.code, r.id LIMIT "+a.add(limit+1)+") r", a...)
	if err != nil {
		return nil, fmt.Errorf("list child regions: %w", err)
	}
	defer rows.Close()
	by := make(map[int64][]*Region, len(parentIDs))
	for rows.Next() {
		var parent int64
		r, err := scanRegion(rows, &parent)
		if err != nil {
			return nil, fmt.Errorf("list child regions: %w", err)
		}
		by[parent] = append(by[parent], r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list child regions: %w", err)
	}
	out := make([]Page[*Region], len(parentIDs))
	for i, id := range parentIDs {
		out[i] = newPage(by[id], limit, func(r *Region) Position { return Position{Order: regionOrder, Key: r.Code, ID: r.ID} })
	}
	return out, nil
}

// CountRegions counts the regions a query selects, ignoring paging.
func (s *Store) CountRegions(ctx context.Context, q RegionQuery) (int, error) {
	var a sqlArgs
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM region r WHERE "+q.where(ctx, &a), a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count regions: %w", err)
	}
	return n, nil
}

// RegionsByID loads regions for a batch of ids, in key order; a missing id
// yields a nil region.
func (s *Store) RegionsByID(ctx context.Context, ids []int64) ([]*Region, error) {
	return regionsBy(ctx, s, "r.id", ids, func(r *Region) int64 { return r.ID })
}

// RegionsByCode loads regions for a batch of codes, in key order; a code
// unknown or out of scope yields a nil region.
func (s *Store) RegionsByCode(ctx context.Context, codes []string) ([]*Region, error) {
	return regionsBy(ctx, s, "r.code", codes, func(r *Region) string { return r.Code })
}

// regionsBy loads the regions in scope whose column is one of keys, in key
// order.
func regionsBy[K comparable](ctx context.Context, s *Store, column string, keys []K, keyOf func(*Region) K) ([]*Region, error) {
	a := sqlArgs{keys}
	rows, err := s.pool.Query(ctx, "SELECT "+regionColumns+" FROM region r WHERE "+column+" = ANY($1) AND "+scopePath(ctx, "r.path", &a), a...)
	if err != nil {
		return nil, fmt.Errorf("load regions by %s: %w", column, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Region, error) { return scanRegion(r) })
	if err != nil {
		return nil, fmt.Errorf("load regions by %s: %w", column, err)
	}
	return inKeyOrder(keys, list, keyOf), nil
}

// RegionByCode finds a region by its code.
func (s *Store) RegionByCode(ctx context.Context, code string) (*Region, error) {
	a := sqlArgs{code}
	r, err := scanRegion(s.pool.QueryRow(ctx, "SELECT "+regionColumns+" FROM region r WHERE r.code = $1 AND "+scopePath(ctx, "r.path", &a), a...))
	if err != nil {
		return nil, notFound(err, "region "+code)
	}
	return r, nil
}

// inKeyOrder arranges rows to match keys; missing keys get the zero value.
func inKeyOrder[K comparable, T any](keys []K, rows []T, keyOf func(T) K) []T {
	byKey := make(map[K]T, len(rows))
	for _, r := range rows {
		byKey[keyOf(r)] = r
	}
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}
