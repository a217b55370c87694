package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RegionStats is the cross-silo summary of a region's subtree (一张图).
type RegionStats struct {
	RegionID     int64
	Population   int // residents
	Households   int
	PartyMembers int
	DualReports  int // in-service members reporting to communities here
	GridWorkers  int
	Stations     int
	OpenCases    int
	OverdueCases int
	ClosedCases  int
	TotalCases   int
	Grids        int
}

// RegionStatsByID computes the summaries of a batch of regions in one
// statement: each figure counts the rows whose region lies in the subtree.
func (s *Store) RegionStatsByID(ctx context.Context, ids []int64) ([]*RegionStats, error) {
	a := sqlArgs{ids}
	rows, err := s.pool.Query(ctx, `WITH r AS (SELECT id, path FROM region WHERE id = ANY($1) AND `+scopePath(ctx, "path", &a)+`),
		sub AS (SELECT r.id AS root, g.id FROM r JOIN region g ON g.path <@ r.path)
		SELECT r.id,
			(SELECT count(*) FROM resident x JOIN sub ON sub.id = x.grid_id WHERE sub.root = r.id),
			(SELECT count(*) FROM household x JOIN sub ON sub.id = x.grid_id WHERE sub.root = r.id),
			(SELECT count(*) FROM party_member x JOIN sub ON sub.id = x.region_id WHERE sub.root = r.id),
			(SELECT count(*) FROM dual_report x JOIN sub ON sub.id = x.community_id WHERE sub.root = r.id),
			(SELECT count(DISTINCT x.worker_id) FROM grid_worker_grid x JOIN sub ON sub.id = x.grid_id WHERE sub.root = r.id),
			(SELECT count(*) FROM service_station x JOIN sub ON sub.id = x.region_id WHERE sub.root = r.id),
			c.open, c.overdue, c.closed, c.total,
			(SELECT count(*) FROM sub JOIN region g ON g.id = sub.id WHERE sub.root = r.id AND g.level = 'GRID')
		FROM r CROSS JOIN LATERAL (
			SELECT count(*) FILTER (WHERE c.status NOT IN ('CLOSED', 'REJECTED')) AS open,
				count(*) FILTER (WHERE `+overdueSQL+`) AS overdue,
				count(*) FILTER (WHERE c.status = 'CLOSED') AS closed, count(*) AS total
			FROM "case" c WHERE c.region_path <@ r.path) c`, a...)
	if err != nil {
		return nil, fmt.Errorf("region stats: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*RegionStats, error) {
		x := &RegionStats{}
		err := r.Scan(&x.RegionID, &x.Population, &x.Households, &x.PartyMembers, &x.DualReports, &x.GridWorkers,
			&x.Stations, &x.OpenCases, &x.OverdueCases, &x.ClosedCases, &x.TotalCases, &x.Grids)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("region stats: %w", err)
	}
	return inKeyOrder(ids, list, func(x *RegionStats) int64 { return x.RegionID }), nil
}

// CategoryMapping is a source code mapped onto the unified taxonomy.
type CategoryMapping struct {
	System       string
	SourceCode   string
	SourceName   string
	CategoryCode string
}

// Categories returns the whole taxonomy in code order.
func (s *Store) Categories(ctx context.Context) ([]*Category, error) {
	rows, err := s.pool.Query(ctx, "SELECT code, name, parent_code, kind, level FROM category ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Category, error) {
		c := &Category{}
		err := r.Scan(&c.Code, &c.Name, &c.ParentCode, &c.Kind, &c.Level)
		return c, err
	})
}

// CategoryMappings loads the source codes mapped onto a batch of categories.
func (s *Store) CategoryMappings(ctx context.Context, codes []string) ([][]*CategoryMapping, error) {
	rows, err := s.pool.Query(ctx, `SELECT system, source_code, source_name, category_code FROM category_mapping
		WHERE category_code = ANY($1) ORDER BY system, source_code`, codes)
	if err != nil {
		return nil, fmt.Errorf("load category mappings: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*CategoryMapping, error) {
		m := &CategoryMapping{}
		err := r.Scan(&m.System, &m.SourceCode, &m.SourceName, &m.CategoryCode)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("load category mappings: %w", err)
	}
	by := map[string][]*CategoryMapping{}
	for _, m := range list {
		by[m.CategoryCode] = append(by[m.CategoryCode], m)
	}
	out := make([][]*CategoryMapping, len(codes))
	for i, c := range codes {
		out[i] = by[c]
	}
	return out, nil
}

// CaseBySourceID finds a case by its source and source id.
func (s *Store) CaseBySourceID(ctx context.Context, source, sourceID string) (*Case, error) {
	a := sqlArgs{source, sourceID}
	c, err := scanCase(s.pool.QueryRow(ctx, "SELECT "+caseColumns+` FROM "case" c WHERE c.source = $1 AND c.source_id = $2 AND `+
		scopePath(ctx, "c.region_path", &a), a...))
	if err != nil {
		return nil, notFound(err, "case")
	}
	return c, nil
}
