package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// Dimension is a grouping dimension of case statistics.
type Dimension string

// Case statistics dimensions.
const (
	DimStatus        Dimension = "STATUS"
	DimTier          Dimension = "TIER"
	DimSource        Dimension = "SOURCE"
	DimKind          Dimension = "KIND"
	DimCategoryMajor Dimension = "CATEGORY_MAJOR"
	DimCategory      Dimension = "CATEGORY"
	DimDistrict      Dimension = "DISTRICT"
	DimStreet        Dimension = "STREET"
	DimCommunity     Dimension = "COMMUNITY"
	DimGrid          Dimension = "GRID"
	DimDay           Dimension = "DAY"
	DimWeek          Dimension = "WEEK"
	DimMonth         Dimension = "MONTH"
)

// MaxBuckets bounds one statistics answer; a finer grouping must be
// narrowed by its filter.
const MaxBuckets = 20000

// dimensionSQL is the grouping expression of each dimension, as text.
// Region dimensions yield the region id at that depth of the case's path
// (0 is the city); time dimensions bucket the report time in China time.
var dimensionSQL = map[Dimension]string{
	DimStatus:        "c.status",
	DimTier:          "c.tier",
	DimSource:        "c.source",
	DimKind:          "c.kind",
	DimCategoryMajor: "coalesce(cat.parent_code, cat.code)",
	DimCategory:      "c.category_code",
	DimDistrict:      "CASE WHEN nlevel(c.region_path) > 1 THEN subpath(c.region_path, 1, 1)::text END",
	DimStreet:        "CASE WHEN nlevel(c.region_path) > 2 THEN subpath(c.region_path, 2, 1)::text END",
	DimCommunity:     "CASE WHEN nlevel(c.region_path) > 3 THEN subpath(c.region_path, 3, 1)::text END",
	DimGrid:          "c.grid_id::text",
	DimDay:           "to_char(c.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')",
	DimWeek:          "to_char(c.reported_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-\"W\"IW')",
	DimMonth:         "to_char(c.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
}

// IsRegion reports whether a dimension's values are region ids.
func (d Dimension) IsRegion() bool {
	return d == DimDistrict || d == DimStreet || d == DimCommunity || d == DimGrid
}

// Bucket is one group of case statistics. Values are in the order of the
// requested dimensions; nil where a case has no value (e.g. no grid).
type Bucket struct {
	Values          []*string
	Count           int
	Open            int
	Closed          int
	Overdue         int
	AvgHoursToClose *float64
}

// CaseStats groups the cases a filter selects. The counts of all buckets
// add up to CountCases of the same filter: every case is in exactly one.
func (s *Store) CaseStats(ctx context.Context, f CaseFilter, dims []Dimension) ([]Bucket, error) {
	if len(dims) > 4 {
		return nil, canon.Errorf(canon.BadUserInput, "group by at most 4 dimensions, got %d", len(dims))
	}
	var exprs, groups []string
	joinCategory := false
	seen := map[Dimension]bool{}
	for i, d := range dims {
		e, ok := dimensionSQL[d]
		if !ok {
			return nil, canon.Errorf(canon.BadUserInput, "unknown dimension %q", d)
		}
		if seen[d] {
			return nil, canon.Errorf(canon.BadUserInput, "dimension %s given twice", d)
		}
		seen[d] = true
		joinCategory = joinCategory || d == DimCategoryMajor
		exprs = append(exprs, fmt.Sprintf("%s AS d%d", e, i))
		groups = append(groups, fmt.Sprintf("d%d", i))
	}
	var a sqlArgs
	from := `"case" c`
	if joinCategory {
		from += " LEFT JOIN category cat ON cat.code = c.category_code"
	}
	sel := strings.Join(append(exprs, `count(*)`,
		`count(*) FILTER (WHERE c.status NOT IN ('CLOSED', 'REJECTED'))`,
		`count(*) FILTER (WHERE c.status = 'CLOSED')`,
		`count(*) FILTER (WHERE `+overdueSQL+`)`,
		`avg(extract(epoch FROM c.closed_at - c.reported_at) / 3600) FILTER (WHERE c.closed_at IS NOT NULL)`), ", ")
	sql := "SELECT " + sel + " FROM " + from + " WHERE " + f.where(ctx, &a)
	if len(groups) > 0 {
		sql += " GROUP BY " + strings.Join(groups, ", ") + " ORDER BY " + strings.Join(groups, ", ")
	}
	sql += " LIMIT " + a.add(MaxBuckets+1)
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return nil, fmt.Errorf("case stats: %w", err)
	}
	buckets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Bucket, error) {
		b := Bucket{Values: make([]*string, len(dims))}
		dest := make([]any, 0, len(dims)+5)
		for i := range b.Values {
			dest = append(dest, &b.Values[i])
		}
		dest = append(dest, &b.Count, &b.Open, &b.Closed, &b.Overdue, &b.AvgHoursToClose)
		err := r.Scan(dest...)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("case stats: %w", err)
	}
	if len(buckets) > MaxBuckets {
		return nil, canon.Errorf(canon.BadUserInput, "more than %d buckets: narrow the filter or group by fewer dimensions", MaxBuckets)
	}
	// Without dimensions there is one bucket, even over no cases.
	return buckets, nil
}
