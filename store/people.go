package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// Person is a golden person record. Raw identifiers are never selected by
// the read API; masked forms are.
type Person struct {
	ID          int64
	IDMasked    string
	NameMasked  string
	Name        string // for audited unmasking only
	Gender      *canon.Gender
	BirthDate   *time.Time
	PhoneMasked *string
	HouseholdID *int64
	Roles       []canon.PersonRole
	IDHash      []byte
	IDSealed    []byte // for audited unmasking only
	PhoneSealed []byte
}

// personSelect reads persons as x. A person's household is the one of its
// most recent resident record (a person registered in two households, or
// two resident records merged into one person, lives where the source said
// last).
const personSelect = `SELECT x.id, x.id_masked, x.name_masked, x.name, x.gender, x.birth_date, x.phone_masked,
	(SELECT r.household_id FROM resident r WHERE r.person_id = x.id AND r.household_id IS NOT NULL
		ORDER BY r.source_updated_at DESC NULLS LAST, r.id DESC LIMIT 1), coalesce((SELECT array_agg(DISTINCT l.role ORDER BY l.role) FROM person_link l WHERE l.person_id = x.id), '{}'),
	x.id_hash, x.id_sealed, x.phone_sealed FROM person x`

func scanPerson(r pgx.CollectableRow) (*Person, error) {
	p := &Person{}
	var roles []string
	err := r.Scan(&p.ID, &p.IDMasked, &p.NameMasked, &p.Name, &p.Gender, &p.BirthDate, &p.PhoneMasked, &p.HouseholdID, &roles,
		&p.IDHash, &p.IDSealed, &p.PhoneSealed)
	for _, role := range roles {
		p.Roles = append(p.Roles, canon.PersonRole(role))
	}
	return p, err
}

func personID(p *Person) int64 { return p.ID }

// PersonFilter narrows Query.people.
type PersonFilter struct {
	RegionID   *int64  // lives or serves in the region's subtree
	RegionCode *string // the same, the region named by its code
	Role       []canon.PersonRole
	IDHash     []byte // exact match on the keyed citizen-ID hash
	Name       string // prefix of the name
}

// People lists golden person records (survivors of entity resolution).
func (s *Store) People(ctx context.Context, f PersonFilter, p PageArgs) (Page[*Person], error) {
	var a sqlArgs
	conds := f.conds(ctx, &a)
	return listByID(ctx, s, "PERSON", personSelect+" WHERE "+strings.Join(conds, " AND "), a, p, scanPerson, personID)
}

// conds are the conditions of the persons f selects in the context's
// jurisdiction, shared by People and ExportPeople.
func (f PersonFilter) conds(ctx context.Context, a *sqlArgs) []string {
	// A person merged into another is listed as the survivor only.
	conds := []string{personVisible(ctx, a), "x.merged_into IS NULL"}
	if ph := regionRef(f.RegionID, f.RegionCode, a); ph != "" {
		conds = append(conds, `(x.id IN (SELECT r.person_id FROM resident r WHERE `+subtree("r.grid_id", ph)+`)
			OR x.id IN (SELECT m.person_id FROM party_member m WHERE `+subtree("m.region_id", ph)+`)
			OR x.id IN (SELECT w.person_id FROM grid_worker w JOIN grid_worker_grid g ON g.worker_id = w.id WHERE `+subtree("g.grid_id", ph)+`))`)
	}
	if len(f.Role) > 0 {
		conds = append(conds, "x.id IN (SELECT person_id FROM person_link WHERE role = ANY("+a.add(strs(f.Role))+"))")
	}
	if len(f.IDHash) > 0 {
		conds = append(conds, "x.id_hash = "+a.add(f.IDHash))
	}
	if n := strings.TrimSpace(f.Name); n != "" {
		conds = append(conds, "x.name LIKE "+a.add(escapeLike(n)+"%"))
	}
	return conds
}

// PeopleByID loads persons in key order. The ID of a person merged into
// another (entity resolution) loads the survivor: a merged ID keeps naming
// its person.
func (s *Store) PeopleByID(ctx context.Context, ids []int64) ([]*Person, error) {
	var a sqlArgs
	a.add(ids)
	rows, err := s.pool.Query(ctx, strings.Replace(personSelect, "SELECT ", "SELECT q.asked, ", 1)+`
		JOIN (SELECT p.id AS asked, coalesce(p.merged_into, p.id) AS target FROM person p WHERE p.id = ANY($1)) q ON q.target = x.id
		WHERE `+personVisible(ctx, &a), a...)
	if err != nil {
		return nil, fmt.Errorf("load people: %w", err)
	}
	byAsked := map[int64]*Person{}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var asked int64
		p := &Person{}
		var roles []string
		err := r.Scan(&asked, &p.ID, &p.IDMasked, &p.NameMasked, &p.Name, &p.Gender, &p.BirthDate, &p.PhoneMasked, &p.HouseholdID, &roles,
			&p.IDHash, &p.IDSealed, &p.PhoneSealed)
		for _, role := range roles {
			p.Roles = append(p.Roles, canon.PersonRole(role))
		}
		byAsked[asked] = p
		return struct{}{}, err
	})
	if err != nil {
		return nil, fmt.Errorf("load people: %w", err)
	}
	out := make([]*Person, len(ids))
	for i, id := range ids {
		out[i] = byAsked[id]
	}
	return out, nil
}

// PersonRecord is one source system's record of a person.
type PersonRecord struct {
	ID       int64 // the person_link row
	PersonID int64
	Role     canon.PersonRole
	// Key names the record in match decisions: "source/ROLE/source_id".
	Key string
	// MatchedBy says how entity resolution linked it to its person:
	// ID_HASH, PROBABILISTIC, DECISION, NONE (the record's person alone).
	MatchedBy  string
	Provenance Provenance
}

const personRecordSelect = `SELECT l.id, l.person_id, l.role, l.source || '/' || l.role || '/' || l.source_id, l.matched_by,
	l.source, l.source_id, l.source_updated_at, l.fetched_at, l.payload_hash FROM person_link l`

func scanPersonRecord(r pgx.CollectableRow) (*PersonRecord, error) {
	x := &PersonRecord{}
	p := &x.Provenance
	err := r.Scan(&x.ID, &x.PersonID, &x.Role, &x.Key, &x.MatchedBy, &p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
	return x, err
}

// PersonRecords loads the per-source records of a batch of persons.
func (s *Store) PersonRecords(ctx context.Context, personIDs []int64) ([][]*PersonRecord, error) {
	return groupedBy(ctx, s, "person records", personRecordSelect+` WHERE l.person_id = ANY($1) ORDER BY l.person_id, l.source, l.role, l.source_id`,
		personIDs, nil, func(r pgx.CollectableRow) (int64, *PersonRecord, error) {
			x, err := scanPersonRecord(r)
			return x.PersonID, x, err
		})
}

// PersonRecordsByID loads person records by their row IDs, in key order
// (nil where none, or where its person lies outside the jurisdiction).
func (s *Store) PersonRecordsByID(ctx context.Context, ids []int64) ([]*PersonRecord, error) {
	var a sqlArgs
	a.add(ids)
	rows, err := s.pool.Query(ctx, personRecordSelect+` JOIN person x ON x.id = l.person_id WHERE l.id = ANY($1) AND `+personVisible(ctx, &a), a...)
	if err != nil {
		return nil, fmt.Errorf("load person records: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanPersonRecord)
	if err != nil {
		return nil, fmt.Errorf("load person records: %w", err)
	}
	return inKeyOrder(ids, list, func(x *PersonRecord) int64 { return x.ID }), nil
}

// PersonRecordByKey loads the person record of a key ("source/ROLE/
// source_id"), nil when none or outside the jurisdiction.
func (s *Store) PersonRecordByKey(ctx context.Context, key string) (*PersonRecord, error) {
	// A key of fewer parts names no record (no role is empty); it is
	// still asked, so that a read without access fails as any does.
	source, role, sourceID, _ := splitRecordKey(key)
	var a sqlArgs
	a.add(source)
	a.add(role)
	a.add(sourceID)
	rows, err := s.pool.Query(ctx, personRecordSelect+` JOIN person x ON x.id = l.person_id
		WHERE l.source = $1 AND l.role = $2 AND l.source_id = $3 AND `+personVisible(ctx, &a), a...)
	if err != nil {
		return nil, fmt.Errorf("load person record: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanPersonRecord)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

// PersonMatch is the evidence entity resolution kept on two person
// records: a link it made (LINKED, ACCEPTED) or a pair for review (REVIEW).
type PersonMatch struct {
	A, B    *PersonRecord
	Outcome string
	Total   float64
	Fields  []MatchFieldWeight
}

// MatchFieldWeight is one field's comparison level and weight (bits).
type MatchFieldWeight struct {
	Field  string  `json:"field"`
	Level  string  `json:"level"`
	Weight float64 `json:"weight"`
}

// personMatchSQL selects person_match rows with both records; cond
// restricts them (la, lb are the records' links, x the person of la).
func personMatchSQL(cond string) string {
	rec := func(l string) string {
		return l + `.id, ` + l + `.person_id, ` + l + `.role, ` + l + `.source || '/' || ` + l + `.role || '/' || ` + l + `.source_id, ` +
			l + `.matched_by, ` + l + `.source, ` + l + `.source_id, ` + l + `.source_updated_at, ` + l + `.fetched_at, ` + l + `.payload_hash`
	}
	return `SELECT ` + rec("la") + `, ` + rec("lb") + `, m.outcome, m.total, m.fields
		FROM person_match m
		JOIN person_link la ON ` + linkOfKey("la", "m.record_a") + `
		JOIN person_link lb ON ` + linkOfKey("lb", "m.record_b") + `
		JOIN person x ON x.id = la.person_id
		WHERE ` + cond
}

// linkOfKey is the condition that person_link l is the record of the key
// keyExpr ("source/ROLE/source_id"; a source and a role hold no '/'),
// stated twice so that a plan can go either way by an index: on the
// columns of the link's unique key, a probe of that index from the key
// (no index of the key itself is kept: migration 038), and as the key
// built from the link, a probe of what is keyed by it (person_match's
// primary key) from the link.
func linkOfKey(l, keyExpr string) string {
	return fmt.Sprintf(`%[1]s.source = split_part(%[2]s, '/', 1) AND %[1]s.role = split_part(%[2]s, '/', 2)
		AND %[1]s.source_id = substr(%[2]s, length(split_part(%[2]s, '/', 1)) + length(split_part(%[2]s, '/', 2)) + 3)
		AND %[2]s = %[1]s.source || '/' || %[1]s.role || '/' || %[1]s.source_id`, l, keyExpr)
}

func scanPersonMatch(r pgx.CollectableRow) (*PersonMatch, error) {
	m := &PersonMatch{A: &PersonRecord{}, B: &PersonRecord{}}
	var fields []byte
	pa, pb := &m.A.Provenance, &m.B.Provenance
	err := r.Scan(&m.A.ID, &m.A.PersonID, &m.A.Role, &m.A.Key, &m.A.MatchedBy, &pa.Source, &pa.SourceID, &pa.SourceUpdatedAt, &pa.FetchedAt, &pa.PayloadHash,
		&m.B.ID, &m.B.PersonID, &m.B.Role, &m.B.Key, &m.B.MatchedBy, &pb.Source, &pb.SourceID, &pb.SourceUpdatedAt, &pb.FetchedAt, &pb.PayloadHash,
		&m.Outcome, &m.Total, &fields)
	if err == nil {
		err = json.Unmarshal(fields, &m.Fields)
	}
	return m, err
}

// PersonMatches loads, for a batch of persons, the links entity resolution
// made between their records, strongest first.
func (s *Store) PersonMatches(ctx context.Context, personIDs []int64) ([][]*PersonMatch, error) {
	var a sqlArgs
	a.add(personIDs)
	cond := `m.outcome <> 'REVIEW' AND la.person_id = ANY($1) AND ` + personVisible(ctx, &a)
	return groupedBy(ctx, s, "person matches", personMatchSQL(cond)+` ORDER BY m.total DESC, m.record_a, m.record_b`, personIDs, a[1:],
		func(r pgx.CollectableRow) (int64, *PersonMatch, error) {
			m, err := scanPersonMatch(r)
			return m.A.PersonID, m, err
		})
}

// PersonReview returns the review queue of person resolution: pairs of
// records whose evidence lies between the thresholds, their persons apart,
// strongest first, at most limit; a jurisdiction sees the pairs both of
// whose records' persons it sees — those its analysts may decide (a pair
// across jurisdictions is for the city's).
func (s *Store) PersonReview(ctx context.Context, limit int) ([]*PersonMatch, error) {
	var a sqlArgs
	cond := `m.outcome = 'REVIEW' AND ` + personIDVisible(ctx, &a, "la.person_id") + ` AND ` + personIDVisible(ctx, &a, "lb.person_id")
	rows, err := s.pool.Query(ctx, personMatchSQL(cond)+` ORDER BY m.total DESC, m.record_a, m.record_b LIMIT `+a.add(limit), a...)
	if err != nil {
		return nil, fmt.Errorf("person review: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanPersonMatch)
	if err != nil {
		return nil, fmt.Errorf("person review: %w", err)
	}
	return out, nil
}

// Household is a stored household.
type Household struct {
	ID         int64
	GridID     *int64
	BuildingID *int64
	Compound   string
	BuildingNo string
	Unit       string
	Room       string
	AddressRaw string
	Residents  int
	Provenance Provenance
}

const householdSelect = `SELECT x.id, x.grid_id, x.building_id, x.compound_name, x.building_no, x.unit, x.room, x.address_raw,
	(SELECT count(*) FROM resident r WHERE r.household_id = x.id),
	x.source, x.source_id, x.source_updated_at, x.fetched_at, x.payload_hash FROM household x`

func scanHousehold(r pgx.CollectableRow) (*Household, error) {
	h := &Household{}
	p := &h.Provenance
	err := r.Scan(&h.ID, &h.GridID, &h.BuildingID, &h.Compound, &h.BuildingNo, &h.Unit, &h.Room, &h.AddressRaw, &h.Residents,
		&p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
	return h, err
}

// HouseholdsByID loads households in key order.
func (s *Store) HouseholdsByID(ctx context.Context, ids []int64) ([]*Household, error) {
	return byIDs(ctx, s, "households", householdSelect, ids, inScope(ctx, "x.grid_id"), scanHousehold, func(h *Household) int64 { return h.ID })
}

// Building is a stored building with its compound.
type Building struct {
	ID         int64
	Compound   string
	Number     string
	GridID     *int64
	Lat, Lng   *float64
	Households int
}

const buildingSelect = `SELECT x.id, coalesce(c.name, ''), x.number, x.grid_id, x.lat, x.lng,
	(SELECT count(*) FROM household h WHERE h.building_id = x.id) FROM building x LEFT JOIN compound c ON c.id = x.compound_id`

// Buildings lists the buildings in a region's subtree.
func (s *Store) Buildings(ctx context.Context, regionID int64, p PageArgs) (Page[*Building], error) {
	var a sqlArgs
	return listByID(ctx, s, "BUILDING", buildingSelect+" WHERE "+subtree("x.grid_id", a.add(regionID))+" AND "+scopeRegion(ctx, "x.grid_id", &a), a, p,
		scanBuilding, func(b *Building) int64 { return b.ID })
}

// GridWorker is a stored grid worker.
type GridWorker struct {
	ID         int64
	PersonID   int64
	Role       canon.GridWorkerRole
	GridIDs    []int64
	Provenance Provenance
}

const gridWorkerSelect = `SELECT x.id, x.person_id, x.role,
	coalesce((SELECT array_agg(g.grid_id ORDER BY g.grid_id) FROM grid_worker_grid g WHERE g.worker_id = x.id), '{}'),
	x.source, x.source_id, x.source_updated_at, x.fetched_at, x.payload_hash FROM grid_worker x`

func scanGridWorker(r pgx.CollectableRow) (*GridWorker, error) {
	w := &GridWorker{}
	p := &w.Provenance
	err := r.Scan(&w.ID, &w.PersonID, &w.Role, &w.GridIDs, &p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
	return w, err
}

// GridWorkers lists the grid workers serving a region's subtree.
func (s *Store) GridWorkers(ctx context.Context, regionID int64, p PageArgs) (Page[*GridWorker], error) {
	var a sqlArgs
	return listByID(ctx, s, "GRID_WORKER", gridWorkerSelect+" WHERE x.id IN (SELECT g.worker_id FROM grid_worker_grid g WHERE "+
		subtree("g.grid_id", a.add(regionID))+") AND "+gridWorkerVisible(ctx, &a), a, p, scanGridWorker, func(w *GridWorker) int64 { return w.ID })
}

// GridWorkersByPerson loads the grid-worker records of a batch of persons.
func (s *Store) GridWorkersByPerson(ctx context.Context, personIDs []int64) ([][]*GridWorker, error) {
	return groupedBy(ctx, s, "grid workers", `SELECT x.person_id, `+strings.TrimPrefix(gridWorkerSelect, "SELECT ")+
		` WHERE x.person_id = ANY($1) AND `+gridWorkerVisible(ctx, &sqlArgs{nil})+` ORDER BY x.id`, personIDs, scopeArgs(ctx),
		func(r pgx.CollectableRow) (int64, *GridWorker, error) {
			var pid int64
			w := &GridWorker{}
			p := &w.Provenance
			err := r.Scan(&pid, &w.ID, &w.PersonID, &w.Role, &w.GridIDs, &p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
			return pid, w, err
		})
}

// GridWorkersByID loads grid workers in key order.
func (s *Store) GridWorkersByID(ctx context.Context, ids []int64) ([]*GridWorker, error) {
	return byIDs(ctx, s, "grid workers", gridWorkerSelect, ids, func(a *sqlArgs) string { return gridWorkerVisible(ctx, a) }, scanGridWorker, func(w *GridWorker) int64 { return w.ID })
}
