package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Kinds of match decisions.
const (
	MatchIncident = "INCIDENT" // two case reports: one problem or not
	MatchPerson   = "PERSON"   // two person records: one person or not
)

// MatchDecision is an analyst's verdict on two source records, named
// "source/source_id" (A < B).
type MatchDecision struct {
	ID        int64
	Kind      string
	A, B      string
	Accept    bool
	Note      string
	DecidedBy string
	DecidedAt time.Time
}

// RecordMatchDecision stores a decision, replacing an earlier one on the
// same pair, and returns it as stored. A decision on two cases (keys
// "source/source_id") queues both for incident regrouping in the same
// transaction (incident_regroup_queue), so that the regrouper that holds
// the recent cases, on whichever replica, regroups what the decision
// changes after its next pass, incrementally.
func (s *Store) RecordMatchDecision(ctx context.Context, d MatchDecision) (MatchDecision, error) {
	if d.A > d.B {
		d.A, d.B = d.B, d.A
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{BeginQuery: s.writeBegin}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO match_decision (kind, record_a, record_b, accept, note, decided_by)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (kind, record_a, record_b) DO UPDATE SET accept = EXCLUDED.accept, note = EXCLUDED.note,
				decided_by = EXCLUDED.decided_by, decided_at = now()
			RETURNING id, decided_at`, d.Kind, d.A, d.B, d.Accept, d.Note, d.DecidedBy).Scan(&d.ID, &d.DecidedAt); err != nil {
			return err
		}
		if d.Kind != MatchIncident {
			return nil
		}
		sa, ia, _ := strings.Cut(d.A, "/")
		sb, ib, _ := strings.Cut(d.B, "/")
		_, err := tx.Exec(ctx, `INSERT INTO incident_regroup_queue (case_id)
			SELECT id FROM "case" WHERE (source, source_id) IN (($1, $2), ($3, $4))`, sa, ia, sb, ib)
		return err
	})
	if err != nil {
		return d, fmt.Errorf("record match decision: %w", translate(err))
	}
	return d, nil
}

// MatchDecisions returns the decisions of a kind in id order (internal
// work: the context must be Unscoped).
func (s *Store) MatchDecisions(ctx context.Context, kind string) ([]MatchDecision, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, record_a, record_b, accept, note, decided_by, decided_at
		FROM match_decision WHERE kind = $1 ORDER BY id`, kind)
	if err != nil {
		return nil, fmt.Errorf("match decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MatchDecision, error) {
		var d MatchDecision
		err := r.Scan(&d.ID, &d.Kind, &d.A, &d.B, &d.Accept, &d.Note, &d.DecidedBy, &d.DecidedAt)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("match decisions: %w", err)
	}
	return out, nil
}
