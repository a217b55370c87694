package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

const changesQuery = `query($after: String, $first: Int, $types: [ChangeType!], $filter: ChangeFilter) {
  changes(after: $after, first: $first, types: $types, filter: $filter) {
    edges { cursor node { position type recordId operation changedFields syncRun
      node { id __typename ... on Case { title status } ... on Person { name } } } }
    pageInfo { hasNextPage endCursor }
  }
}`

type changeRow struct {
	Position      string
	Type          string
	RecordID      string
	Operation     string
	ChangedFields []string
	Node          *struct {
		ID       string
		Typename string `json:"__typename"`
		Title    string
		Status   string
		Name     string
	}
}

type changesPage struct {
	Changes struct {
		Edges []struct {
			Cursor string
			Node   changeRow
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   string
		}
	}
}

// followChanges pages through the feed from after to its end.
func followChanges(t *testing.T, srv *graphtest.Server, after *string, first int, vars map[string]any) ([]changeRow, string) {
	t.Helper()
	var out []changeRow
	for range 1000 {
		v := map[string]any{"first": first}
		for k, x := range vars {
			v[k] = x
		}
		if after != nil {
			v["after"] = *after
		}
		var p changesPage
		srv.MustData(t, changesQuery, v, &p)
		for _, e := range p.Changes.Edges {
			if e.Cursor != e.Node.Position {
				t.Fatalf("edge cursor %s, position %s", e.Cursor, e.Node.Position)
			}
			out = append(out, e.Node)
		}
		end := p.Changes.PageInfo.EndCursor
		if end == "" {
			t.Fatal("no endCursor")
		}
		after = &end
		if !p.Changes.PageInfo.HasNextPage {
			return out, end
		}
	}
	t.Fatal("the feed does not end")
	return nil, ""
}

func sequence(t *testing.T, st *store.Store) {
	t.Helper()
	if _, err := st.SequenceChanges(store.Unscoped(context.Background())); err != nil {
		t.Fatal(err)
	}
}

// Query.changes pages through the whole log exactly once in order, with
// each record as it is now, masked; partners see only the types their
// scopes open, staff only their jurisdiction, also for deletions; a cursor
// works on another server over the same database, and one pruned past is
// CURSOR_EXPIRED.
func TestChangesFeed(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st, srv := newNodeCity(t)
	sequence(t, st)
	var logged int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM change_log`).Scan(&logged); err != nil {
		t.Fatal(err)
	}
	var counted struct{ Changes struct{ TotalCount int } }
	srv.MustData(t, `{ changes(first: 1) { totalCount } }`, nil, &counted)
	if counted.Changes.TotalCount != logged {
		t.Fatalf("totalCount %d, the log holds %d", counted.Changes.TotalCount, logged)
	}
	all, end := followChanges(t, srv, nil, 7, nil)
	if len(all) != logged || logged == 0 {
		t.Fatalf("admin followed %d changes, the log holds %d", len(all), logged)
	}
	seen := map[string]bool{}
	types := map[string]int{}
	for _, c := range all {
		if seen[c.Position] {
			t.Fatalf("position %s twice", c.Position)
		}
		seen[c.Position] = true
		types[c.Type]++
		if c.Type == "PERSON" && c.Node != nil && c.Node.Name != "" && []rune(c.Node.Name)[1] != '*' {
			t.Fatalf("person name not masked in the feed: %q", c.Node.Name)
		}
	}
	for _, typ := range []string{"CASE", "PERSON", "PARTY_ORG", "PARTY_MEMBER", "SERVICE_STATION", "GRID_WORKER", "INCIDENT"} {
		if types[typ] == 0 {
			t.Errorf("no %s change in %v", typ, types)
		}
	}

	// A partner for cases: only cases and incidents; asking for persons is refused.
	srv.As(&auth.Principal{ID: "p", Role: auth.Partner, Scopes: []string{"cases:read"}})
	got, _ := followChanges(t, srv, nil, 50, nil)
	if len(got) != types["CASE"]+types["INCIDENT"] {
		t.Fatalf("cases partner saw %d changes, want %d", len(got), types["CASE"]+types["INCIDENT"])
	}
	if r := srv.Do(t, changesQuery, map[string]any{"types": []string{"PERSON"}}); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
		t.Fatalf("cases partner asking for persons: %+v", r.Errors)
	}

	// Staff of 长虹社区 see the cases of their community only, and of the
	// deletions only the one inside.
	var inside, outside int64
	if err := st.Pool().QueryRow(ctx, `SELECT
			(SELECT min(id) FROM "case" WHERE incident_id IS NULL AND region_path <@ (SELECT path FROM region WHERE code = $1)),
			(SELECT min(id) FROM "case" WHERE incident_id IS NULL AND NOT region_path <@ (SELECT path FROM region WHERE code = $1))`,
		jurisdiction).Scan(&inside, &outside); err != nil {
		t.Fatal(err)
	}
	staff := &auth.Principal{ID: "s", Role: auth.Staff, RegionCode: jurisdiction}
	srv.As(staff)
	caseTypes := map[string]any{"types": []string{"CASE"}}
	before, staffEnd := followChanges(t, srv, nil, 3, caseTypes)
	var insideCases int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM change_log l JOIN "case" c ON c.id = l.record_id
		WHERE l.type = 'CASE' AND c.region_path <@ (SELECT path FROM region WHERE code = $1)`, jurisdiction).Scan(&insideCases); err != nil {
		t.Fatal(err)
	}
	if len(before) != insideCases {
		t.Fatalf("staff saw %d case changes, %d are of cases in the jurisdiction", len(before), insideCases)
	}
	for _, c := range before {
		if c.Node == nil {
			t.Fatalf("staff change without its record: %+v", c)
		}
	}
	if _, err := st.Pool().Exec(ctx, `DELETE FROM "case" WHERE id = ANY($1)`, []int64{inside, outside}); err != nil {
		t.Fatal(err)
	}
	sequence(t, st)
	got, _ = followChanges(t, srv, &staffEnd, 10, caseTypes)
	if len(got) != 1 || got[0].Operation != "DELETE" || got[0].RecordID != model.GlobalID("Case", inside) || got[0].Node != nil {
		t.Fatalf("staff after two deletions: %+v", got)
	}

	// Another server over the same database continues from the admin's cursor.
	other := graphtest.New(t, st)
	got, end2 := followChanges(t, other, &end, 10, nil)
	if len(got) != 2 || got[0].Operation != "DELETE" || got[1].Operation != "DELETE" {
		t.Fatalf("after the cursor on another server: %+v", got)
	}

	// An update names its changed columns.
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET status = 'IN_PROGRESS', closed_at = NULL WHERE id = (SELECT max(id) FROM "case")`); err != nil {
		t.Fatal(err)
	}
	sequence(t, st)
	got, _ = followChanges(t, other, &end2, 10, map[string]any{"filter": map[string]any{"operations": []string{"UPDATE"}}})
	if len(got) != 1 || got[0].Node == nil || got[0].Node.Status != "IN_PROGRESS" || !contains(got[0].ChangedFields, "status") {
		t.Fatalf("after an update: %+v", got)
	}

	// Retention passes the first cursor: refused, never a silent gap.
	if _, err := st.PruneChanges(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := other.Do(t, changesQuery, map[string]any{"after": end})
	if len(r.Errors) == 0 || r.Errors[0].Code() != "CURSOR_EXPIRED" {
		t.Fatalf("a pruned cursor: %+v", r.Errors)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Person changes follow where the person is: a partner of 长虹社区 with
// people:read sees the creation, update and deletion of a person who lives
// there, and nothing of a person elsewhere (not even that a change
// happened); an administrator's region filter selects them the same way,
// and totalCount agrees with the page.
func TestPersonChangesFollowJurisdiction(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st, srv := newNodeCity(t)
	sequence(t, st)
	head, _, err := st.ChangeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := encodeTestPosition(head)
	personOf := func(resident string) int64 {
		t.Helper()
		var id int64
		if err := st.Pool().QueryRow(ctx, `SELECT person_id FROM resident WHERE source_id = $1`, resident).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	zhang, li := personOf("R1"), personOf("R2")
	storetest.Upsert(t, st,
		&canon.Resident{Provenance: storetest.Prov("governance", "R3", "r3"), Person: storetest.Person("420606199203041236", "王五", "13700003333"),
			GridCode: "420606001001001", Residence: canon.Registered},
		&canon.Resident{Provenance: storetest.Prov("governance", "R4", "r4"), Person: storetest.Person("420606199304051230", "赵六", "13600004444"),
			GridCode: "420606001002001", Residence: canon.Registered})
	wang, zhao := personOf("R3"), personOf("R4")
	if _, err := st.Pool().Exec(ctx, `UPDATE person SET birth_date = '1980-05-02' WHERE id = ANY($1)`, []int64{zhang, li}); err != nil {
		t.Fatal(err)
	}
	sequence(t, st)
	// 王五 and 赵六 leave the hub: their records go, then they.
	if _, err := st.Pool().Exec(ctx, `DELETE FROM resident WHERE person_id = ANY($1)`, []int64{wang, zhao}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `DELETE FROM person_link WHERE person_id = ANY($1)`, []int64{wang, zhao}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `DELETE FROM person WHERE id = ANY($1)`, []int64{wang, zhao}); err != nil {
		t.Fatal(err)
	}
	sequence(t, st)

	type seen struct {
		op string
		id int64
	}
	want := []seen{{"CREATE", wang}, {"UPDATE", zhang}, {"DELETE", wang}}
	check := func(who string, got []changeRow) {
		t.Helper()
		var ops []seen
		for _, c := range got {
			if c.Type != "PERSON" {
				t.Fatalf("%s: a %s change in a PERSON feed", who, c.Type)
			}
			for _, id := range []int64{zhang, li, wang, zhao} {
				if c.RecordID == model.GlobalID("Person", id) {
					ops = append(ops, seen{c.Operation, id})
				}
			}
		}
		if fmt.Sprint(ops) != fmt.Sprint(want) {
			t.Fatalf("%s saw %v, want %v (张三 %d, 李四 %d, 王五 %d, 赵六 %d)", who, ops, want, zhang, li, wang, zhao)
		}
	}
	people := map[string]any{"types": []string{"PERSON"}}
	srv.As(&auth.Principal{ID: "p", Role: auth.Partner, RegionCode: jurisdiction, Scopes: []string{"people:read"}})
	got, _ := followChanges(t, srv, &start, 2, people)
	check("a partner of 长虹社区", got)
	var counted struct{ Changes struct{ TotalCount int } }
	srv.MustData(t, `query($after: String) { changes(after: $after, first: 0, types: [PERSON]) { totalCount } }`, map[string]any{"after": start}, &counted)
	if counted.Changes.TotalCount != len(got) {
		t.Fatalf("the partner's totalCount is %d, its feed %d", counted.Changes.TotalCount, len(got))
	}
	srv.As(&auth.Principal{ID: "a", Role: auth.Admin})
	got, _ = followChanges(t, srv, &start, 50, map[string]any{"types": []string{"PERSON"}, "filter": map[string]any{"regionCode": jurisdiction}})
	check("an administrator's region filter", got)
	all, _ := followChanges(t, srv, &start, 50, people)
	if len(all) != 6 {
		t.Fatalf("the administrator saw %d person changes, want 6: %+v", len(all), all)
	}
}

// changes(first: 0) without after is the head of the log, where a reader
// of the GraphQL lists follows the log from (README's snapshot-then-follow
// recipe): a change made after it is the first the reader gets, and none
// made before it comes again (it was where retention had pruned the log to,
// the start of an unpruned log).
func TestChangesHeadIsWhereToFollowFrom(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	srv := graphtest.New(t, st)
	for i := range 3 {
		if _, err := st.Pool().Exec(ctx, `INSERT INTO incident (title) VALUES ($1)`, fmt.Sprintf("之前%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	sequence(t, st)
	var head struct {
		Changes struct{ PageInfo struct{ EndCursor string } }
	}
	srv.MustData(t, `{ changes(first: 0) { pageInfo { endCursor } } }`, nil, &head)
	var top int64
	if err := st.Pool().QueryRow(ctx, `SELECT max(position) FROM change_log`).Scan(&top); err != nil {
		t.Fatal(err)
	}
	if head.Changes.PageInfo.EndCursor != encodeTestPosition(top) {
		t.Fatalf("changes(first: 0) ends at %s, the log's head is %s", head.Changes.PageInfo.EndCursor, encodeTestPosition(top))
	}
	if _, err := st.Pool().Exec(ctx, `INSERT INTO incident (title) VALUES ('之后')`); err != nil {
		t.Fatal(err)
	}
	sequence(t, st)
	var next struct {
		Changes struct {
			Edges []struct {
				Node struct{ Node struct{ Title string } }
			}
		}
	}
	srv.MustData(t, `query($after: String) { changes(after: $after, types: [INCIDENT]) { edges { node { node { ... on Incident { title } } } } } }`,
		map[string]any{"after": head.Changes.PageInfo.EndCursor}, &next)
	if len(next.Changes.Edges) != 1 || next.Changes.Edges[0].Node.Node.Title != "之后" {
		t.Fatalf("after the head: %+v, want the one incident made after it", next.Changes.Edges)
	}
}
