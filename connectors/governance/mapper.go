package governance

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/pii"
)

// Mapper maps the platform's records onto the canonical model.
type Mapper struct {
	Source string
	Keys   *pii.Keys
	Layer  *places.Layer
	// Addresses places records without a usable grid code or position by
	// their address; nil: no address fallback.
	Addresses *address.Directory
	Times     normalize.Times
	Now       func() time.Time
}

// recordKey is the (updateTime, id) of a raw record, for the cursor.
type recordKey struct {
	ID         json.RawMessage `json:"id"`
	UpdateTime json.RawMessage `json:"updateTime"`
}

func (m *Mapper) key(raw json.RawMessage) (cursor, bool) {
	var k recordKey
	if json.Unmarshal(raw, &k) != nil {
		return cursor{}, false
	}
	id, ok := parseInt(k.ID)
	if !ok {
		return cursor{}, false
	}
	t, _, err := m.Times.Parse("updateTime", k.UpdateTime)
	if err != nil {
		return cursor{}, false
	}
	return cursor{T: t, ID: strconv.FormatInt(id, 10)}, true
}

// Map turns one raw record of a stream into a record, a tombstone or a
// quarantine entry, appended to b.
func (m *Mapper) Map(stream string, raw json.RawMessage, b *connectors.Batch) {
	b.Fetched++
	var base struct {
		ID      json.RawMessage `json:"id"`
		Deleted int             `json:"deleted"`
	}
	if err := json.Unmarshal(raw, &base); err != nil {
		b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: stream, Reason: "MALFORMED", Message: err.Error(), Raw: raw})
		return
	}
	id, ok := parseInt(base.ID)
	if !ok {
		b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: stream, Reason: connectors.Reason(normalize.MissingField), Field: "id", Message: "record has no id", Raw: raw})
		return
	}
	sid := strconv.FormatInt(id, 10)
	typ := recordTypes[stream]
	if base.Deleted == 1 {
		b.Tombstones = append(b.Tombstones, connectors.Tombstone{Type: typ, SourceID: sid, Reason: "deleted=1"})
		return
	}
	var rec any
	var err error
	switch stream {
	case "houses":
		rec, err = m.house(sid, raw)
	case "residents":
		rec, err = m.resident(sid, raw)
	case "gridWorkers":
		rec, err = m.worker(sid, raw)
	case "events":
		rec, err = m.event(sid, raw)
	default:
		err = fmt.Errorf("unknown stream %q", stream)
	}
	if err != nil {
		b.Quarantine = append(b.Quarantine, connectors.QuarantineFor(stream, sid, raw, err))
		return
	}
	b.Records = append(b.Records, rec)
}

var recordTypes = map[string]canon.RecordType{
	"houses": canon.RecordHousehold, "residents": canon.RecordResident, "gridWorkers": canon.RecordGridWorker, "events": canon.RecordCase,
}

func (m *Mapper) prov(sid string, raw json.RawMessage, updated json.RawMessage) (canon.Provenance, error) {
	t, _, err := m.Times.Parse("updateTime", updated)
	if err != nil {
		return canon.Provenance{}, err
	}
	return canon.Provenance{Source: m.Source, SourceID: sid, SourceUpdatedAt: t, FetchedAt: m.Now(), PayloadHash: connectors.PayloadHash(raw)}, nil
}

// person normalises the identity fields of a record.
func (m *Mapper) person(prefix, name, idCard, mobile string) (canon.PersonRef, error) {
	f := normalize.PersonFields{Name: "name", IDCard: "idCard", Phone: "mobile"}
	if prefix != "" { // reporterName, reporterIdCard, reporterMobile
		f = normalize.PersonFields{Name: prefix + "Name", IDCard: prefix + "IdCard", Phone: prefix + "Mobile"}
	}
	return normalize.Person(m.Keys, f, name, idCard, mobile)
}

// grid places a record (places.Layer.Place): its grid code, else its
// position, else its address.
func (m *Mapper) grid(field, code string, loc *canon.Location, addr string) (string, error) {
	var pos *canon.Point
	if loc != nil {
		pos = &loc.Point
	}
	if g, _, ok := m.Layer.Place(code, pos, addr, m.Addresses.Current()); ok {
		return g, nil
	}
	return "", &normalize.Defect{Reason: normalize.UnknownGrid, Field: field,
		Message: fmt.Sprintf("grid %q is not in the reference layer, and neither the position nor the address lies in a known grid", code)}
}

func (m *Mapper) house(sid string, raw json.RawMessage) (any, error) {
	var r struct {
		GridCode, Address, CompoundName, BuildingNo, UnitNo, RoomNo string
		Lng, Lat                                                    float64
		UpdateTime                                                  json.RawMessage
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	p, err := m.prov(sid, raw, r.UpdateTime)
	if err != nil {
		return nil, err
	}
	var loc *canon.Location
	if r.Lat != 0 || r.Lng != 0 {
		l, _, err := normalize.NormalizePoint("lat/lng", r.Lat, r.Lng, canon.BD09)
		if err != nil {
			return nil, err
		}
		loc = &l
	}
	addr, err := normalize.Text("address", r.Address, 500)
	if err != nil {
		return nil, err
	}
	g, err := m.grid("gridCode", r.GridCode, loc, addr)
	if err != nil {
		return nil, err
	}
	return &canon.Household{Provenance: p, GridCode: g, CompoundName: strings.TrimSpace(r.CompoundName), BuildingNo: strings.TrimSpace(r.BuildingNo),
		Unit: strings.TrimSpace(r.UnitNo), Room: strings.TrimSpace(r.RoomNo), AddressRaw: addr, Location: loc}, nil
}

func (m *Mapper) resident(sid string, raw json.RawMessage) (any, error) {
	var r struct {
		Name, IDCard, Mobile, ResidentType, Relation string
		HouseID                                      json.RawMessage
		UpdateTime                                   json.RawMessage
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	p, err := m.prov(sid, raw, r.UpdateTime)
	if err != nil {
		return nil, err
	}
	person, err := m.person("", r.Name, r.IDCard, r.Mobile)
	if err != nil {
		return nil, err
	}
	kind, err := normalize.ResidenceType("residentType", r.ResidentType)
	if err != nil {
		return nil, err
	}
	house, _ := parseInt(r.HouseID)
	return &canon.Resident{Provenance: p, Person: person, HouseholdSourceID: strconv.FormatInt(house, 10), Residence: kind, Relation: r.Relation}, nil
}

func (m *Mapper) worker(sid string, raw json.RawMessage) (any, error) {
	var r struct {
		Name, IDCard, Mobile, Post string
		GridCodes                  []string
		UpdateTime                 json.RawMessage
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	p, err := m.prov(sid, raw, r.UpdateTime)
	if err != nil {
		return nil, err
	}
	person, err := m.person("", r.Name, r.IDCard, r.Mobile)
	if err != nil {
		return nil, err
	}
	role, err := normalize.GridWorkerPost("post", r.Post)
	if err != nil {
		return nil, err
	}
	var grids []string
	for _, g := range r.GridCodes {
		if !m.Layer.IsGrid(g) {
			return nil, &normalize.Defect{Reason: normalize.UnknownGrid, Field: "gridCodes", Message: fmt.Sprintf("grid %q is not in the reference layer", g)}
		}
		grids = append(grids, g)
	}
	return &canon.GridWorker{Provenance: p, Person: person, Role: role, GridCodes: grids}, nil
}

func (m *Mapper) event(sid string, raw json.RawMessage) (any, error) {
	var r struct {
		EventNo, EventType, EventSubType, Title, Content, GridCode, Address string
		ReporterName, ReporterIDCard, ReporterMobile, HandleDept            string
		Lng, Lat                                                            float64
		Status, Level                                                       json.RawMessage
		ReportTime, Deadline, UpdateTime                                    json.RawMessage
		Flows                                                               []struct {
			Status, Level     json.RawMessage
			Time              json.RawMessage
			Operator, Opinion string
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	p, err := m.prov(sid, raw, r.UpdateTime)
	if err != nil {
		return nil, err
	}
	cat, err := normalize.GovernanceEventType("eventType", "eventSubType", r.EventType, r.EventSubType)
	if err != nil {
		return nil, err
	}
	status, stepTier, stepName, err := normalize.GovernanceStatus("status", numString(r.Status))
	if err != nil {
		return nil, err
	}
	tier, err := normalize.GovernanceTier("level", numString(r.Level))
	if err != nil {
		return nil, err
	}
	_ = stepTier
	reported, _, err := m.Times.Parse("reportTime", r.ReportTime)
	if err != nil {
		return nil, err
	}
	var due *time.Time
	if len(r.Deadline) > 0 && string(r.Deadline) != "null" {
		d, _, err := m.Times.ParseDeadline("deadline", r.Deadline)
		if err != nil {
			return nil, err
		}
		due = &d
	}
	loc, _, err := normalize.NormalizePoint("lat/lng", r.Lat, r.Lng, canon.BD09)
	if err != nil {
		return nil, err
	}
	title, err := normalize.Text("title", r.Title, 200)
	if err != nil {
		return nil, err
	}
	content, err := normalize.Text("content", r.Content, 4000)
	if err != nil {
		return nil, err
	}
	if title == "" {
		return nil, &normalize.Defect{Reason: normalize.MissingField, Field: "title", Message: "event has no title"}
	}
	addr, err := normalize.Text("address", r.Address, 500)
	if err != nil {
		return nil, err
	}
	g, err := m.grid("gridCode", r.GridCode, &loc, addr)
	if err != nil {
		return nil, err
	}
	c := &canon.Case{Provenance: p, Kind: cat.Kind, CategoryCode: cat.Code,
		SourceCategory: canon.CodeName{Code: r.EventSubType, Name: cat.Name}, Title: title, Description: content,
		Status: status, SourceStatus: stepName, Tier: tier, GridCode: g, Location: &loc, Address: addr,
		ReportedAt: reported, UpdatedAt: p.SourceUpdatedAt, DueAt: due, AssigneeDept: r.HandleDept}
	for i, f := range r.Flows {
		st, ft, name, err := normalize.GovernanceStatus(fmt.Sprintf("flows[%d].status", i), numString(f.Status))
		if err != nil {
			return nil, err
		}
		if lt, err := normalize.GovernanceTier(fmt.Sprintf("flows[%d].level", i), numString(f.Level)); err == nil {
			ft = lt
		} else if ft == "" {
			ft = tier
		}
		at, _, err := m.Times.Parse(fmt.Sprintf("flows[%d].time", i), f.Time)
		if err != nil {
			return nil, err
		}
		c.Timeline = append(c.Timeline, canon.CaseEvent{At: at, Status: st, Tier: ft, SourceStatus: name, Actor: f.Operator, Note: f.Opinion})
		if st.Terminal() { // archived, or rejected (作废): the case has ended
			closed := at
			c.ClosedAt = &closed
		}
	}
	if strings.TrimSpace(r.ReporterIDCard) != "" {
		rep, err := m.person("reporter", r.ReporterName, r.ReporterIDCard, r.ReporterMobile)
		if err != nil {
			return nil, err
		}
		c.Reporter = &rep
	}
	return c, nil
}

func numString(raw json.RawMessage) string {
	if n, ok := parseInt(raw); ok {
		return strconv.FormatInt(n, 10)
	}
	return strings.Trim(string(raw), `"`)
}
