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
	DimQuarter       Dimension = "QUARTER"
	DimAssigneeDept  Dimension = "ASSIGNEE_DEPT"
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
	DimQuarter:       "to_char(c.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-\"Q\"Q')",
	DimAssigneeDept:  "nullif(c.assignee_dept, '')",
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
	return s.CaseStatsOf(ctx, f, dims, AllMeasures)
}

// CaseStatsOf is CaseStats with the measures given (Measures.Problems
// counts problems instead of reports; then the counts of the buckets add
// up to at least the problems of the filter, as an incident's cases may
// fall in different buckets).
func (s *Store) CaseStatsOf(ctx context.Context, f CaseFilter, dims []Dimension, m Measures) ([]Bucket, error) {
	q, err := statsQuery(dims, m)
	if err != nil {
		return nil, err
	}
	var a sqlArgs
	sql := "SELECT " + q.sel + ` FROM "case" c` + q.join + " WHERE " + f.where(ctx, &a)
	if len(q.groups) > 0 {
		sql += " GROUP BY " + strings.Join(q.groups, ", ") + " ORDER BY " + strings.Join(q.groups, ", ")
	}
	sql += " LIMIT " + a.add(MaxBuckets+1)
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return nil, fmt.Errorf("case stats: %w", err)
	}
	buckets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Bucket, error) { return scanBucket(r, len(dims)) })
	if err != nil {
		return nil, fmt.Errorf("case stats: %w", err)
	}
	if len(buckets) > MaxBuckets {
		return nil, tooManyBuckets()
	}
	// Without dimensions there is one bucket, even over no cases.
	return buckets, nil
}

// CaseStatsInRegions runs CaseStats for each of a batch of regions (each
// region's subtree, on top of the filter) in one statement, returning the
// buckets in key order: a street's grids with their statistics cost one
// statement, not one per grid. Only the measures asked for are computed.
//
// A nil region has the buckets of no cases.
func (s *Store) CaseStatsInRegions(ctx context.Context, regions []*Region, f CaseFilter, dims []Dimension, m Measures) ([][]Bucket, error) {
	// Refused without an access value even when no region needs a
	// statement.
	if err := checkScope(ctx); err != nil {
		return nil, err
	}
	q, err := statsQuery(dims, m)
	if err != nil {
		return nil, err
	}
	// As in CasesInRegions: grids through the grid index, larger regions
	// through the region path.
	ids, paths, grids := regionKeys(regions)
	a := sqlArgs{ids, paths}
	in := "c.region_path <@ k.path::ltree"
	if grids {
		in = "c.grid_id = k.id"
	}
	groups := append([]string{"k.id"}, q.groups...)
	sql := "SELECT k.id, " + q.sel + ` FROM unnest($1::bigint[], $2::text[]) AS k(id, path) JOIN "case" c ON ` + in + q.join +
		" WHERE " + f.where(ctx, &a) + " GROUP BY " + strings.Join(groups, ", ") + " ORDER BY " + strings.Join(groups, ", ")
	// More rows than every region's limit means one region is over it.
	limit := len(ids) * (MaxBuckets + 1)
	sql += " LIMIT " + a.add(limit)
	by := make(map[int64][]Bucket, len(ids))
	if len(ids) > 0 {
		if err := s.caseStatsOfRegions(ctx, sql, a, len(dims), limit, by); err != nil {
			return nil, err
		}
	}
	out := make([][]Bucket, len(regions))
	for i, r := range regions {
		if r != nil {
			out[i] = by[r.ID]
		}
		if out[i] == nil {
			out[i] = []Bucket{}
		}
		if len(dims) == 0 && len(out[i]) == 0 {
			// Without dimensions there is one bucket, even over no cases.
			out[i] = []Bucket{{Values: []*string{}}}
		}
	}
	return out, nil
}

// caseStatsOfRegions runs the statement of CaseStatsInRegions, putting
// each region's buckets in by.
func (s *Store) caseStatsOfRegions(ctx context.Context, sql string, a sqlArgs, dims, limit int, by map[int64][]Bucket) error {
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return fmt.Errorf("case stats of regions: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		b, err := scanBucket(rows, dims, &id)
		if err != nil {
			return fmt.Errorf("case stats of regions: %w", err)
		}
		by[id] = append(by[id], b)
		if n++; len(by[id]) > MaxBuckets || n == limit {
			return tooManyBuckets()
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("case stats of regions: %w", err)
	}
	return nil
}

// statsSQL is the grouped part of a statistics statement over "case" c.
type statsSQL struct {
	sel, join string // join: what the dimensions need beside the cases
	groups    []string
}

// Measures name the aggregates of a bucket computed beside its count; the
// others are zero (nil for AvgHoursToClose). Problems counts the cases of
// one incident once (in the count and in each of Open, Closed, Overdue
// when one of them is); AvgHoursToClose stays per case.
type Measures struct {
	Open, Closed, Overdue, AvgHoursToClose bool
	Problems                               bool
}

// problemKey names a case's problem: its incident, else the case itself.
const problemKey = `(CASE WHEN c.incident_id IS NULL THEN c.id ELSE -c.incident_id END)`

// AllMeasures computes every aggregate.
var AllMeasures = Measures{Open: true, Closed: true, Overdue: true, AvgHoursToClose: true}

func (Measures) sql(on bool, expr, off string) string {
	if on {
		return expr
	}
	return off
}

func statsQuery(dims []Dimension, m Measures) (statsSQL, error) {
	if len(dims) > 4 {
		return statsSQL{}, canon.Errorf(canon.BadUserInput, "group by at most 4 dimensions, got %d", len(dims))
	}
	var exprs, groups []string
	joinCategory := false
	seen := map[Dimension]bool{}
	for i, d := range dims {
		e, ok := dimensionSQL[d]
		if !ok {
			return statsSQL{}, canon.Errorf(canon.BadUserInput, "unknown dimension %q", d)
		}
		if seen[d] {
			return statsSQL{}, canon.Errorf(canon.BadUserInput, "dimension %s given twice", d)
		}
		seen[d] = true
		joinCategory = joinCategory || d == DimCategoryMajor
		exprs = append(exprs, fmt.Sprintf("%s AS d%d", e, i))
		groups = append(groups, fmt.Sprintf("d%d", i))
	}
	join := ""
	if joinCategory {
		join = " LEFT JOIN category cat ON cat.code = c.category_code"
	}
	count := `count(*)`
	if m.Problems {
		count = `count(DISTINCT ` + problemKey + `)`
	}
	exprs = append(exprs, count,
		m.sql(m.Open, count+` FILTER (WHERE c.status NOT IN ('CLOSED', 'REJECTED'))`, "0"),
		m.sql(m.Closed, count+` FILTER (WHERE c.status = 'CLOSED')`, "0"),
		m.sql(m.Overdue, count+` FILTER (WHERE `+overdueSQL+`)`, "0"),
		// date_part, not extract: double precision, not numeric arithmetic.
		m.sql(m.AvgHoursToClose, `avg(date_part('epoch', c.closed_at - c.reported_at) / 3600) FILTER (WHERE c.closed_at IS NOT NULL)`, "NULL::float8"))
	sel := strings.Join(exprs, ", ")
	return statsSQL{sel: sel, join: join, groups: groups}, nil
}

// scanBucket reads a bucket of n dimensions, after any leading columns.
func scanBucket(r pgx.Row, n int, lead ...any) (Bucket, error) {
	b := Bucket{Values: make([]*string, n)}
	dest := make([]any, 0, len(lead)+n+5)
	dest = append(dest, lead...)
	for i := range b.Values {
		dest = append(dest, &b.Values[i])
	}
	dest = append(dest, &b.Count, &b.Open, &b.Closed, &b.Overdue, &b.AvgHoursToClose)
	err := r.Scan(dest...)
	return b, err
}

func tooManyBuckets() error {
	return canon.Errorf(canon.BadUserInput, "more than %d buckets: narrow the filter or group by fewer dimensions", MaxBuckets)
}
