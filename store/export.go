package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// PositionCursor is the opaque cursor of a change-log position, as
// Query.changes and the subscriptions take it.
func PositionCursor(p int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("position:" + strconv.FormatInt(p, 10)))
}

// ExportCase is a case row of the bulk export.
type ExportCase struct {
	ID                                 int64
	Source, SourceID                   string
	Kind, Category, Title, Description string
	Status, SourceStatus, Tier         string
	GridCode, Address, AssigneeDept    string
	Lat, Lng                           *float64
	ReportedAt, UpdatedAt              time.Time
	DueAt, ClosedAt                    *time.Time
}

// ExportCases reads the cases that match f (in the context's
// jurisdiction) from one snapshot of the database and calls start once with
// the change-log position of that snapshot — every change at or before it
// is in the snapshot, every change after it is not — then row for each case
// in id order, streaming: memory does not grow with the number of cases.
//
// The position is exact because positions are handed out under one lock:
// the export takes it, positions what committed before its snapshot inside
// that snapshot, and shares the snapshot with the connection that reads
// the rows, releasing the lock at once.
func (s *Store) ExportCases(ctx context.Context, f CaseFilter, start func(position int64) error, row func(*ExportCase) error) error {
	if err := checkScope(ctx); err != nil {
		return err
	}
	if start == nil || row == nil {
		return fmt.Errorf("export cases: no callbacks")
	}
	lockConn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer lockConn.Release()
	readConn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer readConn.Release()

	// The snapshot and its position, under the sequencing lock.
	var head int64
	var snapshot string
	err = func() error {
		if _, err := lockConn.Exec(ctx, `SELECT pg_advisory_lock(74210011)`); err != nil {
			return err
		}
		defer lockConn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(74210011)`)
		tx, err := lockConn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		// Two statements: a statement does not see what a function it
		// calls writes, the next one does.
		if _, err := tx.Exec(ctx, `SELECT hub_sequence_changes()`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT greatest(coalesce((SELECT max(position) FROM change_log), 0),
				(SELECT pruned_through FROM change_horizon)), pg_export_snapshot()`).Scan(&head, &snapshot); err != nil {
			return err
		}
		rtx, err := readConn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		if _, err := rtx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+strings.ReplaceAll(snapshot, "'", "")+`'`); err != nil {
			rtx.Rollback(ctx)
			return err
		}
		// An export of millions of rows outlasts the reads' timeout.
		if _, err := rtx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			rtx.Rollback(ctx)
			return err
		}
		// The read transaction stays open on readConn (committed below).
		return tx.Commit(ctx)
	}()
	if err != nil {
		readConn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("export snapshot: %w", translate(err))
	}
	defer readConn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
	if err := start(head); err != nil {
		return err
	}
	var a sqlArgs
	where := f.where(ctx, &a)
	rows, err := readConn.Query(ctx, `SELECT c.id, c.source, c.source_id, c.kind, coalesce(c.category_code, ''), c.title,
			c.description, c.status, c.source_status, c.tier, coalesce(g.code, ''), c.address, c.assignee_dept,
			c.lat, c.lng, c.reported_at, c.updated_at, c.due_at, c.closed_at
		FROM "case" c LEFT JOIN region g ON g.id = c.grid_id WHERE `+where+` ORDER BY c.id`, a...)
	if err != nil {
		return fmt.Errorf("export cases: %w", translate(err))
	}
	defer rows.Close()
	var x ExportCase
	for rows.Next() {
		if err := rows.Scan(&x.ID, &x.Source, &x.SourceID, &x.Kind, &x.Category, &x.Title, &x.Description, &x.Status,
			&x.SourceStatus, &x.Tier, &x.GridCode, &x.Address, &x.AssigneeDept, &x.Lat, &x.Lng, &x.ReportedAt, &x.UpdatedAt,
			&x.DueAt, &x.ClosedAt); err != nil {
			return fmt.Errorf("export cases: %w", err)
		}
		if err := row(&x); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export cases: %w", translate(err))
	}
	return nil
}
