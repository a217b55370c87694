// Package party connects the party-building system (党建信息系统): its own
// PostgreSQL database with a legacy schema (docs/sources.md §1) — pinyin
// table and column names, varchar local-time update stamps, soft deletes
// (sfyx = 0), BD-09 station coordinates. It reads each table incrementally
// on (gxsj, primary key), a total order, so no row is skipped when many
// share one update time, and maps organisations, members, 双报到, stations
// and volunteer activities onto the canonical model.
//
// party imports the connector contract, the shared normalisers, the
// reference layer, pii and canon.
package party

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/pii"
)

// Config configures the connector.
type Config struct {
	Name        string
	Description string
	Pool        *pgxpool.Pool // the party database
	Datum       canon.Datum   // of station coordinates; BD-09 by default
	Keys        *pii.Keys
	Layer       *places.Layer
	Times       normalize.Times
	Now         func() time.Time
}

// Connector pulls the party database.
type Connector struct{ cfg Config }

// New returns a connector.
func New(cfg Config) *Connector {
	if cfg.Datum == "" {
		cfg.Datum = canon.BD09
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Connector{cfg: cfg}
}

// tables in reference order, with their primary keys.
var tables = []struct{ name, pk string }{
	{"t_dzz", "dzzid"}, {"t_hyzz", "zzid"}, {"t_dy", "dyid"}, {"t_sbd", "sbdid"}, {"t_fwhd", "hdid"},
}

// Describe implements connectors.Connector.
func (c *Connector) Describe() connectors.Description {
	d := connectors.Description{Name: c.cfg.Name, Kind: canon.SourceSQL, Description: c.cfg.Description}
	for _, t := range tables {
		d.Streams = append(d.Streams, t.name)
	}
	return d
}

// cursor is the (gxsj, primary key) of the last row delivered. Once a
// table is caught up it is marked Back: the next pull reads the whole
// second of T again, because gxsj has second resolution and a row updated
// later in that second with a lower key sorts before the cursor and would
// be missed. The store finds the rows it already has unchanged.
type cursor struct {
	T    string `json:"t"`
	ID   string `json:"id"`
	Back bool   `json:"b,omitempty"`
}

// pageSQL reads a page of a table (%[1]s, primary key %[2]s) after the
// cursor ($1, $2), $3 rows at most, in the order of (gxsj, key) where a
// NULL gxsj sorts as the empty string. The rows with a stamp are read by a
// row comparison on (gxsj, key), which an index on those columns of the
// source's table serves as it is (the comparison wrapped in coalesce served
// none: every page sorted the whole table); those without, only while the
// cursor is still at the empty stamp.
const pageSQL = `SELECT raw, t, id FROM (
		(SELECT row_to_json(t)::text AS raw, ''::text AS t, t.%[2]s::text AS id FROM %[1]s t
			WHERE $1 = '' AND t.gxsj IS NULL AND t.%[2]s > $2 ORDER BY t.%[2]s LIMIT $3)
		UNION ALL
		(SELECT row_to_json(t)::text, t.gxsj::text, t.%[2]s::text FROM %[1]s t
			WHERE (t.gxsj, t.%[2]s) > ($1, $2) ORDER BY t.gxsj, t.%[2]s LIMIT $3)) page
	ORDER BY t, id LIMIT $3`

// Pull implements connectors.Connector.
func (c *Connector) Pull(ctx context.Context, req connectors.Request) (connectors.Batch, error) {
	pk := ""
	for _, t := range tables {
		if t.name == req.Stream {
			pk = t.pk
		}
	}
	if pk == "" {
		return connectors.Batch{}, fmt.Errorf("party: unknown table %q", req.Stream)
	}
	var cur cursor
	if req.Cursor != "" && !req.Full {
		if err := json.Unmarshal([]byte(req.Cursor), &cur); err != nil {
			return connectors.Batch{}, fmt.Errorf("party: bad cursor %q: %w", req.Cursor, err)
		}
	}
	limit := min(max(req.Limit, 1), 5000)
	after := cur.ID
	if cur.Back {
		after = "" // every key of the second T
	}
	rows, err := c.cfg.Pool.Query(ctx, fmt.Sprintf(pageSQL, req.Stream, pk), cur.T, after, limit)
	if err != nil {
		return connectors.Batch{}, canon.Errorf(canon.SourceUnavailable, "party database: %v", err)
	}
	defer rows.Close()
	b := connectors.Batch{Next: req.Cursor}
	var last cursor
	n := 0
	for rows.Next() {
		var raw, t, id string
		if err := rows.Scan(&raw, &t, &id); err != nil {
			return connectors.Batch{}, fmt.Errorf("party %s: %w", req.Stream, err)
		}
		n++
		last = cursor{T: t, ID: id}
		c.mapRow(req.Stream, id, json.RawMessage(raw), &b)
	}
	if err := rows.Err(); err != nil {
		return connectors.Batch{}, canon.Errorf(canon.SourceUnavailable, "party database: %v", err)
	}
	if n > 0 {
		last.Back = n < limit
		next, _ := json.Marshal(last)
		b.Next = string(next)
	}
	if n == 0 && cur.ID != "" {
		if err := c.checkCursor(ctx, req.Stream, pk, cur); err != nil {
			return connectors.Batch{}, err
		}
	}
	b.More = n == limit
	return b, nil
}

// checkCursor verifies, when a table has nothing after the cursor, that
// the row the cursor names (or a later one) is still there. Rows are never
// physically deleted and an update moves a row forward, so a table holding
// nothing at or after the cursor went back: the database was restored from
// an older backup or reloaded with new ids.
func (c *Connector) checkCursor(ctx context.Context, table, pk string, cur cursor) error {
	var ok bool
	err := c.cfg.Pool.QueryRow(ctx, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %[1]s t WHERE (t.gxsj, t.%[2]s) >= ($1, $2))
		OR $1 = '' AND EXISTS (SELECT 1 FROM %[1]s t WHERE t.gxsj IS NULL AND t.%[2]s >= $2)`, table, pk), cur.T, cur.ID).Scan(&ok)
	if err != nil {
		return canon.Errorf(canon.SourceUnavailable, "party database: %v", err)
	}
	if !ok {
		return fmt.Errorf("party %s: the cursor (%s, %s) lies beyond the table's last row: %w", table, cur.T, cur.ID, connectors.ErrCursorRejected)
	}
	return nil
}
