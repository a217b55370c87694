package store

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ywtg/hub/canon"
)

// errUnavailable is what callers see of a database that cannot be reached
// or did not answer in time: canon.StoreUnavailable, retryable.
var errUnavailable = &canon.Error{Code: canon.StoreUnavailable,
	Message: "the data store is unavailable or did not answer in time; retry shortly"}

// unavailableError is a connection-level failure translated for callers:
// errors.As finds the canon.Error (STORE_UNAVAILABLE), errors.Is and
// errors.As still reach the pgx error beneath it, and Error keeps its text
// for the logs.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string   { return "store unavailable: " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{errUnavailable, e.cause} }

// IsTransient reports whether err is a transaction's failure that running
// it again may not repeat: PostgreSQL chose it as the victim of a deadlock
// (40P01) or of a serialization conflict (40001), and rolled it back.
func IsTransient(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// IsUnavailable reports whether err says the database cannot be reached or
// did not answer in time (as opposed to an error of the statement itself).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ue *unavailableError
	if errors.As(err, &ue) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true // refused, reset, DNS, authentication at start-up, 57P03 starting up
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case len(pe.Code) == 5 && pe.Code[:2] == "08": // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin or crash shutdown, cannot connect now
			return true
		case pe.Code == "57014": // query_canceled: statement_timeout or a cancelled deadline
			return true
		case pe.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true // waiting for a connection or for the answer
	}
	if errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true // the server went away under an open connection
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// translate is the store's one translation of connection-level failures:
// every error leaving the pool passes through it, and those IsUnavailable
// recognises become STORE_UNAVAILABLE; all others are returned unchanged.
func translate(err error) error {
	if err == nil || !IsUnavailable(err) {
		return err
	}
	var ue *unavailableError
	if errors.As(err, &ue) {
		return err
	}
	return &unavailableError{cause: err}
}

// guardedPool is the pool as the store's queries use it: the same methods,
// with their errors translated.
type guardedPool struct{ *pgxpool.Pool }

func (p guardedPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := checkScope(ctx); err != nil {
		return nil, err // reads fail closed (scope.go)
	}
	rows, err := p.Pool.Query(ctx, sql, args...)
	if err != nil {
		return rows, translate(err)
	}
	return guardedRows{rows}, nil
}

func (p guardedPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := checkScope(ctx); err != nil {
		return errRow{err}
	}
	return guardedRow{p.Pool.QueryRow(ctx, sql, args...)}
}

func (p guardedPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.Pool.Exec(ctx, sql, args...)
	return tag, translate(err)
}

func (p guardedPool) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := p.Pool.Begin(ctx)
	return tx, translate(err)
}

func (p guardedPool) BeginTx(ctx context.Context, o pgx.TxOptions) (pgx.Tx, error) {
	tx, err := p.Pool.BeginTx(ctx, o)
	return tx, translate(err)
}

func (p guardedPool) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	c, err := p.Pool.Acquire(ctx)
	return c, translate(err)
}

func (p guardedPool) Ping(ctx context.Context) error { return translate(p.Pool.Ping(ctx)) }

type guardedRows struct{ pgx.Rows }

func (r guardedRows) Err() error { return translate(r.Rows.Err()) }

type guardedRow struct{ pgx.Row }

func (r guardedRow) Scan(dest ...any) error { return translate(r.Row.Scan(dest...)) }
