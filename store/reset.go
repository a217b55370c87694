package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// RecordKey returns the record type and source id of a canonical record
// (one of the types Writer.Upsert takes).
func RecordKey(r any) (canon.RecordType, string, bool) {
	switch v := r.(type) {
	case *canon.Household:
		return canon.RecordHousehold, v.SourceID, true
	case *canon.Resident:
		return canon.RecordResident, v.SourceID, true
	case *canon.GridWorker:
		return canon.RecordGridWorker, v.SourceID, true
	case *canon.PartyOrg:
		return canon.RecordPartyOrg, v.SourceID, true
	case *canon.PartyMember:
		return canon.RecordPartyMember, v.SourceID, true
	case *canon.DualReport:
		return canon.RecordDualReport, v.SourceID, true
	case *canon.ServiceStation:
		return canon.RecordServiceStation, v.SourceID, true
	case *canon.VolunteerActivity:
		return canon.RecordVolunteerActivity, v.SourceID, true
	case *canon.Case:
		return canon.RecordCase, v.SourceID, true
	}
	return "", "", false
}

// MarkReset records on the source that it rejected the cursor, and why:
// a complete re-pull is owed until ClearResync. The run becomes a full
// pull.
func (l *SourceLock) MarkReset(ctx context.Context, runID int64, reason string) error {
	err := pgx.BeginFunc(ctx, l.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE source SET resync_pending = true, reset_detected_at = now(), reset_reason = $2,
				updated_at = now() WHERE name = $1`, l.name, reason); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE sync_run SET full_pull = true WHERE id = $1`, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record reset of %s: %w", l.name, err)
	}
	return nil
}

// ResyncPending reports whether the source owes a complete re-pull.
func (s *Store) ResyncPending(ctx context.Context, source string) (bool, error) {
	var pending bool
	ctx = Unscoped(ctx) // the engine's bookkeeping
	err := s.pool.QueryRow(ctx, "SELECT coalesce((SELECT resync_pending FROM source WHERE name = $1), false)", source).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("read resync state of %s: %w", source, err)
	}
	return pending, nil
}

// Seen is what a complete re-pull of a source read: the source ids of its
// records by type (quarantined ones included where their type is known),
// and quarantined ids of unknown type, which count for every type.
type Seen struct {
	Records     map[canon.RecordType][]string
	Quarantined []string
}

// Reconciled is what Reconcile removed, by record type.
type Reconciled map[canon.RecordType][]string

// Reconcile ends a complete re-pull of a source: every record the store
// holds from the source that the re-pull did not see — neither as a
// record, nor as a quarantined entry — is deleted like a tombstone, the
// count is added to the run's, and the owed re-pull is cleared, all in the
// writer's transaction. It must run only after the re-pull read every
// stream to its end.
func (w *Writer) Reconcile(ctx context.Context, runID int64, source string, seen Seen) (Reconciled, error) {
	if _, err := w.tx.Exec(ctx, `CREATE TEMP TABLE reconcile_seen (type text NOT NULL, source_id text NOT NULL) ON COMMIT DROP`); err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", source, err)
	}
	var rows [][]any
	for typ, ids := range seen.Records {
		for _, id := range ids {
			rows = append(rows, []any{string(typ), id})
		}
	}
	for _, id := range seen.Quarantined {
		rows = append(rows, []any{"", id})
	}
	if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{"reconcile_seen"}, []string{"type", "source_id"}, pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", source, err)
	}
	if _, err := w.tx.Exec(ctx, `ANALYZE reconcile_seen`); err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", source, err)
	}
	out := Reconciled{}
	total := 0
	for _, typ := range []canon.RecordType{canon.RecordCase, canon.RecordVolunteerActivity, canon.RecordServiceStation,
		canon.RecordDualReport, canon.RecordPartyMember, canon.RecordPartyOrg, canon.RecordGridWorker,
		canon.RecordResident, canon.RecordHousehold} {
		r, err := w.tx.Query(ctx, `SELECT t.source_id FROM `+tables[typ]+` t WHERE t.source = $1
			AND NOT EXISTS (SELECT 1 FROM reconcile_seen s WHERE s.source_id = t.source_id AND s.type IN ($2, ''))`, source, string(typ))
		if err != nil {
			return nil, fmt.Errorf("reconcile %s %s: %w", source, typ, err)
		}
		ids, err := pgx.CollectRows(r, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("reconcile %s %s: %w", source, typ, err)
		}
		if len(ids) == 0 {
			continue
		}
		n, err := w.Delete(ctx, typ, source, ids)
		if err != nil {
			return nil, fmt.Errorf("reconcile %s: %w", source, err)
		}
		out[typ] = ids
		total += n
	}
	if _, err := w.tx.Exec(ctx, `UPDATE sync_run SET deleted = deleted + $2 WHERE id = $1`, runID, total); err != nil {
		return nil, fmt.Errorf("reconcile %s: count: %w", source, err)
	}
	if _, err := w.tx.Exec(ctx, `UPDATE source SET resync_pending = false, updated_at = now() WHERE name = $1`, source); err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", source, err)
	}
	return out, nil
}

// ClearResync records that a source's owed re-pull is done without a
// reconciliation (a source of history, or one whose records are kept as
// another's backfill).
func (w *Writer) ClearResync(ctx context.Context, source string) error {
	if _, err := w.tx.Exec(ctx, `UPDATE source SET resync_pending = false, updated_at = now() WHERE name = $1`, source); err != nil {
		return fmt.Errorf("clear resync of %s: %w", source, err)
	}
	return nil
}

// ResetCursors forgets the cursors of a source, so that its next pass
// reads everything again.
func (w *Writer) ResetCursors(ctx context.Context, source string) error {
	if _, err := w.tx.Exec(ctx, `DELETE FROM sync_cursor WHERE source = $1`, source); err != nil {
		return fmt.Errorf("reset cursors of %s: %w", source, err)
	}
	return nil
}
