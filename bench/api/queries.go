package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ywtg/hub/store"
)

type query struct {
	name    string
	graphql string
	floor   func(ctx context.Context, st *store.Store) ([]byte, error)
}

func queries(street string) []query {
	return []query{
		{
			name: "A",
			graphql: `{ regions(level: GRID, first: 100) { edges { node { code name cases(first: 10) { edges { node {
				id title status reportedAt category { name } location { lat lng } } } } } } } }`,
			floor: floorA,
		},
		{
			name: "B",
			graphql: fmt.Sprintf(`{ region(code: %q) { name children(first: 30) { edges { node { code name children(first: 30) { edges { node {
				code name caseStats(groupBy: [STATUS]) { key { value label } count } } } } } } } } }`, street),
			floor: func(ctx context.Context, st *store.Store) ([]byte, error) { return floorB(ctx, st, street) },
		},
		{
			name: "C",
			graphql: `{ cases(first: 50, filter: {status: [DISPATCHED, IN_PROGRESS], category: ["SJ05"], overdue: true},
				orderBy: {field: REPORTED_AT, direction: DESC}) { edges { cursor node { id sourceId title status dueAt
				grid { name } category { name } } } pageInfo { hasNextPage endCursor } } }`,
			floor: floorC,
		},
		{
			name: "S",
			graphql: fmt.Sprintf(`{ region(code: %q) { code name cases(first: 10) { edges { node {
				id title status reportedAt category { name } location { lat lng } } } } } }`, firstGridOf(street)),
			floor: func(ctx context.Context, st *store.Store) ([]byte, error) {
				return floorS(ctx, st, firstGridOf(street))
			},
		},
	}
}

// firstGridOf is the code of the first grid of a street's first community
// in a seeded city (the grid of query S).
func firstGridOf(street string) string { return street + "001001" }

func postGraphQL(ctx context.Context, c *http.Client, url, q string) error {
	body, _ := json.Marshal(map[string]string{"query": q})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// The head tells errors apart; the rest is read and dropped, as the
	// floor's client does, so that both sides' clients cost the same.
	var head [300]byte
	n, err := io.ReadFull(resp.Body, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	raw := head[:n]
	if resp.StatusCode != 200 || bytes.Contains(raw[:min(len(raw), 20)], []byte(`"errors"`)) {
		return fmt.Errorf("status %d: %.300s", resp.StatusCode, raw)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// The floors build the same JSON with one hand-written statement each.

func floorA(ctx context.Context, st *store.Store) ([]byte, error) {
	rows, err := st.Pool().Query(ctx, `SELECT g.code, g.name, c.id, c.title, c.status, c.reported_at, cat.name, c.lat, c.lng
		FROM (SELECT id, code, name, path FROM region WHERE level = 'GRID' ORDER BY code, id LIMIT 100) g
		LEFT JOIN LATERAL (SELECT * FROM "case" c WHERE c.grid_id = g.id ORDER BY reported_at DESC, id DESC LIMIT 10) c ON true
		LEFT JOIN category cat ON cat.code = c.category_code ORDER BY g.code, c.reported_at DESC, c.id DESC`)
	if err != nil {
		return nil, err
	}
	type gridJ struct {
		Code, Name string
		Cases      []gridCaseJ
	}
	var grids []*gridJ
	for rows.Next() {
		var code, name string
		var id *int64
		var c gridCaseJ
		var title, status *string
		var rep *time.Time
		if err := rows.Scan(&code, &name, &id, &title, &status, &rep, &c.Category.Name, &c.Location.Lat, &c.Location.Lng); err != nil {
			return nil, err
		}
		if len(grids) == 0 || grids[len(grids)-1].Code != code {
			grids = append(grids, &gridJ{Code: code, Name: name})
		}
		if id != nil {
			c.ID, c.Title, c.Status, c.ReportedAt = fmt.Sprint(*id), *title, *status, *rep
			g := grids[len(grids)-1]
			g.Cases = append(g.Cases, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"data": grids})
}

func floorB(ctx context.Context, st *store.Store, street string) ([]byte, error) {
	rows, err := st.Pool().Query(ctx, `SELECT cm.code, cm.name, g.code, g.name, c.status, count(c.id)
		FROM region s JOIN region cm ON cm.parent_id = s.id JOIN region g ON g.parent_id = cm.id
		LEFT JOIN "case" c ON c.grid_id = g.id
		WHERE s.code = $1 GROUP BY cm.code, cm.name, g.code, g.name, c.status ORDER BY cm.code, g.code`, street)
	if err != nil {
		return nil, err
	}
	type bucket struct {
		Status string
		Count  int
	}
	out := map[string]map[string][]bucket{}
	for rows.Next() {
		var cc, cn, gc, gn string
		var status *string
		var n int
		if err := rows.Scan(&cc, &cn, &gc, &gn, &status, &n); err != nil {
			return nil, err
		}
		if out[cc] == nil {
			out[cc] = map[string][]bucket{}
		}
		if status != nil {
			out[cc][gc] = append(out[cc][gc], bucket{*status, n})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"data": out})
}

func floorC(ctx context.Context, st *store.Store) ([]byte, error) {
	rows, err := st.Pool().Query(ctx, `SELECT c.id, c.source_id, c.title, c.status, c.due_at, g.name, cat.name
		FROM "case" c LEFT JOIN region g ON g.id = c.grid_id LEFT JOIN category cat ON cat.code = c.category_code
		WHERE c.status IN ('DISPATCHED', 'IN_PROGRESS') AND c.category_code IN ('SJ0501', 'SJ0502', 'SJ05')
			AND c.due_at < coalesce(c.closed_at, now())
		ORDER BY c.reported_at DESC, c.id DESC LIMIT 51`)
	if err != nil {
		return nil, err
	}
	type caseJ struct {
		ID                  int64
		SourceID, Title, St string
		DueAt               *time.Time
		Grid, Category      *string
	}
	var list []caseJ
	for rows.Next() {
		var c caseJ
		if err := rows.Scan(&c.ID, &c.SourceID, &c.Title, &c.St, &c.DueAt, &c.Grid, &c.Category); err != nil {
			return nil, err
		}
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"data": list})
}

// floorS is query A for one grid: the grid and its first 10 cases.
func floorS(ctx context.Context, st *store.Store, grid string) ([]byte, error) {
	rows, err := st.Pool().Query(ctx, `SELECT g.code, g.name, c.id, c.title, c.status, c.reported_at, cat.name, c.lat, c.lng
		FROM region g
		LEFT JOIN LATERAL (SELECT * FROM "case" c WHERE c.grid_id = g.id ORDER BY reported_at DESC, id DESC LIMIT 10) c ON true
		LEFT JOIN category cat ON cat.code = c.category_code
		WHERE g.code = $1 ORDER BY c.reported_at DESC, c.id DESC`, grid)
	if err != nil {
		return nil, err
	}
	var out struct {
		Code, Name string
		Cases      []gridCaseJ
	}
	for rows.Next() {
		var id *int64
		var c gridCaseJ
		var title, status *string
		var rep *time.Time
		if err := rows.Scan(&out.Code, &out.Name, &id, &title, &status, &rep, &c.Category.Name, &c.Location.Lat, &c.Location.Lng); err != nil {
			return nil, err
		}
		if id != nil {
			c.ID, c.Title, c.Status, c.ReportedAt = fmt.Sprint(*id), *title, *status, *rep
			out.Cases = append(out.Cases, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if out.Code == "" {
		return nil, fmt.Errorf("floor S: no grid %s", grid)
	}
	return json.Marshal(map[string]any{"data": out})
}

func getFloor(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("floor: status %d", resp.StatusCode)
	}
	return nil
}

// gridCaseJ is a case as queries A and S select it under a grid: the JSON
// their floors build.
type gridCaseJ struct {
	ID, Title, Status string
	ReportedAt        time.Time
	Category          struct{ Name *string }
	Location          struct{ Lat, Lng *float64 }
}
