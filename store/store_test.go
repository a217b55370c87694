package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func TestRegionsTreeAndPaging(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)

	grid := canon.LevelGrid
	n, err := st.CountRegions(ctx, store.RegionQuery{Level: &grid})
	if err != nil || n != 4 {
		t.Fatalf("grid count = %d, %v; want 4", n, err)
	}
	var codes []string
	var after *store.Position
	for {
		page, err := st.Regions(ctx, store.RegionQuery{Level: &grid, Page: store.PageArgs{First: ptr(3), After: after}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Edges {
			codes = append(codes, e.Node.Code)
		}
		if !page.PageInfo.HasNextPage {
			break
		}
		after = page.PageInfo.End
	}
	want := []string{"420606001001001", "420606001001002", "420606001002001", "420606001002002"}
	if len(codes) != len(want) {
		t.Fatalf("paged codes = %v, want %v", codes, want)
	}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("paged codes = %v, want %v", codes, want)
		}
	}

	g, err := st.RegionByCode(ctx, "420606001002001")
	if err != nil {
		t.Fatal(err)
	}
	anc, err := st.RegionsByID(ctx, g.AncestorIDs())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range anc {
		names = append(names, r.Name)
	}
	if got := len(names); got != 4 || names[0] != "襄阳市" || names[3] != "新华社区" {
		t.Fatalf("ancestors = %v", names)
	}
	if g.CentroidLat == nil || *g.CentroidLat < 31.94 || *g.CentroidLat > 31.96 {
		t.Fatalf("centroid lat = %v, want 31.95", g.CentroidLat)
	}

	_, err = st.RegionByCode(ctx, "999")
	if canon.ErrorCode(err) != canon.NotFound {
		t.Fatalf("missing region: err = %v, want NOT_FOUND", err)
	}
}

func TestRegionWithUnknownParentIsRefused(t *testing.T) {
	st := dbtest.NewStore(t)
	err := st.InTx(context.Background(), func(w *store.Writer) error {
		return w.UpsertRegions(context.Background(), []canon.Region{{Code: "420606001", Name: "汉江街道", Level: canon.LevelStreet, ParentCode: "420606"}})
	})
	if canon.ErrorCode(err) != canon.BadUserInput {
		t.Fatalf("err = %v, want BAD_USER_INPUT", err)
	}
}

// The loads join their records to the grids by code, so the regions are
// analyzed as they are written: the planner knows how many grids there are
// from the first batch of a first start on.
func TestRegionsAreAnalyzedAsTheyAreWritten(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	var stats, regions int
	if err := st.Pool().QueryRow(context.Background(), `SELECT (SELECT reltuples::int FROM pg_class WHERE oid = 'region'::regclass),
		(SELECT count(*) FROM region)`).Scan(&stats, &regions); err != nil {
		t.Fatal(err)
	}
	if regions == 0 || stats != regions {
		t.Fatalf("the statistics count %d regions of %d (-1: never analyzed)", stats, regions)
	}
}

func TestUpsertCasesIsIdempotentAndDetectsChanges(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(40)
	// A record twice in one batch is stored once.
	res := storetest.SeedCases(t, st, append(cases, cases[0]))
	if res.Written != 40 || res.Unchanged != 1 {
		t.Fatalf("first load = %+v, want 40 written, 1 unchanged", res)
	}
	res = storetest.SeedCases(t, st, cases)
	if res.Written != 0 || res.Unchanged != 40 {
		t.Fatalf("reload = %+v, want 0 written, 40 unchanged", res)
	}
	cases[5].Title = "已更新"
	cases[5].PayloadHash = []byte("changed")
	cases[5].Timeline = cases[5].Timeline[:1]
	res = storetest.SeedCases(t, st, cases)
	if res.Written != 1 || res.Unchanged != 39 {
		t.Fatalf("update = %+v, want 1 written", res)
	}
	n, err := st.CountCases(ctx, store.CaseFilter{})
	if err != nil || n != 40 {
		t.Fatalf("count = %d, %v; want 40", n, err)
	}
	page, err := st.Cases(ctx, store.CaseQuery{Filter: store.CaseFilter{Text: "已更新"}})
	if err != nil || len(page.Edges) != 1 {
		t.Fatalf("text search = %d rows, %v", len(page.Edges), err)
	}
	tl, err := st.CaseTimelines(ctx, []int64{page.Edges[0].Node.ID, -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl[0]) != 1 || tl[0][0].SourceStatus != "上报" || len(tl[1]) != 0 {
		t.Fatalf("timelines = %+v", tl)
	}
}

func TestCaseFiltersAndKeysetPaging(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(120))
	community, err := st.RegionByCode(ctx, "420606001002")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter store.CaseFilter
		want   int
	}{
		{"all", store.CaseFilter{}, 120},
		{"region subtree", store.CaseFilter{RegionID: &community.ID}, 60},
		{"status", store.CaseFilter{Status: []canon.CaseStatus{canon.StatusClosed}}, 60},
		{"major category covers minor", store.CaseFilter{Category: []string{"SJ02"}}, 40},
		{"minor category", store.CaseFilter{Category: []string{"SJ0501"}}, 80},
		{"category codes are matched as they are", store.CaseFilter{CategoryCodes: []string{"SJ02"}}, 0},
		{"category codes", store.CaseFilter{CategoryCodes: []string{"SJ0201", "SJ0501"}}, 120},
		{"source", store.CaseFilter{Source: []string{"governance"}}, 0},
		{"reported window", store.CaseFilter{ReportedFrom: ptr(storetest.Base), ReportedTo: ptr(storetest.Base.Add(10 * 3600e9))}, 10},
		{"overdue", store.CaseFilter{Overdue: ptr(true)}, 60},
		{"not overdue", store.CaseFilter{Overdue: ptr(false)}, 60},
		{"text", store.CaseFilter{Text: "流动摊贩"}, 120},
		{"like metacharacters are literal", store.CaseFilter{Text: "%"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := st.CountCases(ctx, tc.filter)
			if err != nil || n != tc.want {
				t.Fatalf("count = %d, %v; want %d", n, err, tc.want)
			}
		})
	}

	for _, order := range []store.CaseOrder{{}, {Desc: true}, {Field: store.OrderUpdatedAt}, {Field: store.OrderDueAt, Desc: true}} {
		seen := map[int64]bool{}
		var after *store.Position
		var prev *store.Case
		for {
			page, err := st.Cases(ctx, store.CaseQuery{Order: order, Page: store.PageArgs{First: ptr(7), After: after}})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Edges {
				if seen[e.Node.ID] {
					t.Fatalf("order %+v: case %d twice", order, e.Node.ID)
				}
				seen[e.Node.ID] = true
				if prev != nil && order.Field == "" && order.Desc == prev.ReportedAt.Before(e.Node.ReportedAt) {
					t.Fatalf("order %+v: %v then %v", order, prev.ReportedAt, e.Node.ReportedAt)
				}
				prev = e.Node
			}
			if !page.PageInfo.HasNextPage {
				break
			}
			after = page.PageInfo.End
		}
		if len(seen) != 120 {
			t.Fatalf("order %+v: walked %d cases, want 120", order, len(seen))
		}
	}
}

func TestPageArgumentsAreValidated(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	_, err := st.Cases(ctx, store.CaseQuery{Page: store.PageArgs{First: ptr(501)}})
	if canon.ErrorCode(err) != canon.BadUserInput {
		t.Fatalf("first=501: %v, want BAD_USER_INPUT", err)
	}
	page, err := st.Cases(ctx, store.CaseQuery{Page: store.PageArgs{First: ptr(500)}})
	if err != nil || len(page.Edges) != 0 {
		t.Fatalf("first=500: %v", err)
	}
	_, err = st.Cases(ctx, store.CaseQuery{Page: store.PageArgs{After: &store.Position{Order: "REPORTED_AT_ASC", Key: "nope", ID: 1}}})
	var e *canon.Error
	if !errors.As(err, &e) || e.Code != canon.BadUserInput {
		t.Fatalf("bad position: %v, want BAD_USER_INPUT", err)
	}
	// A cursor of one order is refused by another.
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(3))
	p, err := st.Cases(ctx, store.CaseQuery{Page: store.PageArgs{First: ptr(1)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Cases(ctx, store.CaseQuery{Order: store.CaseOrder{Field: store.OrderDueAt}, Page: store.PageArgs{After: p.PageInfo.End}})
	if canon.ErrorCode(err) != canon.BadUserInput {
		t.Fatalf("cursor of other order: %v, want BAD_USER_INPUT", err)
	}
}

// A backfilling channel fills in only what the live channel has not
// stored, and never overwrites it; the live channel overwrites backfilled
// history as any change.
func TestBackfillNeverOverwritesTheLiveChannel(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	live := storetest.MakeCases(4) // C00000…C00003
	liveReporter := storetest.Person("420606199001011234", "张三", "13900001111")
	live[0].Reporter = &liveReporter
	storetest.SeedCases(t, st, live[:2])

	archive := storetest.MakeCases(4)
	for i := range archive {
		archive[i].Title, archive[i].Status = "档案 "+archive[i].Title, canon.StatusClosed
		archive[i].Timeline = archive[i].Timeline[:1]
		archive[i].PayloadHash = []byte("archive " + archive[i].SourceID)
		// The export names reporters by name and phone only.
		archive[i].Reporter = &canon.PersonRef{Name: "张叁", NameMasked: "张*", PhoneHash: []byte("archive phone")}
	}
	backfill := func(cases []canon.Case) store.UpsertResult {
		t.Helper()
		var res store.UpsertResult
		if err := st.InTx(ctx, func(w *store.Writer) error {
			recs := make([]any, len(cases))
			for i := range cases {
				recs[i] = &cases[i]
			}
			var err error
			res, err = w.Backfill(ctx, recs)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := backfill(archive); res.Written != 2 || res.Unchanged != 2 {
		t.Fatalf("backfill wrote %d, left %d; want 2 new, 2 held by the live channel", res.Written, res.Unchanged)
	}
	title := func(id string) (string, int) {
		var s string
		var steps int
		if err := st.Pool().QueryRow(ctx, `SELECT c.title, jsonb_array_length(c.timeline)
			FROM "case" c WHERE c.source = 'citymgmt' AND c.source_id = $1`, id).Scan(&s, &steps); err != nil {
			t.Fatal(err)
		}
		return s, steps
	}
	for i, c := range live {
		got, steps := title(c.SourceID)
		want, wantSteps := c.Title, 2 // the live record, untouched
		if i >= 2 {
			want, wantSteps = archive[i].Title, 1 // history filled in
		}
		if got != want || steps != wantSteps {
			t.Errorf("%s: %q with %d steps, want %q with %d", c.SourceID, got, steps, want, wantSteps)
		}
	}
	// The live case's reporter is untouched too: its link still names the
	// live record's person, with the live record's name.
	var linked string
	if err := st.Pool().QueryRow(ctx, `SELECT l.name || '/' || p.name FROM person_link l JOIN person p ON p.id = l.person_id
		WHERE l.role = 'REPORTER' AND l.source_id = $1`, live[0].SourceID).Scan(&linked); err != nil || linked != "张三/张三" {
		t.Fatalf("the live case's reporter after a backfill: %q (%v), want 张三/张三", linked, err)
	}
	// Backfilling again writes nothing; the live channel then replaces
	// backfilled history with its own record.
	if res := backfill(archive); res.Written != 0 || res.Unchanged != 4 {
		t.Fatalf("second backfill wrote %d, left %d; want 0 and 4", res.Written, res.Unchanged)
	}
	if res := storetest.SeedCases(t, st, live[2:]); res.Written != 2 {
		t.Fatalf("live channel wrote %d over backfilled history, want 2", res.Written)
	}
	if got, steps := title(live[3].SourceID); got != live[3].Title || steps != 2 {
		t.Errorf("after the live channel: %q with %d steps, want %q with 2", got, steps, live[3].Title)
	}
	var n int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM "case"`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("%d cases stored (%v), want 4: one per case, whichever channel", n, err)
	}
	// Only cases are backfilled.
	err := st.InTx(ctx, func(w *store.Writer) error {
		_, err := w.Backfill(ctx, []any{&canon.Household{}})
		return err
	})
	if err == nil {
		t.Fatal("a household was backfilled")
	}
}

// TestCaseRewrittenOnlyWhenItsContentChanges: a case delivered again with
// another payload (its history export, a field the hub does not map) but
// the same canonical values is not rewritten; a changed value, or a
// changed timeline, is.
func TestCaseRewrittenOnlyWhenItsContentChanges(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	ctx := context.Background()
	cases := storetest.MakeCases(3)
	storetest.SeedCases(t, st, cases)
	xmin := func() string {
		t.Helper()
		var v string
		if err := st.Pool().QueryRow(ctx, `SELECT string_agg(xmin::text, ',' ORDER BY source_id) FROM "case"`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := xmin()
	again := slices.Clone(cases)
	for i := range again {
		again[i].PayloadHash = append([]byte("export:"), again[i].PayloadHash...)
	}
	if res := storetest.SeedCases(t, st, again); res.Written != 0 || res.Unchanged != 3 {
		t.Fatalf("same content under other payloads: %+v, want 0 written", res)
	}
	if after := xmin(); after != before {
		t.Fatalf("cases rewritten for a payload alone: %s → %s", before, after)
	}
	again[0].Title += "（更正）"
	again[1].Timeline = append(slices.Clone(again[1].Timeline), canon.CaseEvent{At: storetest.Base.Add(5 * time.Hour),
		Status: canon.StatusClosed, Tier: canon.TierStreet, SourceStatus: "结案"})
	if res := storetest.SeedCases(t, st, again); res.Written != 2 || res.Unchanged != 1 {
		t.Fatalf("a title and a timeline changed: %+v, want 2 written", res)
	}
	var title string
	if err := st.Pool().QueryRow(ctx, `SELECT title FROM "case" WHERE source_id = $1`, again[0].SourceID).Scan(&title); err != nil || title != again[0].Title {
		t.Fatalf("title %q (%v), want %q", title, err, again[0].Title)
	}
}

// TestIncidentQueueNamesWhatRegroupingCompares: the regroup queue names
// the cases inserted, deleted and changed in what incident merging
// compares, not those whose progress or incident link changed; a batch
// still open when the queue is read is named once it commits, and taking
// the entries read leaves it queued; an emptied table asks for
// everything.
func TestIncidentQueueNamesWhatRegroupingCompares(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	// As a regrouper holding its state has it: changes are queued.
	if _, err := st.BeginResolution(ctx, store.IncidentResolutionKind); err != nil {
		t.Fatal(err)
	}
	storetest.SeedRegions(t, st)
	cs := storetest.MakeCases(3)
	queued := func() (store.IncidentQueue, map[int64]int) {
		t.Helper()
		q, err := st.IncidentRegroupQueue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := map[int64]int{}
		for _, id := range q.Cases {
			n[id]++
		}
		return q, n
	}
	take := func(q store.IncidentQueue) {
		t.Helper()
		if err := st.InTx(ctx, func(w *store.Writer) error { _, err := w.TakeIncidentQueue(ctx, q, false); return err }); err != nil {
			t.Fatal(err)
		}
	}
	inserted, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- st.InTx(ctx, func(w *store.Writer) error {
			if _, err := w.UpsertCases(ctx, cs[:1]); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	<-inserted
	storetest.SeedCases(t, st, cs[1:])
	q, n := queued()
	if len(q.Cases) != 2 || q.Everything() {
		t.Fatalf("queue before the late batch commits: %+v, want the two cases committed", q)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	take(q)
	late, n := queued()
	if len(late.Cases) != 1 || n[q.Cases[0]] != 0 || n[q.Cases[1]] != 0 {
		t.Fatalf("queue after the late batch committed and the first read was taken: %+v, want the late case only", late)
	}
	take(late)
	ids := map[string]int64{}
	rows, err := st.IncidentCases(ctx, time.Time{})
	if err != nil || len(rows) != 3 {
		t.Fatalf("located cases: %d, %v", len(rows), err)
	}
	for _, r := range rows {
		ids[r.SourceID] = r.ID
	}
	// Progress and an incident link are not what merging compares.
	progressed := slices.Clone(cs)
	progressed[0].Status, progressed[0].SourceStatus = canon.StatusClosed, "结案"
	progressed[0].PayloadHash = append([]byte{1}, progressed[0].PayloadHash...)
	if res := storetest.SeedCases(t, st, progressed[:1]); res.Written != 1 {
		t.Fatalf("a status change: %+v, want it written", res)
	}
	if _, err := st.Pool().Exec(ctx, `INSERT INTO incident (title) VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET incident_id = (SELECT max(id) FROM incident) WHERE id = $1`, ids[cs[1].SourceID]); err != nil {
		t.Fatal(err)
	}
	if q, _ := queued(); len(q.Cases) != 0 {
		t.Fatalf("queue after a status change and an incident link: %+v, want empty", q)
	}
	// A new title and a deletion are.
	retitled := slices.Clone(cs)
	retitled[1].Title = retitled[1].Title + "（补充）"
	retitled[1].PayloadHash = append([]byte{2}, retitled[1].PayloadHash...)
	storetest.SeedCases(t, st, retitled[1:2])
	if err := st.InTx(ctx, func(w *store.Writer) error {
		_, err := w.Delete(ctx, canon.RecordCase, cs[2].Source, []string{cs[2].SourceID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	q, n = queued()
	if len(q.Cases) != 2 || n[ids[cs[1].SourceID]] != 1 || n[ids[cs[2].SourceID]] != 1 {
		t.Fatalf("queue after a new title and a deletion: %+v, want those two cases", q)
	}
	take(q)
	if _, err := st.Pool().Exec(ctx, `TRUNCATE "case" CASCADE`); err != nil {
		t.Fatal(err)
	}
	if q, _ := queued(); !q.Everything() {
		t.Fatalf("queue after the cases were emptied: %+v, want everything", q)
	}
}

// A page's statement is planned for the values of each execution, never
// run from a generic plan: its limit is a parameter, so PostgreSQL's
// generic plan (estimated to return a tenth of the table) never looks
// cheaper. With the limit written into the statement it did, after five
// executions, and kept it: a generic plan walks the time index through
// every case for a filter that matches none (a status no case has: 224 ms
// at medium scale, against 0.05 ms planned for the value).
func TestPageStatementsArePlannedForTheirValues(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := oneSessionStore(t)
	// Enough cases that a tenth of them is more than a page.
	storetest.SeedCases(t, st, storetest.MakeCases(2000))
	if _, err := st.Pool().Exec(ctx, `ANALYZE "case"`); err != nil {
		t.Fatal(err)
	}
	page := func(status canon.CaseStatus) {
		t.Helper()
		q := store.CaseQuery{
			Filter: store.CaseFilter{Status: []canon.CaseStatus{status}, Source: []string{"citymgmt"}},
			Order:  store.CaseOrder{Field: store.OrderReportedAt, Desc: true},
			Page:   store.PageArgs{First: ptr(5)},
		}
		if _, err := st.Cases(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for range 8 {
		page(canon.StatusDispatched)
	}
	page(canon.StatusRejected)
	// One connection: the statements prepared are this session's.
	var generic, custom int64
	if err := st.Pool().QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE 'SELECT c.id%FROM "case" c WHERE%ORDER BY c.reported_at DESC%'`).Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if generic != 0 || custom != 9 {
		t.Fatalf("the page statement ran %d times from a generic plan and %d from plans for its values; want every one of 9 planned for its values", generic, custom)
	}
}

// oneSessionStore opens a store of one connection on a new database with
// the test regions: the statements a test then finds prepared in
// pg_prepared_statements are those its store ran.
func oneSessionStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dbtest.NewDSN(t), store.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	storetest.SeedRegions(t, st)
	return st
}
