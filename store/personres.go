package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PersonLink is one source record of a person as entity resolution reads
// it (person_link with the dwelling its record says).
type PersonLink struct {
	ID       int64  // the person_link row
	Key      string // "source/ROLE/source_id"
	Role     string
	PersonID int64 // the person the record stands for now
	// MatchedBy is how it was matched to it (ID_HASH, PROBABILISTIC,
	// DECISION, NONE).
	MatchedBy string
	// OwnID is the person of the record's valid ID hash, else the person
	// made for the record itself: the person it stands for when linked to
	// nothing.
	OwnID     int64
	IDHash    []byte
	Name      string
	Gender    string // MALE, FEMALE, "" unknown
	Birth     *time.Time
	PhoneHash []byte
	// BuildingID is the building of the record's dwelling as the store
	// knows it (a resident's household, a party member's linked home).
	BuildingID *int64
	Address    string // the dwelling as the record states it
	Updated    time.Time
}

// PersonLinks returns every source record of a person, in no order
// (internal work: a jurisdiction-scoped context is refused).
func (s *Store) PersonLinks(ctx context.Context) ([]PersonLink, error) {
	return s.personLinks(ctx, nil, nil)
}

// PersonLinksOf returns the source records of persons with the given keys
// that exist, by key. known holds, by key, what the caller knows of a
// record's own person (PersonLink.OwnID) and the record's valid ID hash
// (nil: none) then: the person of an ID hash, or of a record without one
// (its key's), is never replaced, so while the record's ID hash is the
// same its own person is taken from there instead of looked up. A known
// person_link row (KnownOwn.Link) is read by its primary key while it
// still holds the record; else the record is found by its key.
func (s *Store) PersonLinksOf(ctx context.Context, keys []string, known map[string]KnownOwn) ([]PersonLink, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	return s.personLinks(ctx, keys, known)
}

// KnownOwn is the own person of a record as a caller holds it, with the
// record's valid ID hash then (nil: none), and the person_link row it
// was read from (PersonLink.ID; 0: unknown).
type KnownOwn struct {
	IDHash []byte
	Own    int64
	Link   int64
}

func (s *Store) personLinks(ctx context.Context, keys []string, known map[string]KnownOwn) ([]PersonLink, error) {
	if _, scoped := scopeOf(ctx); scoped {
		return nil, fmt.Errorf("person links: a jurisdiction-scoped read cannot resolve the city's persons")
	}
	var (
		rows pgx.Rows
		err  error
		size = len(keys)
	)
	if keys == nil {
		// The planner's count, current after RefreshPersonStatistics:
		// only the slice's first capacity.
		if size, err = s.plannedRows(ctx, "person_link"); err != nil {
			return nil, fmt.Errorf("person links: %w", err)
		}
		// Every record: joins, which the planner hashes. With the server's
		// default work_mem (4 MB) a city's hash tables (about 100 MB for a
		// million records) were split into batches spilled to disk, and
		// the spilling plan spread over parallel workers: 7.7 s in three
		// processes, against 4.3-4.6 s in one with room for the tables.
		var tx wholeRead
		tx, err = s.beginWholeRead(ctx, "SET LOCAL work_mem = '256MB'")
		if err != nil {
			return nil, fmt.Errorf("person links: %w", err)
		}
		defer tx.Rollback(ctx)
		// The dwelling's building is a resident's household's, a party
		// member's linked home.
		rows, err = tx.Query(ctx, `SELECT l.id, l.source || '/' || l.role || '/' || l.source_id, l.role, l.person_id, l.matched_by,
				coalesce(pi.id, pr.id, l.person_id), l.id_hash, l.name, coalesce(l.gender, ''), l.birth_date, l.phone_hash,
				coalesce(h.building_id, b.building_id), l.address, coalesce(l.source_updated_at, l.fetched_at)
			FROM person_link l
			LEFT JOIN person pi ON pi.id_hash = l.id_hash
			LEFT JOIN person pr ON l.id_hash IS NULL AND pr.record_key = l.source || '/' || l.role || '/' || l.source_id
			LEFT JOIN resident r ON l.role = 'RESIDENT' AND r.source = l.source AND r.source_id = l.source_id
			LEFT JOIN household h ON h.id = r.household_id
			LEFT JOIN party_member m ON l.role = 'PARTY_MEMBER' AND m.source = l.source AND m.source_id = l.source_id
			LEFT JOIN building_link b ON b.record_type = 'PARTY_MEMBER' AND b.record_id = m.id`)
	} else {
		// Some records: each one index probe — of the primary key where
		// the row the caller read it from still holds it (half the time
		// of a probe of the three text columns of the unique key, from an
		// index a third its size, whose pages more often stay cached),
		// else of the key's columns — and for each record only the
		// lookups its kind needs (joined, a reporter's record probed the
		// resident and party member indexes too, from pages often outside
		// the cache).
		var sources, roles, ids []string
		var hashes [][]byte
		var owns, links []int64
		for _, k := range keys {
			if source, role, id, ok := splitRecordKey(k); ok {
				sources, roles, ids = append(sources, source), append(roles, role), append(ids, id)
				kn := known[k]
				hashes, owns, links = append(hashes, kn.IDHash), append(owns, kn.Own), append(links, kn.Link)
			}
		}
		rows, err = s.pool.Query(ctx, `SELECT l.id, l.source || '/' || l.role || '/' || l.source_id, l.role, l.person_id, l.matched_by,
				coalesce(CASE WHEN k.own <> 0 AND l.id_hash IS NOT DISTINCT FROM k.id_hash THEN k.own END,
					CASE WHEN l.id_hash IS NOT NULL THEN (SELECT p.id FROM person p WHERE p.id_hash = l.id_hash)
					ELSE (SELECT p.id FROM person p WHERE p.record_key = l.source || '/' || l.role || '/' || l.source_id) END, l.person_id),
				l.id_hash, l.name, coalesce(l.gender, ''), l.birth_date, l.phone_hash,
				CASE l.role
					WHEN 'RESIDENT' THEN (SELECT h.building_id FROM resident r JOIN household h ON h.id = r.household_id
						WHERE r.source = l.source AND r.source_id = l.source_id)
					WHEN 'PARTY_MEMBER' THEN (SELECT b.building_id FROM party_member m
						JOIN building_link b ON b.record_type = 'PARTY_MEMBER' AND b.record_id = m.id
						WHERE m.source = l.source AND m.source_id = l.source_id)
				END,
				l.address, coalesce(l.source_updated_at, l.fetched_at)
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[], $6::bigint[]) AS k(source, role, source_id, id_hash, own, link)
			CROSS JOIN LATERAL (
				(SELECT * FROM person_link l WHERE l.id = k.link AND (l.source, l.role, l.source_id) = (k.source, k.role, k.source_id))
				UNION ALL
				(SELECT * FROM person_link l WHERE (l.source, l.role, l.source_id) = (k.source, k.role, k.source_id))
				LIMIT 1) l`, sources, roles, ids, hashes, owns, links)
	}
	if err != nil {
		return nil, fmt.Errorf("person links: %w", err)
	}
	// Room for every record at once: grown by doubling, the medium city's
	// 118k records were copied, and their fresh pages faulted in, five
	// times over.
	out, err := pgx.AppendRows(make([]PersonLink, 0, size), rows, func(r pgx.CollectableRow) (PersonLink, error) {
		var l PersonLink
		err := r.Scan(&l.ID, &l.Key, &l.Role, &l.PersonID, &l.MatchedBy, &l.OwnID, &l.IDHash, &l.Name, &l.Gender, &l.Birth, &l.PhoneHash,
			&l.BuildingID, &l.Address, &l.Updated)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("person links: %w", err)
	}
	return out, nil
}

// StoredPerson is a person as stored, as far as writing a resolution
// compares it (Writer.ApplyPersonResolution): the golden record's
// compared fields, and the person it is merged into.
type StoredPerson struct {
	Name       string
	Gender     string     // MALE, FEMALE, "" unknown
	Birth      *time.Time // nil unknown
	PhoneHash  []byte
	Provenance map[string]string // nil: none ({})
	MergedInto int64             // 0: none
}

// StoredPersons returns every person as stored, by ID (internal work: a
// jurisdiction-scoped context is refused). A full resolution compares
// its plan with them and leaves out what the store already holds: after
// a restart nearly every golden record and merge, after a first load half
// the golden records.
func (s *Store) StoredPersons(ctx context.Context) (map[int64]StoredPerson, error) {
	if _, scoped := scopeOf(ctx); scoped {
		return nil, fmt.Errorf("stored persons: a jurisdiction-scoped read cannot resolve the city's persons")
	}
	n, err := s.plannedRows(ctx, "person")
	if err != nil {
		return nil, fmt.Errorf("stored persons: %w", err)
	}
	tx, err := s.beginWholeRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("stored persons: %w", err)
	}
	defer tx.Rollback(ctx)
	// A merged person's golden record is never compared: only the
	// person it is merged into is read of it.
	rows, err := tx.Query(ctx, `SELECT id, CASE WHEN merged_into IS NULL THEN name END, coalesce(gender, ''), birth_date,
			phone_hash, nullif(provenance, '{}')::text, coalesce(merged_into, 0)
		FROM person`)
	if err != nil {
		return nil, fmt.Errorf("stored persons: %w", err)
	}
	out := make(map[int64]StoredPerson, n)
	var (
		id   int64
		name *string
		prov *string
		p    StoredPerson
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &name, &p.Gender, &p.Birth, &p.PhoneHash, &prov, &p.MergedInto}, func() error {
		q := p
		if name != nil {
			q.Name = *name
		}
		if prov != nil {
			if err := json.Unmarshal([]byte(*prov), &q.Provenance); err != nil {
				return fmt.Errorf("person %d: provenance: %w", id, err)
			}
		}
		out[id] = q
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stored persons: %w", err)
	}
	return out, nil
}

// plannedRows is the planner's count of a table's rows (current after
// its statistics were refreshed), for the first capacity of a read of
// them all: 0 when unknown, at most 1<<24.
func (s *Store) plannedRows(ctx context.Context, table string) (int, error) {
	var n float64
	if err := s.pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`, pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		return 0, err
	}
	return int(min(max(n, 0), 1<<24)), nil
}

// splitRecordKey splits a person record's key ("source/ROLE/source_id";
// a source and a role hold no '/') into the columns of person_link's
// unique key; ok is false for a key of fewer parts.
func splitRecordKey(key string) (source, role, sourceID string, ok bool) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// PersonQueue is the person records changed since resolution last took
// them (person_resolve_queue): their keys, with the position of each
// change; and the persons whose golden fields another writer than
// resolution changed since (person_golden_dirty, migration 045).
type PersonQueue struct {
	Keys []string // "*": everything (person_link was emptied)
	Seqs []int64
	// Dirty are the persons whose golden record another writer changed,
	// DirtySeqs the positions of those changes.
	Dirty, DirtySeqs []int64
	// Epoch is person resolution's epoch when the queue was read
	// (migration 047): taking the queue advances it from there.
	Epoch int64
}

// PersonResolveQueue returns the queue of person records waiting for
// resolution, oldest changes first, and the persons whose golden record
// another writer changed.
func (s *Store) PersonResolveQueue(ctx context.Context) (PersonQueue, error) {
	var q PersonQueue
	if _, scoped := scopeOf(ctx); scoped {
		return q, fmt.Errorf("person resolve queue: a jurisdiction-scoped read cannot resolve the city's persons")
	}
	if err := checkScope(ctx); err != nil {
		return q, err // reads fail closed (scope.go)
	}
	// The epoch and the queue in one round trip.
	b := &pgx.Batch{}
	queueEpoch(b, PersonResolutionKind, &q.Epoch)
	queueQuery(b, "person resolve queue", `SELECT record_key, seq, 0::bigint FROM person_resolve_queue
		UNION ALL SELECT NULL, seq, person_id FROM person_golden_dirty
		ORDER BY 1 NULLS LAST, 2`, func(rows pgx.Rows) error {
		var k *string
		var n, person int64
		_, err := pgx.ForEachRow(rows, []any{&k, &n, &person}, func() error {
			if k == nil {
				q.Dirty, q.DirtySeqs = append(q.Dirty, person), append(q.DirtySeqs, n)
			} else {
				q.Keys, q.Seqs = append(q.Keys, *k), append(q.Seqs, n)
			}
			return nil
		})
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return PersonQueue{}, fmt.Errorf("person resolve queue: %w", translate(err))
	}
	return q, nil
}

// TakePersonQueue removes from the queue the changes a resolution took:
// each key at the position it was read with, so that a change landing
// after the read stays for the next resolution; and the golden records
// found changed it read. It fails with ErrStaleResolution when another
// writer advanced person resolution's epoch since the queue was read (the
// transaction must then roll back); else it returns the epoch after the
// write, advanced from the queue's when the queue held anything or wrote
// (the resolution written in the same transaction changed the store).
func (w *Writer) TakePersonQueue(ctx context.Context, q PersonQueue, wrote bool) (int64, error) {
	b := &pgx.Batch{}
	var epoch int64
	var stale bool
	queueAdvance(b, PersonResolutionKind, q.Epoch, wrote || len(q.Keys) > 0 || len(q.DirtySeqs) > 0, &epoch, &stale)
	if len(q.Keys) > 0 {
		queueExec(b, "person resolve queue", `DELETE FROM person_resolve_queue q USING unnest($1::text[], $2::bigint[]) AS t(key, seq)
			WHERE q.record_key = t.key AND q.seq = t.seq`, nil, q.Keys, q.Seqs)
	}
	if len(q.DirtySeqs) > 0 {
		queueExec(b, "changed golden records", `DELETE FROM person_golden_dirty WHERE seq = ANY($1::bigint[])`, nil, q.DirtySeqs)
	}
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("take person resolve queue: %w", err)
	}
	if stale {
		return 0, fmt.Errorf("take person resolve queue: %w", ErrStaleResolution)
	}
	return epoch, nil
}

// PersonRecordsOf returns, for each of the persons ids a source record
// stands for, the key of one such record (the first stored), for
// resolution to answer its cluster again.
func (s *Store) PersonRecordsOf(ctx context.Context, ids []int64) ([]string, error) {
	if _, scoped := scopeOf(ctx); scoped {
		return nil, fmt.Errorf("person records of persons: a jurisdiction-scoped read cannot resolve the city's persons")
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (person_id) source || '/' || role || '/' || source_id
		FROM person_link WHERE person_id = ANY($1::bigint[]) ORDER BY person_id, id`, ids)
	if err != nil {
		return nil, fmt.Errorf("person records of persons: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("person records of persons: %w", err)
	}
	return keys, nil
}

// VacuumPersonQueue vacuums person_resolve_queue (and person_golden_dirty,
// the persons the sync engine wrote during a first load) once a full person
// resolution has taken it: after a first load it held a row per person
// record, and until autovacuum comes by, every incremental resolution
// reads the queue through their dead rows (70 MB, 80 ms at city scale,
// for a queue of a few hundred keys).
func (s *Store) VacuumPersonQueue(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `VACUUM (SKIP_LOCKED) person_resolve_queue, person_golden_dirty`); err != nil {
		return fmt.Errorf("vacuum the person resolve queue: %w", err)
	}
	return nil
}

// PersonResolution is what entity resolution decided for every person
// record (Writer.ApplyPersonResolution).
type PersonResolution struct {
	// Records: each source record's person and how it was matched (those
	// that stand for it already, matched so, may be left out).
	Records []ResolvedRecord
	// Persons: each person that stands for a cluster of records (the
	// survivor), with its golden record and the persons merged into it.
	Persons []ResolvedPerson
	// Pairs: the evidence of links made and of the review queue.
	Pairs []PersonPair
	// Partial: the resolution covers some records only (an incremental
	// one), and Pairs and Gone are a change to the evidence: Pairs are
	// written over what the store holds of them, Gone and the pairs of
	// Removed deleted, the rest kept. Otherwise it covers every record and
	// Pairs replace all evidence.
	Partial bool
	Gone    [][2]string // pairs (A < B) whose evidence no longer stands
	Removed []string    // keys of records gone since the last resolution
}

// ResolvedRecord is one source record's place in a resolution.
type ResolvedRecord struct {
	Key       string
	LinkID    int64  // its person_link row (PersonLink.ID)
	Person    int    // its cluster's survivor: an index of PersonResolution.Persons
	MatchedBy string // ID_HASH, PROBABILISTIC, DECISION, NONE
}

// ResolvedPerson is a survivor: the persons merged into it and its golden
// record, each field with the record it came from (Provenance: field →
// record key; empty for a person of one record, whose fields all come
// from it). A survivor with ID 0 is made: the part of a person that a
// split left without an ID of its own.
type ResolvedPerson struct {
	ID        int64
	SplitFrom int64 // for a person made: the person its records stood for
	// Current: a record stands for the person now, so it is not merged
	// (the sync engine links a record to the survivor of a merged
	// person, and a merge waits for the last record to leave): no split
	// to look for.
	Current bool

	Merged     []int64 // the other persons of the cluster
	Name       string
	NameMasked string
	Gender     string     // "" unknown
	Birth      *time.Time // nil unknown
	// PhoneFrom is the person whose phone (hash, masked, sealed) the golden
	// record takes, 0 for none: the own person of the record the phone
	// came from, when it holds that phone.
	PhoneFrom  int64
	PhoneHash  []byte
	Provenance map[string]string
}

// PersonPair is the evidence on two person records: a link made
// (LINKED, ACCEPTED) or a pair waiting for review (REVIEW).
type PersonPair struct {
	A, B    string // record keys, A < B
	Outcome string
	Total   float64
	Fields  json.RawMessage // [{field, level, weight}]
}

// PersonsApplied counts what ApplyPersonResolution changed.
type PersonsApplied struct {
	Made, Merged, Split, Relinked, Golden int
}

// ApplyPersonResolution writes a resolution: a survivor without an ID is
// made (a new person split from the one its records stood for, SPLIT in
// its history); persons merged into their survivor keep their row with
// merged_into (their global ID still names the survivor) and a MERGED
// history entry, once no record stands for them (a record a partial
// resolution leaves out keeps its person unmerged); a person that was merged and is a survivor again is
// split off with a SPLIT entry; each source record and the resident,
// party member or grid worker it stands for moves to its survivor (a
// case's reporter is its link); survivors get their golden record; the
// link evidence and review queue
// are replaced (for the records of a partial resolution only). The IDs of
// persons made are set in r.Persons.
func (w *Writer) ApplyPersonResolution(ctx context.Context, r PersonResolution) (PersonsApplied, error) {
	var out PersonsApplied
	// Persons made, in one statement: their IDs are drawn first, so that
	// each is known to be its survivor's.
	var made []int
	var from []int64
	for i := range r.Persons {
		if p := &r.Persons[i]; p.ID == 0 {
			if p.SplitFrom == 0 {
				return out, fmt.Errorf("apply person resolution: a person to make names no person it is split from")
			}
			made, from = append(made, i), append(from, p.SplitFrom)
		}
	}
	if len(made) > 0 {
		ids, err := w.drawIDs(ctx, "person", len(made))
		if err != nil {
			return out, fmt.Errorf("apply person resolution: make persons: %w", err)
		}
		if _, err := w.tx.Exec(ctx, `WITH made AS (INSERT INTO person (id, split_from) OVERRIDING SYSTEM VALUE
				SELECT * FROM unnest($1::bigint[], $2::bigint[]) RETURNING id, split_from)
			INSERT INTO person_history (person_id, kind, other_id) SELECT id, 'SPLIT', split_from FROM made`, ids, from); err != nil {
			return out, fmt.Errorf("apply person resolution: make persons split from %v: %w", from, err)
		}
		for n, i := range made {
			r.Persons[i].ID = ids[n]
		}
		out.Made = len(made)
	}
	// Every input goes in the order of the rows it writes (heap order is
	// about id order, the evidence's key is its pair): a statement driven
	// by its input in the resolution's own order wrote a first
	// resolution's rows page by random page, each page read and written
	// back again as often as it held rows to change.
	var survivors []int64
	var merges [][2]int64 // a person merged, the person it is merged into
	for _, p := range r.Persons {
		if !p.Current {
			survivors = append(survivors, p.ID)
		}
		for _, m := range p.Merged {
			merges = append(merges, [2]int64{m, p.ID})
		}
	}
	slices.SortFunc(merges, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	merged, into := make([]int64, len(merges)), make([]int64, len(merges))
	for i, m := range merges {
		merged[i], into[i] = m[0], m[1]
	}
	links, persons, matched := make([]int64, len(r.Records)), make([]int64, len(r.Records)), make([]string, len(r.Records))
	for i, x := range slices.SortedFunc(slices.Values(r.Records), func(a, b ResolvedRecord) int { return cmp.Compare(a.LinkID, b.LinkID) }) {
		if x.Person < 0 || x.Person >= len(r.Persons) {
			return out, fmt.Errorf("apply person resolution: record %s names person %d of %d", x.Key, x.Person, len(r.Persons))
		}
		links[i], persons[i], matched[i] = x.LinkID, r.Persons[x.Person].ID, x.MatchedBy
	}
	n := len(r.Persons)
	gid, names, masked, genders := make([]int64, n), make([]string, n), make([]string, n), make([]*string, n)
	births, phoneFrom, phones, prov := make([]*time.Time, n), make([]int64, n), make([][]byte, n), make([]string, n)
	for i, p := range slices.SortedFunc(slices.Values(r.Persons), func(a, b ResolvedPerson) int { return cmp.Compare(a.ID, b.ID) }) {
		gid[i], names[i], masked[i], births[i], phoneFrom[i], phones[i] = p.ID, p.Name, p.NameMasked, p.Birth, p.PhoneFrom, p.PhoneHash
		if p.Gender != "" {
			genders[i] = &p.Gender
		}
		prov[i] = "{}"
		if len(p.Provenance) > 0 {
			js, err := json.Marshal(p.Provenance)
			if err != nil {
				return out, fmt.Errorf("apply person resolution: provenance: %w", err)
			}
			prov[i] = string(js)
		}
	}

	// The statements go in two batches, one round trip each: an
	// incremental resolution writes a few hundred persons, and a dozen
	// statements sent one by one waited on the network as long as they
	// ran. The first batch writes what the plan says; the second what
	// follows from the rows the first changed.
	b := &pgx.Batch{}
	// Splits first: a survivor that was merged comes back, with the person
	// it was merged into as the one it was split from.
	queueExec(b, "split", `WITH split AS (UPDATE person p SET merged_into = NULL, updated_at = now()
				FROM unnest($1::bigint[]) AS t(id), person was
				WHERE p.id = t.id AND was.id = p.id AND p.merged_into IS NOT NULL
				RETURNING p.id, was.merged_into AS was)
		INSERT INTO person_history (person_id, kind, other_id) SELECT id, 'SPLIT', was FROM split WHERE was IS NOT NULL`,
		func(tag pgconn.CommandTag) { out.Split = int(tag.RowsAffected()) + out.Made }, survivors)
	// Each record moved, then (second batch) what it stands for with it:
	// the moved records come back as arrays that drive index probes (a
	// join on the UPDATE's own RETURNING would leave the planner guessing
	// its size).
	type follow struct {
		sources, ids []string
		persons      []int64
	}
	moved := map[string]*follow{}
	queueQuery(b, "links", `UPDATE person_link l SET person_id = t.person_id, matched_by = t.matched
		FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS t(id, person_id, matched)
		WHERE l.id = t.id AND (l.person_id, l.matched_by) IS DISTINCT FROM (t.person_id, t.matched)
		RETURNING l.role, l.source, l.source_id, l.person_id`,
		func(rows pgx.Rows) error {
			var role, source, sourceID string
			var person int64
			_, err := pgx.ForEachRow(rows, []any{&role, &source, &sourceID, &person}, func() error {
				out.Relinked++
				if role == "REPORTER" {
					return nil
				}
				f := moved[role]
				if f == nil {
					f = &follow{}
					moved[role] = f
				}
				f.sources, f.ids, f.persons = append(f.sources, source), append(f.ids, sourceID), append(f.persons, person)
				return nil
			})
			return err
		}, links, persons, matched)
	// Then the merges: a person no record stands for any more. One that a
	// record outside a partial resolution still stands for is that
	// record's cluster's person and stays.
	var mergedNow []int64
	if len(merged) > 0 {
		queueQuery(b, "merge", `WITH merged AS (UPDATE person p SET merged_into = t.into_id, updated_at = now()
					FROM unnest($1::bigint[], $2::bigint[]) AS t(id, into_id)
					WHERE p.id = t.id AND p.merged_into IS DISTINCT FROM t.into_id
						AND NOT EXISTS (SELECT FROM person_link l WHERE l.person_id = p.id)
					RETURNING p.id, t.into_id),
				history AS (INSERT INTO person_history (person_id, kind, other_id) SELECT id, 'MERGED', into_id FROM merged)
			SELECT id FROM merged`,
			func(rows pgx.Rows) error {
				var err error
				mergedNow, err = pgx.CollectRows(rows, pgx.RowTo[int64])
				return err
			}, merged, into)
	}
	// Resolution's own writes of golden records do not mark them changed
	// by another writer (migration 045).
	queueExec(b, "golden records", `SELECT set_config('hub.golden_writer', 'on', true)`, nil)
	// The phone comes from the person whose record gave it (phone_from),
	// when it holds that phone; most often that is the survivor itself,
	// whose own columns already say the same: no second probe of its row.
	// That person is probed per row (a LATERAL with LIMIT is not flattened
	// into a join): as a join, the rows without one came out of a hash
	// table, and the update wrote them in its order, not in theirs.
	golden, err := w.inputRows(ctx, "resolved_golden", goldenColumns, n, func(i int) []any {
		return []any{gid[i], names[i], masked[i], genders[i], births[i], phoneFrom[i], phones[i], prov[i]}
	}, gid, names, masked, genders, births, phoneFrom, phones, prov)
	if err != nil {
		return out, fmt.Errorf("apply person resolution: golden records: %w", err)
	}
	queueExec(b, "golden records", `UPDATE person p SET name = t.name, name_masked = t.masked, gender = t.gender,
			birth_date = t.birth, phone_hash = coalesce(o.phone_hash, p.phone_hash),
			phone_masked = coalesce(o.phone_masked, p.phone_masked), phone_sealed = coalesce(o.phone_sealed, p.phone_sealed),
			provenance = t.prov::jsonb, updated_at = now()
		FROM `+golden.from+`
		LEFT JOIN LATERAL (SELECT o.phone_hash, o.phone_masked, o.phone_sealed FROM person o
			WHERE t.phone_from <> t.id AND o.id = t.phone_from AND o.phone_hash = t.phone LIMIT 1) o ON true
		WHERE p.id = t.id AND (p.name, p.gender, p.birth_date, p.provenance, p.phone_hash)
			IS DISTINCT FROM (t.name, t.gender, t.birth, t.prov::jsonb, coalesce(o.phone_hash, p.phone_hash))`,
		func(tag pgconn.CommandTag) { out.Golden = int(tag.RowsAffected()) }, golden.args...)
	if r.Partial {
		as, bs := make([]string, len(r.Gone)), make([]string, len(r.Gone))
		for i, p := range r.Gone {
			as[i], bs[i] = p[0], p[1]
		}
		// Each key and pair is an index probe (the pairs of a record as B
		// by person_match_b_idx).
		queueExec(b, "evidence", `DELETE FROM person_match m USING (
				SELECT a, b FROM unnest($1::text[], $2::text[]) AS g(a, b)
				UNION SELECT record_a, record_b FROM person_match WHERE record_a = ANY($3::text[])
				UNION SELECT record_a, record_b FROM person_match WHERE record_b = ANY($3::text[])) g
			WHERE m.record_a = g.a AND m.record_b = g.b`, nil, as, bs, r.Removed)
	}
	as, bs, outcomes, totals, fields := make([]string, len(r.Pairs)), make([]string, len(r.Pairs)), make([]string, len(r.Pairs)),
		make([]float64, len(r.Pairs)), make([]string, len(r.Pairs))
	for i, p := range slices.SortedFunc(slices.Values(r.Pairs), func(a, b PersonPair) int {
		return cmp.Or(strings.Compare(a.A, b.A), strings.Compare(a.B, b.B))
	}) {
		as[i], bs[i], outcomes[i], totals[i], fields[i] = p.A, p.B, p.Outcome, p.Total, string(p.Fields)
	}
	// The fields go as text, parsed by the statement: 200k pairs bound
	// as a jsonb[] parameter took 9-16 s to send and bind, as text[]
	// 2.6-3.7 s for the whole statement.
	pairs, err := w.inputRows(ctx, "resolved_pair", pairColumns, len(r.Pairs), func(i int) []any {
		return []any{as[i], bs[i], outcomes[i], totals[i], fields[i]}
	}, as, bs, outcomes, totals, fields)
	if err != nil {
		return out, fmt.Errorf("apply person resolution: evidence: %w", err)
	}
	if !r.Partial {
		// Every pair the store holds that the resolution does not: a
		// set difference (hashed or sorted), then an index probe each.
		// Run again over the same records, a full resolution deletes
		// and rewrites nothing.
		queueExec(b, "evidence", `DELETE FROM person_match m USING (
				SELECT record_a, record_b FROM person_match
				EXCEPT SELECT t.a, t.b FROM `+pairs.from+`) gone
			WHERE m.record_a = gone.record_a AND m.record_b = gone.record_b`, nil, pairs.args...)
	}
	if len(r.Pairs) > 0 {
		queueExec(b, "evidence", `INSERT INTO person_match AS m (record_a, record_b, outcome, total, fields)
			SELECT t.a, t.b, t.outcome, t.total, t.fields::jsonb FROM `+pairs.from+`
			ON CONFLICT (record_a, record_b) DO UPDATE SET outcome = EXCLUDED.outcome, total = EXCLUDED.total, fields = EXCLUDED.fields
			WHERE (m.outcome, m.total, m.fields) IS DISTINCT FROM (EXCLUDED.outcome, EXCLUDED.total, EXCLUDED.fields)`,
			nil, pairs.args...)
	}
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return out, fmt.Errorf("apply person resolution: %w", err)
	}
	out.Merged = len(mergedNow)

	b = &pgx.Batch{}
	// A case's reporter is its link (no column of the case follows it);
	// the other roles' records keep their person beside the record.
	for _, role := range []string{"RESIDENT", "PARTY_MEMBER", "GRID_WORKER"} {
		f := moved[role]
		if f == nil {
			continue
		}
		queueExec(b, role+" records", `UPDATE `+followTables[role]+` x SET person_id = t.person_id
			FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(source, source_id, person_id)
			WHERE x.source = t.source AND x.source_id = t.source_id AND x.person_id IS DISTINCT FROM t.person_id`,
			nil, f.sources, f.ids, f.persons)
	}
	// A person merged earlier into one merged now names the survivor too,
	// with a MERGED entry of its own: a person's merged_into is not
	// indexed (migration 037), and the persons merged into one are found
	// by their entries. Only the persons merged by this write can have
	// any: the persons of one merged before were moved then.
	if len(mergedNow) > 0 {
		queueExec(b, "merge", `WITH moved AS (UPDATE person p SET merged_into = s.merged_into, updated_at = now()
					FROM person_history h JOIN person s ON s.id = h.other_id
					WHERE h.other_id = ANY($1::bigint[]) AND h.kind = 'MERGED' AND p.id = h.person_id
						AND p.merged_into = s.id AND s.merged_into IS NOT NULL
					RETURNING p.id, p.merged_into)
			INSERT INTO person_history (person_id, kind, other_id) SELECT id, 'MERGED', merged_into FROM moved`, nil, mergedNow)
	}
	if b.Len() > 0 {
		if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
			return out, fmt.Errorf("apply person resolution: %w", err)
		}
	}
	return out, nil
}

// copyRowsAbove is the number of rows above which the input of a
// statement of ApplyPersonResolution goes to the server by COPY into a
// temporary table rather than as array parameters. pgx builds a
// statement's parameters in one buffer grown as it goes: for the golden
// records and the evidence of a city's first resolution (223k and 204k
// rows, the provenance and the fields of each as JSON text) that took
// 5-7 s per statement on the client, as long as the server took to write
// them. COPY streams the rows in small messages; for a few hundred rows
// (an incremental resolution) its two round trips cost more than it saves.
var copyRowsAbove = 10000

// goldenColumns and pairColumns are the input of the golden records and of
// the evidence, each row a survivor or a pair.
var (
	goldenColumns = []column{{"id", "bigint"}, {"name", "text"}, {"masked", "text"}, {"gender", "text"}, {"birth", "date"},
		{"phone_from", "bigint"}, {"phone", "bytea"}, {"prov", "text"}}
	pairColumns = []column{{"a", "text"}, {"b", "text"}, {"outcome", "text"}, {"total", "float8"}, {"fields", "text"}}
)

// rowsInput is a statement's input rows: a FROM item (aliased t, one
// column per column of the input) and the parameters it takes.
type rowsInput struct {
	from string
	args []any
}

// inputRows makes the n input rows of a statement from arrays, one per
// column (the rows' values in order, row(i) the values of row i): the
// arrays as parameters of an unnest, or, for more than copyRowsAbove rows,
// a temporary table of the transaction (named table) they were copied into.
func (w *Writer) inputRows(ctx context.Context, table string, cols []column, n int, row func(i int) []any, arrays ...any) (rowsInput, error) {
	defs, names := columnDefs(cols)
	if n <= copyRowsAbove {
		casts := make([]string, len(cols))
		for i, c := range cols {
			casts[i] = fmt.Sprintf("$%d::%s[]", i+1, c.typ)
		}
		return rowsInput{from: "unnest(" + strings.Join(casts, ", ") + ") AS t(" + strings.Join(names, ", ") + ")", args: arrays}, nil
	}
	// A table of the same name a former call of the transaction made
	// goes first.
	if _, err := w.tx.Exec(ctx, "DROP TABLE IF EXISTS pg_temp."+table+"; CREATE TEMP TABLE "+table+" ("+strings.Join(defs, ", ")+") ON COMMIT DROP"); err != nil {
		return rowsInput{}, fmt.Errorf("create %s: %w", table, err)
	}
	if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil })); err != nil {
		return rowsInput{}, fmt.Errorf("copy into %s: %w", table, err)
	}
	// The planner sees the rows it joins (a temporary table is never
	// analyzed by autovacuum).
	if _, err := w.tx.Exec(ctx, "ANALYZE "+table); err != nil {
		return rowsInput{}, fmt.Errorf("analyze %s: %w", table, err)
	}
	return rowsInput{from: table + " t"}, nil
}

// followTables are the tables whose records keep their person beside the
// record, by person record role.
var followTables = map[string]string{"RESIDENT": "resident", "PARTY_MEMBER": "party_member", "GRID_WORKER": "grid_worker"}

// personTables are the tables person resolution reads and writes.
var personTables = []string{"person_link", "person", "resident", "household", "party_member", "grid_worker", "building_link", "person_match"}

// RefreshPersonStatistics analyzes the tables person resolution joins when
// their planner statistics trail their contents (refreshStatistics).
func (s *Store) RefreshPersonStatistics(ctx context.Context) error {
	return s.refreshStatistics(ctx, "person", personTables)
}

// incidentTables are the tables incident regrouping reads and writes.
var incidentTables = []string{"case", "incident"}

// RefreshIncidentStatistics analyzes the tables incident regrouping reads
// when their planner statistics trail their contents (refreshStatistics):
// after a first load, the read of the cases reported since an instant was
// planned for the table as it was before the load (3.5 s instead of
// 0.3 s at city scale).
func (s *Store) RefreshIncidentStatistics(ctx context.Context) error {
	return s.refreshStatistics(ctx, "incident", incidentTables)
}

// refreshStatistics analyzes those of tables whose planner statistics
// trail their contents (a fifth of their rows changed since the last
// ANALYZE): during a first load they grow far faster than autovacuum
// analyzes them, and a plan made for a table it believes tiny scans it
// once per row of the other side.
func (s *Store) refreshStatistics(ctx context.Context, what string, tables []string) error {
	rows, err := s.pool.Pool.Query(ctx, `SELECT relname FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND relname = ANY($1)
			AND n_mod_since_analyze > 0.2 * greatest(n_live_tup, 1000)`, tables)
	if err != nil {
		return fmt.Errorf("refresh %s statistics: %w", what, err)
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("refresh %s statistics: %w", what, err)
	}
	for _, t := range stale {
		if _, err := s.pool.Pool.Exec(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("refresh %s statistics: analyze %s: %w", what, t, err)
		}
	}
	return nil
}
