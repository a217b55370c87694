package store_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// projectCase is the case as a list reading only the column groups cols
// (with the ID) returns it: every other field zero. It restates, field by
// field, what each group holds.
func projectCase(full *store.Case, cols store.CaseColumns) store.Case {
	c := store.Case{ID: full.ID}
	on := func(g store.CaseColumns) bool { return cols&g != 0 }
	if on(store.CaseColKind) {
		c.Kind = full.Kind
	}
	if on(store.CaseColCategory) {
		c.CategoryCode = full.CategoryCode
	}
	if on(store.CaseColSourceCategory) {
		c.SourceCategoryCode, c.SourceCategoryName = full.SourceCategoryCode, full.SourceCategoryName
	}
	if on(store.CaseColTitle) {
		c.Title = full.Title
	}
	if on(store.CaseColDescription) {
		c.Description = full.Description
	}
	if on(store.CaseColStatus) {
		c.Status = full.Status
	}
	if on(store.CaseColSourceStatus) {
		c.SourceStatus = full.SourceStatus
	}
	if on(store.CaseColTier) {
		c.Tier = full.Tier
	}
	if on(store.CaseColGrid) {
		c.GridID = full.GridID
	}
	if on(store.CaseColLocation) {
		c.Lat, c.Lng = full.Lat, full.Lng
	}
	if on(store.CaseColOrigLocation) {
		c.OrigLat, c.OrigLng, c.OrigDatum = full.OrigLat, full.OrigLng, full.OrigDatum
	}
	if on(store.CaseColAddress) {
		c.Address = full.Address
	}
	if on(store.CaseColReportedAt) {
		c.ReportedAt = full.ReportedAt
	}
	if on(store.CaseColUpdatedAt) {
		c.UpdatedAt = full.UpdatedAt
	}
	if on(store.CaseColDueAt) {
		c.DueAt = full.DueAt
	}
	if on(store.CaseColClosedAt) {
		c.ClosedAt = full.ClosedAt
	}
	if on(store.CaseColOverdue) {
		c.Overdue = full.Overdue
	}
	if on(store.CaseColAssignee) {
		c.AssigneeDept = full.AssigneeDept
	}
	if on(store.CaseColReporter) {
		c.ReporterID = full.ReporterID
	}
	if on(store.CaseColIncident) {
		c.IncidentID = full.IncidentID
	}
	if on(store.CaseColSource) {
		c.Provenance.Source = full.Provenance.Source
	}
	if on(store.CaseColSourceID) {
		c.Provenance.SourceID = full.Provenance.SourceID
	}
	if on(store.CaseColProvenance) {
		p := full.Provenance
		c.Provenance.SourceUpdatedAt, c.Provenance.FetchedAt, c.Provenance.PayloadHash = p.SourceUpdatedAt, p.FetchedAt, p.PayloadHash
	}
	return c
}

// seedFullCases seeds cases whose every column has a value on some of
// them: an address, a department, a reporter and an incident too.
func seedFullCases(t *testing.T, st *store.Store, n int) {
	t.Helper()
	cases := storetest.MakeCases(n)
	for i := range cases {
		if i%4 == 2 {
			cases[i].Location = nil
		}
		if i%2 == 1 {
			cases[i].Address = fmt.Sprintf("樊城区人民路%d号", i)
			cases[i].AssigneeDept = "城管执法局"
			cases[i].SourceStatus = "派遣"
			r := storetest.Person("420602199001011234", "张三", "13800000000")
			cases[i].Reporter = &r
		}
	}
	storetest.SeedCases(t, st, cases)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `WITH x AS (INSERT INTO incident (title) VALUES ('占道经营') RETURNING id)
		UPDATE "case" SET incident_id = (SELECT id FROM x) WHERE source_id IN ('C00001', 'C00002', 'C00005')`); err != nil {
		t.Fatal(err)
	}
}

// caseColumnSets are the column sets the tests read lists with: each group
// alone, a few together, and every group.
func caseColumnSets() []store.CaseColumns {
	var sets []store.CaseColumns
	for g := store.CaseColID; g <= store.AllCaseColumns && g != 0; g <<= 1 {
		sets = append(sets, g)
	}
	return append(sets,
		store.CaseColTitle|store.CaseColStatus|store.CaseColCategory|store.CaseColLocation,
		store.CaseColSourceID|store.CaseColTitle|store.CaseColStatus|store.CaseColDueAt|store.CaseColGrid|store.CaseColCategory,
		store.AllCaseColumns)
}

// TestCaseListsReadOnlyTheColumnsAsked reads case lists (Cases and
// CasesInRegions) with each column set: the pages hold the same cases, in
// the same order, with the same cursors, as the lists read whole, with
// exactly the asked fields (and the sort key) set; and the statements read
// no column of a group not asked for.
func TestCaseListsReadOnlyTheColumnsAsked(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	seedFullCases(t, st, 40)
	grids := []*store.Region{}
	for _, code := range []string{"420606001001001", "420606001002002"} {
		g, err := st.RegionByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		grids = append(grids, g)
	}
	community, err := st.RegionByCode(ctx, "420606001001")
	if err != nil {
		t.Fatal(err)
	}
	orders := []store.CaseOrder{{}, {Desc: true}, {Field: store.OrderUpdatedAt}, {Field: store.OrderDueAt, Desc: true}}
	// groupSQL are columns only their group reads (and no condition of
	// these lists).
	groupSQL := map[store.CaseColumns]string{
		store.CaseColTitle: "c.title", store.CaseColDescription: "c.description", store.CaseColLocation: "c.lat",
		store.CaseColOrigLocation: "c.orig_datum", store.CaseColAddress: "c.address", store.CaseColProvenance: "c.payload_hash",
		store.CaseColReporter: "l.person_id", store.CaseColIncident: "c.incident_id", store.CaseColAssignee: "c.assignee_dept",
	}
	lists := map[string]func(ctx context.Context, q store.CaseQuery) ([]store.Page[*store.Case], error){
		"Cases": func(ctx context.Context, q store.CaseQuery) ([]store.Page[*store.Case], error) {
			p, err := st.Cases(ctx, q)
			return []store.Page[*store.Case]{p}, err
		},
		"CasesInRegions/grids": func(ctx context.Context, q store.CaseQuery) ([]store.Page[*store.Case], error) {
			return st.CasesInRegions(ctx, grids, q)
		},
		"CasesInRegions/community": func(ctx context.Context, q store.CaseQuery) ([]store.Page[*store.Case], error) {
			return st.CasesInRegions(ctx, []*store.Region{community}, q)
		},
	}
	for name, list := range lists {
		for _, order := range orders {
			q := store.CaseQuery{Order: order, Page: store.PageArgs{First: ptr(6)}}
			whole, err := list(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(whole[0].Edges) == 0 || !whole[0].PageInfo.HasNextPage {
				t.Fatalf("%s: fixture too small: %d cases", name, len(whole[0].Edges))
			}
			for _, cols := range caseColumnSets() {
				q.Columns = cols
				cctx, counter := store.WithStatementCounter(ctx)
				pruned, err := list(cctx, q)
				if err != nil {
					t.Fatalf("%s, order %+v, columns %b: %v", name, order, cols, err)
				}
				sql := strings.Join(counter.Texts(), "\n")
				for g, col := range groupSQL {
					if cols&g == 0 && strings.Contains(sql, col) {
						t.Fatalf("%s, columns %b: the statement reads %s:\n%s", name, cols, col, sql)
					}
					if cols&g != 0 && !strings.Contains(sql, col) {
						t.Fatalf("%s, columns %b: the statement does not read %s:\n%s", name, cols, col, sql)
					}
				}
				if len(pruned) != len(whole) {
					t.Fatalf("%s: %d pages, want %d", name, len(pruned), len(whole))
				}
				// What a pruned list returns: the asked groups, the ID and the
				// sort key of the order.
				keep := cols | store.CaseColID | map[store.CaseOrderField]store.CaseColumns{
					"": store.CaseColReportedAt, store.OrderUpdatedAt: store.CaseColUpdatedAt, store.OrderDueAt: store.CaseColDueAt}[order.Field]
				for i := range whole {
					if !reflect.DeepEqual(pruned[i].PageInfo, whole[i].PageInfo) || len(pruned[i].Edges) != len(whole[i].Edges) {
						t.Fatalf("%s, order %+v, columns %b: page of %d ending at %+v, want %d ending at %+v", name, order, cols,
							len(pruned[i].Edges), pruned[i].PageInfo.End, len(whole[i].Edges), whole[i].PageInfo.End)
					}
					for j, e := range pruned[i].Edges {
						w := whole[i].Edges[j]
						if want := projectCase(w.Node, keep); e.Position != w.Position || !reflect.DeepEqual(*e.Node, want) {
							t.Fatalf("%s, order %+v, columns %b: case %d = %+v at %+v, want %+v at %+v", name, order, cols, j, *e.Node, e.Position, want, w.Position)
						}
					}
				}
			}
		}
	}
}

// TestPrunedCaseListsWalkAllPages walks a list to its end reading only
// titles, in every order: the cursors, made of a sort key that was not
// asked for, walk the same cases as the whole rows do.
func TestPrunedCaseListsWalkAllPages(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	seedFullCases(t, st, 30)
	walk := func(q store.CaseQuery) []string {
		var out []string
		for {
			p, err := st.Cases(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Edges {
				out = append(out, fmt.Sprint(e.Node.ID, e.Node.Title))
			}
			if !p.PageInfo.HasNextPage {
				return out
			}
			if len(out) > 60 {
				t.Fatalf("order %+v: the walk does not end: %q", q.Order, out)
			}
			q.Page.After = p.PageInfo.End
		}
	}
	for _, order := range []store.CaseOrder{{}, {Desc: true}, {Field: store.OrderUpdatedAt, Desc: true}, {Field: store.OrderDueAt}} {
		whole := walk(store.CaseQuery{Order: order, Page: store.PageArgs{First: ptr(4)}})
		pruned := walk(store.CaseQuery{Order: order, Page: store.PageArgs{First: ptr(4)}, Columns: store.CaseColTitle})
		if len(whole) != 30 || !reflect.DeepEqual(pruned, whole) {
			t.Fatalf("order %+v: walked %q, want %q", order, pruned, whole)
		}
	}
}

// TestCaseListsReadTheirOwnValues: what a list's scanner reads through
// destinations of its own is each row's: coordinates (into slots of the
// scanner's, not a float64 a row), nil where the row has none, no two
// cases sharing a slot; category codes (nil where NULL) and statuses.
func TestCaseListsReadTheirOwnValues(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	seedFullCases(t, st, 40)
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET category_code = NULL WHERE source_id IN ('C00003', 'C00007')`); err != nil {
		t.Fatal(err)
	}
	type coords struct {
		lat, lng, origLat, origLng *float64
		code                       *string
		status                     canon.CaseStatus
	}
	want := map[int64]coords{}
	rows, err := st.Pool().Query(ctx, `SELECT id, lat, lng, orig_lat, orig_lng, category_code, status FROM "case"`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var c coords
		if err := rows.Scan(&id, &c.lat, &c.lng, &c.origLat, &c.origLng, &c.code, &c.status); err != nil {
			t.Fatal(err)
		}
		want[id] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	first := 100
	for _, cols := range []store.CaseColumns{store.AllCaseColumns, store.CaseColLocation | store.CaseColCategory | store.CaseColStatus,
		store.CaseColLocation | store.CaseColOrigLocation | store.CaseColTitle | store.CaseColCategory | store.CaseColStatus} {
		page, err := st.Cases(ctx, store.CaseQuery{Page: store.PageArgs{First: &first}, Columns: cols})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[*float64]bool{}
		nulls := 0
		codes, noCode := 0, 0
		for _, e := range page.Edges {
			c, w := e.Node, want[e.Node.ID]
			switch {
			case (c.CategoryCode == nil) != (w.code == nil) || c.CategoryCode != nil && *c.CategoryCode != *w.code:
				t.Errorf("columns %b, case %d: category %v, want %v", cols, c.ID, c.CategoryCode, w.code)
			case c.CategoryCode == nil:
				noCode++
			default:
				codes++
			}
			if c.Status != w.status {
				t.Errorf("columns %b, case %d: status %q, want %q", cols, c.ID, c.Status, w.status)
			}
			for name, pair := range map[string][2]*float64{"lat": {c.Lat, w.lat}, "lng": {c.Lng, w.lng}, "orig_lat": {c.OrigLat, w.origLat}, "orig_lng": {c.OrigLng, w.origLng}} {
				got, exp := pair[0], pair[1]
				if name[0] == 'o' && cols&store.CaseColOrigLocation == 0 {
					exp = nil
				}
				switch {
				case (got == nil) != (exp == nil):
					t.Errorf("columns %b, case %d, %s: %v, want %v", cols, c.ID, name, got, exp)
				case got == nil:
					nulls++
				case *got != *exp:
					t.Errorf("columns %b, case %d, %s: %v, want %v", cols, c.ID, name, *got, *exp)
				case seen[got]:
					t.Errorf("columns %b, case %d, %s: shares its slot", cols, c.ID, name)
				default:
					seen[got] = true
				}
			}
		}
		if codes == 0 || noCode != 2 {
			t.Errorf("columns %b: %d cases with a category and %d without, want 2", cols, codes, noCode)
		}
		if len(page.Edges) != 40 || nulls == 0 || len(seen) == 0 {
			t.Errorf("columns %b: %d cases, %d NULL and %d read coordinates: the test reaches neither", cols, len(page.Edges), nulls, len(seen))
		}
	}
}

// TestCaseListsReadTheirOwnNullables reads case lists whose nullable
// integers and times (read into slots of the list's own) are NULL on some
// cases and set on others: each field holds what a case read alone holds,
// and no two cases share a value's memory.
func TestCaseListsReadTheirOwnNullables(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	seedFullCases(t, st, 40)
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET
			grid_id = CASE WHEN source_id IN ('C00004', 'C00009') THEN NULL ELSE grid_id END,
			due_at = CASE WHEN source_id IN ('C00006', 'C00011') THEN NULL ELSE due_at END,
			closed_at = CASE WHEN source_id IN ('C00002', 'C00012') THEN reported_at + interval '3 days' END,
			source_updated_at = CASE WHEN source_id IN ('C00003', 'C00013') THEN NULL
				ELSE reported_at + interval '1 hour' END`); err != nil {
		t.Fatal(err)
	}
	all, err := st.Cases(ctx, store.CaseQuery{Page: store.PageArgs{First: ptr(100)}})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(all.Edges))
	for i, e := range all.Edges {
		ids[i] = e.Node.ID
	}
	alone, err := st.CasesByID(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]*store.Case{}
	for _, c := range alone {
		want[c.ID] = c
	}
	ints := func(c *store.Case) map[string]*int64 {
		return map[string]*int64{"grid": c.GridID, "reporter": c.ReporterID, "incident": c.IncidentID}
	}
	times := func(c *store.Case) map[string]*time.Time {
		return map[string]*time.Time{"due": c.DueAt, "closed": c.ClosedAt, "source updated": c.Provenance.SourceUpdatedAt}
	}
	for _, cols := range []store.CaseColumns{store.AllCaseColumns,
		store.CaseColGrid | store.CaseColReporter | store.CaseColIncident | store.CaseColDueAt | store.CaseColClosedAt | store.CaseColProvenance} {
		page, err := st.Cases(ctx, store.CaseQuery{Page: store.PageArgs{First: ptr(100)}, Columns: cols})
		if err != nil {
			t.Fatal(err)
		}
		set, null := map[string]int{}, map[string]int{}
		seen := map[any]bool{}
		for _, e := range page.Edges {
			c, w := e.Node, want[e.Node.ID]
			if w == nil {
				t.Fatalf("columns %b: case %d not read alone", cols, c.ID)
			}
			// check holds one nullable field to the case read alone.
			// (ptr is the field's pointer, got and exp the values.)
			check := func(name string, ptr, got, exp any, isNil, expNil, equal bool) {
				switch {
				case isNil != expNil || !isNil && !equal:
					t.Errorf("columns %b, case %d, %s: %v, want %v", cols, c.ID, name, got, exp)
				case isNil:
					null[name]++
				case seen[ptr]:
					t.Errorf("columns %b, case %d, %s: shares its memory", cols, c.ID, name)
				default:
					seen[ptr] = true
					set[name]++
				}
			}
			wi, wt := ints(w), times(w)
			for name, got := range ints(c) {
				exp := wi[name]
				check(name, got, deref(got), deref(exp), got == nil, exp == nil, got != nil && exp != nil && *got == *exp)
			}
			for name, got := range times(c) {
				exp := wt[name]
				check(name, got, deref(got), deref(exp), got == nil, exp == nil, got != nil && exp != nil && got.Equal(*exp))
			}
		}
		for _, name := range []string{"grid", "reporter", "incident", "due", "closed", "source updated"} {
			if set[name] == 0 || null[name] == 0 {
				t.Errorf("columns %b, %s: %d set and %d NULL: the test reaches not both", cols, name, set[name], null[name])
			}
		}
	}
}
