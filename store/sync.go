package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SourceLock is a session-level advisory lock on one source, held on a
// dedicated connection: while it is held no other hub replica syncs the
// source, and it is released by PostgreSQL if the holder dies.
type SourceLock struct {
	conn   *pgxpool.Conn
	name   string
	holder string
	// untimed: the session's statement timeout was lifted for the pass
	// (sync work is not bounded like the API's reads) and is reset on
	// Release.
	untimed bool
}

// DefaultHolder names this process as a lock holder: host name and pid.
func DefaultHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// TryLockSource takes the source's advisory lock if it is free; runs are
// recorded with DefaultHolder.
func (s *Store) TryLockSource(ctx context.Context, name string) (*SourceLock, error) {
	return s.TryLockSourceAs(ctx, name, DefaultHolder())
}

// TryLockSourceAs is TryLockSource for a named holder, recorded with every
// run the lock starts.
func (s *Store) TryLockSourceAs(ctx context.Context, name, holder string) (*SourceLock, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock source %s: %w", name, err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended('hub.sync.' || $1, 0))", name).Scan(&ok); err != nil {
		conn.Release()
		return nil, fmt.Errorf("lock source %s: %w", name, err)
	}
	if !ok {
		conn.Release()
		return nil, nil
	}
	// A holder whose host dies mid-pass keeps the lock, and the source
	// unsynced, until PostgreSQL notices the dead session: within a
	// minute, by the keepalives every session of the store keeps (Open).
	l := &SourceLock{conn: conn, name: name, holder: holder}
	if s.writeBegin != "" {
		if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
			l.Release()
			return nil, fmt.Errorf("lock source %s: %w", name, err)
		}
		l.untimed = true
	}
	return l, nil
}

// Release gives the lock up.
func (l *SourceLock) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended('hub.sync.' || $1, 0))", l.name); err != nil {
		// The session may be broken; closing it releases the lock.
		_ = l.conn.Conn().Close(ctx)
	} else if l.untimed {
		if _, err := l.conn.Exec(ctx, "RESET statement_timeout"); err != nil {
			_ = l.conn.Conn().Close(ctx) // never back to the pool untimed
		}
	}
	l.conn.Release()
}

// InTx runs fn in a transaction on the lock's own session. Every write of a
// synchronisation pass goes through here: if the session dies, the lock is
// gone and so is the transaction, so a holder that lost its lock can never
// commit alongside the replica that took over.
//
// A batch's statements have room in memory for the rows they carry
// (work_mem, for this transaction only): the transition tables the change
// log's triggers read hold every row a statement wrote, and with the
// server's default 4 MB a batch of cases (about 7 MB of rows) went to a
// temporary file and was read back: 150 MB for the medium city's cases.
func (l *SourceLock) InTx(ctx context.Context, fn func(w *Writer) error) error {
	return pgx.BeginTxFunc(ctx, l.conn, pgx.TxOptions{BeginQuery: "BEGIN; SET LOCAL work_mem = '64MB'"},
		func(tx pgx.Tx) error { return fn(&Writer{tx: tx}) })
}

// InRun is InTx for a transaction of sync run runID: every change it logs
// names the run (Writer.ForRun).
func (l *SourceLock) InRun(ctx context.Context, runID int64, fn func(w *Writer) error) error {
	return l.InTx(ctx, func(w *Writer) error {
		if err := w.ForRun(ctx, runID); err != nil {
			return err
		}
		return fn(w)
	})
}

// ForRun ties the changes the transaction logs from now on to sync run
// runID: the run is a setting of the transaction, which the change log's
// pending rows take as their run_id (migration 035), so that no row is
// written twice to name it.
func (w *Writer) ForRun(ctx context.Context, runID int64) error {
	if _, err := w.tx.Exec(ctx, `SELECT set_config('hub.sync_run', $1, true)`, strconv.FormatInt(runID, 10)); err != nil {
		return fmt.Errorf("tie the transaction to sync run %d: %w", runID, err)
	}
	return nil
}

// StartRun records the start of a synchronisation pass. Runs that a crashed
// holder left RUNNING are closed as ABORTED first; their committed batches
// stay, consistent.
func (l *SourceLock) StartRun(ctx context.Context, full bool) (int64, error) {
	var id int64
	source := l.name
	err := pgx.BeginFunc(ctx, l.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sync_run SET status = 'ABORTED', finished_at = now(),
				error = coalesce(error, 'interrupted: the syncing process stopped during the run')
			WHERE source = $1 AND status = 'RUNNING'`, source); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE source SET status = 'SYNCING', last_attempt_at = now(), updated_at = now()
			WHERE name = $1`, source); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO sync_run (source, full_pull, holder) VALUES ($1, $2, $3) RETURNING id`,
			source, full, l.holder).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("start sync run of %s: %w", source, err)
	}
	return id, nil
}

// Cursor returns the stored cursor of a stream, "" if none.
func (s *Store) Cursor(ctx context.Context, source, stream string) (string, error) {
	var c string
	ctx = Unscoped(ctx) // the engine's bookkeeping
	err := s.pool.QueryRow(ctx, "SELECT cursor FROM sync_cursor WHERE source = $1 AND stream = $2", source, stream).Scan(&c)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read cursor %s/%s: %w", source, stream, err)
	}
	return c, nil
}

// BatchCounts are what one committed batch did.
type BatchCounts struct {
	Fetched     int
	Stored      int // written + unchanged + tombstones applied
	Quarantined int
	Unchanged   int
	Deleted     int
	// FieldDefects counts the field-level quarantine entries of the
	// batch, RecordsWithFieldDefects the stored records they belong to:
	// both apart from fetched = stored + quarantined.
	FieldDefects            int
	RecordsWithFieldDefects int
}

// CommitBatch records a batch's counts and the stream's new cursor; it runs
// in the transaction that wrote the batch (SourceLock.InRun, whose changes
// name the run), so counts, rows and cursor move together.
func (w *Writer) CommitBatch(ctx context.Context, runID int64, source, stream, cursor string, c BatchCounts) error {
	if c.Fetched != c.Stored+c.Quarantined {
		return fmt.Errorf("batch of %s/%s: fetched %d != stored %d + quarantined %d", source, stream, c.Fetched, c.Stored, c.Quarantined)
	}
	if _, err := w.tx.Exec(ctx, `INSERT INTO sync_cursor (source, stream, cursor, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (source, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`, source, stream, cursor); err != nil {
		return fmt.Errorf("save cursor %s/%s: %w", source, stream, err)
	}
	if _, err := w.tx.Exec(ctx, `UPDATE sync_run SET fetched = fetched + $2, stored = stored + $3,
			quarantined = quarantined + $4, unchanged = unchanged + $5, deleted = deleted + $6,
			field_defects = field_defects + $7, records_with_field_defects = records_with_field_defects + $8 WHERE id = $1`,
		runID, c.Fetched, c.Stored, c.Quarantined, c.Unchanged, c.Deleted, c.FieldDefects, c.RecordsWithFieldDefects); err != nil {
		return fmt.Errorf("count batch of run %d: %w", runID, err)
	}
	if _, err := w.tx.Exec(ctx, `UPDATE source SET records_fetched = records_fetched + $2,
			records_stored = records_stored + $3, records_quarantined = records_quarantined + $4,
			field_defects = field_defects + $5, records_with_field_defects = records_with_field_defects + $6 WHERE name = $1`,
		source, c.Fetched, c.Stored, c.Quarantined, c.FieldDefects, c.RecordsWithFieldDefects); err != nil {
		return fmt.Errorf("count batch of %s: %w", source, err)
	}
	return nil
}

// QuarantineEntry is a refused source record.
type QuarantineEntry struct {
	Stream   string
	SourceID string
	Reason   string
	Field    string
	Message  string
	Raw      []byte
	Hash     []byte
	// RecordStored marks a field-level entry: the record was stored
	// without the value of Field, which Raw keeps.
	RecordStored bool
}

// Quarantine keeps refused records, and refused values of stored records,
// with their reasons. The same payload quarantined again (a retried batch)
// is kept once.
func (w *Writer) Quarantine(ctx context.Context, runID int64, source string, entries []QuarantineEntry) error {
	if len(entries) == 0 {
		return nil
	}
	// One statement for the batch (each statement fires the change
	// triggers once); an entry repeated in the batch keeps its last
	// version, as one statement per entry did.
	last := make(map[[3]string]int, len(entries))
	for i, e := range entries {
		last[[3]string{e.Stream, e.SourceID, string(e.Hash)}] = i
	}
	n := len(last)
	streams, ids, reasons, fields, messages := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	raws, hashes, stored := make([][]byte, 0, n), make([][]byte, 0, n), make([]bool, 0, n)
	for i, e := range entries {
		if last[[3]string{e.Stream, e.SourceID, string(e.Hash)}] != i {
			continue
		}
		streams, ids, reasons, fields, messages = append(streams, e.Stream), append(ids, e.SourceID), append(reasons, e.Reason),
			append(fields, e.Field), append(messages, e.Message)
		raws, hashes, stored = append(raws, e.Raw), append(hashes, e.Hash), append(stored, e.RecordStored)
	}
	if _, err := w.tx.Exec(ctx, `INSERT INTO quarantine (source, stream, source_id, reason, field, message, raw, payload_hash, run_id, record_stored)
		SELECT $1, e.stream, e.source_id, e.reason, e.field, e.message, e.raw, e.hash, $2, e.stored
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::bytea[], $10::bool[])
			AS e(stream, source_id, reason, field, message, raw, hash, stored)
		ON CONFLICT (source, stream, source_id, payload_hash) DO UPDATE SET reason = EXCLUDED.reason,
			field = EXCLUDED.field, message = EXCLUDED.message, run_id = EXCLUDED.run_id, at = now(),
			record_stored = EXCLUDED.record_stored`,
		source, runID, streams, ids, reasons, fields, messages, raws, hashes, stored); err != nil {
		return fmt.Errorf("quarantine %d records of %s: %w", len(entries), source, err)
	}
	return nil
}

// RunOutcome ends a run.
type RunOutcome struct {
	Err error // nil for success
	// DownAfter is the number of consecutive failures after which the
	// source is marked DOWN rather than DEGRADED.
	DownAfter int
}

// FinishRun closes a run and updates the source's health: OK after a
// success; DEGRADED after a failure, DOWN after DownAfter in a row.
func (l *SourceLock) FinishRun(ctx context.Context, runID int64, o RunOutcome) (SourceStatus, error) {
	var status SourceStatus
	source := l.name
	err := pgx.BeginFunc(ctx, l.conn, func(tx pgx.Tx) error {
		if o.Err == nil {
			if _, err := tx.Exec(ctx, `UPDATE sync_run SET status = 'OK', finished_at = now() WHERE id = $1`, runID); err != nil {
				return err
			}
			status = SourceOK
			_, err := tx.Exec(ctx, `UPDATE source SET status = 'OK', last_synced_at = now(), last_error = NULL,
				consecutive_failures = 0, updated_at = now() WHERE name = $1`, source)
			return err
		}
		msg := o.Err.Error()
		if _, err := tx.Exec(ctx, `UPDATE sync_run SET status = 'FAILED', finished_at = now(), error = $2 WHERE id = $1`, runID, msg); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `UPDATE source SET consecutive_failures = consecutive_failures + 1, last_error = $2,
				status = CASE WHEN consecutive_failures + 1 >= $3 THEN 'DOWN' ELSE 'DEGRADED' END, updated_at = now()
			WHERE name = $1 RETURNING status`, source, msg, o.DownAfter).Scan(&status)
	})
	if err != nil {
		return "", fmt.Errorf("finish sync run %d of %s: %w", runID, source, err)
	}
	return status, nil
}
