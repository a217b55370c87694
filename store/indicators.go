package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// Indicators are the official evaluation figures (绩效评价指标) of a set of
// cases, each with an explicit numerator and denominator. A case's state is
// read from its timeline ("case".timeline) up to the evaluation instant asOf, so a
// past period is evaluated as it stood then; where the case has not changed
// since asOf, or has no timeline, its current status and closing time decide.
//
// The sets, each inside the one before where indented:
//
//	上报数 Reported          every case the filter selects, reported by asOf
//	  立案数 Filed           reached 立案 or a later step of the disposal path
//	                        (FILED, DISPATCHED, IN_PROGRESS, RESOLVED, VERIFYING,
//	                        CLOSED, DEFERRED, SUSPENDED, REOPENED, RETURNED)
//	    作废数 Voided        filed, and its last status is REJECTED (作废)
//	    准确立案数 AccurateFiled = Filed − Voided
//	      挂账数 Suspended   last status SUSPENDED; excluded from every
//	                        disposal and closing figure below
//	      the evaluated set E = AccurateFiled − Suspended:
//	      处置数 Disposed    last status RESOLVED, VERIFYING or CLOSED (处置反馈
//	                        received); its disposal time is its latest RESOLVED
//	                        step (after a 返工 the later one), else its closing
//	      按期处置数 DisposedOnTime  disposed at or before the case's deadline
//	      超期未处置数 OverdueUndisposed  not disposed and the deadline before asOf
//	      应结案数 DueForClosing  = Disposed + OverdueUndisposed: cases still
//	                        inside their deadline are excluded
//	      应处置数 DueForDisposal  the part of DueForClosing that reached 派遣
//	                        (DISPATCHED or later; a grid's self-disposal counts,
//	                        so every disposed case is in it)
//	      结案数 Closed      last status CLOSED
//	      按期结案数 ClosedOnTime  closed, disposed at or before the deadline
//	      超期结案数 ClosedLate    closed, disposed after the deadline
//	      未结案数 Unclosed  = DueForClosing − Closed
//	      返工数 Reworked    cases that came back after 核查 (a REOPENED step),
//	                        once per case; Reworks counts every return
//	      延期数 Deferred    cases granted a 延期 (a DEFERRED step)
//
// The deadline is the case's due time as its source holds it: the sources
// move it when they grant a 延期, so a deferred case is judged against the
// extended deadline. A case without a deadline is on time.
//
// Rates (nil when their denominator is zero): 结案率 = Closed/DueForClosing,
// 按期结案率 = ClosedOnTime/DueForClosing, 超期结案率 = ClosedLate/DueForClosing
// (so 结案率 = 按期结案率 + 超期结案率), 处置率 = Disposed/DueForDisposal,
// 按期处置率 = DisposedOnTime/DueForDisposal,
// 返工率 = Reworked/Disposed, 延期率 = Deferred/DueForDisposal. The handling
// time is the mean, over closed cases, of the working hours (canon's
// calendar) from report to closing.
type Indicators struct {
	Reported          int
	Filed             int
	Voided            int
	Suspended         int
	DueForDisposal    int
	Disposed          int
	DisposedOnTime    int
	DueForClosing     int
	Closed            int
	ClosedOnTime      int
	ClosedLate        int
	Reworked          int
	Reworks           int
	Deferred          int
	OverdueUndisposed int
	// AvgWorkHoursToClose is nil without closed cases.
	AvgWorkHoursToClose *float64
}

// AccurateFiled is 准确立案数: filed and not voided.
func (x Indicators) AccurateFiled() int { return x.Filed - x.Voided }

// Unclosed is 未结案数: due for closing and not closed.
func (x Indicators) Unclosed() int { return x.DueForClosing - x.Closed }

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// ClosingRate is 结案率 = 结案数 / 应结案数.
func (x Indicators) ClosingRate() *float64 { return ratio(x.Closed, x.DueForClosing) }

// OnTimeClosingRate is 按期结案率 = 按期结案数 / 应结案数.
func (x Indicators) OnTimeClosingRate() *float64 { return ratio(x.ClosedOnTime, x.DueForClosing) }

// LateClosingRate is 超期结案率 = 超期结案数 / 应结案数.
func (x Indicators) LateClosingRate() *float64 { return ratio(x.ClosedLate, x.DueForClosing) }

// DisposalRate is 处置率 = 处置数 / 应处置数 (over the cases due for disposal).
func (x Indicators) DisposalRate() *float64 { return ratio(x.Disposed, x.DueForDisposal) }

// OnTimeDisposalRate is 按期处置率 = 按期处置数 / 应处置数.
func (x Indicators) OnTimeDisposalRate() *float64 { return ratio(x.DisposedOnTime, x.DueForDisposal) }

// ReworkRate is 返工率 = 返工数 / 处置数.
func (x Indicators) ReworkRate() *float64 { return ratio(x.Reworked, x.Disposed) }

// DeferralRate is 延期率 = 延期数 / 应处置数.
func (x Indicators) DeferralRate() *float64 { return ratio(x.Deferred, x.DueForDisposal) }

// IndicatorBucket is the indicators of one combination of dimension values.
type IndicatorBucket struct {
	Values []*string
	Indicators
}

// Statuses of the timeline that mark a case as filed (立案 or a later step of
// the disposal path), as dispatched (派遣 or later), and as disposed. The
// writer summarises a timeline with the first two (progressValues), the
// indicators' SQL reads a timeline with all three.
var (
	filedSteps = []canon.CaseStatus{canon.StatusFiled, canon.StatusDispatched, canon.StatusInProgress, canon.StatusResolved,
		canon.StatusVerifying, canon.StatusClosed, canon.StatusDeferred, canon.StatusSuspended, canon.StatusReopened, canon.StatusReturned}
	dispatchedSteps = []canon.CaseStatus{canon.StatusDispatched, canon.StatusInProgress, canon.StatusResolved, canon.StatusVerifying,
		canon.StatusClosed, canon.StatusDeferred, canon.StatusSuspended, canon.StatusReopened}
	disposedSteps = []canon.CaseStatus{canon.StatusResolved, canon.StatusVerifying, canon.StatusClosed}

	filedStatuses      = sqlStatuses(filedSteps)
	dispatchedStatuses = sqlStatuses(dispatchedSteps)
	disposedStatuses   = sqlStatuses(disposedSteps)
)

// sqlStatuses is a list of statuses as SQL literals, for IN (…).
func sqlStatuses(list []canon.CaseStatus) string {
	q := make([]string, len(list))
	for i, st := range list {
		q[i] = "'" + string(st) + "'"
	}
	return strings.Join(q, ", ")
}

// A case's evaluation state at asOf ($1) is read in one of two ways, the
// two branches of a UNION ALL over the selected cases. Each selects (%s)
// only the case columns the counting and the dimensions read, so that the
// covering index (migration 012) serves them without the table.
//
// currentStateSQL: a case unchanged since asOf is judged by its current
// status and its timeline summary (its progress_ columns, written with its
// timeline), the current status winning over a timeline that lags it.
// That is nearly every case of a past period.
var currentStateSQL = `
	SELECT %s,
		c.status AS last,
		coalesce(c.progress_filed, FALSE) OR c.status IN (` + filedStatuses + `) AS filed,
		coalesce(c.progress_dispatched, FALSE) OR c.status IN (` + dispatchedStatuses + `) AS dispatched,
		coalesce(c.progress_resolved_at, c.progress_closed_at, CASE WHEN c.closed_at <= $1 THEN c.closed_at END) AS disposed_at,
		coalesce(c.progress_closed_at, CASE WHEN c.closed_at <= $1 THEN c.closed_at END) AS closed_at_eval,
		coalesce(c.progress_reworks, 0) AS reworks,
		coalesce(c.progress_deferred, FALSE) OR c.status = 'DEFERRED' AS deferred
	FROM "case" c
	WHERE c.updated_at <= $1`

// pastStateSQL: a case changed after asOf has its timeline read up to asOf,
// one lateral aggregate over its own steps (its timeline column); one
// without any timeline (a status-only source) is judged by its status.
var pastStateSQL = `
	SELECT %s,
		CASE WHEN e.n = 0 THEN c.status ELSE coalesce(e.last, 'REPORTED') END AS last,
		CASE WHEN e.n = 0 THEN c.status IN (` + filedStatuses + `) ELSE coalesce(e.filed, FALSE) END AS filed,
		CASE WHEN e.n = 0 THEN c.status IN (` + dispatchedStatuses + `) ELSE coalesce(e.dispatched, FALSE) END AS dispatched,
		coalesce(e.resolved_at, e.closed_at, CASE WHEN c.closed_at <= $1 THEN c.closed_at END) AS disposed_at,
		coalesce(e.closed_at, CASE WHEN c.closed_at <= $1 THEN c.closed_at END) AS closed_at_eval,
		coalesce(e.reworks, 0) AS reworks,
		CASE WHEN e.n = 0 THEN c.status = 'DEFERRED' ELSE coalesce(e.deferred, FALSE) END AS deferred
	FROM "case" c CROSS JOIN LATERAL (
		SELECT count(*) AS n,
			(array_agg(ev.status ORDER BY ev.seq DESC) FILTER (WHERE ev.at <= $1))[1] AS last,
			bool_or(ev.status IN (` + filedStatuses + `)) FILTER (WHERE ev.at <= $1) AS filed,
			bool_or(ev.status IN (` + dispatchedStatuses + `)) FILTER (WHERE ev.at <= $1) AS dispatched,
			max(ev.at) FILTER (WHERE ev.status = 'RESOLVED' AND ev.at <= $1) AS resolved_at,
			max(ev.at) FILTER (WHERE ev.status = 'CLOSED' AND ev.at <= $1) AS closed_at,
			count(*) FILTER (WHERE ev.status = 'REOPENED' AND ev.at <= $1) AS reworks,
			bool_or(ev.status = 'DEFERRED') FILTER (WHERE ev.at <= $1) AS deferred
		FROM ` + timelineSteps("c.timeline", "ev") + `) e
	WHERE c.updated_at > $1`

// IndicatorOptions select the costlier parts of CaseIndicators.
type IndicatorOptions struct {
	// WorkHours computes AvgWorkHoursToClose (nil otherwise).
	WorkHours bool
}

// CaseIndicators computes the indicators of the cases a filter selects,
// evaluated at asOf, grouped by up to four dimensions (none: one bucket,
// even over no cases). Cases reported after asOf are not counted.
func (s *Store) CaseIndicators(ctx context.Context, f CaseFilter, asOf time.Time, dims []Dimension, o IndicatorOptions) ([]IndicatorBucket, error) {
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
	join := ""
	if joinCategory {
		join = " LEFT JOIN category cat ON cat.code = c.category_code"
	}
	a := sqlArgs{asOf}
	// A region's cases are found through its grids and the grid index
	// (grid, report time): a street's month reads that month's cases, not
	// the street's whole history as the region path index would.
	var within []string
	grids := func(region string) string {
		return "c.grid_id = ANY(ARRAY(SELECT g.id FROM region g WHERE g.level = 'GRID' AND g.path <@ (SELECT path FROM region WHERE " + region + ")))"
	}
	if f.RegionID != nil {
		within = append(within, grids("id = "+a.add(*f.RegionID)))
	}
	if f.RegionCode != nil {
		within = append(within, grids("code = "+a.add(*f.RegionCode)))
	}
	for _, id := range f.Within {
		within = append(within, grids("id = "+a.add(id)))
	}
	f.RegionID, f.RegionCode, f.Within = nil, nil, nil
	where := f.where(ctx, &a)
	if len(within) > 0 {
		where += " AND " + strings.Join(within, " AND ")
	}
	cols := "c.id, c.grid_id, c.reported_at, c.status, c.due_at, c.category_code, c.assignee_dept, c.region_path"
	for _, d := range dims {
		switch d {
		case DimTier:
			cols += ", c.tier"
		case DimSource:
			cols += ", c.source"
		case DimKind:
			cols += ", c.kind"
		}
	}
	// The inner statement keeps the dimension values; the outer one counts.
	inner := `SELECT ` + strings.Join(append(exprs, "c.filed, c.last, c.dispatched, c.reworks, c.deferred, c.closed_at_eval, c.reported_at, x.*"), ", ") + ` FROM (` + fmt.Sprintf(currentStateSQL, cols) + ` AND c.reported_at <= $1 AND ` + where + ` UNION ALL ` +
		fmt.Sprintf(pastStateSQL, cols) + ` AND c.reported_at <= $1 AND ` + where + `) c` + join + ` CROSS JOIN LATERAL (SELECT
			c.filed AND c.last = 'REJECTED' AS voided,
			c.filed AND c.last <> 'REJECTED' AND c.last <> 'SUSPENDED' AS ev,
			c.last IN (` + disposedStatuses + `) AS disposed,
			c.last = 'CLOSED' AS closed,
			c.due_at IS NULL OR c.disposed_at <= c.due_at AS on_time,
			c.last NOT IN (` + disposedStatuses + `) AND c.due_at < $1 AS overdue_open) x`
	sel := []string{
		"count(*)",
		"count(*) FILTER (WHERE filed)",
		"count(*) FILTER (WHERE voided)",
		"count(*) FILTER (WHERE filed AND last = 'SUSPENDED')",
		"count(*) FILTER (WHERE ev AND dispatched AND (disposed OR overdue_open))",
		"count(*) FILTER (WHERE ev AND disposed)",
		"count(*) FILTER (WHERE ev AND disposed AND on_time)",
		"count(*) FILTER (WHERE ev AND (disposed OR overdue_open))",
		"count(*) FILTER (WHERE ev AND closed)",
		"count(*) FILTER (WHERE ev AND closed AND on_time)",
		"count(*) FILTER (WHERE ev AND closed AND NOT on_time)",
		"count(*) FILTER (WHERE ev AND reworks > 0)",
		"coalesce(sum(reworks) FILTER (WHERE ev), 0)::int",
		"count(*) FILTER (WHERE ev AND deferred)",
		"count(*) FILTER (WHERE ev AND overdue_open)",
		"NULL::float8",
	}
	if o.WorkHours {
		sel[len(sel)-1] = "avg((" + canon.WorkMinutesSQL("closed_at_eval") + " - " + canon.WorkMinutesSQL("reported_at") + ") / 60) FILTER (WHERE ev AND closed)"
	}
	sql := "SELECT " + strings.Join(append(groups[:len(groups):len(groups)], sel...), ", ") + " FROM (" + inner + ") c"
	if len(groups) > 0 {
		sql += " GROUP BY " + strings.Join(groups, ", ") + " ORDER BY " + strings.Join(groups, ", ")
	}
	sql += " LIMIT " + a.add(MaxBuckets+1)
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return nil, fmt.Errorf("case indicators: %w", err)
	}
	buckets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (IndicatorBucket, error) {
		b := IndicatorBucket{Values: make([]*string, len(dims))}
		dest := make([]any, 0, len(dims)+16)
		for i := range b.Values {
			dest = append(dest, &b.Values[i])
		}
		x := &b.Indicators
		dest = append(dest, &x.Reported, &x.Filed, &x.Voided, &x.Suspended, &x.DueForDisposal, &x.Disposed, &x.DisposedOnTime, &x.DueForClosing, &x.Closed, &x.ClosedOnTime,
			&x.ClosedLate, &x.Reworked, &x.Reworks, &x.Deferred, &x.OverdueUndisposed, &x.AvgWorkHoursToClose)
		return b, r.Scan(dest...)
	})
	if err != nil {
		return nil, fmt.Errorf("case indicators: %w", err)
	}
	if len(buckets) > MaxBuckets {
		return nil, tooManyBuckets()
	}
	return buckets, nil
}
