package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// IncidentCase is what incident merging reads of a case.
type IncidentCase struct {
	ID         int64
	Source     string
	SourceID   string
	Category   string // unified category code, "" when unmapped
	Lat, Lng   float64
	ReportedAt time.Time
	Title      string
	Text       string // title and description
	IncidentID int64  // 0 for none
}

// IncidentCases returns the cases with a location reported at or after
// from (zero: every case), in id order, for incident merging (internal
// work: the context must be Unscoped).
func (s *Store) IncidentCases(ctx context.Context, from time.Time) ([]IncidentCase, error) {
	if _, scoped := scopeOf(ctx); scoped {
		return nil, fmt.Errorf("incident cases: a jurisdiction-scoped read cannot regroup the city's incidents")
	}
	// The bound is written into the statement only when there is one: a
	// plan made for "$1 IS NULL OR reported_at >= $1" cannot probe
	// reported_at.
	q, args := incidentCaseSelect, []any{}
	if !from.IsZero() {
		q, args = q+` AND reported_at >= $1`, append(args, from)
	}
	size := 0
	if from.IsZero() {
		// Every located case: room for the planner's count of cases,
		// current after RefreshIncidentStatistics (grown by doubling, the
		// city's 1.1M were copied and faulted in several times over).
		var err error
		if size, err = s.plannedRows(ctx, "case"); err != nil {
			return nil, fmt.Errorf("incident cases: %w", err)
		}
	}
	tx, err := s.beginWholeRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("incident cases: %w", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("incident cases: %w", err)
	}
	return collectIncidentCases(rows, size)
}

// incidentCaseSelect reads IncidentCase rows of located cases; the
// caller adds its conditions after the WHERE.
const incidentCaseSelect = `SELECT id, source, source_id, coalesce(category_code, ''), lat, lng, reported_at,
		title, title || ' ' || description, coalesce(incident_id, 0)
		FROM "case" WHERE lat IS NOT NULL AND lng IS NOT NULL`

// collectIncidentCases reads the rows, room for size made first; the
// cases of one source or category share its string.
func collectIncidentCases(rows pgx.Rows, size int) ([]IncidentCase, error) {
	source, category := interned[string]{what: "case source"}, interned[string]{what: "case category"}
	out, err := pgx.AppendRows(make([]IncidentCase, 0, size), rows, func(r pgx.CollectableRow) (IncidentCase, error) {
		var c IncidentCase
		err := r.Scan(&c.ID, source.at(&c.Source), &c.SourceID, category.at(&c.Category), &c.Lat, &c.Lng, &c.ReportedAt,
			&c.Title, &c.Text, &c.IncidentID)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("incident cases: %w", err)
	}
	return out, nil
}

// IncidentGroup is one incident as incident merging decided it.
type IncidentGroup struct {
	ID            int64   // the incident it keeps; 0 for a new one
	Cases         []int64 // case ids, two or more
	Title         string
	Category      string // unified code, "" none
	Lat, Lng      float64
	FirstReported time.Time
}

// incidentLock serialises the writers of incidents (replicas regrouping
// after their passes), so that one grouping is written whole after the
// other.
const incidentLock = 74210010

// IncidentWrite counts what ReplaceIncidents changed.
type IncidentWrite struct {
	Created, Updated, Removed, CasesChanged int
}

// ReplaceIncidents makes groups the incidents of the cases reported at or
// after from (zero: all cases): each group's incident is created or
// updated, its cases point at it, those cases in no group point at none,
// and incidents left without cases are deleted. Of a regrouping from an
// instant, that is those its cases left, and one of them left holding a
// single case reported before from is deleted too, that case unlinked;
// of everything, every empty one. (A case deleted at its source takes an
// incident it leaves with fewer than two cases with it: Writer.Delete.)
// Other cases reported before from keep their links. Cases are
// only linked, never changed otherwise: each keeps its source, status and
// deadline. Rows that already say the same are not written, so a
// regrouping that changes nothing writes nothing.
func (w *Writer) ReplaceIncidents(ctx context.Context, from time.Time, groups []IncidentGroup) (IncidentWrite, error) {
	var res IncidentWrite
	if _, err := w.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", incidentLock); err != nil {
		return res, fmt.Errorf("lock incidents: %w", err)
	}
	// The incidents made and kept, each in one statement: a first
	// regrouping of the medium city makes a thousand. The IDs of those made
	// are drawn first, so that each is known to be its group's.
	var made []int
	var kept []int64
	var titles, cats []string
	var lats, lngs []float64
	var firsts []time.Time
	for i := range groups {
		if g := &groups[i]; g.ID == 0 {
			made = append(made, i)
		}
	}
	if len(made) > 0 {
		ids, err := w.drawIDs(ctx, "incident", len(made))
		if err != nil {
			return res, fmt.Errorf("create incidents: %w", err)
		}
		for n, i := range made {
			groups[i].ID = ids[n]
		}
	}
	for i := range groups {
		g := &groups[i]
		kept, titles, cats = append(kept, g.ID), append(titles, g.Title), append(cats, g.Category)
		lats, lngs, firsts = append(lats, g.Lat), append(lngs, g.Lng), append(firsts, g.FirstReported)
	}
	// A regrouping after a pass mostly finds no group among its cases:
	// then only the unlinking below has anything to do.
	var tag pgconn.CommandTag
	var err error
	if len(groups) > 0 {
		tag, err = w.tx.Exec(ctx, `INSERT INTO incident (id, title, category_code, lat, lng, first_reported_at) OVERRIDING SYSTEM VALUE
		SELECT id, title, nullif(cat, ''), lat, lng, first FROM unnest($1::bigint[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::timestamptz[])
			AS t(id, title, cat, lat, lng, first)
		ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, category_code = EXCLUDED.category_code, lat = EXCLUDED.lat,
			lng = EXCLUDED.lng, first_reported_at = EXCLUDED.first_reported_at
		WHERE (incident.title, incident.category_code, incident.lat, incident.lng, incident.first_reported_at)
			IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.category_code, EXCLUDED.lat, EXCLUDED.lng, EXCLUDED.first_reported_at)`,
			kept, titles, cats, lats, lngs, firsts)
		if err != nil {
			return res, fmt.Errorf("write incidents: %w", err)
		}
	}
	res.Created, res.Updated = len(made), int(tag.RowsAffected())-len(made)
	caseIDs, incIDs := []int64{}, []int64{} // never NULL arrays: <> ALL(NULL) matches nothing
	for i := range groups {
		for _, c := range groups[i].Cases {
			caseIDs = append(caseIDs, c)
			incIDs = append(incIDs, groups[i].ID)
		}
	}
	// The cases moved and unlinked return the incident each left (was:
	// the row as the statement found it).
	var left []int64
	if len(caseIDs) > 0 {
		n, l, err := incidentsLeft(w.tx.Query(ctx, `UPDATE "case" c SET incident_id = v.inc
			FROM unnest($1::bigint[], $2::bigint[]) AS v(case_id, inc), "case" was
			WHERE c.id = v.case_id AND was.id = c.id AND c.incident_id IS DISTINCT FROM v.inc
			RETURNING was.incident_id`, caseIDs, incIDs))
		if err != nil {
			return res, fmt.Errorf("link cases to incidents: %w", err)
		}
		res.CasesChanged, left = n, l
	}
	// Two statements, not one with "$2 IS NULL OR": a plan made for both
	// cases cannot probe reported_at (57 ms instead of 1 at city scale).
	unlink := `UPDATE "case" c SET incident_id = NULL FROM "case" was
		WHERE was.id = c.id AND c.incident_id IS NOT NULL AND c.id <> ALL($1::bigint[])`
	args := []any{caseIDs}
	if !from.IsZero() {
		unlink += ` AND c.reported_at >= $2`
		args = append(args, from)
	}
	n, unlinked, err := incidentsLeft(w.tx.Query(ctx, unlink+` RETURNING was.incident_id`, args...))
	if err != nil {
		return res, fmt.Errorf("unlink cases from incidents: %w", err)
	}
	res.CasesChanged += n
	// A regrouping from an instant looks only at the incidents its cases
	// left: looking through every incident for cases (an anti-join over
	// every linked case) took 5–11 ms of each regrouping after a sync
	// pass.
	if from.IsZero() {
		tag, err = w.tx.Exec(ctx, `DELETE FROM incident x WHERE NOT EXISTS (SELECT 1 FROM "case" c WHERE c.incident_id = x.id)`)
		if err != nil {
			return res, fmt.Errorf("delete empty incidents: %w", err)
		}
		res.Removed = int(tag.RowsAffected())
		return res, nil
	}
	removed, alone, err := w.dissolveIncidents(ctx, append(left, unlinked...))
	if err != nil {
		return res, err
	}
	res.Removed, res.CasesChanged = removed, res.CasesChanged+alone
	return res, nil
}

// incidentsLeft reads the rows a statement returned, one per case, each
// the incident the case left (NULL: none): how many, and those incidents.
func incidentsLeft(rows pgx.Rows, err error) (int, []int64, error) {
	if err != nil {
		return 0, nil, err
	}
	n := 0
	var left []int64
	var inc *int64
	_, err = pgx.ForEachRow(rows, []any{&inc}, func() error {
		n++
		if inc != nil {
			left = append(left, *inc)
		}
		return nil
	})
	return n, left, err
}

// dissolveIncidents deletes those of the incidents ids that hold fewer
// than two cases now (an incident is two reports or more of one
// problem): the case one still holds is unlinked by the delete (ON
// DELETE SET NULL). It returns how many incidents it deleted and how
// many cases that unlinked.
func (w *Writer) dissolveIncidents(ctx context.Context, ids []int64) (removed, unlinked int, err error) {
	if len(ids) == 0 {
		return 0, 0, nil
	}
	err = w.tx.QueryRow(ctx, `WITH left_cases AS (
			SELECT x.id, (SELECT count(*) FROM "case" c WHERE c.incident_id = x.id) AS n
			FROM incident x WHERE x.id = ANY($1::bigint[])),
		gone AS (DELETE FROM incident x USING left_cases l WHERE x.id = l.id AND l.n < 2 RETURNING l.n)
		SELECT count(*), coalesce(sum(n), 0) FROM gone`, ids).Scan(&removed, &unlinked)
	if err != nil {
		return 0, 0, fmt.Errorf("dissolve incidents left with one case: %w", err)
	}
	return removed, unlinked, nil
}

// CasesOfIncidents loads the cases of a batch of incidents in key order,
// each list earliest report first; only the cases in the request's
// jurisdiction.
func (s *Store) CasesOfIncidents(ctx context.Context, ids []int64) ([][]*Case, error) {
	a := sqlArgs{ids}
	rows, err := s.pool.Query(ctx, "SELECT "+caseColumns+` FROM "case" c WHERE c.incident_id = ANY($1) AND `+
		scopePath(ctx, "c.region_path", &a)+` ORDER BY c.incident_id, c.reported_at, c.id`, a...)
	if err != nil {
		return nil, fmt.Errorf("load incident cases: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Case, error) { return scanCase(r) })
	if err != nil {
		return nil, fmt.Errorf("load incident cases: %w", err)
	}
	by := make(map[int64][]*Case, len(ids))
	for _, c := range list {
		by[*c.IncidentID] = append(by[*c.IncidentID], c)
	}
	out := make([][]*Case, len(ids))
	for i, id := range ids {
		out[i] = by[id]
		if out[i] == nil {
			out[i] = []*Case{}
		}
	}
	return out, nil
}

// IncidentQueue is the cases written since incident regrouping last took
// them (migration 044), as read: each entry's case and position.
type IncidentQueue struct {
	Cases []int64 // 0: everything (the cases were emptied)
	Seqs  []int64
	// Epoch is incident regrouping's epoch when the queue was read
	// (migration 047): taking the queue advances it from there.
	Epoch int64
}

// Everything reports whether the queue asks for a regrouping of every
// case.
func (q *IncidentQueue) Everything() bool { return slices.Contains(q.Cases, 0) }

// IncidentRegroupQueue returns the queue of cases written since incident
// regrouping last took them, oldest first; a case written twice is named
// twice. Internal work: the context must be Unscoped.
func (s *Store) IncidentRegroupQueue(ctx context.Context) (IncidentQueue, error) {
	var q IncidentQueue
	if _, scoped := scopeOf(ctx); scoped {
		return q, fmt.Errorf("incident regroup queue: a jurisdiction-scoped read cannot regroup the city's incidents")
	}
	if err := checkScope(ctx); err != nil {
		return q, err // reads fail closed (scope.go)
	}
	// The epoch and the queue in one round trip.
	b := &pgx.Batch{}
	queueEpoch(b, IncidentResolutionKind, &q.Epoch)
	queueQuery(b, "incident regroup queue", `SELECT case_id, seq FROM incident_regroup_queue ORDER BY seq`, func(rows pgx.Rows) error {
		var id, seq int64
		_, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error {
			q.Cases, q.Seqs = append(q.Cases, id), append(q.Seqs, seq)
			return nil
		})
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return IncidentQueue{}, fmt.Errorf("incident regroup queue: %w", translate(err))
	}
	return q, nil
}

// TakeIncidentQueue removes from the queue the entries a regrouping read,
// by their positions: an entry committed after the read stays for the
// next regrouping. It fails with ErrStaleResolution when another writer
// advanced incident regrouping's epoch since the queue was read (the
// transaction must then roll back); else it returns the epoch after the
// write, advanced from the queue's when the queue held anything or wrote
// (the regrouping written in the same transaction changed the store).
func (w *Writer) TakeIncidentQueue(ctx context.Context, q IncidentQueue, wrote bool) (int64, error) {
	b := &pgx.Batch{}
	var epoch int64
	var stale bool
	queueAdvance(b, IncidentResolutionKind, q.Epoch, wrote || len(q.Seqs) > 0, &epoch, &stale)
	if len(q.Seqs) > 0 {
		queueExec(b, "incident regroup queue", `DELETE FROM incident_regroup_queue WHERE seq = ANY($1::bigint[])`, nil, q.Seqs)
	}
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("take incident regroup queue: %w", err)
	}
	if stale {
		return 0, fmt.Errorf("take incident regroup queue: %w", ErrStaleResolution)
	}
	return epoch, nil
}

// VacuumIncidentQueue vacuums incident_regroup_queue once a regrouping of
// every case has taken it: after a first load it held a row per case,
// and each later read of the queue would scan their dead rows until
// autovacuum came by.
func (s *Store) VacuumIncidentQueue(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `VACUUM (SKIP_LOCKED) incident_regroup_queue`); err != nil {
		return fmt.Errorf("vacuum the incident regroup queue: %w", err)
	}
	return nil
}

// IncidentCasesByID returns those of the cases ids that have a location,
// as IncidentCases does, in id order (a case deleted or without a
// location is not returned). Internal work: the context must be Unscoped.
func (s *Store) IncidentCasesByID(ctx context.Context, ids []int64) ([]IncidentCase, error) {
	if _, scoped := scopeOf(ctx); scoped {
		return nil, fmt.Errorf("incident cases: a jurisdiction-scoped read cannot regroup the city's incidents")
	}
	rows, err := s.pool.Query(ctx, incidentCaseSelect+` AND id = ANY($1::bigint[]) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("incident cases: %w", err)
	}
	return collectIncidentCases(rows, len(ids))
}

// CaseIncidents returns the incident each of the cases ids is linked to
// now (cases linked to none are left out). Internal work: the context
// must be Unscoped.
func (s *Store) CaseIncidents(ctx context.Context, ids []int64) (map[int64]int64, error) {
	if _, scoped := scopeOf(ctx); scoped {
		return nil, fmt.Errorf("case incidents: a jurisdiction-scoped read cannot regroup the city's incidents")
	}
	out := make(map[int64]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, incident_id FROM "case" WHERE id = ANY($1::bigint[]) AND incident_id IS NOT NULL`, ids)
	if err != nil {
		return nil, fmt.Errorf("case incidents: %w", err)
	}
	var id, inc int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &inc}, func() error {
		out[id] = inc
		return nil
	}); err != nil {
		return nil, fmt.Errorf("case incidents: %w", err)
	}
	return out, nil
}

// IncidentsFirstReported returns the earliest report among the cases the
// incidents ids hold now (zero when they hold none). Internal work: the
// context must be Unscoped.
func (s *Store) IncidentsFirstReported(ctx context.Context, ids []int64) (time.Time, error) {
	if _, scoped := scopeOf(ctx); scoped {
		return time.Time{}, fmt.Errorf("incidents first reported: a jurisdiction-scoped read cannot regroup the city's incidents")
	}
	var first *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT min(reported_at) FROM "case" WHERE incident_id = ANY($1::bigint[])`, ids).Scan(&first); err != nil {
		return time.Time{}, fmt.Errorf("incidents first reported: %w", err)
	}
	if first == nil {
		return time.Time{}, nil
	}
	return *first, nil
}
