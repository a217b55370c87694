package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
	return s.exportSnapshot(ctx, start, func(readConn *pgxpool.Conn) error {
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
	})
}

// exportSnapshot opens a read-only transaction on one snapshot, calls
// start with the snapshot's change-log position and then read with the
// connection that holds the snapshot (see ExportCases).
func (s *Store) exportSnapshot(ctx context.Context, start func(position int64) error, read func(*pgxpool.Conn) error) error {
	if err := checkScope(ctx); err != nil {
		return err
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
	return read(readConn)
}

// ExportPerson is a person of the bulk export: the masked forms only
// (name, citizen ID, phone), as the read API shows them.
type ExportPerson struct {
	ID                   int64
	NameMasked, IDMasked string
	PhoneMasked          *string
	Gender               *string
	BirthYear            *int
	Roles                []string
}

// ExportPeople reads the persons that match f (in the context's
// jurisdiction, as People sees them) from one snapshot, like ExportCases:
// start with the snapshot's position, then row for each person in id
// order, streaming. Raw and sealed identifiers are never selected.
func (s *Store) ExportPeople(ctx context.Context, f PersonFilter, start func(position int64) error, row func(*ExportPerson) error) error {
	if err := checkScope(ctx); err != nil {
		return err
	}
	if start == nil || row == nil {
		return fmt.Errorf("export people: no callbacks")
	}
	return s.exportSnapshot(ctx, start, func(readConn *pgxpool.Conn) error {
		var a sqlArgs
		conds := f.conds(ctx, &a)
		rows, err := readConn.Query(ctx, `SELECT x.id, x.name_masked, x.id_masked, x.phone_masked, x.gender::text,
			extract(year FROM x.birth_date)::int,
			coalesce((SELECT array_agg(DISTINCT l.role ORDER BY l.role) FROM person_link l WHERE l.person_id = x.id), '{}')
		FROM person x WHERE `+strings.Join(conds, " AND ")+` ORDER BY x.id`, a...)
		if err != nil {
			return fmt.Errorf("export people: %w", translate(err))
		}
		defer rows.Close()
		var x ExportPerson
		for rows.Next() {
			if err := rows.Scan(&x.ID, &x.NameMasked, &x.IDMasked, &x.PhoneMasked, &x.Gender, &x.BirthYear, &x.Roles); err != nil {
				return fmt.Errorf("export people: %w", err)
			}
			if err := row(&x); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("export people: %w", translate(err))
		}
		return nil
	})
}

// ExportPartyMember is a party member of the bulk export, with the
// person's masked name.
type ExportPartyMember struct {
	ID, PersonID     int64
	NameMasked       string
	OrgID            *int64
	OrgName          *string
	JoinedOn         *time.Time
	CentralHousehold bool
	ServiceHours     float64
	Points           int
	Source, SourceID string
}

// ExportPartyMembers reads the party members in the context's
// jurisdiction (of the region regionCode names, if set) from one snapshot,
// like ExportCases, in id order, streaming.
func (s *Store) ExportPartyMembers(ctx context.Context, regionCode *string, start func(position int64) error, row func(*ExportPartyMember) error) error {
	if err := checkScope(ctx); err != nil {
		return err
	}
	if start == nil || row == nil {
		return fmt.Errorf("export party members: no callbacks")
	}
	return s.exportSnapshot(ctx, start, func(readConn *pgxpool.Conn) error {
		var a sqlArgs
		conds := []string{scopeRegion(ctx, "x.region_id", &a)}
		if ph := regionRef(nil, regionCode, &a); ph != "" {
			conds = append(conds, subtree("x.region_id", ph))
		}
		rows, err := readConn.Query(ctx, `SELECT x.id, x.person_id, p.name_masked, x.org_id, o.name, x.joined_on, x.central_household,
			coalesce((SELECT sum(v.hours) FROM volunteer_activity v WHERE v.member_id = x.id), 0)::float8,
			coalesce((SELECT sum(v.points) FROM volunteer_activity v WHERE v.member_id = x.id), 0)::int,
			x.source, x.source_id
		FROM party_member x JOIN person p ON p.id = x.person_id LEFT JOIN party_org o ON o.id = x.org_id
		WHERE `+strings.Join(conds, " AND ")+` ORDER BY x.id`, a...)
		if err != nil {
			return fmt.Errorf("export party members: %w", translate(err))
		}
		defer rows.Close()
		var x ExportPartyMember
		for rows.Next() {
			if err := rows.Scan(&x.ID, &x.PersonID, &x.NameMasked, &x.OrgID, &x.OrgName, &x.JoinedOn, &x.CentralHousehold,
				&x.ServiceHours, &x.Points, &x.Source, &x.SourceID); err != nil {
				return fmt.Errorf("export party members: %w", err)
			}
			if err := row(&x); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("export party members: %w", translate(err))
		}
		return nil
	})
}
