package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one accountable read of personal data.
type AuditEntry struct {
	ID        int64
	At        time.Time
	Principal string
	Action    string
	Purpose   string
	RequestID string
	Subjects  []string // persons, as hex keyed hashes
	Fields    []string
	PrevHash  []byte
	Hash      []byte
}

// chainHash is the hash of an entry: SHA-256 over the previous hash and the
// entry's canonical JSON.
func chainHash(prev []byte, e AuditEntry) []byte {
	body, _ := json.Marshal(struct {
		At        string   `json:"at"`
		Principal string   `json:"principal"`
		Action    string   `json:"action"`
		Purpose   string   `json:"purpose"`
		RequestID string   `json:"request_id"`
		Subjects  []string `json:"subjects"`
		Fields    []string `json:"fields"`
	}{e.At.UTC().Format(time.RFC3339Nano), e.Principal, e.Action, e.Purpose, e.RequestID, e.Subjects, e.Fields})
	h := sha256.New()
	h.Write(prev)
	h.Write(body)
	return h.Sum(nil)
}

const auditLock = 74210002

// AppendAudit appends entries to the hash-chained audit log. Appends are
// serialised by an advisory lock so the chain has one order.
func (s *Store) AppendAudit(ctx context.Context, entries []AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return translate(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLock); err != nil {
			return fmt.Errorf("lock audit log: %w", err)
		}
		prev := make([]byte, sha256.Size)
		err := tx.QueryRow(ctx, "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read audit chain: %w", err)
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, e := range entries {
			e.At = now
			if e.Subjects == nil {
				e.Subjects = []string{}
			}
			if e.Fields == nil {
				e.Fields = []string{}
			}
			h := chainHash(prev, e)
			if _, err := tx.Exec(ctx, `INSERT INTO audit_log (at, principal, action, purpose, request_id, subjects, fields, prev_hash, hash)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.At, e.Principal, e.Action, e.Purpose, e.RequestID, e.Subjects, e.Fields, prev, h); err != nil {
				return fmt.Errorf("append audit entry: %w", err)
			}
			prev = h
		}
		return nil
	}))
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	Principal string
	From, To  *time.Time
	Page      PageArgs
}

// AuditLog lists audit entries, newest first.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) (Page[*AuditEntry], error) {
	limit, err := q.Page.limit()
	if err != nil {
		return Page[*AuditEntry]{}, err
	}
	const order = "AUDIT_ID_DESC"
	after, err := afterPosition(q.Page.After, order)
	if err != nil {
		return Page[*AuditEntry]{}, err
	}
	var a sqlArgs
	conds := []string{"TRUE"}
	if q.Principal != "" {
		conds = append(conds, "principal = "+a.add(q.Principal))
	}
	if q.From != nil {
		conds = append(conds, "at >= "+a.add(*q.From))
	}
	if q.To != nil {
		conds = append(conds, "at < "+a.add(*q.To))
	}
	count := countOf(s, "audit log", "SELECT 1 FROM audit_log WHERE "+strings.Join(conds, " AND "), a)
	if after != nil {
		conds = append(conds, "id < "+a.add(after.ID))
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, principal, action, purpose, request_id, subjects, fields, prev_hash, hash
		FROM audit_log WHERE `+strings.Join(conds, " AND ")+" ORDER BY id DESC LIMIT "+a.add(limit+1), a...)
	if err != nil {
		return Page[*AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanAudit)
	if err != nil {
		return Page[*AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
	}
	page := newPage(list, limit, func(e *AuditEntry) Position { return Position{Order: order, Key: "", ID: e.ID} })
	page.Count = count
	return page, nil
}

func scanAudit(r pgx.CollectableRow) (*AuditEntry, error) {
	e := &AuditEntry{}
	err := r.Scan(&e.ID, &e.At, &e.Principal, &e.Action, &e.Purpose, &e.RequestID, &e.Subjects, &e.Fields, &e.PrevHash, &e.Hash)
	return e, err
}

// AuditBreak describes the first entry whose link does not hold.
type AuditBreak struct {
	ID     int64
	Reason string
}

// VerifyAudit walks the chain from the first entry and returns the first
// broken link (nil if the chain holds) and the number of entries checked.
func (s *Store) VerifyAudit(ctx context.Context) (*AuditBreak, int, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, at, principal, action, purpose, request_id, subjects, fields, prev_hash, hash
		FROM audit_log ORDER BY id`)
	if err != nil {
		return nil, 0, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	prev := make([]byte, sha256.Size)
	n := 0
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, n, fmt.Errorf("read audit log: %w", err)
		}
		n++
		switch {
		case !bytes.Equal(e.PrevHash, prev):
			return &AuditBreak{ID: e.ID, Reason: "its previous-hash does not match the entry before it (an entry was removed or reordered)"}, n, nil
		case !bytes.Equal(chainHash(prev, *e), e.Hash):
			return &AuditBreak{ID: e.ID, Reason: "its content does not match its hash (the entry was altered)"}, n, nil
		}
		prev = e.Hash
	}
	return nil, n, rows.Err()
}
