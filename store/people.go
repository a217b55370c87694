package store

import (
	"context"
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

const personSelect = `SELECT x.id, x.id_masked, x.name_masked, x.name, x.gender, x.birth_date, x.phone_masked,
	x.household_id, coalesce((SELECT array_agg(DISTINCT l.role ORDER BY l.role) FROM person_link l WHERE l.person_id = x.id), '{}'),
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
	// A person merged into another is listed as the survivor only.
	conds := []string{personVisible(ctx, &a), "x.merged_into IS NULL"}
	if ph := regionRef(f.RegionID, f.RegionCode, &a); ph != "" {
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
	return listByID(ctx, s, "PERSON", personSelect+" WHERE "+strings.Join(conds, " AND "), a, p, scanPerson, personID)
}

// PeopleByID loads persons in key order.
func (s *Store) PeopleByID(ctx context.Context, ids []int64) ([]*Person, error) {
	return byIDs(ctx, s, "people", personSelect, ids, func(a *sqlArgs) string { return personVisible(ctx, a) }, scanPerson, personID)
}

// PersonRecord is one source system's record of a person.
type PersonRecord struct {
	PersonID   int64
	Role       canon.PersonRole
	Provenance Provenance
}

// PersonRecords loads the per-source records of a batch of persons.
func (s *Store) PersonRecords(ctx context.Context, personIDs []int64) ([][]*PersonRecord, error) {
	return groupedBy(ctx, s, "person records", `SELECT person_id, role, source, source_id, source_updated_at,
			fetched_at, payload_hash FROM person_link WHERE person_id = ANY($1) ORDER BY person_id, source, role, source_id`,
		personIDs, nil, func(r pgx.CollectableRow) (int64, *PersonRecord, error) {
			x := &PersonRecord{}
			p := &x.Provenance
			err := r.Scan(&x.PersonID, &x.Role, &p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
			return x.PersonID, x, err
		})
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

// CasesReportedBy lists the cases a person reported, newest first.
func (s *Store) CasesReportedBy(ctx context.Context, personID int64, p PageArgs) (Page[*Case], error) {
	var a sqlArgs
	return listByID(ctx, s, "REPORTED_CASE", "SELECT "+strings.ReplaceAll(caseColumns, "c.", "x.")+
		` FROM "case" x WHERE x.reporter_person_id = `+a.add(personID)+" AND "+scopePath(ctx, "x.region_path", &a), a, p,
		func(r pgx.CollectableRow) (*Case, error) { return scanCase(r) }, func(c *Case) int64 { return c.ID })
}

// GridWorkersByID loads grid workers in key order.
func (s *Store) GridWorkersByID(ctx context.Context, ids []int64) ([]*GridWorker, error) {
	return byIDs(ctx, s, "grid workers", gridWorkerSelect, ids, func(a *sqlArgs) string { return gridWorkerVisible(ctx, a) }, scanGridWorker, func(w *GridWorker) int64 { return w.ID })
}
