package store

import (
	"context"
	"fmt"
	"slices"

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
	// Linked: the record has a link (of an address it had, or of this one
	// when retried), which a link not kept replaces by none. Read for
	// cases; true for the other kinds, whose links are all kept.
	Linked bool
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
//
// A case's link is probed in a LATERAL subquery that its LIMIT keeps from
// being turned into a join (see linkStale), once for the filter and for
// whether the case has a link at all.
var addressesToResolve = map[string]string{
	LinkPartyMember: `SELECT m.id, m.address_raw, coalesce(
			(SELECT g.code FROM region g WHERE g.id = (SELECT (array_agg(r.grid_id ORDER BY r.id) FILTER (WHERE r.grid_id IS NOT NULL))[1]
				FROM resident r WHERE r.person_id = m.person_id)),
			(SELECT g.code FROM region g WHERE g.id = m.region_id), ''), true
		FROM party_member m
		WHERE m.id > $1 AND m.address_raw <> '' AND ` + linkStale(LinkPartyMember, "m.id", "m.address_raw") + `
		ORDER BY m.id LIMIT $3`,
	LinkServiceStation: `SELECT s.id, s.address, coalesce((SELECT g.code FROM region g WHERE g.id = s.region_id), ''), true
		FROM service_station s
		WHERE s.id > $1 AND s.address <> '' AND ` + linkStale(LinkServiceStation, "s.id", "s.address") + `
		ORDER BY s.id LIMIT $3`,
	LinkCase: `SELECT c.id, c.address, coalesce((SELECT g.code FROM region g WHERE g.id = c.grid_id), ''), l.current IS NOT NULL
		FROM "case" c LEFT JOIN LATERAL (SELECT l.address = c.address AND NOT ($2 AND l.building_id IS NULL AND l.names_compound) AS current
			FROM building_link l WHERE l.record_type = 'CASE' AND l.record_id = c.id LIMIT 1) l ON true
		WHERE c.id > $1 AND c.address <> '' AND l.current IS NOT TRUE
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
// For cases it is the first linking's read, and a linking's after one was
// interrupted (BeginCaseLinking); the others take the queue of cases
// changed since (CaseAddressQueue).
func (s *Store) AddressesToResolve(ctx context.Context, kind string, afterID int64, limit int, retryUnlinked bool) ([]AddressToResolve, error) {
	if err := checkScope(ctx); err != nil {
		return nil, err
	}
	sql, ok := addressesToResolve[kind]
	if !ok {
		return nil, fmt.Errorf("addresses to resolve: unknown record kind %q", kind)
	}
	out, err := s.addresses(ctx, kind, sql, afterID, retryUnlinked, limit)
	if err != nil {
		return nil, fmt.Errorf("addresses to resolve (%s): %w", kind, err)
	}
	return out, nil
}

// addresses runs a statement reading records' addresses (id, address,
// region code, whether linked).
func (s *Store) addresses(ctx context.Context, kind, sql string, args ...any) ([]AddressToResolve, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AddressToResolve, error) {
		a := AddressToResolve{Kind: kind}
		err := r.Scan(&a.ID, &a.Address, &a.RegionCode, &a.Linked)
		return a, err
	})
}

// BeginCaseLinking is called before cases' addresses are linked: all
// tells that no linking of every case has completed, so this one must
// look at every case (AddressesToResolve) and then say so
// (CaseAddressesLinked); otherwise the queue names every case to look at
// again. Until the first linking begins, nothing is queued (migration
// 056).
func (s *Store) BeginCaseLinking(ctx context.Context) (all bool, err error) {
	if err := checkScope(ctx); err != nil {
		return false, err
	}
	var epoch int64
	if err := s.pool.QueryRow(ctx, `SELECT epoch FROM resolution_epoch WHERE kind = $1`, string(LinkResolutionKind)).Scan(&epoch); err != nil {
		return false, fmt.Errorf("begin linking cases: %w", err)
	}
	if epoch == 0 {
		// The first linking: the queue starts (epoch 1) once every
		// writer that left a case unqueued has committed.
		if _, err := s.BeginResolution(ctx, LinkResolutionKind); err != nil {
			return false, err
		}
	}
	return epoch < 2, nil
}

// CaseAddressesLinked records that a linking that began (BeginCaseLinking)
// has looked at every case: the next ones take the queue.
func (s *Store) CaseAddressesLinked(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `UPDATE resolution_epoch SET epoch = 2 WHERE kind = $1 AND epoch = 1`, string(LinkResolutionKind)); err != nil {
		return fmt.Errorf("cases linked: %w", err)
	}
	return nil
}

// CaseAddressQueue is the queue of cases whose address to link again
// (case_address_queue): the cases, each once, in id order, and the
// positions of the entries read.
type CaseAddressQueue struct {
	IDs, Seqs []int64
}

// CaseAddressQueue reads the whole queue of cases inserted, or changed in
// address or grid, since a linking last took them (migration 056).
func (s *Store) CaseAddressQueue(ctx context.Context) (CaseAddressQueue, error) {
	var q CaseAddressQueue
	if err := checkScope(ctx); err != nil {
		return q, err
	}
	rows, err := s.pool.Query(ctx, `SELECT case_id, seq FROM case_address_queue`)
	if err != nil {
		return q, fmt.Errorf("case address queue: %w", err)
	}
	var id, seq int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error {
		q.IDs, q.Seqs = append(q.IDs, id), append(q.Seqs, seq)
		return nil
	}); err != nil {
		return q, fmt.Errorf("case address queue: %w", err)
	}
	slices.Sort(q.IDs)
	q.IDs = slices.Compact(q.IDs)
	return q, nil
}

// TakeCaseAddressQueue deletes the entries a linking read (by position):
// an entry queued after the read stays for the next linking.
func (s *Store) TakeCaseAddressQueue(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM case_address_queue q USING unnest($1::bigint[]) AS t(seq) WHERE q.seq = t.seq`, seqs); err != nil {
		return fmt.Errorf("take the case address queue: %w", err)
	}
	return nil
}

// CaseAddresses returns the addresses of the given cases that exist, in id
// order, empty ones included (a link they had goes).
func (s *Store) CaseAddresses(ctx context.Context, ids []int64) ([]AddressToResolve, error) {
	if err := checkScope(ctx); err != nil {
		return nil, err
	}
	out, err := s.addresses(ctx, LinkCase, `SELECT c.id, c.address, coalesce((SELECT g.code FROM region g WHERE g.id = c.grid_id), ''),
			EXISTS (SELECT FROM building_link l WHERE l.record_type = 'CASE' AND l.record_id = c.id)
		FROM unnest($1::bigint[]) AS t(id) JOIN "case" c ON c.id = t.id ORDER BY c.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("case addresses: %w", err)
	}
	return out, nil
}

// CaseAddressesToRetry returns up to limit cases after afterID (id order)
// whose address names a compound but is linked to no building: worth
// another try once the known buildings changed.
func (s *Store) CaseAddressesToRetry(ctx context.Context, afterID int64, limit int) ([]AddressToResolve, error) {
	if err := checkScope(ctx); err != nil {
		return nil, err
	}
	out, err := s.addresses(ctx, LinkCase, `SELECT c.id, c.address, coalesce((SELECT g.code FROM region g WHERE g.id = c.grid_id), ''), true
		FROM building_link l JOIN "case" c ON c.id = l.record_id
		WHERE l.record_type = 'CASE' AND l.record_id > $1 AND l.building_id IS NULL AND l.names_compound
		ORDER BY l.record_id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("case addresses to retry: %w", err)
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
	// Linked: the record has a link stored (AddressToResolve.Linked).
	Linked bool
}

// Kept reports whether the link is stored: every link of a member's home
// or a station's address; a case's only where its address names a
// compound. Most case addresses name a road: their link to nothing says
// no more than no link does (migration 056).
func (l *BuildingLink) Kept() bool {
	return l.Kind != LinkCase || l.NamesCompound || l.BuildingID != nil || l.CompoundID != nil
}

// SaveBuildingLinks writes the links that are kept (BuildingLink.Kept),
// replacing those of the same records, and deletes the link a record had
// where its new one is not kept, in one round trip. A building or compound
// removed meanwhile leaves the link without it rather than failing the
// batch.
func (s *Store) SaveBuildingLinks(ctx context.Context, links []BuildingLink) error {
	var kinds, addrs []string
	var ids []int64
	var buildings, compounds []*int64
	var conf []float64
	var named []bool
	var goneKinds []string
	var gone []int64
	for i := range links {
		l := &links[i]
		if !l.Kept() {
			if l.Linked {
				goneKinds, gone = append(goneKinds, l.Kind), append(gone, l.ID)
			}
			continue
		}
		kinds, ids, addrs, buildings, compounds, conf = append(kinds, l.Kind), append(ids, l.ID), append(addrs, l.Address),
			append(buildings, l.BuildingID), append(compounds, l.CompoundID), append(conf, l.Confidence)
		named = append(named, l.NamesCompound)
	}
	b := &pgx.Batch{}
	if len(ids) > 0 {
		queueExec(b, "save building links", `INSERT INTO building_link AS l (record_type, record_id, address, building_id, compound_id, confidence, names_compound)
		SELECT k, id, a, (SELECT b.id FROM building b WHERE b.id = bid), (SELECT c.id FROM compound c WHERE c.id = cid), conf, nc
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[], $7::bool[]) AS u(k, id, a, bid, cid, conf, nc)
		ON CONFLICT (record_type, record_id) DO UPDATE SET address = excluded.address, building_id = excluded.building_id,
			compound_id = excluded.compound_id, confidence = excluded.confidence, names_compound = excluded.names_compound, resolved_at = now()
		WHERE (l.address, l.building_id, l.compound_id, l.confidence) IS DISTINCT FROM
			(excluded.address, excluded.building_id, excluded.compound_id, excluded.confidence)`, nil,
			kinds, ids, addrs, buildings, compounds, conf, named)
	}
	if len(gone) > 0 {
		queueExec(b, "drop building links", `DELETE FROM building_link l USING unnest($1::text[], $2::bigint[]) AS u(k, id)
			WHERE l.record_type = u.k AND l.record_id = u.id`, nil, goneKinds, gone)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("save building links: %w", err)
	}
	return nil
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
