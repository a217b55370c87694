package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ywtg/hub/canon"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the embedded schema migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// minConns is the smallest pool Open makes unless told otherwise.
const minConns = 16

// Options tune Open.
type Options struct {
	Logger   *slog.Logger
	Registry prometheus.Registerer // SQL metrics; nil for none
	MaxConns int32                 // 0: pool_max_conns of the URL, else pgx's default but at least 16
	// StatementTimeout is PostgreSQL's statement_timeout on the pool's
	// connections, a server-side bound on every read; writes (InTx) and
	// migrations are exempt. 0: the server's setting.
	StatementTimeout time.Duration
}

// sessionKeepalives are the TCP keepalives of every session (seconds idle,
// between probes, probes).
var sessionKeepalives = map[string]string{"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3"}

// preferLZ4 makes lz4 the session's compression of values stored out of
// line or compressed, when the server is built with it.
const preferLZ4 = `SELECT set_config('default_toast_compression', 'lz4', false) FROM pg_settings
	WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)`

// Store is the hub's PostgreSQL store.
type Store struct {
	pool guardedPool // translates connection failures (unavailable.go)
	log  *slog.Logger
	// writeBegin starts InTx's transactions (exempt from the statement
	// timeout of reads).
	writeBegin string
	// connConfig connects the connections that are not the pool's (the
	// change listener's).
	connConfig *pgx.ConnConfig
}

// Open connects to the database at dsn and verifies the connection.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx quotes the DSN in parse errors; never echo it (passwords).
		return nil, errors.New("store: invalid database URL")
	}
	switch {
	case o.MaxConns > 0:
		cfg.MaxConns = o.MaxConns
	case !strings.Contains(dsn, "pool_max_conns") && cfg.MaxConns < minConns:
		// pgx's default is max(4, CPUs): a syncing source holds one
		// connection for its advisory lock and needs another for its work,
		// so four sources passing side by side on a 2-core machine would
		// wait on each other for ever.
		cfg.MaxConns = minConns
	}
	tr, err := newTracer(o.Registry)
	if err != nil {
		return nil, fmt.Errorf("store: metrics: %w", err)
	}
	cfg.ConnConfig.Tracer = tr
	// Every session keeps TCP keepalives of its own (unless the URL sets
	// them): any of them may hold locks others wait for — a source's
	// advisory lock, the resolution lease, the row locks of a write in
	// flight —, and without keepalives PostgreSQL would keep the session
	// of a hub whose host died, and its locks, for the system's two idle
	// hours. With these it ends it within a minute. (Sessions over a Unix
	// socket ignore them.)
	for k, v := range sessionKeepalives {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	// Sessions plan without JIT compilation (unless the URL sets jit): the
	// hub's statements are batches of a few thousand rows and pages of a
	// request, whose estimated cost often passes the threshold at which
	// the server compiles the plan, and the compiling then costs more than
	// it saves — 250 ms of a 355 ms page of party members' addresses, and
	// in bench/sync's medium-scale first load 13.7–14.0 s instead of
	// 15.4–15.8 s.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	// Values compressed by a session's writes (a staged case's timeline,
	// compressed in the staging table and copied as it is into "case")
	// use lz4 where the server has it: pglz costs about twice as much to
	// compress and to read back (migration 049). A server without lz4
	// keeps its default.
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		if _, err := c.Exec(ctx, preferLZ4); err != nil {
			return fmt.Errorf("store: session settings: %w", err)
		}
		return nil
	}
	writeBegin := ""
	if o.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
		writeBegin = "BEGIN; SET LOCAL statement_timeout = 0"
	}
	// A cancelled or expired context cancels the statement on the server
	// too (a cancel request), instead of only abandoning the connection
	// while the server goes on working for nobody.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: time.Second}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{pool: guardedPool{pool}, log: log, writeBegin: writeBegin, connConfig: cfg.ConnConfig.Copy()}, nil
}

// beginWholeRead begins a read-only transaction for internal work that
// reads whole tables — a full entity resolution's records and persons, an
// incident regrouping's cases — with settings (SET LOCAL statements) run
// with it. Like writes (InTx) it is exempt from the pool's statement
// timeout, which bounds the API's reads: a city's million person records
// take longer than a request may wait, more so while a load shares the
// machine, and a read cut short failed the resolution after every pass.
func (s *Store) beginWholeRead(ctx context.Context, settings ...string) (wholeRead, error) {
	if err := checkScope(ctx); err != nil {
		return wholeRead{}, err // reads fail closed (scope.go)
	}
	begin := "BEGIN READ ONLY"
	if s.writeBegin != "" {
		settings = append([]string{"SET LOCAL statement_timeout = 0"}, settings...)
	}
	for _, set := range settings {
		begin += "; " + set
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, BeginQuery: begin})
	return wholeRead{tx}, err
}

// wholeRead is the transaction of beginWholeRead; its reads report a
// failed connection as the pool's do (unavailable.go).
type wholeRead struct{ tx pgx.Tx }

// Query runs a read in the transaction.
func (r wholeRead) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := r.tx.Query(ctx, sql, args...)
	if err != nil {
		return rows, translate(err)
	}
	return guardedRows{rows}, nil
}

// Rollback ends the read.
func (r wholeRead) Rollback(ctx context.Context) {
	if r.tx != nil {
		r.tx.Rollback(ctx)
	}
}

// Close closes every connection.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the connection pool to packages that run their own SQL over
// the canonical schema (the sync engine's writers, tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool.Pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Migrate applies pending migrations. tern holds a PostgreSQL advisory lock
// while it works, so replicas starting together migrate once.
func (s *Store) Migrate(ctx context.Context) error {
	// The indexes a stopped first load left deferred are built first: a
	// migration finds the schema whole.
	var deferred bool
	if err := s.pool.QueryRow(Unscoped(ctx), `SELECT to_regclass('deferred_index') IS NOT NULL`).Scan(&deferred); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if deferred {
		if _, err := s.BuildDeferredIndexes(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	// Migrations may rewrite large tables: no statement timeout.
	return s.withoutTimeout(ctx, "migrate", func(conn *pgxpool.Conn) error { return Migrate(ctx, conn.Conn()) })
}

// withoutTimeout runs fn on a session of the pool whose statement timeout
// is lifted for it: for work that cannot run in a transaction (where the
// store's writes lift it) and may outlast the API's timeout. Its own
// errors are prefixed with what; fn's are returned as they are.
func (s *Store) withoutTimeout(ctx context.Context, what string, fn func(conn *pgxpool.Conn) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%s: acquire connection: %w", what, err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "RESET statement_timeout")
	return fn(conn)
}

// Migrate applies the embedded migrations on one connection.
func Migrate(ctx context.Context, conn *pgx.Conn) error {
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(Migrations()); err != nil {
		return fmt.Errorf("migrate: load: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// notFound maps pgx.ErrNoRows onto the application's NOT_FOUND.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return canon.Errorf(canon.NotFound, "%s not found", what)
	}
	return err
}
