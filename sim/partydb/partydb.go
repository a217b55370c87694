// Package partydb simulates the party-building system (党建): a PostgreSQL
// database with the legacy schema of docs/sources.md §1 — pinyin-initial
// table and column names (t_dzz, t_dy, t_sbd, t_hyzz, t_fwhd), varchar
// local-time gxsj update stamps, sfyx soft deletes and BD-09 station
// coordinates. Dirty values from package city go into the varchar columns
// as they are.
//
// The caller creates the database; Load creates the tables if missing,
// empties them and bulk-loads the city with COPY. Apply writes live
// changes.
package partydb

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ywtg/hub/sim/city"
)

// Schema is the DDL of the legacy schema.
const Schema = `
CREATE TABLE IF NOT EXISTS t_dzz (
	dzzid   varchar(32) PRIMARY KEY,
	dzzmc   varchar(200),
	dzzlb   varchar(20),
	sjdzzid varchar(32),
	szsq    varchar(100),
	wgbm    varchar(20),
	gxsj    varchar(19),
	sfyx    smallint DEFAULT 1
);
CREATE TABLE IF NOT EXISTS t_dy (
	dyid   varchar(32) PRIMARY KEY,
	xm     varchar(50),
	xb     varchar(2),
	sfzh   varchar(32),
	lxdh   varchar(32),
	dzzid  varchar(32),
	rdrq   varchar(19),
	sfzxhz smallint DEFAULT 0,
	jzdz   varchar,
	gxsj   varchar(19),
	sfyx   smallint DEFAULT 1
);
CREATE TABLE IF NOT EXISTS t_sbd (
	sbdid   varchar(32) PRIMARY KEY,
	dyid    varchar(32),
	bdsq    varchar(100),
	bdsqbm  varchar(20),
	bddzzid varchar(32),
	gzdw    varchar(200),
	bdrq    varchar(19),
	gxsj    varchar(19),
	sfyx    smallint DEFAULT 1
);
CREATE TABLE IF NOT EXISTS t_hyzz (
	zzid varchar(32) PRIMARY KEY,
	zzmc varchar(200),
	zzlx varchar(20),
	dz   varchar(300),
	jd   numeric(12,6),
	wd   numeric(12,6),
	fwxm varchar(500),
	kfsj varchar(100),
	sqbm varchar(20),
	gxsj varchar(19),
	sfyx smallint DEFAULT 1
);
CREATE TABLE IF NOT EXISTS t_fwhd (
	hdid varchar(32) PRIMARY KEY,
	hdmc varchar,
	dyid varchar(32),
	zzid varchar(32),
	hdrq varchar(19),
	fwsc numeric(5,1),
	jf   integer,
	gxsj varchar(19),
	sfyx smallint DEFAULT 1
);
CREATE INDEX IF NOT EXISTS t_dzz_gxsj ON t_dzz (gxsj, dzzid);
CREATE INDEX IF NOT EXISTS t_dy_gxsj ON t_dy (gxsj, dyid);
CREATE INDEX IF NOT EXISTS t_sbd_gxsj ON t_sbd (gxsj, sbdid);
CREATE INDEX IF NOT EXISTS t_hyzz_gxsj ON t_hyzz (gxsj, zzid);
CREATE INDEX IF NOT EXISTS t_fwhd_gxsj ON t_fwhd (gxsj, hdid);
`

// columns lists each table's columns in order.
var columns = map[string][]string{
	"t_dzz":  {"dzzid", "dzzmc", "dzzlb", "sjdzzid", "szsq", "wgbm", "gxsj", "sfyx"},
	"t_dy":   {"dyid", "xm", "xb", "sfzh", "lxdh", "dzzid", "rdrq", "sfzxhz", "jzdz", "gxsj", "sfyx"},
	"t_sbd":  {"sbdid", "dyid", "bdsq", "bdsqbm", "bddzzid", "gzdw", "bdrq", "gxsj", "sfyx"},
	"t_hyzz": {"zzid", "zzmc", "zzlx", "dz", "jd", "wd", "fwxm", "kfsj", "sqbm", "gxsj", "sfyx"},
	"t_fwhd": {"hdid", "hdmc", "dyid", "zzid", "hdrq", "fwsc", "jf", "gxsj", "sfyx"},
}

// tables in load order.
var tables = []string{"t_dzz", "t_dy", "t_sbd", "t_hyzz", "t_fwhd"}

// Tables returns the legacy tables in load order.
func Tables() []string { return append([]string(nil), tables...) }

// Columns returns a table's columns in order (nil for an unknown table).
func Columns(table string) []string { return append([]string(nil), columns[table]...) }

// DB is a connection to the party database.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the database at dsn.
func Open(ctx context.Context, dsn string) (*DB, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("party db: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("party db: %w", err)
	}
	return &DB{pool: pool}, nil
}

// Close closes the connection pool.
func (d *DB) Close() { d.pool.Close() }

// Pool returns the connection pool (for tests and tools).
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// null maps the empty string to SQL NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rows returns the rows of one table. The caller holds the city's read
// lock.
func rows(c *city.City, table string) [][]any {
	var out [][]any
	switch table {
	case "t_dzz":
		for i := range c.Orgs {
			r := c.PartyOrg(i)
			out = append(out, []any{r.DZZID, r.DZZMC, r.DZZLB, null(r.SJDZZID), null(r.SZSQ), null(r.WGBM), r.GXSJ, r.SFYX})
		}
	case "t_dy":
		for i := range c.Members {
			out = append(out, memberRow(c.PartyMember(i, false)))
			if c.Members[i].Def == city.KDuplicate {
				out = append(out, memberRow(c.PartyMember(i, true)))
			}
		}
	case "t_sbd":
		for i := range c.DualReports {
			out = append(out, dualRow(c.PartyDualReport(i)))
		}
	case "t_hyzz":
		for i := range c.Stations {
			out = append(out, stationRow(c.PartyStation(i)))
		}
	case "t_fwhd":
		for i := range c.Activities {
			out = append(out, activityRow(c.PartyActivity(i)))
		}
	}
	return out
}

func memberRow(r city.PartyMemberRow) []any {
	return []any{r.DYID, r.XM, r.XB, null(r.SFZH), null(r.LXDH), r.DZZID, r.RDRQ, r.SFZXHZ, r.JZDZ, r.GXSJ, r.SFYX}
}

func dualRow(r city.PartyDualReportRow) []any {
	return []any{r.SBDID, r.DYID, r.BDSQ, null(r.BDSQBM), r.BDDZZID, r.GZDW, r.BDRQ, r.GXSJ, r.SFYX}
}

func stationRow(r city.PartyStationRow) []any {
	return []any{r.ZZID, r.ZZMC, r.ZZLX, r.DZ, r.JD, r.WD, r.FWXM, r.KFSJ, r.SQBM, r.GXSJ, r.SFYX}
}

func activityRow(r city.PartyActivityRow) []any {
	return []any{r.HDID, r.HDMC, null(r.DYID), r.ZZID, r.HDRQ, r.FWSC, r.JF, r.GXSJ, r.SFYX}
}

// Load creates the tables if missing, empties them and loads the city's
// party records with COPY, in one transaction, then analyzes them.
func (d *DB) Load(ctx context.Context, c *city.City) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("load party db: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, Schema); err != nil {
		return fmt.Errorf("load party db: create tables: %w", err)
	}
	if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("load party db: truncate: %w", err)
	}
	for _, t := range tables {
		c.RLock()
		rs := rows(c, t)
		c.RUnlock()
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t}, columns[t], pgx.CopyFromRows(rs)); err != nil {
			return fmt.Errorf("load %s: %w", t, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("load party db: commit: %w", err)
	}
	// Statistics, as a database in service has them: without, the
	// planner reads a page of a table by sorting all of it.
	if _, err := d.pool.Exec(ctx, "ANALYZE "+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("load party db: analyze: %w", err)
	}
	return nil
}

func upsertSQL(table string) string {
	cols := columns[table]
	ph := make([]string, len(cols))
	set := make([]string, 0, len(cols)-1)
	for i, col := range cols {
		ph[i] = fmt.Sprintf("$%d", i+1)
		if i > 0 {
			set = append(set, col+" = EXCLUDED."+col)
		}
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s",
		table, strings.Join(cols, ", "), strings.Join(ph, ", "), cols[0], strings.Join(set, ", "))
}

// Apply writes live changes of party entities to the database (others are
// ignored): created rows are inserted, updated and soft-deleted ones
// upserted with their new gxsj and sfyx.
func (d *DB) Apply(ctx context.Context, c *city.City, changes []city.Change) error {
	p := d.NewPending()
	p.Add(c, changes)
	return p.Write(ctx)
}

// Pending are party changes gathered to be written at once: each row is
// taken from the city when it is added, as Apply would write it then, so
// replayed changes give the database it had.
type Pending struct {
	d     *DB
	batch pgx.Batch
}

// NewPending returns an empty set of changes to write.
func (d *DB) NewPending() *Pending { return &Pending{d: d} }

// Add takes the rows of the party entities among changes from the city's
// current state.
func (p *Pending) Add(c *city.City, changes []city.Change) {
	c.RLock()
	defer c.RUnlock()
	for _, ch := range changes {
		switch ch.Entity {
		case city.PartyMembers:
			p.batch.Queue(upsertSQL("t_dy"), memberRow(c.PartyMember(int(ch.Index), false))...)
		case city.PartyActivities:
			p.batch.Queue(upsertSQL("t_fwhd"), activityRow(c.PartyActivity(int(ch.Index)))...)
		case city.PartyDualReports:
			p.batch.Queue(upsertSQL("t_sbd"), dualRow(c.PartyDualReport(int(ch.Index)))...)
		case city.PartyStations:
			p.batch.Queue(upsertSQL("t_hyzz"), stationRow(c.PartyStation(int(ch.Index)))...)
		}
	}
}

// Write writes the gathered rows in order, in one round trip.
func (p *Pending) Write(ctx context.Context) error {
	if p.batch.Len() == 0 {
		return nil
	}
	if err := p.d.pool.SendBatch(ctx, &p.batch).Close(); err != nil {
		return fmt.Errorf("apply party changes: %w", err)
	}
	p.batch = pgx.Batch{}
	return nil
}
