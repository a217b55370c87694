package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"github.com/ywtg/hub/canon"
)

// Writer writes canonical records inside one transaction. Everything a
// Writer does commits or rolls back together, which is how a batch and the
// cursor that follows it stay consistent.
type Writer struct {
	tx pgx.Tx
}

// InTx runs fn in a transaction and commits when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(w *Writer) error) error {
	return translate(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{BeginQuery: s.writeBegin}, func(tx pgx.Tx) error { return fn(&Writer{tx: tx}) }))
}

// InDerivedTx is InTx for a write of derived data the hub computes again
// from the store (entity resolution's persons and incidents, with the
// queue entries it took): its commit does not wait for the write-ahead
// log to reach the disk (synchronous_commit off, for this transaction
// only). A crash may lose the last such transactions, each whole, never
// part of one: what they took from a queue is queued again, and a hub
// started again resolves everything. The commit of an incremental person
// resolution waited 0.6–3 ms for the flush; it now takes 0.1 ms.
//
// Its statements have room in memory (work_mem, for this transaction
// only): a city's first person resolution updates some 200,000 rows a
// statement, and with the server's default 4 MB their hash joins and the
// transition tables of the triggers on the rows updated (old and new
// rows) went to temporary files: 690 MB written and read back by the
// golden records, merges and relinks of the city's first resolution.
func (s *Store) InDerivedTx(ctx context.Context, fn func(w *Writer) error) error {
	begin := s.writeBegin
	if begin == "" {
		begin = "BEGIN"
	}
	return translate(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{BeginQuery: begin + "; SET LOCAL synchronous_commit = off; SET LOCAL work_mem = '128MB'"},
		func(tx pgx.Tx) error { return fn(&Writer{tx: tx}) }))
}

// UpsertSource registers a source system or updates its description.
func (w *Writer) UpsertSource(ctx context.Context, src canon.Source) error {
	_, err := w.tx.Exec(ctx, `INSERT INTO source (name, kind, description) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, description = EXCLUDED.description, updated_at = now()
		WHERE (source.kind, source.description) IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.description)`,
		src.Name, string(src.Kind), src.Description)
	if err != nil {
		return fmt.Errorf("upsert source %s: %w", src.Name, err)
	}
	return nil
}

// UpsertTaxonomy loads the unified taxonomy and how source codes map onto
// it, as the hub does at start.
func (w *Writer) UpsertTaxonomy(ctx context.Context, cats []canon.Category, ms []canon.CategoryMapping) error {
	if err := w.UpsertCategories(ctx, cats); err != nil {
		return err
	}
	return w.UpsertCategoryMappings(ctx, ms)
}

// UpsertCategories loads the unified taxonomy, parents before children.
func (w *Writer) UpsertCategories(ctx context.Context, cats []canon.Category) error {
	sorted := append([]canon.Category(nil), cats...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Level < sorted[j].Level })
	b := &pgx.Batch{}
	for _, c := range sorted {
		b.Queue(`INSERT INTO category (code, name, parent_code, kind, level) VALUES ($1, $2, nullif($3, ''), $4, $5)
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, parent_code = EXCLUDED.parent_code,
				kind = EXCLUDED.kind, level = EXCLUDED.level`,
			c.Code, c.Name, c.ParentCode, string(c.Kind), c.Level)
	}
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("upsert categories: %w", err)
	}
	return nil
}

// UpsertRegions loads the reference layer. Parents must be present in the
// same call or already stored. Cases keep their copy of a grid's path in step.
func (w *Writer) UpsertRegions(ctx context.Context, regions []canon.Region) error {
	byLevel := make([][]canon.Region, len(canon.RegionLevels))
	for _, r := range regions {
		d := r.Level.Depth()
		if d < 0 {
			return canon.Errorf(canon.BadUserInput, "region %s: unknown level %q", r.Code, r.Level)
		}
		byLevel[d] = append(byLevel[d], r)
	}
	for d, level := range byLevel {
		if len(level) == 0 {
			continue
		}
		n := len(level)
		codes, names, parents := make([]string, n), make([]string, n), make([]string, n)
		bounds := make([]*string, n)
		clat, clng := make([]*float64, n), make([]*float64, n)
		minLat, minLng, maxLat, maxLng := make([]*float64, n), make([]*float64, n), make([]*float64, n), make([]*float64, n)
		for i, r := range level {
			codes[i], names[i], parents[i] = r.Code, r.Name, r.ParentCode
			if r.Boundary != nil {
				js, err := json.Marshal(geojson.NewGeometry(r.Boundary))
				if err != nil {
					return fmt.Errorf("region %s: encode boundary: %w", r.Code, err)
				}
				s := string(js)
				bounds[i] = &s
				b := r.Boundary.Bound()
				minLat[i], minLng[i], maxLat[i], maxLng[i] = &b.Min[1], &b.Min[0], &b.Max[1], &b.Max[0]
			}
			c := r.Centroid
			if c == nil && r.Boundary != nil {
				p, _ := planar.CentroidArea(r.Boundary)
				c = &canon.Point{Lat: p[1], Lng: p[0]}
			}
			if c != nil {
				clat[i], clng[i] = &c.Lat, &c.Lng
			}
		}
		level := string(canon.RegionLevels[d])
		tag, err := w.tx.Exec(ctx, `INSERT INTO region (code, name, level, parent_id, path, boundary,
				centroid_lat, centroid_lng, min_lat, min_lng, max_lat, max_lng)
			SELECT u.code, u.name, $3, p.id, '', u.boundary::jsonb, u.clat, u.clng, u.minlat, u.minlng, u.maxlat, u.maxlng
			FROM unnest($1::text[], $2::text[], $4::text[], $5::text[], $6::float8[], $7::float8[],
			            $8::float8[], $9::float8[], $10::float8[], $11::float8[])
			     AS u(code, name, parent, boundary, clat, clng, minlat, minlng, maxlat, maxlng)
			LEFT JOIN region p ON p.code = u.parent
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
				parent_id = EXCLUDED.parent_id, boundary = EXCLUDED.boundary,
				centroid_lat = EXCLUDED.centroid_lat, centroid_lng = EXCLUDED.centroid_lng,
				min_lat = EXCLUDED.min_lat, min_lng = EXCLUDED.min_lng,
				max_lat = EXCLUDED.max_lat, max_lng = EXCLUDED.max_lng, updated_at = now()`,
			codes, names, level, parents, bounds, clat, clng, minLat, minLng, maxLat, maxLng)
		if err != nil {
			return fmt.Errorf("upsert %s regions: %w", level, err)
		}
		if int(tag.RowsAffected()) != n {
			return fmt.Errorf("upsert %s regions: %d of %d rows written (duplicate codes?)", level, tag.RowsAffected(), n)
		}
		var orphans []string
		rows, err := w.tx.Query(ctx, `SELECT r.code FROM region r WHERE r.code = ANY($1) AND r.parent_id IS NULL AND $2 <> 'CITY'`, codes, level)
		if err == nil {
			orphans, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			return fmt.Errorf("check %s region parents: %w", level, err)
		}
		if len(orphans) > 0 {
			return canon.Errorf(canon.BadUserInput, "%d %s regions name no known parent (first: %s)", len(orphans), level, orphans[0])
		}
		if _, err := w.tx.Exec(ctx, `UPDATE region r SET path = CASE WHEN p.id IS NULL THEN r.id::text::ltree
				ELSE p.path || r.id::text END
			FROM region r2 LEFT JOIN region p ON p.id = r2.parent_id
			WHERE r2.id = r.id AND r.code = ANY($1)`, codes); err != nil {
			return fmt.Errorf("set %s region paths: %w", level, err)
		}
	}
	if _, err := w.tx.Exec(ctx, `UPDATE "case" c SET region_path = g.path FROM region g
		WHERE c.grid_id = g.id AND c.region_path IS DISTINCT FROM g.path`); err != nil {
		return fmt.Errorf("refresh case region paths: %w", err)
	}
	// The loads join every record to its grid by code. Without statistics
	// (a first start: autovacuum analyzes a table only once it has seen it
	// change, a minute or more later) the planner guessed nine grids and
	// joined residents to them in a nested loop, comparing each resident
	// with every grid: 2.2M comparisons for the medium city's 5,452
	// residents of one batch, 283 of the statement's 531 ms.
	if _, err := w.tx.Exec(ctx, `ANALYZE region`); err != nil {
		return fmt.Errorf("analyze regions: %w", err)
	}
	return nil
}

// drawIDs takes n values of the identity sequence of table's id, for rows
// a statement then inserts with them (OVERRIDING SYSTEM VALUE): each row's
// ID is known before it is written.
func (w *Writer) drawIDs(ctx context.Context, table string, n int) ([]int64, error) {
	rows, err := w.tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, table, n)
	if err != nil {
		return nil, fmt.Errorf("draw %d ids of %s: %w", n, table, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("draw %d ids of %s: %w", n, table, err)
	}
	return ids, nil
}

// UpsertResult counts what a bulk upsert did.
type UpsertResult struct {
	Written   int // inserted or changed
	Unchanged int // same payload as stored (including duplicates in the batch)
}

// appendTimeline appends a case's timeline as stored in "case".timeline:
// a JSON array of its steps in order, each an object with the members
// "at" (RFC 3339 with the step's offset), "status", "tier",
// "source_status", "actor" and "note" — what encoding/json writes of
// them, written without reflection: json.Marshal of the steps took 5.7 µs
// a case, a twentieth of a first load's client time at city scale.
func appendTimeline(b []byte, tl []canon.CaseEvent) ([]byte, error) {
	b = append(b, '[')
	for i, e := range tl {
		if y := e.At.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("step %d: time %v outside the years 0–9999", i, e.At)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"at":"`...)
		b = e.At.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","status":`...)
		b = appendJSONString(b, string(e.Status))
		b = append(b, `,"tier":`...)
		b = appendJSONString(b, string(e.Tier))
		b = append(b, `,"source_status":`...)
		b = appendJSONString(b, e.SourceStatus)
		b = append(b, `,"actor":`...)
		b = appendJSONString(b, e.Actor)
		b = append(b, `,"note":`...)
		b = appendJSONString(b, e.Note)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, bytes that are not UTF-8 replaced by U+FFFD,
// as encoding/json does (the store parses the text as jsonb, so the
// escapes encoding/json adds for HTML make no difference there).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	valid := utf8.ValidString(s) // then bytes above ASCII pass as they are
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf && valid {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(append(b, s[start:i]...), `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

var caseSpec = &stagedUpsert{
	stage: "case_stage",
	table: "case",
	columns: append(append([]column{{"kind", "text"}, {"category_code", "text"}, {"source_category_code", "text"},
		{"source_category_name", "text"}, {"title", "text"}, {"description", "text"}, {"search_grams", "int4[]"}, {"status", "text"},
		{"source_status", "text"}, {"tier", "text"}, {"grid_code", "text"}, {"lat", "float8"}, {"lng", "float8"},
		{"orig_lat", "float8"}, {"orig_lng", "float8"}, {"orig_datum", "text"}, {"address", "text"},
		{"reported_at", "timestamptz"}, {"updated_at", "timestamptz"}, {"due_at", "timestamptz"},
		{"closed_at", "timestamptz"}, {"assignee_dept", "text"}, {"timeline", "jsonb"},
		{"progress_filed", "bool"}, {"progress_dispatched", "bool"}, {"progress_resolved_at", "timestamptz"},
		{"progress_closed_at", "timestamptz"}, {"progress_reworks", "int4"}, {"progress_deferred", "bool"}}, personColumns...),
		provenanceColumns...),
	steps: []string{
		upsertPersonsSQL("case_stage"),
		upsertRecordPersonsSQL("case_stage", "REPORTER"),
		personLinkSQL("case_stage", "REPORTER"),
		reporterGoneSQL,
		caseReferencesSQL,
		caseWriteSQL(caseUpdate),
	},
	counted: 5,
}

// reporterGoneSQL unlinks the reporter of a staged case that names none
// any more: a case's reporter is its REPORTER link (person_link), so the
// link goes when the source drops the reporter.
const reporterGoneSQL = `DELETE FROM person_link l USING case_stage s
	WHERE s.id_hash IS NULL AND s.name IS NULL
		AND l.source = s.source AND l.role = 'REPORTER' AND l.source_id = s.source_id`

// caseReferencesSQL checks the categories the staged cases name, once for
// the batch: "case" has no foreign key to them (migration 023), and a batch
// naming one that does not exist fails as it did on it. Its sources are
// checked for every staged batch (Writer.run); grids and reporters need no
// check: the write takes them by joins.
const caseReferencesSQL = `SELECT hub_refuse_unknown_in('case', 'categories', ARRAY(SELECT DISTINCT s.category_code FROM case_stage s
		WHERE s.category_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM category c WHERE c.code = s.category_code)))`

// caseWriteSQL is the statement writing the staged cases, with their
// timelines, into "case", with onConflict saying what becomes of a case the
// store already holds.
func caseWriteSQL(onConflict string) string {
	return `INSERT INTO "case" (kind, category_code, source_category_code, source_category_name, title, description,
			search_grams, status, source_status, tier, grid_id, region_path, lat, lng, orig_lat, orig_lng, orig_datum, address,
			reported_at, updated_at, due_at, closed_at, assignee_dept, timeline,
			progress_filed, progress_dispatched, progress_resolved_at, progress_closed_at, progress_reworks, progress_deferred,
			source, source_id, source_updated_at, fetched_at, payload_hash)
		SELECT s.kind, s.category_code, s.source_category_code, s.source_category_name, s.title,
			s.description, s.search_grams, s.status, s.source_status, s.tier, g.id, g.path, s.lat, s.lng, s.orig_lat,
			s.orig_lng, s.orig_datum, s.address, s.reported_at, s.updated_at, s.due_at, s.closed_at,
			s.assignee_dept, s.timeline, s.progress_filed, s.progress_dispatched, s.progress_resolved_at,
			s.progress_closed_at, s.progress_reworks, s.progress_deferred, s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
		FROM case_stage s LEFT JOIN region g ON g.code = s.grid_code AND g.level = 'GRID'
		` + onConflict
}

// caseUpdate rewrites a held case whose payload (or grid) changed.
const caseUpdate = `ON CONFLICT (source, source_id) DO UPDATE SET kind = EXCLUDED.kind,
				category_code = EXCLUDED.category_code, source_category_code = EXCLUDED.source_category_code,
				source_category_name = EXCLUDED.source_category_name, title = EXCLUDED.title,
				description = EXCLUDED.description, search_grams = EXCLUDED.search_grams, status = EXCLUDED.status,
				source_status = EXCLUDED.source_status, tier = EXCLUDED.tier, grid_id = EXCLUDED.grid_id,
				region_path = EXCLUDED.region_path, lat = EXCLUDED.lat, lng = EXCLUDED.lng,
				orig_lat = EXCLUDED.orig_lat, orig_lng = EXCLUDED.orig_lng, orig_datum = EXCLUDED.orig_datum,
				address = EXCLUDED.address, reported_at = EXCLUDED.reported_at,
				updated_at = EXCLUDED.updated_at, due_at = EXCLUDED.due_at, closed_at = EXCLUDED.closed_at,
				assignee_dept = EXCLUDED.assignee_dept, timeline = EXCLUDED.timeline,
				progress_filed = EXCLUDED.progress_filed, progress_dispatched = EXCLUDED.progress_dispatched,
				progress_resolved_at = EXCLUDED.progress_resolved_at, progress_closed_at = EXCLUDED.progress_closed_at,
				progress_reworks = EXCLUDED.progress_reworks, progress_deferred = EXCLUDED.progress_deferred, ` + provenanceSet + `
			WHERE ("case".payload_hash, "case".grid_id) IS DISTINCT FROM (EXCLUDED.payload_hash, EXCLUDED.grid_id)
				AND ` + caseContentChanged

// caseContentChanged holds when a staged case would change what the
// store holds of it, not only the payload it came from: the same case
// delivered by its live channel and its history export (two formats, two
// payload hashes, one mapping) is written once. A rewrite costs a new row
// version, an entry in each of the case's indexes (dozens in the trigram
// index) and the change triggers; the provenance then stays that of the
// payload first stored, which gives the same canonical values.
const caseContentChanged = `("case".kind, "case".category_code, "case".source_category_code, "case".source_category_name,
				"case".title, "case".description, "case".status, "case".source_status, "case".tier, "case".grid_id,
				"case".lat, "case".lng, "case".orig_lat, "case".orig_lng, "case".orig_datum, "case".address,
				"case".reported_at, "case".updated_at, "case".due_at, "case".closed_at, "case".assignee_dept, "case".timeline)
			IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.category_code, EXCLUDED.source_category_code, EXCLUDED.source_category_name,
				EXCLUDED.title, EXCLUDED.description, EXCLUDED.status, EXCLUDED.source_status, EXCLUDED.tier, EXCLUDED.grid_id,
				EXCLUDED.lat, EXCLUDED.lng, EXCLUDED.orig_lat, EXCLUDED.orig_lng, EXCLUDED.orig_datum, EXCLUDED.address,
				EXCLUDED.reported_at, EXCLUDED.updated_at, EXCLUDED.due_at, EXCLUDED.closed_at, EXCLUDED.assignee_dept, EXCLUDED.timeline)`

// caseBackfillSpec is caseSpec for a backfilling channel: a case the store
// holds is left as it is.
var caseBackfillSpec = func() *stagedUpsert {
	spec := *caseSpec
	// The cases the store holds leave the batch first, so that neither
	// their reporters' persons and links nor the cases themselves are
	// touched: a held case is the live channel's, reporter included.
	spec.steps = append([]string{`DELETE FROM case_stage s USING "case" c WHERE c.source = s.source AND c.source_id = s.source_id`},
		slices.DeleteFunc(slices.Clone(caseSpec.steps), func(s string) bool { return s == reporterGoneSQL })...)
	spec.counted = len(spec.steps) - 1
	spec.steps[spec.counted] = caseWriteSQL(`ON CONFLICT (source, source_id) DO NOTHING`)
	return &spec
}()

// sourceKeys is the source ids of $2 as rows k(id), to join a table's
// rows by (source, source_id) with: "source_id = ANY($2)" is compared
// with every element of the array for each row a plan reads, and the
// generic plan a prepared statement settles on, with the statistics a
// first load leaves, reads the whole table: the history export's lookup
// of 6,000 cases among the medium city's 100,000 took up to 5.4 s so
// (0.1 s as a join, whatever the plan), a stall of 20 s of the export's
// pass in some first loads.
const sourceKeys = `unnest($2::text[]) AS k(id)`

// UpsertCases bulk-loads cases with their timelines and reporters: only
// rows whose payload (or grid) changed are rewritten, timeline included.
func (w *Writer) UpsertCases(ctx context.Context, cases []canon.Case) (UpsertResult, error) {
	return w.writeCases(ctx, caseSpec, cases)
}

// BackfillCases stores cases a second channel of their source delivers
// (connectors.Description.Backfills): a case is written only where the
// store holds none under its (source, source_id), so what the live channel
// stored is never overwritten; the others count as unchanged.
func (w *Writer) BackfillCases(ctx context.Context, cases []canon.Case) (UpsertResult, error) {
	// The cases the store holds leave before they are staged: a history
	// export re-delivers mostly what the live channel stored (54k of the
	// medium city's 55k archived cases), and staging them (each timeline
	// parsed as jsonb) to delete them again cost more than the index
	// probes that find them held (about 2.2 s against 1.3 s for the 54k).
	// The staged write drops those held by now again (caseBackfillSpec).
	bySource := map[string][]string{}
	for i := range cases {
		bySource[cases[i].Source] = append(bySource[cases[i].Source], cases[i].SourceID)
	}
	held := map[[2]string]bool{}
	for source, ids := range bySource {
		// A join of the keys (sourceKeys), not "source_id = ANY($2)".
		rows, err := w.tx.Query(ctx, `SELECT c.source_id FROM `+sourceKeys+` JOIN "case" c ON c.source = $1 AND c.source_id = k.id`, source, ids)
		if err != nil {
			return UpsertResult{}, fmt.Errorf("backfill cases of %s: %w", source, err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return UpsertResult{}, fmt.Errorf("backfill cases of %s: %w", source, err)
		}
		for _, id := range got {
			held[[2]string{source, id}] = true
		}
	}
	rest := make([]canon.Case, 0, len(cases)-len(held))
	for i := range cases {
		if !held[[2]string{cases[i].Source, cases[i].SourceID}] {
			rest = append(rest, cases[i])
		}
	}
	res, err := w.writeCases(ctx, caseBackfillSpec, rest)
	res.Unchanged += len(cases) - len(rest)
	return res, err
}

// PrepareBackfill vacuums "case" (a vacuum of it already running is left
// to finish on its own) so that the pages a load has just filled are
// marked all-visible: BackfillCases asks which of a batch's cases the store
// holds by the (source, source_id) index, and on a page not marked so
// every case found there is also read from its heap page. A city's
// history export re-delivers 596k of the cases its live channel has just
// loaded: their probes took 14.7 s, and 2.4 s after a vacuum of 1.9 s.
// The vacuum (never in a transaction) runs without the pool's statement
// timeout, on a session of its own.
func (s *Store) PrepareBackfill(ctx context.Context) error {
	return s.withoutTimeout(ctx, "prepare the backfill", func(conn *pgxpool.Conn) error {
		if _, err := conn.Exec(ctx, `VACUUM (SKIP_LOCKED) "case"`); err != nil {
			return fmt.Errorf("prepare the backfill: %w", err)
		}
		return nil
	})
}

// Backfill is BackfillCases for a batch of records, which must all be
// cases: backfilling channels deliver cases only.
func (w *Writer) Backfill(ctx context.Context, records []any) (UpsertResult, error) {
	cases := make([]canon.Case, 0, len(records))
	for _, r := range records {
		c, ok := r.(*canon.Case)
		if !ok {
			return UpsertResult{}, fmt.Errorf("backfill: unsupported record type %T (cases only)", r)
		}
		cases = append(cases, *c)
	}
	return w.BackfillCases(ctx, cases)
}

func (w *Writer) writeCases(ctx context.Context, spec *stagedUpsert, cases []canon.Case) (UpsertResult, error) {
	list, dups := dedupe(cases, func(c *canon.Case) canon.Provenance { return c.Provenance })
	rows := make([][]any, len(list))
	for i, c := range list {
		tl, err := appendTimeline(make([]byte, 0, 16+192*len(c.Timeline)), c.Timeline)
		if err != nil {
			return UpsertResult{}, fmt.Errorf("encode timeline of %s/%s: %w", c.Source, c.SourceID, err)
		}
		row := append([]any{string(c.Kind), nullable(c.CategoryCode), c.SourceCategory.Code, c.SourceCategory.Name,
			c.Title, c.Description, searchGrams(searchText(c.Title, c.Description)), string(c.Status), c.SourceStatus, string(c.Tier), nullable(c.GridCode)},
			locationValues(c.Location)...)
		row = append(row, c.Address, c.ReportedAt, c.UpdatedAt, c.DueAt, c.ClosedAt, c.AssigneeDept, tl)
		row = append(row, progressValues(c.Timeline)...)
		row = append(row, personValues(c.Reporter)...)
		rows[i] = append(row, provenanceValues(c.Provenance)...)
	}
	res, err := w.run(ctx, spec, rows)
	res.Unchanged += dups
	return res, err
}

// progressValues is the timeline summary of a case (its progress_
// columns, what the indicators read of a case unchanged since the
// evaluation instant): filed and dispatched (a step of either set),
// the last RESOLVED and CLOSED steps, the REOPENED steps counted, and
// whether it was deferred; all NULL for a case without a timeline.
func progressValues(tl []canon.CaseEvent) []any {
	if len(tl) == 0 {
		return []any{nil, nil, nil, nil, nil, nil}
	}
	var filed, dispatched, deferred bool
	var resolved, closed *time.Time
	reworks := int32(0)
	latest := func(t **time.Time, at time.Time) {
		if *t == nil || at.After(**t) {
			*t = &at
		}
	}
	for _, e := range tl {
		filed = filed || slices.Contains(filedSteps, e.Status)
		dispatched = dispatched || slices.Contains(dispatchedSteps, e.Status)
		switch e.Status {
		case canon.StatusResolved:
			latest(&resolved, e.At)
		case canon.StatusClosed:
			latest(&closed, e.At)
		case canon.StatusReopened:
			reworks++
		case canon.StatusDeferred:
			deferred = true
		}
	}
	return []any{filed, dispatched, resolved, closed, reworks, deferred}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// UpsertCategoryMappings records how source codes map onto the taxonomy.
func (w *Writer) UpsertCategoryMappings(ctx context.Context, ms []canon.CategoryMapping) error {
	b := &pgx.Batch{}
	for _, m := range ms {
		b.Queue(`INSERT INTO category_mapping (system, source_code, source_name, category_code) VALUES ($1, $2, $3, $4)
			ON CONFLICT (system, source_code) DO UPDATE SET source_name = EXCLUDED.source_name, category_code = EXCLUDED.category_code`,
			m.System, m.SourceCode, m.SourceName, m.CategoryCode)
	}
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("upsert category mappings: %w", err)
	}
	return nil
}
