package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// Change types of the change log (migration 011): the canonical tables
// whose writes are logged.
const (
	ChangeCase            = "CASE"
	ChangePerson          = "PERSON"
	ChangeHousehold       = "HOUSEHOLD"
	ChangePartyOrg        = "PARTY_ORG"
	ChangePartyMember     = "PARTY_MEMBER"
	ChangeServiceStation  = "SERVICE_STATION"
	ChangeGridWorker      = "GRID_WORKER"
	ChangeIncident        = "INCIDENT"
	ChangeQuarantineEntry = "QUARANTINE_ENTRY"
)

// Change is one entry of the change log.
type Change struct {
	Position    int64
	CommittedAt time.Time // when the entry got its position
	At          time.Time // when the write's transaction started
	Type        string    // one of the Change* constants
	RecordID    int64
	Op          string   // CREATE, UPDATE or DELETE
	Fields      []string // columns an UPDATE changed
	RunID       *int64   // the sync run that wrote it, if any
	RegionPath  string   // ltree path of the row's region when written, "" if none
	// Regions are the region paths of a record that has no one region
	// (a person, a grid worker, an incident) when its change was
	// positioned; a deletion's are those of the record's latest earlier
	// change (migration 017).
	Regions []string
}

// Within reports whether the change's record lay in the subtree rooted at
// root when the change was written: its region, or one of its places.
func (c *Change) Within(root string) bool {
	if PathWithin(c.RegionPath, root) {
		return true
	}
	for _, p := range c.Regions {
		if PathWithin(p, root) {
			return true
		}
	}
	return false
}

// SequenceChanges gives log positions to the changes whose transactions
// have committed and returns the highest position given (0: none). Any
// replica may call it at any time; calls are serialised in the database,
// so positions become visible strictly in order.
func (s *Store) SequenceChanges(ctx context.Context) (int64, error) {
	var top int64
	err := s.InTx(ctx, func(w *Writer) error {
		return w.tx.QueryRow(ctx, `SELECT hub_sequence_changes()`).Scan(&top)
	})
	if err != nil {
		return 0, fmt.Errorf("sequence changes: %w", err)
	}
	return top, nil
}

// ChangeHead returns the highest position in the log and the position up
// to which retention has pruned it. A snapshot read in the same
// transaction as ChangeHead is exactly the state after the head's change.
func (s *Store) ChangeHead(ctx context.Context) (head, pruned int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT coalesce((SELECT max(position) FROM change_log), 0),
		(SELECT pruned_through FROM change_horizon)`).Scan(&head, &pruned)
	if err != nil {
		return 0, 0, fmt.Errorf("change log head: %w", err)
	}
	return max(head, pruned), pruned, nil
}

// ChangesAfter reads up to limit log entries after position after (a
// negative after: from the oldest retained entry), oldest first, of the
// given types (all when empty). A position that retention
// has pruned past is refused with CURSOR_EXPIRED: the reader would miss
// changes. The caller decides visibility (jurisdiction, types); the log is
// read unscoped.
func (s *Store) ChangesAfter(ctx context.Context, after int64, limit int, types []string) ([]Change, error) {
	if limit <= 0 {
		return nil, nil
	}
	if after < 0 {
		if err := s.pool.QueryRow(ctx, `SELECT pruned_through FROM change_horizon`).Scan(&after); err != nil {
			return nil, fmt.Errorf("read change log: %w", err)
		}
	}
	// A plain range of the primary key: a shape the planner prices as
	// cheap (one with the horizon joined in was priced high enough to be
	// JIT-compiled, 22 ms of a 0.2 ms read). The horizon is read in the
	// same statement, so in the same snapshot as the rows.
	rows, err := s.pool.Query(ctx, `SELECT position, committed_at, at, type, record_id, op, fields, run_id,
			coalesce(region_path::text, ''), coalesce(regions::text[], '{}'), (SELECT pruned_through FROM change_horizon)
		FROM change_log WHERE position > $1 AND ($3::text[] IS NULL OR type = ANY($3))
		ORDER BY position LIMIT $2`, after, limit, nilIfEmptySlice(types))
	if err != nil {
		return nil, fmt.Errorf("read change log: %w", err)
	}
	defer rows.Close()
	out := make([]Change, 0, min(limit, 1000))
	var pruned int64
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Position, &c.CommittedAt, &c.At, &c.Type, &c.RecordID, &c.Op, &c.Fields, &c.RunID,
			&c.RegionPath, &c.Regions, &pruned); err != nil {
			return nil, fmt.Errorf("read change log: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read change log: %w", err)
	}
	if len(out) == 0 {
		if err := s.pool.QueryRow(ctx, `SELECT pruned_through FROM change_horizon`).Scan(&pruned); err != nil {
			return nil, fmt.Errorf("read change log: %w", err)
		}
	}
	if pruned > after {
		return nil, canon.Errorf(canon.CursorExpired,
			"the cursor is older than the change log's retention (changes up to %d were pruned): read a snapshot again and follow from its position", pruned)
	}
	return out, nil
}

func nilIfEmptySlice(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// VacuumChangeQueue vacuums change_pending, which every logged write
// passes through until it is positioned: each sequencing step looks into
// it, and with autovacuum off or behind, the dead rows of the writes
// already positioned are scanned again each time (about 2 s a step after
// 200,000 writes, on the shared test server).
func (s *Store) VacuumChangeQueue(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `VACUUM (SKIP_LOCKED) change_pending`); err != nil {
		return fmt.Errorf("vacuum the change queue: %w", err)
	}
	return nil
}

// PruneChanges deletes the log entries committed before cutoff and moves
// the horizon past them; it returns how many it deleted.
func (s *Store) PruneChanges(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(w *Writer) error {
		return w.tx.QueryRow(ctx, `WITH gone AS (DELETE FROM change_log WHERE committed_at < $1 RETURNING position),
				top AS (SELECT count(*) AS n, max(position) AS p FROM gone),
				moved AS (UPDATE change_horizon SET pruned_through = top.p FROM top
					WHERE top.p IS NOT NULL AND top.p > change_horizon.pruned_through)
			SELECT n FROM top`, cutoff).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("prune change log: %w", err)
	}
	return n, nil
}

// FollowChangeLog calls wake whenever the hub's data may have changed (the
// change notifications on a connection of its own) and at least every
// tick, until ctx ends; it reconnects with backoff when the connection is
// lost, and wakes once after every (re)connection for what passed unseen.
// wake may be called from two goroutines at once and must not block.
func (s *Store) FollowChangeLog(ctx context.Context, tick time.Duration, wake func()) {
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				wake()
			}
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.followOnce(ctx, wake, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("change log notifications lost; following by polling until they are back", "error", err.Error(), "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (s *Store) followOnce(ctx context.Context, wake, up func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.connConfig.Copy())
	if err != nil {
		return fmt.Errorf("change log: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+ChangeChannel); err != nil {
		return fmt.Errorf("change log: listen: %w", err)
	}
	up()
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("change log: wait: %w", err)
		}
		wake()
	}
}

// ScopePath returns the region path the context's reads are restricted to
// (ok false: not restricted), for checks of paths kept outside the region
// table (the change log's).
func (s *Store) ScopePath(ctx context.Context) (path string, ok bool, err error) {
	if err := checkScope(ctx); err != nil {
		return "", false, err // no access value is not "unrestricted"
	}
	code, ok := scopeOf(ctx)
	if !ok {
		return "", false, nil
	}
	path, _, err = s.RegionPath(ctx, code)
	// A scope naming no region sees nothing: its path stays "".
	return path, true, err
}

// RegionPath returns the ltree path of the region with the given code
// (found false: no such region).
func (s *Store) RegionPath(ctx context.Context, code string) (path string, found bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT path::text FROM region WHERE code = $1`, code).Scan(&path)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("region path of %s: %w", code, err)
	}
	return path, true, nil
}

// PathWithin reports whether the ltree path lies in the subtree rooted at
// root.
func PathWithin(path, root string) bool {
	return root != "" && (path == root || strings.HasPrefix(path, root+"."))
}

// CasesMatching returns which of the given cases match f (in the caller's
// jurisdiction), for subscriptions that follow the cases of a filter.
func (s *Store) CasesMatching(ctx context.Context, f CaseFilter, ids []int64) (map[int64]bool, error) {
	var a sqlArgs
	where := f.where(ctx, &a)
	rows, err := s.pool.Query(ctx, `SELECT c.id FROM "case" c WHERE c.id = ANY(`+a.add(ids)+`) AND `+where, a...)
	if err != nil {
		return nil, fmt.Errorf("cases matching a filter: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("cases matching a filter: %w", err)
	}
	out := make(map[int64]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// CountChanges counts the log entries after position after (negative: from
// the oldest kept) of the given types and operations (all when empty)
// whose region (or one of whose places) when written lies under regionPath
// (any when ""), and under the context's jurisdiction when it has one.
func (s *Store) CountChanges(ctx context.Context, after int64, types, ops []string, regionPath string) (int, error) {
	var a sqlArgs
	conds := []string{"position > greatest(" + a.add(after) + "::bigint, (SELECT pruned_through FROM change_horizon))"}
	if len(types) > 0 {
		conds = append(conds, "type = ANY("+a.add(types)+")")
	}
	if len(ops) > 0 {
		conds = append(conds, "op = ANY("+a.add(ops)+")")
	}
	if regionPath != "" {
		p := a.add(regionPath)
		conds = append(conds, "(region_path <@ "+p+"::ltree OR regions <@ "+p+"::ltree)")
	}
	if _, ok := scopeOf(ctx); ok {
		conds = append(conds, "("+scopePath(ctx, "region_path", &a)+" OR "+scopePath(ctx, "regions", &a)+")")
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM change_log WHERE `+strings.Join(conds, " AND "), a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count changes: %w", err)
	}
	return n, nil
}
