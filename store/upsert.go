package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// A staged upsert: rows are COPYed into a temporary staging table, then one
// INSERT … SELECT … ON CONFLICT (source, source_id) DO UPDATE … WHERE the
// payload changed writes them, resolving references (grid codes, persons,
// parent records) by joins. References to records that have not arrived yet
// stay NULL with their source id kept, and fixup statements resolve them
// when the referenced record arrives.

// column is a staging-table column.
type column struct{ name, typ string }

// stagedUpsert describes how one record type is written.
type stagedUpsert struct {
	stage string
	// table is the table the record is written to, named when a batch
	// names a source that does not exist.
	table   string
	columns []column
	// steps run in order over the staged rows: golden person records,
	// the INSERT … SELECT … ON CONFLICT of the record itself, person links,
	// child rows, fixups of references that arrived late.
	steps []string
	// counted is the step whose affected rows are the records written.
	counted int
}

// columnDefs returns the definitions ("name type") and the names of cols.
func columnDefs(cols []column) (defs, names []string) {
	defs, names = make([]string, len(cols)), make([]string, len(cols))
	for i, c := range cols {
		defs[i], names[i] = c.name+" "+c.typ, c.name
	}
	return defs, names
}

// provenanceColumns are the staging columns every record type has.
var provenanceColumns = []column{{"source", "text"}, {"source_id", "text"},
	{"source_updated_at", "timestamptz"}, {"fetched_at", "timestamptz"}, {"payload_hash", "bytea"}}

func provenanceValues(p canon.Provenance) []any {
	return []any{p.Source, p.SourceID, nullTime(p.SourceUpdatedAt), p.FetchedAt, p.PayloadHash}
}

// provenanceSet is the SET list for the provenance columns on conflict.
const provenanceSet = `source_updated_at = EXCLUDED.source_updated_at, fetched_at = EXCLUDED.fetched_at,
	payload_hash = EXCLUDED.payload_hash`

// run stages rows and performs the upsert; rows must be unique on
// (source, source_id).
func (w *Writer) run(ctx context.Context, spec *stagedUpsert, rows [][]any) (UpsertResult, error) {
	var res UpsertResult
	if len(rows) == 0 {
		return res, nil
	}
	defs, names := columnDefs(spec.columns)
	if _, err := w.tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+spec.stage+" ("+strings.Join(defs, ", ")+") ON COMMIT DELETE ROWS"); err != nil {
		return res, fmt.Errorf("create %s: %w", spec.stage, err)
	}
	if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{spec.stage}, names, pgx.CopyFromRows(rows)); err != nil {
		return res, fmt.Errorf("copy into %s: %w", spec.stage, err)
	}
	// The sources the batch names, checked once for the batch: the
	// tables written most (cases, residents, households, person links,
	// members, workers) have no foreign key to source (migrations 023,
	// 041).
	if _, err := w.tx.Exec(ctx, `SELECT hub_refuse_unknown_in($1, 'sources', ARRAY(SELECT DISTINCT s.source FROM `+spec.stage+` s
		WHERE NOT EXISTS (SELECT 1 FROM source x WHERE x.name = s.source)))`, spec.table); err != nil {
		return res, fmt.Errorf("upsert from %s: %w", spec.stage, err)
	}
	for i, sql := range spec.steps {
		tag, err := w.tx.Exec(ctx, sql)
		if err != nil {
			return res, fmt.Errorf("upsert from %s, step %d: %w", spec.stage, i, err)
		}
		if i == spec.counted {
			res.Written = int(tag.RowsAffected())
		}
	}
	res.Unchanged = len(rows) - res.Written
	if _, err := w.tx.Exec(ctx, "TRUNCATE "+spec.stage); err != nil {
		return res, fmt.Errorf("clear %s: %w", spec.stage, err)
	}
	return res, nil
}

// dedupe keeps the last version of each (source, source_id) in a batch:
// one statement may upsert a row only once.
func dedupe[T any](recs []T, key func(*T) canon.Provenance) ([]*T, int) {
	last := make(map[[2]string]int, len(recs))
	for i := range recs {
		p := key(&recs[i])
		last[[2]string{p.Source, p.SourceID}] = i
	}
	out := make([]*T, 0, len(last))
	for i := range recs {
		p := key(&recs[i])
		if last[[2]string{p.Source, p.SourceID}] == i {
			out = append(out, &recs[i])
		}
	}
	return out, len(recs) - len(out)
}

func nullDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.DateOnly)
}

func locationValues(l *canon.Location) []any {
	if l == nil {
		return []any{nil, nil, nil, nil, nil}
	}
	if l.OrigDatum == "" { // no original kept: the point was WGS-84 already
		return []any{l.Lat, l.Lng, nil, nil, nil}
	}
	return []any{l.Lat, l.Lng, l.Orig.Lat, l.Orig.Lng, string(l.OrigDatum)}
}

var locationColumns = []column{{"lat", "float8"}, {"lng", "float8"}, {"orig_lat", "float8"}, {"orig_lng", "float8"}, {"orig_datum", "text"}}

// personColumns stage a PersonRef beside a record.
var personColumns = []column{{"id_hash", "bytea"}, {"id_masked", "text"}, {"id_sealed", "bytea"},
	{"name", "text"}, {"name_masked", "text"}, {"gender", "text"}, {"birth_date", "date"}, {"phone_hash", "bytea"},
	{"phone_masked", "text"}, {"phone_sealed", "bytea"}, {"person_address", "text"}}

// personValues stages a PersonRef; nil (a case without a reporter) stages
// nothing. A reference without a valid ID is staged without its hash: its
// record gets a person of its own (personOf).
func personValues(p *canon.PersonRef) []any {
	if p == nil || (len(p.IDHash) == 0 && p.Name == "") {
		return []any{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}
	}
	var gender any
	if p.Gender != "" {
		gender = string(p.Gender)
	}
	var idHash, idMasked any
	if len(p.IDHash) > 0 {
		idHash, idMasked = p.IDHash, p.IDMasked
	}
	return []any{idHash, idMasked, p.IDSealed, p.Name, p.NameMasked, gender, nullDate(p.BirthDate), p.PhoneHash,
		nullable(p.PhoneMasked), p.PhoneSealed, p.Address}
}

// upsertPersonsSQL creates or refreshes the golden person records named by
// the valid ID hashes of a staging table. The newest source record wins for
// name and phone; a value a source leaves empty never erases a known one.
// Entity resolution (package resolve) later rewrites the golden record of
// a person whose records it linked.
//
// A staged record that would change nothing of its person leaves before
// the INSERT, looked up by one index probe (a scalar subquery, never turned
// into a join over the whole table): ON CONFLICT DO UPDATE locks the row it
// meets before its WHERE refuses the update, and a lock is a write — the
// tuple's xmax, a WAL record, a full-page image after a checkpoint. The
// reports of a city's governance events name some 3,000 grid workers again
// and again; locking them batch after batch wrote 380 MB of WAL in a first
// load for 839 persons changed.
func upsertPersonsSQL(stage string) string {
	return `INSERT INTO person (id_hash, id_masked, id_sealed, name, name_masked, gender, birth_date,
			phone_hash, phone_masked, phone_sealed)
		SELECT s.id_hash, s.id_masked, s.id_sealed, s.name, s.name_masked, s.gender, s.birth_date,
			s.phone_hash, s.phone_masked, s.phone_sealed
		FROM (SELECT DISTINCT ON (id_hash) id_hash, id_masked, id_sealed, coalesce(name, '') AS name,
				coalesce(name_masked, '') AS name_masked, gender, birth_date, phone_hash, phone_masked, phone_sealed
			FROM ` + stage + ` WHERE id_hash IS NOT NULL
			ORDER BY id_hash, source_updated_at DESC NULLS LAST) s
		WHERE coalesce((SELECT ` + personChanged("p", "s") + ` FROM person p WHERE p.id_hash = s.id_hash), true)
		ON CONFLICT (id_hash) DO UPDATE SET
			name = coalesce(nullif(EXCLUDED.name, ''), person.name),
			name_masked = coalesce(nullif(EXCLUDED.name_masked, ''), person.name_masked),
			id_sealed = coalesce(person.id_sealed, EXCLUDED.id_sealed),
			gender = coalesce(EXCLUDED.gender, person.gender),
			birth_date = coalesce(EXCLUDED.birth_date, person.birth_date),
			phone_hash = coalesce(EXCLUDED.phone_hash, person.phone_hash),
			phone_masked = ` + newPhone("person", "EXCLUDED", "phone_masked") + `,
			phone_sealed = ` + newPhone("person", "EXCLUDED", "phone_sealed") + `,
			updated_at = now()
		WHERE ` + personChanged("person", "EXCLUDED")
}

// personChanged holds when the staged record x would change person p
// (upsertPersonsSQL): its name or phone, or a sealed ID or phone p lacks.
func personChanged(p, x string) string {
	return `(` + p + `.name, ` + p + `.phone_hash, ` + p + `.id_sealed IS NULL, ` + p + `.phone_sealed IS NULL)
			IS DISTINCT FROM (coalesce(nullif(` + x + `.name, ''), ` + p + `.name),
				coalesce(` + x + `.phone_hash, ` + p + `.phone_hash),
				` + p + `.id_sealed IS NULL AND ` + x + `.id_sealed IS NULL,
				` + newPhone(p, x, "phone_sealed") + ` IS NULL)`
}

// newPhone is person p's phone column (masked or sealed) after an upsert
// of staged record x: x's where it names another phone (by hash) or p has
// none sealed, else p's own. A sealed value differs at every sealing (its
// nonce is random), so comparing sealed values would rewrite a person
// whenever a record named it again.
func newPhone(p, x, col string) string {
	return `CASE WHEN ` + x + `.phone_hash IS NOT NULL AND (` + x + `.phone_hash IS DISTINCT FROM ` + p + `.phone_hash
			OR ` + p + `.phone_sealed IS NULL) THEN ` + x + `.` + col + ` ELSE ` + p + `.` + col + ` END`
}

// upsertRecordPersonsSQL creates or refreshes the person of each staged
// record without a valid ID (record_key): the record's own person until
// entity resolution links it to others (it is then merged, and personOf
// follows merged_into to the survivor).
func upsertRecordPersonsSQL(stage, role string) string {
	return `INSERT INTO person (record_key, name, name_masked, gender, birth_date, phone_hash, phone_masked, phone_sealed)
		SELECT s.source || '/` + role + `/' || s.source_id, s.name, coalesce(s.name_masked, ''), s.gender, s.birth_date,
			s.phone_hash, s.phone_masked, s.phone_sealed
		FROM ` + stage + ` s WHERE s.id_hash IS NULL AND s.name IS NOT NULL
		ON CONFLICT (record_key) DO UPDATE SET name = EXCLUDED.name, name_masked = EXCLUDED.name_masked,
			gender = EXCLUDED.gender, birth_date = EXCLUDED.birth_date, phone_hash = EXCLUDED.phone_hash,
			phone_masked = EXCLUDED.phone_masked,
			phone_sealed = CASE WHEN EXCLUDED.phone_hash IS NOT DISTINCT FROM person.phone_hash
				THEN person.phone_sealed ELSE EXCLUDED.phone_sealed END, updated_at = now()
		WHERE (person.name, person.gender, person.birth_date, person.phone_hash)
			IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.gender, EXCLUDED.birth_date, EXCLUDED.phone_hash)`
}

// personOf joins the golden person of a staged row as p: the person of its
// valid ID hash, else the person of the record itself (record_key), in
// both cases the survivor it was merged into, if any; rows that name
// nobody (a case without a reporter) are left out. One index probe per
// staged row: a LATERAL subquery with LIMIT is never flattened into a
// join, so the plan cannot turn into a hash join over the whole person
// table (during a load it grows far faster than its statistics, and a plan
// that scans it once per batch makes a load quadratic in its size).
func personOf(role string) string {
	return `CROSS JOIN LATERAL (SELECT coalesce(merged_into, id) AS id FROM person WHERE id_hash = s.id_hash
		UNION ALL SELECT coalesce(merged_into, id) FROM person
			WHERE s.id_hash IS NULL AND record_key = s.source || '/` + role + `/' || s.source_id
		LIMIT 1) p`
}

// personLinkSQL records which source record stands for which person, with
// the fields entity resolution compares. A record linked by its valid ID
// is matched by ID_HASH; one without stays with its own person (NONE)
// until entity resolution links it, and keeps what resolution decided
// when it changes.
func personLinkSQL(stage, role string) string {
	return `INSERT INTO person_link (person_id, role, matched_by, name, phone_hash, id_hash, gender, birth_date, address,
			source, source_id, source_updated_at, fetched_at, payload_hash)
		SELECT p.id, '` + role + `', CASE WHEN s.id_hash IS NULL THEN 'NONE' ELSE 'ID_HASH' END, coalesce(s.name, ''),
			s.phone_hash, s.id_hash, s.gender, s.birth_date, coalesce(s.person_address, ''),
			s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
		FROM ` + stage + ` s ` + personOf(role) + `
		ON CONFLICT (source, role, source_id) DO UPDATE SET person_id = EXCLUDED.person_id, name = EXCLUDED.name,
			phone_hash = EXCLUDED.phone_hash, id_hash = EXCLUDED.id_hash, gender = EXCLUDED.gender,
			birth_date = EXCLUDED.birth_date, address = EXCLUDED.address,
			matched_by = CASE WHEN EXCLUDED.id_hash IS NOT NULL THEN 'ID_HASH'
				WHEN person_link.id_hash IS NOT NULL THEN 'NONE' ELSE person_link.matched_by END, ` + provenanceSet + `
		WHERE person_link.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash`
}
