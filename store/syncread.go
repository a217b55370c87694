package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// SyncRun is a recorded synchronisation pass.
type SyncRun struct {
	ID          int64
	Source      string
	Full        bool
	StartedAt   time.Time
	FinishedAt  *time.Time
	Status      string
	Fetched     int64
	Stored      int64
	Quarantined int64
	Unchanged   int64
	Deleted     int64
	Error       *string
	Holder      string // the process that ran it (see TryLockSourceAs)
	// FieldDefects are the field-level quarantine entries of the run,
	// RecordsWithFieldDefects the stored records they belong to.
	FieldDefects            int64
	RecordsWithFieldDefects int64
}

// SyncRunQuery selects runs, newest first.
type SyncRunQuery struct {
	Source string // empty for all sources
	Page   PageArgs
}

const syncRunOrder = "RUN_ID_DESC"

// SyncRuns lists synchronisation runs, newest first.
func (s *Store) SyncRuns(ctx context.Context, q SyncRunQuery) (Page[*SyncRun], error) {
	limit, err := q.Page.limit()
	if err != nil {
		return Page[*SyncRun]{}, err
	}
	after, err := afterPosition(q.Page.After, syncRunOrder)
	if err != nil {
		return Page[*SyncRun]{}, err
	}
	var a sqlArgs
	sql := `SELECT id, source, full_pull, started_at, finished_at, status, fetched, stored, quarantined, unchanged,
		deleted, error, holder, field_defects, records_with_field_defects FROM sync_run WHERE TRUE`
	if q.Source != "" {
		sql += " AND source = " + a.add(q.Source)
	}
	count := countOf(s, "sync runs", sql, a)
	if after != nil {
		sql += " AND id < " + a.add(after.ID)
	}
	sql += " ORDER BY id DESC LIMIT " + a.add(limit+1)
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return Page[*SyncRun]{}, fmt.Errorf("list sync runs: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*SyncRun, error) {
		x := &SyncRun{}
		err := r.Scan(&x.ID, &x.Source, &x.Full, &x.StartedAt, &x.FinishedAt, &x.Status, &x.Fetched, &x.Stored,
			&x.Quarantined, &x.Unchanged, &x.Deleted, &x.Error, &x.Holder, &x.FieldDefects, &x.RecordsWithFieldDefects)
		return x, err
	})
	if err != nil {
		return Page[*SyncRun]{}, fmt.Errorf("list sync runs: %w", err)
	}
	page := newPage(list, limit, func(x *SyncRun) Position {
		return Position{Order: syncRunOrder, Key: strconv.FormatInt(x.ID, 10), ID: x.ID}
	})
	page.Count = count
	return page, nil
}

// QuarantineRecord is a stored quarantine entry.
type QuarantineRecord struct {
	ID       int64
	Source   string
	Stream   string
	SourceID string
	Reason   string
	Field    string
	Message  string
	Raw      []byte
	At       time.Time
	// RecordStored: a field-level entry, the record was stored without
	// the value.
	RecordStored bool
}

// QuarantineQuery selects quarantine entries, newest first.
type QuarantineQuery struct {
	Source string
	Reason string
	Page   PageArgs
}

const quarantineOrder = "QUARANTINE_ID_DESC"

// QuarantineEntries lists quarantined records, newest first.
func (s *Store) QuarantineEntries(ctx context.Context, q QuarantineQuery) (Page[*QuarantineRecord], error) {
	limit, err := q.Page.limit()
	if err != nil {
		return Page[*QuarantineRecord]{}, err
	}
	after, err := afterPosition(q.Page.After, quarantineOrder)
	if err != nil {
		return Page[*QuarantineRecord]{}, err
	}
	var a sqlArgs
	where := q.where(&a)
	sql := `SELECT id, source, stream, source_id, reason, field, message, raw, at, record_stored FROM quarantine WHERE ` + where
	if after != nil {
		sql += " AND id < " + a.add(after.ID)
	}
	sql += " ORDER BY id DESC LIMIT " + a.add(limit+1)
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return Page[*QuarantineRecord]{}, fmt.Errorf("list quarantine: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*QuarantineRecord, error) {
		x := &QuarantineRecord{}
		err := r.Scan(&x.ID, &x.Source, &x.Stream, &x.SourceID, &x.Reason, &x.Field, &x.Message, &x.Raw, &x.At, &x.RecordStored)
		return x, err
	})
	if err != nil {
		return Page[*QuarantineRecord]{}, fmt.Errorf("list quarantine: %w", err)
	}
	return newPage(list, limit, func(x *QuarantineRecord) Position {
		return Position{Order: quarantineOrder, Key: strconv.FormatInt(x.ID, 10), ID: x.ID}
	}), nil
}

func (q QuarantineQuery) where(a *sqlArgs) string {
	w := "resolved_at IS NULL"
	if q.Source != "" {
		w += " AND source = " + a.add(q.Source)
	}
	if q.Reason != "" {
		w += " AND reason = " + a.add(q.Reason)
	}
	return w
}

// CountQuarantine counts open quarantine entries.
func (s *Store) CountQuarantine(ctx context.Context, q QuarantineQuery) (int, error) {
	var a sqlArgs
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM quarantine WHERE "+q.where(&a), a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count quarantine: %w", err)
	}
	return n, nil
}
