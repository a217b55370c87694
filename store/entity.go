package store

import (
	"context"
	"fmt"

	"github.com/ywtg/hub/canon"
)

// Upsert writes canonical records of any supported type, grouped by type in
// reference order (places before people, organisations before members), and
// returns the combined counts. Unknown record types are an error: a
// connector and the store must agree on the model.
func (w *Writer) Upsert(ctx context.Context, records []any) (UpsertResult, error) {
	var (
		households []canon.Household
		residents  []canon.Resident
		workers    []canon.GridWorker
		orgs       []canon.PartyOrg
		members    []canon.PartyMember
		reports    []canon.DualReport
		stations   []canon.ServiceStation
		activities []canon.VolunteerActivity
		cases      []canon.Case
	)
	for _, r := range records {
		switch v := r.(type) {
		case *canon.Household:
			households = append(households, *v)
		case *canon.Resident:
			residents = append(residents, *v)
		case *canon.GridWorker:
			workers = append(workers, *v)
		case *canon.PartyOrg:
			orgs = append(orgs, *v)
		case *canon.PartyMember:
			members = append(members, *v)
		case *canon.DualReport:
			reports = append(reports, *v)
		case *canon.ServiceStation:
			stations = append(stations, *v)
		case *canon.VolunteerActivity:
			activities = append(activities, *v)
		case *canon.Case:
			cases = append(cases, *v)
		default:
			return UpsertResult{}, fmt.Errorf("upsert: unsupported record type %T", r)
		}
	}
	var total UpsertResult
	steps := []func() (UpsertResult, error){
		func() (UpsertResult, error) { return w.UpsertHouseholds(ctx, households) },
		func() (UpsertResult, error) { return w.UpsertResidents(ctx, residents) },
		func() (UpsertResult, error) { return w.UpsertGridWorkers(ctx, workers) },
		func() (UpsertResult, error) { return w.UpsertPartyOrgs(ctx, orgs) },
		func() (UpsertResult, error) { return w.UpsertPartyMembers(ctx, members) },
		func() (UpsertResult, error) { return w.UpsertDualReports(ctx, reports) },
		func() (UpsertResult, error) { return w.UpsertServiceStations(ctx, stations) },
		func() (UpsertResult, error) { return w.UpsertVolunteerActivities(ctx, activities) },
		func() (UpsertResult, error) { return w.UpsertCases(ctx, cases) },
	}
	for _, step := range steps {
		r, err := step()
		if err != nil {
			return total, err
		}
		total.Written += r.Written
		total.Unchanged += r.Unchanged
	}
	return total, nil
}

// tables names the store table of each record type, for tombstones.
var tables = map[canon.RecordType]string{
	canon.RecordHousehold: "household", canon.RecordResident: "resident", canon.RecordGridWorker: "grid_worker",
	canon.RecordPartyOrg: "party_org", canon.RecordPartyMember: "party_member", canon.RecordDualReport: "dual_report",
	canon.RecordServiceStation: "service_station", canon.RecordVolunteerActivity: "volunteer_activity", canon.RecordCase: `"case"`,
}

// personRoles names the person role of record types that stand for a person.
var personRoles = map[canon.RecordType]canon.PersonRole{
	canon.RecordResident: canon.RoleResident, canon.RecordPartyMember: canon.RolePartyMember, canon.RecordGridWorker: canon.RoleGridWorker,
}

// Delete removes records of one type that their source deleted, and
// reports how many rows existed.
func (w *Writer) Delete(ctx context.Context, recordType canon.RecordType, source string, sourceIDs []string) (int, error) {
	table, ok := tables[recordType]
	if !ok {
		return 0, fmt.Errorf("delete: unknown record type %q", recordType)
	}
	if len(sourceIDs) == 0 {
		return 0, nil
	}
	if recordType == canon.RecordCase {
		return w.deleteCases(ctx, source, sourceIDs)
	}
	tag, err := w.tx.Exec(ctx, "DELETE FROM "+table+" t USING "+sourceKeys+" WHERE t.source = $1 AND t.source_id = k.id", source, sourceIDs)
	if err != nil {
		return 0, fmt.Errorf("delete %s records of %s: %w", recordType, source, err)
	}
	if role, ok := personRoles[recordType]; ok {
		if _, err := w.tx.Exec(ctx, "DELETE FROM person_link l USING "+sourceKeys+" WHERE l.source = $1 AND l.role = $3 AND l.source_id = k.id", source, sourceIDs, string(role)); err != nil {
			return 0, fmt.Errorf("delete %s person links of %s: %w", recordType, source, err)
		}
	}
	return int(tag.RowsAffected()), nil
}

// deleteCases removes cases their source deleted, and the incidents they
// leave with fewer than two cases (the one left is unlinked): incident
// regrouping after a sync pass looks for such incidents only among those
// its own cases left.
func (w *Writer) deleteCases(ctx context.Context, source string, sourceIDs []string) (int, error) {
	n, left, err := incidentsLeft(w.tx.Query(ctx, `DELETE FROM "case" c USING `+sourceKeys+` WHERE c.source = $1 AND c.source_id = k.id RETURNING c.incident_id`,
		source, sourceIDs))
	if err != nil {
		return 0, fmt.Errorf("delete cases of %s: %w", source, err)
	}
	if _, _, err := w.dissolveIncidents(ctx, left); err != nil {
		return 0, fmt.Errorf("delete cases of %s: %w", source, err)
	}
	return n, nil
}

var householdSpec = &stagedUpsert{
	stage: "household_stage",
	table: "household",
	columns: append(append([]column{{"grid_code", "text"}, {"compound_name", "text"}, {"building_no", "text"},
		{"unit", "text"}, {"room", "text"}, {"address_raw", "text"}}, locationColumns...), provenanceColumns...),
	steps: []string{
		// Compounds first, so that the buildings below find the compounds
		// this batch creates. The groups are formed by byte equality
		// (COLLATE "C": the same groups as the database's deterministic
		// collation, without its locale-aware comparisons in the sort).
		`INSERT INTO compound (name, community_id, grid_id, source, source_id, fetched_at, payload_hash)
			SELECT DISTINCT ON (s.source, g.code, s.compound_name COLLATE "C") s.compound_name, g.parent_id, g.id, s.source,
				g.code || '/' || s.compound_name, s.fetched_at, sha256(convert_to(g.code || '/' || s.compound_name, 'UTF8'))
			FROM household_stage s JOIN region g ON g.code = s.grid_code AND g.level = 'GRID'
			WHERE s.compound_name <> ''
			ON CONFLICT (source, source_id) DO NOTHING`,
		// Each building of the batch once, with its compound probed once
		// (a building whose households name no compound gets none).
		`INSERT INTO building (compound_id, number, grid_id, lat, lng, source, source_id, fetched_at, payload_hash)
			SELECT (SELECT cp.id FROM compound cp WHERE cp.source = d.source AND cp.source_id = d.compound_key),
				d.building_no, d.grid_id, d.lat, d.lng, d.source, d.source_id, d.fetched_at, sha256(convert_to(d.source_id, 'UTF8'))
			FROM (SELECT DISTINCT ON (s.source, g.code, s.compound_name COLLATE "C", s.building_no COLLATE "C") s.source,
					g.code || '/' || s.compound_name AS compound_key, s.building_no, g.id AS grid_id, s.lat, s.lng,
					g.code || '/' || s.compound_name || '/' || s.building_no AS source_id, s.fetched_at
				FROM household_stage s JOIN region g ON g.code = s.grid_code AND g.level = 'GRID'
				WHERE s.building_no <> '') d
			ON CONFLICT (source, source_id) DO NOTHING`,
		// A building held without its compound (the compound was deleted,
		// and a batch has created it again) gets it back. Its compound's
		// source id is its own without the building number: one probe of
		// compound's (source, source_id) index per such building.
		`UPDATE building b SET compound_id = cp.id FROM compound cp
			WHERE b.compound_id IS NULL AND cp.source = b.source
				AND cp.source_id = left(b.source_id, -(length(b.number) + 1))
				AND b.source_id = cp.source_id || '/' || b.number`,
		householdUpsert,
		// Residents that arrived before their household.
		`UPDATE resident r SET household_id = h.id FROM household h
			WHERE r.household_id IS NULL AND h.source = r.source AND h.source_id = r.household_source_id`,
	},
	counted: 3,
}

// householdUpsert writes households once their buildings exist.
const householdUpsert = `INSERT INTO household (building_id, grid_id, compound_name, building_no, unit, room, address_raw, lat, lng,
		source, source_id, source_updated_at, fetched_at, payload_hash)
	SELECT b.id, g.id, s.compound_name, s.building_no, s.unit, s.room, s.address_raw, s.lat, s.lng,
		s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
	FROM household_stage s LEFT JOIN region g ON g.code = s.grid_code AND g.level = 'GRID'
	LEFT JOIN LATERAL (SELECT id FROM building WHERE source = s.source
		AND source_id = g.code || '/' || s.compound_name || '/' || s.building_no LIMIT 1) b ON true
	ON CONFLICT (source, source_id) DO UPDATE SET building_id = EXCLUDED.building_id, grid_id = EXCLUDED.grid_id,
		compound_name = EXCLUDED.compound_name, building_no = EXCLUDED.building_no, unit = EXCLUDED.unit,
		room = EXCLUDED.room, address_raw = EXCLUDED.address_raw, lat = EXCLUDED.lat, lng = EXCLUDED.lng, ` + provenanceSet + `
	WHERE household.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash`

// UpsertHouseholds writes households with their compounds and buildings.
func (w *Writer) UpsertHouseholds(ctx context.Context, recs []canon.Household) (UpsertResult, error) {
	list, dups := dedupe(recs, func(r *canon.Household) canon.Provenance { return r.Provenance })
	rows := make([][]any, len(list))
	for i, r := range list {
		rows[i] = append(append([]any{r.GridCode, r.CompoundName, r.BuildingNo, r.Unit, r.Room, r.AddressRaw},
			locationValues(r.Location)...), provenanceValues(r.Provenance)...)
	}
	res, err := w.run(ctx, householdSpec, rows)
	res.Unchanged += dups
	return res, err
}

var residentSpec = &stagedUpsert{
	stage: "resident_stage",
	table: "resident",
	columns: append(append([]column{{"household_source_id", "text"}, {"grid_code", "text"}, {"residence", "text"},
		{"relation", "text"}}, personColumns...), provenanceColumns...),
	steps: []string{
		upsertPersonsSQL("resident_stage"),
		upsertRecordPersonsSQL("resident_stage", "RESIDENT"),
		personLinkSQL("resident_stage", "RESIDENT"),
		`INSERT INTO resident (person_id, household_id, household_source_id, grid_id, residence, relation,
				source, source_id, source_updated_at, fetched_at, payload_hash)
			SELECT p.id, h.id, s.household_source_id, coalesce(g.id, h.grid_id), s.residence, s.relation,
				s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
			FROM resident_stage s ` + personOf("RESIDENT") + `
			LEFT JOIN LATERAL (SELECT id, grid_id FROM household
				WHERE source = s.source AND source_id = s.household_source_id LIMIT 1) h ON true
			LEFT JOIN region g ON g.code = s.grid_code AND g.level = 'GRID'
			ON CONFLICT (source, source_id) DO UPDATE SET person_id = EXCLUDED.person_id,
				household_id = EXCLUDED.household_id, household_source_id = EXCLUDED.household_source_id,
				grid_id = EXCLUDED.grid_id, residence = EXCLUDED.residence, relation = EXCLUDED.relation, ` + provenanceSet + `
			WHERE resident.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash`,
	},
	counted: 3,
}

// UpsertResidents writes residents and their golden person records.
func (w *Writer) UpsertResidents(ctx context.Context, recs []canon.Resident) (UpsertResult, error) {
	list, dups := dedupe(recs, func(r *canon.Resident) canon.Provenance { return r.Provenance })
	rows := make([][]any, len(list))
	for i, r := range list {
		rows[i] = append(append([]any{r.HouseholdSourceID, nullable(r.GridCode), string(r.Residence), r.Relation},
			personValues(&r.Person)...), provenanceValues(r.Provenance)...)
	}
	res, err := w.run(ctx, residentSpec, rows)
	res.Unchanged += dups
	return res, err
}

var gridWorkerSpec = &stagedUpsert{
	stage:   "grid_worker_stage",
	table:   "grid_worker",
	columns: append(append([]column{{"role", "text"}, {"grid_codes", "text[]"}}, personColumns...), provenanceColumns...),
	steps: []string{
		upsertPersonsSQL("grid_worker_stage"),
		upsertRecordPersonsSQL("grid_worker_stage", "GRID_WORKER"),
		personLinkSQL("grid_worker_stage", "GRID_WORKER"),
		`INSERT INTO grid_worker (person_id, role, source, source_id, source_updated_at, fetched_at, payload_hash)
			SELECT p.id, s.role, s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
			FROM grid_worker_stage s ` + personOf("GRID_WORKER") + `
			ON CONFLICT (source, source_id) DO UPDATE SET person_id = EXCLUDED.person_id, role = EXCLUDED.role, ` + provenanceSet + `
			WHERE grid_worker.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash`,
		`DELETE FROM grid_worker_grid gg USING grid_worker gw, grid_worker_stage s
			WHERE gg.worker_id = gw.id AND gw.source = s.source AND gw.source_id = s.source_id`,
		`INSERT INTO grid_worker_grid (worker_id, grid_id)
			SELECT DISTINCT gw.id, g.id FROM grid_worker_stage s
			JOIN grid_worker gw ON gw.source = s.source AND gw.source_id = s.source_id
			CROSS JOIN LATERAL unnest(s.grid_codes) AS u(grid_code)
			JOIN region g ON g.code = u.grid_code AND g.level = 'GRID'`,
	},
	counted: 3,
}

// UpsertGridWorkers writes grid workers and the grids they serve.
func (w *Writer) UpsertGridWorkers(ctx context.Context, recs []canon.GridWorker) (UpsertResult, error) {
	list, dups := dedupe(recs, func(r *canon.GridWorker) canon.Provenance { return r.Provenance })
	rows := make([][]any, len(list))
	for i, r := range list {
		rows[i] = append(append([]any{string(r.Role), r.GridCodes}, personValues(&r.Person)...), provenanceValues(r.Provenance)...)
	}
	res, err := w.run(ctx, gridWorkerSpec, rows)
	res.Unchanged += dups
	return res, err
}

var partyOrgSpec = &stagedUpsert{
	stage: "party_org_stage",
	table: "party_org",
	columns: append([]column{{"name", "text"}, {"kind", "text"}, {"parent_source_id", "text"},
		{"community_name", "text"}, {"grid_code", "text"}}, provenanceColumns...),
	steps: []string{
		`INSERT INTO party_org (name, kind, parent_source_id, community_name, region_id,
			source, source_id, source_updated_at, fetched_at, payload_hash)
		SELECT s.name, s.kind, s.parent_source_id, s.community_name, coalesce(g.id, c.id),
			s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
		FROM party_org_stage s
		LEFT JOIN region g ON g.code = s.grid_code AND g.level = 'GRID'
		LEFT JOIN LATERAL (SELECT id FROM region WHERE level = 'COMMUNITY' AND name = s.community_name
			ORDER BY code LIMIT 1) c ON g.id IS NULL
		ON CONFLICT (source, source_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
			parent_source_id = EXCLUDED.parent_source_id, community_name = EXCLUDED.community_name,
			region_id = EXCLUDED.region_id, ` + provenanceSet + `
		WHERE party_org.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash`,
		`UPDATE party_org o SET parent_id = p.id FROM party_org p
			WHERE o.parent_source_id IS NOT NULL AND p.source = o.source AND p.source_id = o.parent_source_id
			AND o.parent_id IS DISTINCT FROM p.id`,
		`UPDATE party_member m SET org_id = o.id FROM party_org o
			WHERE m.org_id IS NULL AND o.source = m.source AND o.source_id = m.org_source_id`,
		`UPDATE dual_report d SET branch_org_id = o.id FROM party_org o
			WHERE d.branch_org_id IS NULL AND d.branch_source_id <> '' AND o.source = d.source AND o.source_id = d.branch_source_id`,
	},
}

// UpsertPartyOrgs writes party organisations and links the hierarchy.
func (w *Writer) UpsertPartyOrgs(ctx context.Context, recs []canon.PartyOrg) (UpsertResult, error) {
	list, dups := dedupe(recs, func(r *canon.PartyOrg) canon.Provenance { return r.Provenance })
	rows := make([][]any, len(list))
	for i, r := range list {
		rows[i] = append([]any{r.Name, string(r.Kind), nullable(r.ParentSourceID), r.CommunityName, nullable(r.GridCode)},
			provenanceValues(r.Provenance)...)
	}
	res, err := w.run(ctx, partyOrgSpec, rows)
	res.Unchanged += dups
	return res, err
}

var partyMemberSpec = &stagedUpsert{
	stage: "party_member_stage",
	table: "party_member",
	columns: append(append([]column{{"org_source_id", "text"}, {"joined_on", "date"}, {"central_household", "boolean"},
		{"address_raw", "text"}, {"grid_code", "text"}}, personColumns...), provenanceColumns...),
	steps: []string{
		upsertPersonsSQL("party_member_stage"),
		upsertRecordPersonsSQL("party_member_stage", "PARTY_MEMBER"),
		personLinkSQL("party_member_stage", "PARTY_MEMBER"),
		`INSERT INTO party_member (person_id, org_id, org_source_id, joined_on, central_household, address_raw, region_id,
				source, source_id, source_updated_at, fetched_at, payload_hash)
			SELECT p.id, o.id, s.org_source_id, s.joined_on, s.central_household, s.address_raw, coalesce(g.id, o.region_id),
				s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
			FROM party_member_stage s ` + personOf("PARTY_MEMBER") + `
			LEFT JOIN party_org o ON o.source = s.source AND o.source_id = s.org_source_id
			LEFT JOIN region g ON g.code = s.grid_code AND g.level = 'GRID'
			ON CONFLICT (source, source_id) DO UPDATE SET person_id = EXCLUDED.person_id, org_id = EXCLUDED.org_id,
				org_source_id = EXCLUDED.org_source_id, joined_on = EXCLUDED.joined_on,
				central_household = EXCLUDED.central_household, address_raw = EXCLUDED.address_raw,
				region_id = EXCLUDED.region_id, ` + provenanceSet + `
			WHERE party_member.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash`,
		`UPDATE dual_report d SET member_id = m.id FROM party_member m
			WHERE d.member_id IS NULL AND m.source = d.source AND m.source_id = d.member_source_id`,
		`UPDATE volunteer_activity a SET member_id = m.id FROM party_member m
			WHERE a.member_id IS NULL AND m.source = a.source AND m.source_id = a.member_source_id`,
	},
	counted: 3,
}

// UpsertPartyMembers writes party members and their golden person records.
func (w *Writer) UpsertPartyMembers(ctx context.Context, recs []canon.PartyMember) (UpsertResult, error) {
	list, dups := dedupe(recs, func(r *canon.PartyMember) canon.Provenance { return r.Provenance })
	rows := make([][]any, len(list))
	for i, r := range list {
		rows[i] = append(append([]any{r.OrgSourceID, nullDate(r.JoinedOn), r.CentralHousehold, r.AddressRaw, nullable(r.GridCode)},
			personValues(&r.Person)...), provenanceValues(r.Provenance)...)
	}
	res, err := w.run(ctx, partyMemberSpec, rows)
	res.Unchanged += dups
	return res, err
}

var dualReportSpec = &stagedUpsert{
	stage: "dual_report_stage",
	table: "dual_report",
	columns: append([]column{{"member_source_id", "text"}, {"community_code", "text"}, {"community_name", "text"},
		{"branch_source_id", "text"}, {"employer", "text"}, {"reported_on", "date"}}, provenanceColumns...),
	steps: []string{`INSERT INTO dual_report (member_id, member_source_id, community_id, community_name, branch_org_id,
			branch_source_id, employer, reported_on, source, source_id, source_updated_at, fetched_at, payload_hash)
		SELECT m.id, s.member_source_id, coalesce(c.id, cn.id), s.community_name, o.id, s.branch_source_id, s.employer,
			s.reported_on, s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
		FROM dual_report_stage s
		LEFT JOIN party_member m ON m.source = s.source AND m.source_id = s.member_source_id
		LEFT JOIN party_org o ON o.source = s.source AND o.source_id = s.branch_source_id
		LEFT JOIN region c ON c.code = s.community_code AND c.level = 'COMMUNITY'
		LEFT JOIN LATERAL (SELECT id FROM region WHERE level = 'COMMUNITY' AND name = s.community_name
			ORDER BY code LIMIT 1) cn ON c.id IS NULL
		ON CONFLICT (source, source_id) DO UPDATE SET member_id = EXCLUDED.member_id,
			member_source_id = EXCLUDED.member_source_id, community_id = EXCLUDED.community_id,
			community_name = EXCLUDED.community_name, branch_org_id = EXCLUDED.branch_org_id,
			branch_source_id = EXCLUDED.branch_source_id, employer = EXCLUDED.employer,
			reported_on = EXCLUDED.reported_on, ` + provenanceSet + `
		WHERE dual_report.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash`},
}

// UpsertDualReports writes 双报到 registrations.
func (w *Writer) UpsertDualReports(ctx context.Context, recs []canon.DualReport) (UpsertResult, error) {
	list, dups := dedupe(recs, func(r *canon.DualReport) canon.Provenance { return r.Provenance })
	rows := make([][]any, len(list))
	for i, r := range list {
		rows[i] = append([]any{r.MemberSourceID, nullable(r.CommunityCode), r.CommunityName, r.BranchSourceID, r.Employer,
			nullDate(r.ReportedOn)}, provenanceValues(r.Provenance)...)
	}
	res, err := w.run(ctx, dualReportSpec, rows)
	res.Unchanged += dups
	return res, err
}

var stationSpec = &stagedUpsert{
	stage: "service_station_stage",
	table: "service_station",
	columns: append(append([]column{{"name", "text"}, {"kind", "text"}, {"address", "text"}, {"services", "text[]"},
		{"opening_hours", "text"}, {"community_code", "text"}}, locationColumns...), provenanceColumns...),
	steps: []string{
		`INSERT INTO service_station (name, kind, address, services, opening_hours, region_id, lat, lng,
			orig_lat, orig_lng, orig_datum, source, source_id, source_updated_at, fetched_at, payload_hash)
		SELECT s.name, s.kind, s.address, coalesce(s.services, '{}'), s.opening_hours, c.id, s.lat, s.lng,
			s.orig_lat, s.orig_lng, s.orig_datum, s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
		FROM service_station_stage s LEFT JOIN region c ON c.code = s.community_code
		ON CONFLICT (source, source_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
			address = EXCLUDED.address, services = EXCLUDED.services, opening_hours = EXCLUDED.opening_hours,
			region_id = EXCLUDED.region_id, lat = EXCLUDED.lat, lng = EXCLUDED.lng, orig_lat = EXCLUDED.orig_lat,
			orig_lng = EXCLUDED.orig_lng, orig_datum = EXCLUDED.orig_datum, ` + provenanceSet + `
		WHERE service_station.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash`,
		`UPDATE volunteer_activity a SET station_id = st.id FROM service_station st
			WHERE a.station_id IS NULL AND a.station_source_id IS NOT NULL AND st.source = a.source AND st.source_id = a.station_source_id`,
	},
}

// UpsertServiceStations writes 红色驿站 and 党群服务中心.
func (w *Writer) UpsertServiceStations(ctx context.Context, recs []canon.ServiceStation) (UpsertResult, error) {
	list, dups := dedupe(recs, func(r *canon.ServiceStation) canon.Provenance { return r.Provenance })
	rows := make([][]any, len(list))
	for i, r := range list {
		rows[i] = append(append([]any{r.Name, string(r.Kind), r.Address, r.Services, r.OpeningHours, nullable(r.CommunityCode)},
			locationValues(r.Location)...), provenanceValues(r.Provenance)...)
	}
	res, err := w.run(ctx, stationSpec, rows)
	res.Unchanged += dups
	return res, err
}

var activitySpec = &stagedUpsert{
	stage: "volunteer_activity_stage",
	table: "volunteer_activity",
	columns: append([]column{{"title", "text"}, {"member_source_id", "text"}, {"station_source_id", "text"},
		{"held_on", "date"}, {"hours", "numeric"}, {"points", "integer"}}, provenanceColumns...),
	steps: []string{`INSERT INTO volunteer_activity (title, member_id, member_source_id, station_id, station_source_id,
			held_on, hours, points, source, source_id, source_updated_at, fetched_at, payload_hash)
		SELECT s.title, m.id, s.member_source_id, st.id, s.station_source_id, s.held_on, s.hours, s.points,
			s.source, s.source_id, s.source_updated_at, s.fetched_at, s.payload_hash
		FROM volunteer_activity_stage s
		LEFT JOIN party_member m ON m.source = s.source AND m.source_id = s.member_source_id
		LEFT JOIN service_station st ON st.source = s.source AND st.source_id = s.station_source_id
		ON CONFLICT (source, source_id) DO UPDATE SET title = EXCLUDED.title, member_id = EXCLUDED.member_id,
			member_source_id = EXCLUDED.member_source_id, station_id = EXCLUDED.station_id,
			station_source_id = EXCLUDED.station_source_id, held_on = EXCLUDED.held_on, hours = EXCLUDED.hours,
			points = EXCLUDED.points, ` + provenanceSet + `
		WHERE volunteer_activity.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash`},
}

// UpsertVolunteerActivities writes volunteer service records.
func (w *Writer) UpsertVolunteerActivities(ctx context.Context, recs []canon.VolunteerActivity) (UpsertResult, error) {
	list, dups := dedupe(recs, func(r *canon.VolunteerActivity) canon.Provenance { return r.Provenance })
	rows := make([][]any, len(list))
	for i, r := range list {
		rows[i] = append([]any{r.Title, r.MemberSourceID, nullable(r.StationSourceID), nullDate(r.HeldOn), r.Hours, r.Points},
			provenanceValues(r.Provenance)...)
	}
	res, err := w.run(ctx, activitySpec, rows)
	res.Unchanged += dups
	return res, err
}
