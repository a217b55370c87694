package party_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/party"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// newConnector starts the simulated city with its party database in a
// database of the test's own, and returns a connector reading it and the
// database's pool.
func newConnector(t *testing.T) (*party.Connector, *pgxpool.Pool) {
	t.Helper()
	dsn := dbtest.EmptyDB(t)
	_, layer := connectortest.StartSim(t, sim.Options{Seed: 1, LiveRate: -1, PartyDSN: dsn})
	keys, _ := pii.NewKeys([]byte("party connector test key 32 byte"))
	pool := dbtest.Pool(t, dsn)
	return party.New(party.Config{Name: "party", Pool: pool, Keys: keys, Layer: layer, Times: normalize.DefaultTimes(), Now: time.Now}), pool
}

func TestPullsEveryTableOnce(t *testing.T) {
	c, _ := newConnector(t)
	for _, table := range c.Describe().Streams {
		seen := map[string]bool{}
		cur := ""
		stored, quarantined, deleted := 0, 0, 0
		for {
			b, err := c.Pull(context.Background(), connectors.Request{Stream: table, Cursor: cur, Limit: 97})
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Records)+len(b.Tombstones)+len(b.Quarantine) != b.Fetched {
				t.Fatalf("%s: fetched %d, accounted otherwise", table, b.Fetched)
			}
			stored, quarantined, deleted = stored+len(b.Records), quarantined+len(b.Quarantine), deleted+len(b.Tombstones)
			for _, q := range b.Quarantine {
				if seen[q.SourceID] {
					t.Fatalf("%s: row %s twice", table, q.SourceID)
				}
				seen[q.SourceID] = true
			}
			cur = b.Next
			if !b.More {
				break
			}
		}
		if stored == 0 {
			t.Fatalf("%s: nothing stored", table)
		}
		t.Logf("%s: %d stored, %d quarantined, %d soft-deleted", table, stored, quarantined, deleted)
	}
}

// TestCursorBeyondTheTableIsRejected: rows are never physically deleted
// and updates move a row forward, so a table holding nothing at or after
// the cursor was restored or reloaded: connectors.ErrCursorRejected.
func TestCursorBeyondTheTableIsRejected(t *testing.T) {
	c, pool := newConnector(t)
	ctx := context.Background()
	cur := ""
	for {
		b, err := c.Pull(ctx, connectors.Request{Stream: "t_dy", Cursor: cur, Limit: 5000})
		if err != nil {
			t.Fatal(err)
		}
		cur = b.Next
		if !b.More {
			break
		}
	}
	// At the end only the rows of the cursor's second are read again.
	var k struct {
		T string `json:"t"`
	}
	json.Unmarshal([]byte(cur), &k)
	var sameSecond int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM t_dy WHERE gxsj = $1`, k.T).Scan(&sameSecond); err != nil {
		t.Fatal(err)
	}
	if b, err := c.Pull(ctx, connectors.Request{Stream: "t_dy", Cursor: cur}); err != nil || b.Fetched != sameSecond {
		t.Fatalf("at the end: %d fetched, %d rows share the cursor's second; %v", b.Fetched, sameSecond, err)
	}
	// The database is restored to a state without its newest members.
	if _, err := pool.Exec(ctx, `DELETE FROM t_dy WHERE (coalesce(gxsj, ''), dyid) >= (SELECT coalesce(gxsj, ''), dyid FROM t_dy ORDER BY 1 DESC, 2 DESC OFFSET 5 LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	_, err := c.Pull(ctx, connectors.Request{Stream: "t_dy", Cursor: cur})
	if !errors.Is(err, connectors.ErrCursorRejected) {
		t.Fatalf("cursor beyond the restored table: %v", err)
	}
}

// TestRowsWithoutStampArePagedInOrder: rows whose gxsj is NULL or empty
// sort first, as the empty stamp, by key; paging the table in small pages
// reads every row exactly once, in the cursor's order.
func TestRowsWithoutStampArePagedInOrder(t *testing.T) {
	c, pool := newConnector(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `UPDATE t_dy SET gxsj = CASE WHEN dyid IN (SELECT dyid FROM t_dy ORDER BY md5(dyid) LIMIT 7) THEN NULL ELSE '' END
		WHERE dyid IN (SELECT dyid FROM t_dy ORDER BY md5(dyid) LIMIT 12)`); err != nil {
		t.Fatal(err)
	}
	var want []string
	rows, err := pool.Query(ctx, `SELECT dyid FROM t_dy ORDER BY coalesce(gxsj, ''), dyid`)
	if err != nil {
		t.Fatal(err)
	}
	if want, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	var got []string
	cur := ""
	for {
		b, err := c.Pull(ctx, connectors.Request{Stream: "t_dy", Cursor: cur, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		// A page's outcomes are grouped by kind; its rows are in order.
		var page []string
		for _, r := range b.Records {
			page = append(page, r.(interface{ Prov() *canon.Provenance }).Prov().SourceID)
		}
		for _, d := range b.Tombstones {
			page = append(page, d.SourceID)
		}
		for _, q := range b.Quarantine {
			page = append(page, q.SourceID)
		}
		slices.SortFunc(page, func(a, b string) int { return slices.Index(want, a) - slices.Index(want, b) })
		got = append(got, page...)
		cur = b.Next
		if !b.More {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged %d rows, want the table's %d in order (first rows: got %v, want %v)", len(got), len(want), got[:min(14, len(got))], want[:14])
	}
}
