package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Kinds of source record whose address a building link resolves
// (building_link.record_type).
const (
	LinkPartyMember    = "PARTY_MEMBER"    // a member's home (居住地址)
	LinkServiceStation = "SERVICE_STATION" // a 红色驿站's address
	LinkCase           = "CASE"            // a case's address
)

// AddressToResolve is a source record's address with the region the record
// itself knows it lies in: a case's grid; a member's home, the grid of the
// house of the resident the member is (the same person), else the
// member's own region; a station's community.
type AddressToResolve struct {
	Kind       string
	ID         int64
	Address    string
	RegionCode string
}

// addressesToResolve selects, per kind, the records after $1 (id order,
// $3 rows) whose address has no link yet, changed since it was linked, or,
// with $2, was linked to no building (linkStale).
//
// A member's grid is that of the first of its person's residents (by id)
// with one, taken by aggregating the person's few residents: as "ORDER BY
// r.id LIMIT 1" the planner, with the statistics a first load leaves (176
// residents a person, it believed), walked the residents in id order until
// one was the member's — all of them for a member who is no resident, per
// member: 13 s for the medium city's 3,375 members, minutes for the city's.
var addressesToResolve = map[string]string{
	LinkPartyMember: `SELECT m.id, m.address_raw, coalesce(
			(SELECT g.code FROM region g WHERE g.id = (SELECT (array_agg(r.grid_id ORDER BY r.id) FILTER (WHERE r.grid_id IS NOT NULL))[1]
				FROM resident r WHERE r.person_id = m.person_id)),
			(SELECT g.code FROM region g WHERE g.id = m.region_id), '')
		FROM party_member m
		WHERE m.id > $1 AND m.address_raw <> '' AND ` + linkStale(LinkPartyMember, "m.id", "m.address_raw") + `
		ORDER BY m.id LIMIT $3`,
	LinkServiceStation: `SELECT s.id, s.address, coalesce((SELECT g.code FROM region g WHERE g.id = s.region_id), '')
		FROM service_station s
		WHERE s.id > $1 AND s.address <> '' AND ` + linkStale(LinkServiceStation, "s.id", "s.address") + `
		ORDER BY s.id LIMIT $3`,
	LinkCase: `SELECT c.id, c.address, coalesce((SELECT g.code FROM region g WHERE g.id = c.grid_id), '')
		FROM "case" c
		WHERE c.id > $1 AND c.address <> '' AND ` + linkStale(LinkCase, "c.id", "c.address") + `
		ORDER BY c.id LIMIT $3`,
}

// linkStale holds when the record of the given kind, id and address has no
// link, one to another address, or, with $2, one to no building although
// its address names a compound. The link is probed per record, a scalar
// subquery the planner cannot turn into a join: during a first load the
// statistics of building_link trail its rows (none of a kind while its
// first thousands are written), and as a join it sorted, for each batch
// of records, every link of the kind written so far — on disk, 72 ms of a
// batch's 108 ms at medium scale, and more with every batch.
func linkStale(kind, id, address string) string {
	return `(SELECT l.address = ` + address + ` AND NOT ($2 AND l.building_id IS NULL AND l.names_compound)
			FROM building_link l WHERE l.record_type = '` + kind + `' AND l.record_id = ` + id + `) IS NOT TRUE`
}

// AddressesToResolve returns up to limit records of kind after afterID (in
// id order) whose address is not linked, or not as it reads now; with
// retryUnlinked also those whose address names a compound but was linked
// to no building (worth another try once the known buildings changed).
func (s *Store) AddressesToResolve(ctx context.Context, kind string, afterID int64, limit int, retryUnlinked bool) ([]AddressToResolve, error) {
	if err := checkScope(ctx); err != nil {
		return nil, err
	}
	sql, ok := addressesToResolve[kind]
	if !ok {
		return nil, fmt.Errorf("addresses to resolve: unknown record kind %q", kind)
	}
	rows, err := s.pool.Query(ctx, sql, afterID, retryUnlinked, limit)
	if err != nil {
		return nil, fmt.Errorf("addresses to resolve (%s): %w", kind, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AddressToResolve, error) {
		a := AddressToResolve{Kind: kind}
		err := r.Scan(&a.ID, &a.Address, &a.RegionCode)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("addresses to resolve (%s): %w", kind, err)
	}
	return out, nil
}

// BuildingLink is where a record's address was resolved to: a building,
// else only its compound, else nothing finer than a region (both nil).
type BuildingLink struct {
	Kind       string
	ID         int64
	Address    string
	BuildingID *int64
	CompoundID *int64
	Confidence float64
	// NamesCompound: the address names a compound (or building), so a link
	// to no building is tried again when the known buildings change.
	NamesCompound bool
}

// SaveBuildingLinks writes links, replacing those of the same records, in
// one statement. A building or compound removed meanwhile leaves the link
// without it rather than failing the batch.
func (s *Store) SaveBuildingLinks(ctx context.Context, links []BuildingLink) error {
	if len(links) == 0 {
		return nil
	}
	kinds, ids, addrs := make([]string, len(links)), make([]int64, len(links)), make([]string, len(links))
	buildings, compounds, conf := make([]*int64, len(links)), make([]*int64, len(links)), make([]float64, len(links))
	named := make([]bool, len(links))
	for i, l := range links {
		kinds[i], ids[i], addrs[i], buildings[i], compounds[i], conf[i] = l.Kind, l.ID, l.Address, l.BuildingID, l.CompoundID, l.Confidence
		named[i] = l.NamesCompound
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO building_link AS l (record_type, record_id, address, building_id, compound_id, confidence, names_compound)
		SELECT k, id, a, (SELECT b.id FROM building b WHERE b.id = bid), (SELECT c.id FROM compound c WHERE c.id = cid), conf, nc
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[], $7::bool[]) AS u(k, id, a, bid, cid, conf, nc)
		ON CONFLICT (record_type, record_id) DO UPDATE SET address = excluded.address, building_id = excluded.building_id,
			compound_id = excluded.compound_id, confidence = excluded.confidence, names_compound = excluded.names_compound, resolved_at = now()
		WHERE (l.address, l.building_id, l.compound_id, l.confidence) IS DISTINCT FROM
			(excluded.address, excluded.building_id, excluded.compound_id, excluded.confidence)`,
		kinds, ids, addrs, buildings, compounds, conf, named)
	if err != nil {
		return fmt.Errorf("save building links: %w", err)
	}
	return nil
}

// PruneBuildingLinks removes the links of the given kinds (Link…) whose
// records no longer exist (a source deleted them) and returns how many.
func (s *Store) PruneBuildingLinks(ctx context.Context, kinds []string) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM building_link l WHERE l.record_type = ANY($1) AND (
		l.record_type = 'PARTY_MEMBER' AND NOT EXISTS (SELECT 1 FROM party_member m WHERE m.id = l.record_id) OR
		l.record_type = 'SERVICE_STATION' AND NOT EXISTS (SELECT 1 FROM service_station s WHERE s.id = l.record_id) OR
		l.record_type = 'CASE' AND NOT EXISTS (SELECT 1 FROM "case" c WHERE c.id = l.record_id))`, kinds)
	if err != nil {
		return 0, fmt.Errorf("prune building links: %w", err)
	}
	return tag.RowsAffected(), nil
}

// BuildingLinksOf returns the stored links of records of one kind, in key
// order (nil where a record has none).
func (s *Store) BuildingLinksOf(ctx context.Context, kind string, ids []int64) ([]*BuildingLink, error) {
	rows, err := s.pool.Query(ctx, `SELECT record_id, address, building_id, compound_id, confidence FROM building_link
		WHERE record_type = $1 AND record_id = ANY($2)`, kind, ids)
	if err != nil {
		return nil, fmt.Errorf("load building links: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*BuildingLink, error) {
		l := &BuildingLink{Kind: kind}
		err := r.Scan(&l.ID, &l.Address, &l.BuildingID, &l.CompoundID, &l.Confidence)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("load building links: %w", err)
	}
	return inKeyOrder(ids, list, func(l *BuildingLink) int64 { return l.ID }), nil
}

// BuildingPartyMembers lists the party members whose home is in a building
// (their address resolved to it), in the request's jurisdiction.
func (s *Store) BuildingPartyMembers(ctx context.Context, buildingID int64, p PageArgs) (Page[*PartyMember], error) {
	var a sqlArgs
	return listByID(ctx, s, "PARTY_MEMBER", partyMemberSelect+` WHERE x.id IN (SELECT l.record_id FROM building_link l
		WHERE l.building_id = `+a.add(buildingID)+` AND l.record_type = 'PARTY_MEMBER') AND `+scopeRegion(ctx, "x.region_id", &a),
		a, p, scanPartyMember, partyMemberID)
}

// BuildingHouseholds lists the households of a building, in the request's
// jurisdiction.
func (s *Store) BuildingHouseholds(ctx context.Context, buildingID int64, p PageArgs) (Page[*Household], error) {
	var a sqlArgs
	return listByID(ctx, s, "HOUSEHOLD", householdSelect+" WHERE x.building_id = "+a.add(buildingID)+" AND "+scopeRegion(ctx, "x.grid_id", &a),
		a, p, scanHousehold, func(h *Household) int64 { return h.ID })
}
