package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ResolutionKind names a kind of entity resolution whose writers keep an
// epoch (resolution_epoch, migration 047).
type ResolutionKind string

// The kinds of resolution that hold state between runs.
const (
	PersonResolutionKind   ResolutionKind = "PERSON"
	IncidentResolutionKind ResolutionKind = "INCIDENT"
	// LinkResolutionKind is the linking of case addresses to buildings:
	// its queue (case_address_queue) waits for its first linking, and its
	// epoch only tells how far that came (migration 056).
	LinkResolutionKind ResolutionKind = "BUILDING_LINK"
)

// ErrStaleResolution is the refusal of a resolution's write made from a
// state another writer has moved on from: the epoch it names is no longer
// the store's. The write is rolled back; the writer resolves everything
// again.
var ErrStaleResolution = errors.New("another writer resolved since this resolution read its queue")

// beginLocks are the advisory locks under which the queues' triggers leave
// a change unqueued before a kind's first resolution (migration 051).
var beginLocks = map[ResolutionKind]int64{PersonResolutionKind: 74210022, IncidentResolutionKind: 74210023,
	LinkResolutionKind: 74210024}

// BeginResolution is called before a resolution of everything reads the
// store. Until kind's first resolution begins, its queue names no change
// (no resolver holds a state to change); this moves kind's epoch from 0,
// once every transaction that left a change unqueued has committed, so
// that the reads after it see those changes and every change after it is
// queued. Once the epoch has left 0 it only reads it. first tells that
// this call moved it: everything is new to the resolution.
func (s *Store) BeginResolution(ctx context.Context, kind ResolutionKind) (first bool, err error) {
	var epoch int64
	if err := s.pool.QueryRow(ctx, `SELECT epoch FROM resolution_epoch WHERE kind = $1`, string(kind)).Scan(&epoch); err != nil {
		return false, fmt.Errorf("begin %s resolution: %w", kind, err)
	}
	if epoch > 0 {
		return false, nil
	}
	for attempt := 1; attempt <= 3; attempt++ {
		// A writer that left a change unqueued and waits on a row
		// another writer, queued behind this lock, holds is a deadlock
		// PostgreSQL breaks by refusing one of the three.
		// Committed to disk: once in the life of a database.
		err = s.InTx(ctx, func(w *Writer) error {
			if _, err := w.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, beginLocks[kind]); err != nil {
				return err
			}
			tag, err := w.tx.Exec(ctx, `UPDATE resolution_epoch SET epoch = 1 WHERE kind = $1 AND epoch = 0`, string(kind))
			first = tag.RowsAffected() == 1
			return err
		})
		if err == nil || !IsTransient(err) {
			break
		}
	}
	if err != nil {
		return false, fmt.Errorf("begin %s resolution: %w", kind, err)
	}
	return first, nil
}

// queueEpoch queues the read of kind's epoch into at.
func queueEpoch(b *pgx.Batch, kind ResolutionKind, at *int64) {
	b.Queue(`SELECT epoch FROM resolution_epoch WHERE kind = $1`, string(kind)).Fn = func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(at); err != nil {
			return fmt.Errorf("%s resolution epoch: %w", kind, err)
		}
		return nil
	}
}

// queueAdvance queues the check that kind's epoch is from and, when
// changed (the write changed what resolution holds: it wrote or took
// something), its advance; once the batch has run, *epoch is the epoch
// after the write, or *stale tells that it was another.
func queueAdvance(b *pgx.Batch, kind ResolutionKind, from int64, changed bool, epoch *int64, stale *bool) {
	step := 0
	if changed {
		step = 1
	}
	*stale = true
	queueQuery(b, string(kind)+" resolution epoch", `UPDATE resolution_epoch SET epoch = epoch + $3 WHERE kind = $1 AND epoch = $2 RETURNING epoch`,
		func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(epoch); err != nil {
					return err
				}
				*stale = false
			}
			return rows.Err()
		}, string(kind), from, step)
}

// ResolutionLease is the right to resolve for the hub's replicas: a
// session-level advisory lock held on a connection of its own, outside
// the pool, for as long as the process resolves. PostgreSQL releases it
// when the holder dies or its connection breaks; another replica then
// takes it over and, reading epochs other than its own, resolves
// everything once.
type ResolutionLease struct {
	conn *pgx.Conn
}

// resolutionLock is the advisory lock of the resolution lease.
const resolutionLock = 74210021

// TryResolutionLease takes the resolution lease if no other process holds
// it; nil when another does.
func (s *Store) TryResolutionLease(ctx context.Context) (*ResolutionLease, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("resolution lease: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, resolutionLock).Scan(&ok); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("resolution lease: %w", err)
	}
	if !ok {
		return nil, conn.Close(ctx)
	}
	// The session stays idle between passes; the keepalives of the pool's
	// configuration (Open) let PostgreSQL find a holder whose host died
	// within a minute, not after the system's two idle hours.
	return &ResolutionLease{conn: conn}, nil
}

// Held reports whether the lease is still held: its connection answers.
// A lease that is not held is released.
func (l *ResolutionLease) Held(ctx context.Context) bool {
	if err := l.conn.Ping(ctx); err != nil {
		l.Release()
		return false
	}
	return true
}

// Release gives the lease up: the lock is released, so that another
// process may take it as soon as Release returns (closing the connection
// alone ends the session, and frees the lock, only once the server has
// processed it), and the connection is closed.
func (l *ResolutionLease) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, resolutionLock)
	_ = l.conn.Close(ctx)
}
