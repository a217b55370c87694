package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// step is one timeline row of a test case: a status at an instant.
type step struct {
	at     time.Time
	status canon.CaseStatus
}

// indicatorCase builds a case whose status, closing time and timeline follow
// its steps.
func indicatorCase(id string, grid, dept string, due *time.Time, steps ...step) canon.Case {
	c := canon.Case{
		Provenance:   canon.Provenance{Source: "citymgmt", SourceID: id, SourceUpdatedAt: steps[len(steps)-1].at, FetchedAt: steps[len(steps)-1].at},
		Kind:         canon.KindEvent,
		CategoryCode: "SJ0501",
		Title:        "占道经营 " + id,
		Status:       steps[len(steps)-1].status,
		Tier:         canon.TierStreet,
		GridCode:     grid,
		ReportedAt:   steps[0].at,
		UpdatedAt:    steps[len(steps)-1].at,
		DueAt:        due,
		AssigneeDept: dept,
	}
	for _, s := range steps {
		c.Timeline = append(c.Timeline, canon.CaseEvent{At: s.at, Status: s.status, Tier: canon.TierStreet})
		if s.status == canon.StatusClosed {
			at := s.at
			c.ClosedAt = &at
		}
	}
	sum := sha256.Sum256([]byte(fmt.Sprint(c)))
	c.PayloadHash = sum[:]
	return c
}

func cst(s string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, s, canon.ChinaTime)
	if err != nil {
		panic(err)
	}
	return t
}

func near(got *float64, want float64) bool { return got != nil && math.Abs(*got-want) < 1e-9 }

// TestIndicatorsReproduceAPublishedMonth builds a month of cases with the
// published figures of a city's digital city-management centre (天门市,
// December 2016: 立案 996, 应结案 972, 结案 911, 按期结案 737) and checks
// that the indicators reproduce them and their rates (结案率 93.72%,
// 按期结案率 75.82%), with cases of other months and cases refused before
// filing beside them.
func TestIndicatorsReproduceAPublishedMonth(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	grids := []string{"420606001001001", "420606001001002", "420606001002001", "420606001002002"}
	depts := []string{"市城管局", "市住建局", "市园林局"}
	rng := rand.New(rand.NewPCG(2016, 12))
	monthStart, monthEnd := cst("2016-12-01 00:00:00"), cst("2017-01-01 00:00:00")

	const (
		filed         = 996
		dueForClosing = 972
		closed        = 911
		onTime        = 737
	)
	var cases []canon.Case
	add := func(c canon.Case) { cases = append(cases, c) }
	// A case filed at a random working instant of December; deadline 16
	// working hours after filing.
	filing := func(latest time.Time) (reported, filedAt, due time.Time) {
		reported = monthStart.Add(time.Duration(rng.Int64N(int64(latest.Sub(monthStart)))))
		filedAt = reported.Add(20 * time.Minute)
		return reported, filedAt, canon.AddWorkHours(filedAt, 16)
	}
	for i := range filed {
		id := fmt.Sprintf("TM%04d", i)
		grid, dept := grids[i%len(grids)], depts[i%len(depts)]
		switch {
		case i < onTime: // closed, disposed by the deadline; some deferred, some reworked
			reported, filedAt, due := filing(cst("2016-12-25 00:00:00"))
			steps := []step{{reported, canon.StatusReported}, {filedAt, canon.StatusFiled}, {filedAt.Add(10 * time.Minute), canon.StatusDispatched}}
			if i%10 == 0 { // 延期: disposed after the first deadline, inside the extended one
				steps = append(steps, step{filedAt.Add(time.Hour), canon.StatusDeferred})
				first := due
				due = canon.AddWorkHours(filedAt, 32)
				steps = append(steps, step{canon.AddWorkHours(first, 4), canon.StatusResolved})
			} else {
				steps = append(steps, step{canon.AddWorkHours(filedAt, 16*rng.Float64()), canon.StatusResolved})
			}
			last := steps[len(steps)-1].at
			if i%25 == 0 { // 返工, disposed again before the deadline
				steps = append(steps, step{last.Add(time.Minute), canon.StatusVerifying}, step{last.Add(2 * time.Minute), canon.StatusReopened},
					step{last.Add(3 * time.Minute), canon.StatusResolved})
				if steps[len(steps)-1].at.After(due) {
					steps = steps[:len(steps)-3]
				}
				last = steps[len(steps)-1].at
			}
			steps = append(steps, step{last.Add(time.Hour), canon.StatusVerifying}, step{last.Add(2 * time.Hour), canon.StatusClosed})
			add(indicatorCase(id, grid, dept, &due, steps...))
		case i < closed: // closed, disposed after the deadline
			reported, filedAt, due := filing(cst("2016-12-20 00:00:00"))
			res := canon.AddWorkHours(due, 1+10*rng.Float64())
			add(indicatorCase(id, grid, dept, &due, step{reported, canon.StatusReported}, step{filedAt, canon.StatusFiled},
				step{filedAt.Add(10 * time.Minute), canon.StatusDispatched}, step{res, canon.StatusResolved},
				step{res.Add(time.Hour), canon.StatusClosed}))
		case i < closed+20: // disposed inside the deadline, 核查 not finished at month end
			reported, filedAt, due := filing(cst("2016-12-28 00:00:00"))
			res := canon.AddWorkHours(filedAt, 8)
			add(indicatorCase(id, grid, dept, &due, step{reported, canon.StatusReported}, step{filedAt, canon.StatusFiled},
				step{filedAt.Add(10 * time.Minute), canon.StatusDispatched}, step{res, canon.StatusResolved},
				step{res.Add(time.Minute), canon.StatusVerifying}))
		case i < dueForClosing: // past the deadline, not disposed
			reported, filedAt, due := filing(cst("2016-12-26 00:00:00"))
			add(indicatorCase(id, grid, dept, &due, step{reported, canon.StatusReported}, step{filedAt, canon.StatusFiled},
				step{filedAt.Add(10 * time.Minute), canon.StatusDispatched}, step{filedAt.Add(time.Hour), canon.StatusInProgress}))
		default: // filed on the 31st, inside its deadline at month end: not due
			reported := cst("2016-12-31 10:00:00").Add(time.Duration(i) * time.Second)
			filedAt := reported.Add(20 * time.Minute)
			due := canon.AddWorkHours(filedAt, 16)
			add(indicatorCase(id, grid, dept, &due, step{reported, canon.StatusReported}, step{filedAt, canon.StatusFiled},
				step{filedAt.Add(10 * time.Minute), canon.StatusDispatched}))
		}
	}
	// Not counted as filed: refused at acceptance (不予立案) in December.
	for i := range 40 {
		r := cst("2016-12-05 10:00:00").Add(time.Duration(i) * time.Hour)
		add(indicatorCase(fmt.Sprintf("TMR%03d", i), grids[0], "", nil, step{r, canon.StatusReported},
			step{r.Add(time.Minute), canon.StatusAccepted}, step{r.Add(time.Hour), canon.StatusRejected}))
	}
	// Outside the month: November's and January's cases.
	for i := range 60 {
		r := cst("2016-11-20 10:00:00").Add(time.Duration(i) * time.Hour)
		if i%2 == 1 {
			r = monthEnd.Add(time.Duration(i) * time.Hour)
		}
		due := canon.AddWorkHours(r, 16)
		add(indicatorCase(fmt.Sprintf("TMO%03d", i), grids[1], depts[0], &due, step{r, canon.StatusReported},
			step{r.Add(time.Minute), canon.StatusFiled}, step{r.Add(2 * time.Minute), canon.StatusDispatched}))
	}
	rng.Shuffle(len(cases), func(i, j int) { cases[i], cases[j] = cases[j], cases[i] })
	storetest.SeedCases(t, st, cases)

	f := store.CaseFilter{ReportedFrom: &monthStart, ReportedTo: &monthEnd}
	got, err := st.CaseIndicators(ctx, f, monthEnd, nil, store.IndicatorOptions{WorkHours: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d buckets, want 1", len(got))
	}
	x := got[0].Indicators
	if x.Reported != filed+40 || x.Filed != filed || x.AccurateFiled() != filed || x.DueForClosing != dueForClosing ||
		x.Closed != closed || x.ClosedOnTime != onTime || x.ClosedLate != closed-onTime || x.Unclosed() != dueForClosing-closed {
		t.Fatalf("indicators = %+v", x)
	}
	if r := x.ClosingRate(); r == nil || math.Round(*r*10000) != 9372 {
		t.Errorf("结案率 = %v, want 93.72%%", r)
	}
	if r := x.OnTimeClosingRate(); r == nil || math.Round(*r*10000) != 7582 {
		t.Errorf("按期结案率 = %v, want 75.82%%", r)
	}
	if x.OverdueUndisposed != dueForClosing-closed-20 {
		t.Errorf("超期未处置 = %d, want %d", x.OverdueUndisposed, dueForClosing-closed-20)
	}
	if x.Deferred != (onTime+9)/10 {
		t.Errorf("延期数 = %d, want %d", x.Deferred, (onTime+9)/10)
	}

	// Grouped by department, the buckets add up to the total.
	byDept, err := st.CaseIndicators(ctx, f, monthEnd, []store.Dimension{store.DimAssigneeDept}, store.IndicatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum := store.Indicators{}
	for _, b := range byDept {
		sum.Filed += b.Filed
		sum.DueForClosing += b.DueForClosing
		sum.Closed += b.Closed
		sum.ClosedOnTime += b.ClosedOnTime
	}
	if sum.Filed != filed || sum.DueForClosing != dueForClosing || sum.Closed != closed || sum.ClosedOnTime != onTime {
		t.Errorf("departments add up to %+v", sum)
	}
}

// TestIndicatorEdges checks each 口径 rule on hand-computed cases.
func TestIndicatorEdges(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	g := "420606001001001"
	asOf := cst("2026-10-31 00:00:00")
	due := func(s string) *time.Time { v := cst(s); return &v }
	cases := []canon.Case{
		// In its deadline at asOf, not disposed: not due for closing.
		indicatorCase("in-deadline", g, "城管局", due("2026-11-03 18:00:00"),
			step{cst("2026-10-30 09:00:00"), canon.StatusReported}, step{cst("2026-10-30 09:10:00"), canon.StatusFiled},
			step{cst("2026-10-30 09:20:00"), canon.StatusDispatched}),
		// Past its deadline, not disposed: due, 超期未处置, unclosed.
		indicatorCase("overdue", g, "城管局", due("2026-10-20 18:00:00"),
			step{cst("2026-10-19 09:00:00"), canon.StatusReported}, step{cst("2026-10-19 09:10:00"), canon.StatusFiled},
			step{cst("2026-10-19 09:20:00"), canon.StatusDispatched}, step{cst("2026-10-19 10:00:00"), canon.StatusInProgress}),
		// 挂账 and past its deadline: excluded from every disposal figure.
		indicatorCase("suspended", g, "城管局", due("2026-10-15 18:00:00"),
			step{cst("2026-10-14 09:00:00"), canon.StatusReported}, step{cst("2026-10-14 09:10:00"), canon.StatusFiled},
			step{cst("2026-10-14 09:20:00"), canon.StatusDispatched}, step{cst("2026-10-14 11:00:00"), canon.StatusSuspended}),
		// Reworked twice, finally disposed after the deadline: one 返工 case,
		// two returns, closed late although the first disposal was in time.
		indicatorCase("reworked", g, "住建局", due("2026-10-13 12:00:00"),
			step{cst("2026-10-12 09:00:00"), canon.StatusReported}, step{cst("2026-10-12 09:10:00"), canon.StatusFiled},
			step{cst("2026-10-12 09:20:00"), canon.StatusDispatched}, step{cst("2026-10-12 15:00:00"), canon.StatusResolved},
			step{cst("2026-10-12 16:00:00"), canon.StatusVerifying}, step{cst("2026-10-12 16:10:00"), canon.StatusReopened},
			step{cst("2026-10-13 09:00:00"), canon.StatusResolved}, step{cst("2026-10-13 10:00:00"), canon.StatusVerifying},
			step{cst("2026-10-13 10:10:00"), canon.StatusReopened}, step{cst("2026-10-13 15:00:00"), canon.StatusResolved},
			step{cst("2026-10-13 16:00:00"), canon.StatusVerifying}, step{cst("2026-10-13 17:00:00"), canon.StatusClosed}),
		// 延期: the source moved the deadline from 10-06 12:00 to 10-08 12:00;
		// disposed between the two, so on time. Reported Friday 17:00,
		// closed Thursday 10:00: 1 + 7.5 × 3 (Mon–Wed) + 1.5 = 25 working hours.
		indicatorCase("deferred", g, "住建局", due("2026-10-08 12:00:00"),
			step{cst("2026-10-02 17:00:00"), canon.StatusReported}, step{cst("2026-10-02 17:10:00"), canon.StatusFiled},
			step{cst("2026-10-02 17:20:00"), canon.StatusDispatched}, step{cst("2026-10-05 09:00:00"), canon.StatusDeferred},
			step{cst("2026-10-07 11:00:00"), canon.StatusResolved}, step{cst("2026-10-07 15:00:00"), canon.StatusVerifying},
			step{cst("2026-10-08 10:00:00"), canon.StatusClosed}),
		// Filed, then voided (作废): filed, voided, not accurately filed.
		indicatorCase("voided", g, "城管局", due("2026-10-10 18:00:00"),
			step{cst("2026-10-09 09:00:00"), canon.StatusReported}, step{cst("2026-10-09 09:10:00"), canon.StatusFiled},
			step{cst("2026-10-09 10:00:00"), canon.StatusRejected}),
		// Refused before filing (不予立案): reported only.
		indicatorCase("refused", g, "", nil,
			step{cst("2026-10-09 09:00:00"), canon.StatusReported}, step{cst("2026-10-09 09:10:00"), canon.StatusAccepted},
			step{cst("2026-10-09 10:00:00"), canon.StatusRejected}),
		// Disposed in time before asOf, closed after it: at asOf disposed,
		// due for closing, not closed.
		indicatorCase("closed-later", g, "城管局", due("2026-10-30 18:00:00"),
			step{cst("2026-10-29 09:00:00"), canon.StatusReported}, step{cst("2026-10-29 09:10:00"), canon.StatusFiled},
			step{cst("2026-10-29 09:20:00"), canon.StatusDispatched}, step{cst("2026-10-30 09:00:00"), canon.StatusResolved},
			step{cst("2026-11-02 10:00:00"), canon.StatusClosed}),
		// A status-only source (no timeline): its status and closing time decide.
		// Monday 09:00 → 11:00, 2 working hours, disposed (closed) in time.
		statusOnly(indicatorCase("status-only", g, "城管局", due("2026-10-20 18:00:00"),
			step{cst("2026-10-19 09:00:00"), canon.StatusReported}, step{cst("2026-10-19 11:00:00"), canon.StatusClosed})),
		// Reported after asOf: not counted at all.
		indicatorCase("later", g, "城管局", nil, step{cst("2026-11-02 09:00:00"), canon.StatusReported}),
	}
	storetest.SeedCases(t, st, cases)

	got, err := st.CaseIndicators(ctx, store.CaseFilter{}, asOf, nil, store.IndicatorOptions{WorkHours: true})
	if err != nil {
		t.Fatal(err)
	}
	x := got[0].Indicators
	want := store.Indicators{
		Reported:          9, // all but "later"
		Filed:             8, // all but "refused" and "later"
		Voided:            1,
		Suspended:         1,
		Disposed:          4, // reworked, deferred, closed-later, status-only
		DisposedOnTime:    3, // deferred, closed-later, status-only
		DueForDisposal:    5, // overdue + the four disposed
		DueForClosing:     5,
		Closed:            3,
		ClosedOnTime:      2,
		ClosedLate:        1,
		Reworked:          1,
		Reworks:           2,
		Deferred:          1,
		OverdueUndisposed: 1,
	}
	avg := x.AvgWorkHoursToClose
	x.AvgWorkHoursToClose = nil
	if x != want {
		t.Errorf("indicators\n got %+v\nwant %+v", x, want)
	}
	// reworked: Mon 10-12 09:00 → Tue 10-13 17:00 = 7 + 6.5 = 13.5 h;
	// deferred: 25 h; status-only: 2 h.
	if !near(avg, (13.5+25+2)/3) {
		t.Errorf("average working hours to close = %v, want %v", deref(avg), (13.5+25+2)/3)
	}
	if !near(x.ClosingRate(), 0.6) || !near(x.OnTimeClosingRate(), 0.4) || !near(x.LateClosingRate(), 0.2) ||
		!near(x.ReworkRate(), 0.25) || !near(x.DeferralRate(), 0.2) || !near(x.DisposalRate(), 0.8) ||
		!near(x.OnTimeDisposalRate(), 0.6) {
		t.Errorf("rates: 结案率 %v 按期结案率 %v 超期结案率 %v 返工率 %v 延期率 %v 处置率 %v 按期处置率 %v",
			deref(x.ClosingRate()), deref(x.OnTimeClosingRate()), deref(x.LateClosingRate()), deref(x.ReworkRate()),
			deref(x.DeferralRate()), deref(x.DisposalRate()), deref(x.OnTimeDisposalRate()))
	}

	// The shipped department score: 0.4×50 + 0.6×30 + (1−0.25)×10 + (1−0.2)×10.
	score, err := store.Score(store.ScorePresets["CITY_MGMT"].Terms, x)
	if err != nil || !near(score, 20+18+7.5+8) {
		t.Errorf("CITY_MGMT score = %v, %v", deref(score), err)
	}
	// A term without a denominator is left out and the rest scaled to the full weight.
	score, err = store.Score([]store.ScoreTerm{{Rate: store.RateClosing, Weight: 60}, {Rate: store.RateRework, Weight: 40, Inverse: true}},
		store.Indicators{DueForClosing: 4, Closed: 3})
	if err != nil || !near(score, 75) {
		t.Errorf("score without disposals = %v, %v; want 75", deref(score), err)
	}

	// Evaluated later, "closed-later" is closed and "in-deadline" overdue.
	later, err := st.CaseIndicators(ctx, store.CaseFilter{}, cst("2026-11-05 00:00:00"), nil, store.IndicatorOptions{WorkHours: true})
	if err != nil {
		t.Fatal(err)
	}
	if y := later[0].Indicators; y.Reported != 10 || y.Closed != 4 || y.DueForClosing != 6 || y.OverdueUndisposed != 1+1 {
		t.Errorf("at 11-05: %+v", y)
	}

	// Every dimension groups the same cases.
	for _, dims := range [][]store.Dimension{{store.DimTier, store.DimSource, store.DimKind, store.DimCategoryMajor},
		{store.DimStatus, store.DimCategory, store.DimDistrict, store.DimGrid}, {store.DimQuarter, store.DimWeek, store.DimDay}} {
		b, err := st.CaseIndicators(ctx, store.CaseFilter{}, asOf, dims, store.IndicatorOptions{})
		if err != nil {
			t.Fatalf("%v: %v", dims, err)
		}
		n := 0
		for _, x := range b {
			n += x.Reported
		}
		if n != 9 {
			t.Errorf("%v: %d reported, want 9", dims, n)
		}
	}

	// Through a region: the community holding the grid, and the other one.
	for code, want := range map[string]int{"420606001001": 9, "420606001002": 0, "420606": 9} {
		b, err := st.CaseIndicators(ctx, store.CaseFilter{RegionCode: &code}, asOf, nil, store.IndicatorOptions{})
		if err != nil || b[0].Reported != want || (want > 0 && b[0].Closed != 3) {
			t.Errorf("region %s: %+v, %v; want %d reported", code, b, err, want)
		}
	}

	// Grouped by department: 住建局 holds the reworked and deferred cases.
	byDept, err := st.CaseIndicators(ctx, store.CaseFilter{}, asOf, []store.Dimension{store.DimAssigneeDept}, store.IndicatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range byDept {
		if b.Values[0] != nil && *b.Values[0] == "住建局" && (b.Reported != 2 || b.Closed != 2 || b.Reworked != 1) {
			t.Errorf("住建局: %+v", b.Indicators)
		}
	}
	if len(byDept) != 3 { // 城管局, 住建局 and no department ("refused")
		t.Errorf("%d departments, want 3", len(byDept))
	}
}

// statusOnly drops a case's timeline, as a status-only source sends it.
func statusOnly(c canon.Case) canon.Case {
	c.Timeline = nil
	return c
}

// TestWorkMinutesSQLMatchesGo checks the SQL form of the working calendar
// against canon's over random instants, weekends and both sides of 1970.
func TestWorkMinutesSQLMatchesGo(t *testing.T) {
	st := dbtest.NewStore(t)
	rng := rand.New(rand.NewPCG(7, 8))
	var ts []time.Time
	for range 500 {
		ts = append(ts, time.Unix(rng.Int64N(2_000_000_000)-200_000_000, rng.Int64N(1e9)).UTC())
	}
	ts = append(ts, cst("2026-10-31 10:00:00"), cst("2026-11-02 08:30:00"), cst("2026-11-02 12:00:00"), cst("2026-11-02 13:00:00"))
	rows, err := st.Pool().Query(context.Background(), `SELECT `+canon.WorkMinutesSQL("t")+` FROM unnest($1::timestamptz[]) WITH ORDINALITY AS u(t, i) ORDER BY i`, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var got float64
		if err := rows.Scan(&got); err != nil {
			t.Fatal(err)
		}
		// PostgreSQL keeps microseconds.
		if want := canon.WorkMinutes(ts[i].Truncate(time.Microsecond)); math.Abs(got-want) > 1e-6 {
			t.Errorf("%s: SQL %v, Go %v", ts[i], got, want)
		}
		i++
	}
	if err := rows.Err(); err != nil || i != len(ts) {
		t.Fatalf("%d rows, %v", i, err)
	}
}

// TestCaseProgressFollowsTheTimeline checks that the timeline summary the
// indicators read is kept as a source rewrites a case's timeline.
func TestCaseProgressFollowsTheTimeline(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	g := "420606001001001"
	due := cst("2026-10-13 18:00:00")
	r := cst("2026-10-12 09:00:00")
	reworked := indicatorCase("c1", g, "城管局", &due, step{r, canon.StatusReported}, step{r.Add(time.Minute), canon.StatusFiled},
		step{r.Add(2 * time.Minute), canon.StatusDispatched}, step{r.Add(time.Hour), canon.StatusResolved},
		step{r.Add(2 * time.Hour), canon.StatusVerifying}, step{r.Add(3 * time.Hour), canon.StatusReopened})
	asOf := cst("2026-11-01 00:00:00")
	check := func(name string, reworks, filed int) {
		t.Helper()
		got, err := st.CaseIndicators(ctx, store.CaseFilter{}, asOf, nil, store.IndicatorOptions{WorkHours: true})
		if err != nil {
			t.Fatal(err)
		}
		if x := got[0].Indicators; x.Reworks != reworks || x.Filed != filed {
			t.Errorf("%s: reworks %d, filed %d; want %d, %d", name, x.Reworks, x.Filed, reworks, filed)
		}
	}
	storetest.SeedCases(t, st, []canon.Case{reworked})
	check("reworked", 1, 1)
	// The source corrects the timeline: no return after 核查.
	corrected := indicatorCase("c1", g, "城管局", &due, step{r, canon.StatusReported}, step{r.Add(time.Minute), canon.StatusFiled},
		step{r.Add(2 * time.Minute), canon.StatusDispatched}, step{r.Add(time.Hour), canon.StatusResolved})
	storetest.SeedCases(t, st, []canon.Case{corrected})
	check("corrected", 0, 1)
	// Sent again without a timeline, as an accepted case: judged by its status.
	bare := statusOnly(indicatorCase("c1", g, "城管局", &due, step{r, canon.StatusReported}, step{r.Add(time.Minute), canon.StatusAccepted}))
	storetest.SeedCases(t, st, []canon.Case{bare})
	check("status only", 0, 0)
	var n int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM "case" WHERE progress_filed IS NOT NULL`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d timeline summaries left, %v", n, err)
	}
}

func TestLoadScorePresets(t *testing.T) {
	got, err := store.LoadScorePresets([]byte(`[{"name": "STREET", "description": "街道考核", "terms": [
		{"rate": "ON_TIME_CLOSING_RATE", "weight": 70}, {"rate": "REWORK_RATE", "weight": 30, "inverse": true}]},
		{"name": "CITY_MGMT", "terms": [{"rate": "CLOSING_RATE", "weight": 1}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(got["STREET"].Terms) != 2 || !got["STREET"].Terms[1].Inverse || len(got["CITY_MGMT"].Terms) != 1 ||
		len(got["GRID_GOV"].Terms) != 4 {
		t.Fatalf("presets %+v", got)
	}
	if len(store.ScorePresets["CITY_MGMT"].Terms) != 4 {
		t.Fatal("loading changed the shipped presets")
	}
	for _, bad := range []string{
		`[{"name": "X", "terms": [{"rate": "HAPPINESS", "weight": 1}]}]`,
		`[{"name": "X", "terms": [{"rate": "CLOSING_RATE", "weight": -1}]}]`,
		`[{"name": "X", "terms": []}]`,
		`[{"name": "", "terms": [{"rate": "CLOSING_RATE", "weight": 1}]}]`,
		`[{"name": "X", "terms": [{"rate": "CLOSING_RATE", "weight": 1}]}, {"name": "X", "terms": [{"rate": "CLOSING_RATE", "weight": 1}]}]`,
		`[{"name": "X", "weights": []}]`,
		`{}`,
	} {
		if _, err := store.LoadScorePresets([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// TestProgressColumnsAgreeWithTheTimeline: the writer's summary of a
// timeline (the progress_ columns, read for a case unchanged since the
// evaluation instant) and the indicators' own reading of the timeline
// (for a case changed after it) give the same figures for the same cases.
// Every combination of steps the summary counts appears among them.
func TestProgressColumnsAgreeWithTheTimeline(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	paths := [][]canon.CaseStatus{
		{canon.StatusReported},
		{canon.StatusReported, canon.StatusFiled, canon.StatusRejected},
		{canon.StatusReported, canon.StatusFiled, canon.StatusSuspended},
		{canon.StatusReported, canon.StatusFiled, canon.StatusDispatched, canon.StatusInProgress},
		{canon.StatusReported, canon.StatusFiled, canon.StatusDispatched, canon.StatusResolved, canon.StatusVerifying, canon.StatusClosed},
		{canon.StatusReported, canon.StatusFiled, canon.StatusDispatched, canon.StatusResolved, canon.StatusReopened,
			canon.StatusDispatched, canon.StatusResolved, canon.StatusReopened, canon.StatusResolved, canon.StatusClosed},
		{canon.StatusReported, canon.StatusFiled, canon.StatusDispatched, canon.StatusDeferred, canon.StatusResolved, canon.StatusClosed},
		{canon.StatusReported, canon.StatusFiled, canon.StatusReturned, canon.StatusFiled, canon.StatusDispatched, canon.StatusResolved},
	}
	grids := []string{"420606001001001", "420606001001002", "420606001002001"}
	var cases []canon.Case
	for i := 0; i < 48; i++ {
		r := cst("2026-10-01 09:00:00").Add(time.Duration(i) * 7 * time.Hour)
		path := paths[i%len(paths)]
		steps := make([]step, len(path))
		for j, s := range path {
			steps[j] = step{r.Add(time.Duration(j*(1+i%5)) * 3 * time.Hour), s}
		}
		due := r.Add(time.Duration(12+i%4*12) * time.Hour)
		cases = append(cases, indicatorCase(fmt.Sprintf("p%02d", i), grids[i%len(grids)], "城管局", &due, steps...))
	}
	storetest.SeedCases(t, st, cases)
	asOf := cst("2026-12-31 00:00:00")
	dims := []store.Dimension{store.DimGrid}
	fromColumns, err := st.CaseIndicators(ctx, store.CaseFilter{}, asOf, dims, store.IndicatorOptions{WorkHours: true})
	if err != nil {
		t.Fatal(err)
	}
	// Every case changed after asOf: each is read from its timeline.
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET updated_at = '2027-01-01'`); err != nil {
		t.Fatal(err)
	}
	fromTimelines, err := st.CaseIndicators(ctx, store.CaseFilter{}, asOf, dims, store.IndicatorOptions{WorkHours: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(fromColumns) != len(grids) {
		t.Fatalf("%d buckets, want %d", len(fromColumns), len(grids))
	}
	for i := range fromColumns {
		a, b := fromColumns[i].Indicators, fromTimelines[i].Indicators
		wa, wb := a.AvgWorkHoursToClose, b.AvgWorkHoursToClose
		a.AvgWorkHoursToClose, b.AvgWorkHoursToClose = nil, nil
		if a != b || (wa == nil) != (wb == nil) || (wa != nil && math.Abs(*wa-*wb) > 1e-9) {
			t.Errorf("grid %s: from the summary %+v (%v), from the timeline %+v (%v)", *fromColumns[i].Values[0], a, deref(wa), b, deref(wb))
		}
		if a.Reworks == 0 || a.Deferred == 0 || a.Closed == 0 || a.Voided == 0 || a.Suspended == 0 {
			t.Errorf("grid %s: a figure the summary feeds is 0: %+v", *fromColumns[i].Values[0], a)
		}
	}
}
