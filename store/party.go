package store

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// PartyOrg is a stored party organisation with its member counts.
type PartyOrg struct {
	ID                int64
	Name              string
	Kind              canon.PartyOrgKind
	ParentID          *int64
	RegionID          *int64
	Members           int // direct members
	CentralHouseholds int // 党员中心户 among them
	Provenance        Provenance
}

const partyOrgSelect = `SELECT x.id, x.name, x.kind, x.parent_id, x.region_id,
	(SELECT count(*) FROM party_member m WHERE m.org_id = x.id),
	(SELECT count(*) FROM party_member m WHERE m.org_id = x.id AND m.central_household),
	x.source, x.source_id, x.source_updated_at, x.fetched_at, x.payload_hash FROM party_org x`

func scanPartyOrg(r pgx.CollectableRow) (*PartyOrg, error) {
	o := &PartyOrg{}
	p := &o.Provenance
	err := r.Scan(&o.ID, &o.Name, &o.Kind, &o.ParentID, &o.RegionID, &o.Members, &o.CentralHouseholds,
		&p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
	return o, err
}

func partyOrgID(o *PartyOrg) int64 { return o.ID }

// PartyOrgQuery selects organisations: those anchored in a region's
// subtree, or the children of one organisation.
type PartyOrgQuery struct {
	RegionID   *int64
	RegionCode *string // the region by its code instead of its id
	ParentID   *int64
	Kind       []canon.PartyOrgKind
}

// PartyOrgs lists party organisations.
func (s *Store) PartyOrgs(ctx context.Context, q PartyOrgQuery, p PageArgs) (Page[*PartyOrg], error) {
	var a sqlArgs
	conds := []string{scopeRegion(ctx, "x.region_id", &a)}
	if ph := regionRef(q.RegionID, q.RegionCode, &a); ph != "" {
		conds = append(conds, subtree("x.region_id", ph))
	}
	if q.ParentID != nil {
		conds = append(conds, "x.parent_id = "+a.add(*q.ParentID))
	}
	if len(q.Kind) > 0 {
		conds = append(conds, "x.kind = ANY("+a.add(strs(q.Kind))+")")
	}
	return listByID(ctx, s, "PARTY_ORG", partyOrgSelect+" WHERE "+strings.Join(conds, " AND "), a, p, scanPartyOrg, partyOrgID)
}

// PartyOrgsByID loads organisations in key order.
func (s *Store) PartyOrgsByID(ctx context.Context, ids []int64) ([]*PartyOrg, error) {
	return byIDs(ctx, s, "party orgs", partyOrgSelect, ids, inScope(ctx, "x.region_id"), scanPartyOrg, partyOrgID)
}

// PartyMember is a stored party member with service totals.
type PartyMember struct {
	ID               int64
	PersonID         int64
	OrgID            *int64
	JoinedOn         *time.Time
	CentralHousehold bool
	RegionID         *int64
	ServiceHours     float64
	Points           int
	Provenance       Provenance
}

const partyMemberSelect = `SELECT x.id, x.person_id, x.org_id, x.joined_on, x.central_household, x.region_id,
	coalesce((SELECT sum(a.hours) FROM volunteer_activity a WHERE a.member_id = x.id), 0)::float8,
	coalesce((SELECT sum(a.points) FROM volunteer_activity a WHERE a.member_id = x.id), 0)::int,
	x.source, x.source_id, x.source_updated_at, x.fetched_at, x.payload_hash FROM party_member x`

func scanPartyMember(r pgx.CollectableRow) (*PartyMember, error) {
	m := &PartyMember{}
	p := &m.Provenance
	err := r.Scan(&m.ID, &m.PersonID, &m.OrgID, &m.JoinedOn, &m.CentralHousehold, &m.RegionID, &m.ServiceHours, &m.Points,
		&p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
	return m, err
}

func partyMemberID(m *PartyMember) int64 { return m.ID }

// PartyMembers lists the members of an organisation.
func (s *Store) PartyMembers(ctx context.Context, orgID int64, p PageArgs) (Page[*PartyMember], error) {
	var a sqlArgs
	return listByID(ctx, s, "PARTY_MEMBER", partyMemberSelect+" WHERE x.org_id = "+a.add(orgID)+" AND "+scopeRegion(ctx, "x.region_id", &a),
		a, p, scanPartyMember, partyMemberID)
}

// PartyMembersByID loads members in key order.
func (s *Store) PartyMembersByID(ctx context.Context, ids []int64) ([]*PartyMember, error) {
	return byIDs(ctx, s, "party members", partyMemberSelect, ids, inScope(ctx, "x.region_id"), scanPartyMember, partyMemberID)
}

// PartyMembersByPerson loads the member records of a batch of persons.
func (s *Store) PartyMembersByPerson(ctx context.Context, personIDs []int64) ([][]*PartyMember, error) {
	return groupedBy(ctx, s, "party members", `SELECT x.person_id, `+strings.TrimPrefix(partyMemberSelect, "SELECT ")+
		` WHERE x.person_id = ANY($1) AND `+scopeRegion(ctx, "x.region_id", &sqlArgs{nil})+` ORDER BY x.id`, personIDs, scopeArgs(ctx),
		func(r pgx.CollectableRow) (int64, *PartyMember, error) {
			var pid int64
			m := &PartyMember{}
			p := &m.Provenance
			err := r.Scan(&pid, &m.ID, &m.PersonID, &m.OrgID, &m.JoinedOn, &m.CentralHousehold, &m.RegionID, &m.ServiceHours, &m.Points,
				&p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
			return pid, m, err
		})
}

// DualReport is a stored 双报到 registration.
type DualReport struct {
	ID          int64
	MemberID    *int64
	CommunityID *int64
	Community   string
	BranchID    *int64
	Employer    string
	ReportedOn  *time.Time
	Provenance  Provenance
}

// DualReportsByMember loads the registrations of a batch of members.
func (s *Store) DualReportsByMember(ctx context.Context, memberIDs []int64) ([][]*DualReport, error) {
	return groupedBy(ctx, s, "dual reports", `SELECT x.member_id, x.id, x.member_id, x.community_id, x.community_name,
			x.branch_org_id, x.employer, x.reported_on, x.source, x.source_id, x.source_updated_at, x.fetched_at, x.payload_hash
		FROM dual_report x WHERE x.member_id = ANY($1) ORDER BY x.id`, memberIDs, nil,
		func(r pgx.CollectableRow) (int64, *DualReport, error) {
			var mid int64
			d := &DualReport{}
			p := &d.Provenance
			err := r.Scan(&mid, &d.ID, &d.MemberID, &d.CommunityID, &d.Community, &d.BranchID, &d.Employer, &d.ReportedOn,
				&p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
			return mid, d, err
		})
}

// ServiceStation is a stored service station.
type ServiceStation struct {
	ID           int64
	Name         string
	Kind         canon.StationKind
	Address      string
	Lat, Lng     *float64
	Services     []string
	OpeningHours string
	RegionID     *int64
	DistanceM    *float64 // set by a near query
	Provenance   Provenance
}

const stationColumns = `x.id, x.name, x.kind, x.address, x.lat, x.lng, x.services, x.opening_hours, x.region_id`
const stationProvenance = `x.source, x.source_id, x.source_updated_at, x.fetched_at, x.payload_hash`

func scanStation(r pgx.CollectableRow) (*ServiceStation, error) {
	st := &ServiceStation{}
	p := &st.Provenance
	err := r.Scan(&st.ID, &st.Name, &st.Kind, &st.Address, &st.Lat, &st.Lng, &st.Services, &st.OpeningHours, &st.RegionID,
		&st.DistanceM, &p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
	return st, err
}

func stationID(s *ServiceStation) int64 { return s.ID }

// Near is a circle on the map.
type Near struct {
	Lat, Lng     float64
	RadiusMeters float64
}

// earthRadius is the mean radius of the earth in metres, the sphere the
// distances from a point are measured on.
const earthRadius = 6371008.8

// haversineSQL is the great-circle distance in metres from a point.
func haversineSQL(lat, lng string) string {
	return `(2 * ` + strconv.FormatFloat(earthRadius, 'f', -1, 64) + ` * asin(sqrt(power(sin(radians(x.lat - ` + lat + `) / 2), 2) +
		cos(radians(` + lat + `)) * cos(radians(x.lat)) * power(sin(radians(x.lng - ` + lng + `) / 2), 2))))`
}

// StationQuery selects service stations: in a region's subtree (by id or
// code) and/or within a radius of a point.
type StationQuery struct {
	RegionID   *int64
	RegionCode *string
	Near       *Near
}

// ServiceStations lists stations in a region's subtree and/or within a
// radius of a point (then with their distance).
func (s *Store) ServiceStations(ctx context.Context, q StationQuery, p PageArgs) (Page[*ServiceStation], error) {
	var a sqlArgs
	conds := []string{scopeRegion(ctx, "x.region_id", &a)}
	dist := "NULL::float8"
	if ph := regionRef(q.RegionID, q.RegionCode, &a); ph != "" {
		conds = append(conds, subtree("x.region_id", ph))
	}
	near := q.Near
	if near != nil {
		if near.RadiusMeters <= 0 || near.RadiusMeters > 50000 || near.Lat < -90 || near.Lat > 90 || near.Lng < -180 || near.Lng > 180 {
			return Page[*ServiceStation]{}, canon.Errorf(canon.BadUserInput, "near needs a WGS-84 point and a radius of 1 to 50000 metres")
		}
		lat, lng := a.add(near.Lat), a.add(near.Lng)
		dist = haversineSQL(lat+"::float8", lng+"::float8")
		// A bounding box first (index on lat, lng), then the exact distance:
		// the box spans the radius in degrees of latitude on the same sphere
		// (with 111,320 m a degree it cut off the last 0.1% of the radius
		// due north and south).
		dLat := near.RadiusMeters / (earthRadius * math.Pi / 180)
		conds = append(conds, "x.lat BETWEEN "+a.add(near.Lat-dLat)+" AND "+a.add(near.Lat+dLat),
			dist+" <= "+a.add(near.RadiusMeters))
	}
	base := "SELECT " + stationColumns + ", " + dist + ", " + stationProvenance + " FROM service_station x WHERE " + strings.Join(conds, " AND ")
	return listByID(ctx, s, "STATION", base, a, p, scanStation, stationID)
}

// ServiceStationsByID loads stations in key order.
func (s *Store) ServiceStationsByID(ctx context.Context, ids []int64) ([]*ServiceStation, error) {
	return byIDs(ctx, s, "stations", "SELECT "+stationColumns+", NULL::float8, "+stationProvenance+" FROM service_station x", ids, inScope(ctx, "x.region_id"), scanStation, stationID)
}

// VolunteerActivity is a stored volunteer service record.
type VolunteerActivity struct {
	ID         int64
	Title      string
	MemberID   *int64
	StationID  *int64
	HeldOn     *time.Time
	Hours      float64
	Points     int
	Provenance Provenance
}

// ActivitiesByMember loads the activities of a batch of members.
func (s *Store) ActivitiesByMember(ctx context.Context, memberIDs []int64) ([][]*VolunteerActivity, error) {
	return groupedBy(ctx, s, "volunteer activities", `SELECT x.member_id, x.id, x.title, x.member_id, x.station_id, x.held_on,
			x.hours::float8, x.points, x.source, x.source_id, x.source_updated_at, x.fetched_at, x.payload_hash
		FROM volunteer_activity x WHERE x.member_id = ANY($1) ORDER BY x.held_on DESC NULLS LAST, x.id`, memberIDs, nil,
		func(r pgx.CollectableRow) (int64, *VolunteerActivity, error) {
			var mid int64
			v := &VolunteerActivity{}
			p := &v.Provenance
			err := r.Scan(&mid, &v.ID, &v.Title, &v.MemberID, &v.StationID, &v.HeldOn, &v.Hours, &v.Points,
				&p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)
			return mid, v, err
		})
}
