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
	// Datum the platform publishes coordinates in; empty: BD-09, the
	// platform's own.
	Datum canon.Datum
}

// datum is the datum of the platform's coordinates.
func (m *Mapper) datum() canon.Datum {
	if m.Datum == "" {
		return canon.BD09
	}
	return m.Datum
}

// recordKey is the (updateTime, id) of a raw record, for the cursor.
type recordKey struct {
	ID         json.RawMessage `json:"id"`
	UpdateTime json.RawMessage `json:"updateTime"`
}

// key reads the cursor key of a record that did not decode as a
// wireRecord.
func (m *Mapper) key(raw json.RawMessage) (cursor, bool) {
	var k recordKey
	if json.Unmarshal(raw, &k) != nil {
		return cursor{}, false
	}
	return m.cursorKey(k.ID, k.UpdateTime)
}

// keyOf is key for a decoded record.
func (m *Mapper) keyOf(r *wireRecord) (cursor, bool) {
	return m.cursorKey(r.ID, r.UpdateTime)
}

func (m *Mapper) cursorKey(rawID, updated []byte) (cursor, bool) {
	id, ok := parseInt(rawID)
	if !ok {
		return cursor{}, false
	}
	t, _, err := m.Times.Parse("updateTime", updated)
	if err != nil {
		return cursor{}, false
	}
	return cursor{T: t, ID: strconv.FormatInt(id, 10)}, true
}

// wireRecord holds every field the records of any stream carry: the id,
// deleted flag and update time every record has, and the fields of each
// stream's kind, which the other streams lack. One decode of a record into
// it yields what separate decodes into the base fields, the cursor key and
// the kind's fields would: no two of its fields match the same JSON name
// (encoding/json matches names case-insensitively), and each kind's fields
// have the names and types of that kind's own struct in decodeKind
// (rawValue for json.RawMessage: both are handed the value as written,
// null included). A record that does not decode into it (a value of the
// wrong type, even in a field of another kind) takes the path of separate
// decodes, which reports what it always has.
type wireRecord struct {
	ID         rawValue `json:"id"`
	Deleted    int      `json:"deleted"`
	UpdateTime rawValue

	// houses and events
	GridCode, Address string
	Lng, Lat          float64
	// houses
	CompoundName, BuildingNo, UnitNo, RoomNo string
	// residents and grid workers
	Name, IDCard, Mobile string
	// residents
	ResidentType, Relation string
	HouseID                rawValue
	// grid workers
	Post      string
	GridCodes []string
	// events
	EventNo, EventType, EventSubType, Title, Content         string
	ReporterName, ReporterIDCard, ReporterMobile, HandleDept string
	Status, Level                                            rawValue
	ReportTime, Deadline                                     rawValue
	Flows                                                    []wireFlow
}

// wireFlow is a step of an event's flow.
type wireFlow struct {
	Status, Level     rawValue
	Time              rawValue
	Operator, Opinion string
}

// rawValue is a JSON value as it lies in the decoder's input, which it
// shares instead of copying, as json.RawMessage would: the values it holds
// (ids, codes and times) are read while their record is mapped and not
// kept.
type rawValue []byte

// UnmarshalJSON implements json.Unmarshaler.
func (v *rawValue) UnmarshalJSON(b []byte) error {
	*v = b
	return nil
}

// decodeWire decodes one record; nil when it does not decode.
func decodeWire(raw json.RawMessage) *wireRecord {
	r := new(wireRecord)
	if json.Unmarshal(raw, r) != nil {
		return nil
	}
	return r
}

// Map turns one raw record of a stream into a record, a tombstone or a
// quarantine entry, appended to b.
func (m *Mapper) Map(stream string, raw json.RawMessage, b *connectors.Batch) {
	if r := decodeWire(raw); r != nil {
		m.mapWire(stream, raw, r, b)
		return
	}
	m.mapRaw(stream, raw, b)
}

// mapWire is Map for a record decoded as r.
func (m *Mapper) mapWire(stream string, raw json.RawMessage, r *wireRecord, b *connectors.Batch) {
	b.Fetched++
	sid, ok := m.head(stream, raw, r.ID, r.Deleted, b)
	if !ok {
		return
	}
	m.mapKind(stream, sid, raw, r, nil, b)
}

// mapRaw is Map for a record that does not decode as a wireRecord: the base
// fields, then the kind's own fields, each decoded apart, so that a record
// refused for a value of the wrong type is refused with the same message
// whichever field it is in.
func (m *Mapper) mapRaw(stream string, raw json.RawMessage, b *connectors.Batch) {
	b.Fetched++
	var base struct {
		ID      json.RawMessage `json:"id"`
		Deleted int             `json:"deleted"`
	}
	if err := json.Unmarshal(raw, &base); err != nil {
		b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: stream, Reason: "MALFORMED", Message: err.Error(), Raw: raw})
		return
	}
	sid, ok := m.head(stream, raw, base.ID, base.Deleted, b)
	if !ok {
		return
	}
	r, err := decodeKind(stream, raw)
	m.mapKind(stream, sid, raw, r, err, b)
}

// head reads the id of a record and appends the tombstone of a deleted
// one, or the quarantine entry of one without an id, to b; it reports
// whether the record is left to map, and its source id.
func (m *Mapper) head(stream string, raw json.RawMessage, rawID []byte, deleted int, b *connectors.Batch) (string, bool) {
	id, ok := parseInt(rawID)
	if !ok {
		b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: stream, Reason: connectors.Reason(normalize.MissingField), Field: "id", Message: "record has no id", Raw: raw})
		return "", false
	}
	sid := strconv.FormatInt(id, 10)
	if deleted == 1 {
		b.Tombstones = append(b.Tombstones, connectors.Tombstone{Type: recordTypes[stream], SourceID: sid, Reason: "deleted=1"})
		return "", false
	}
	return sid, true
}

// mapKind maps the kind's fields r of a record, or quarantines it for
// err, the error of decoding them.
func (m *Mapper) mapKind(stream, sid string, raw json.RawMessage, r *wireRecord, err error, b *connectors.Batch) {
	var rec any
	if err == nil {
		switch stream {
		case "houses":
			rec, err = m.house(sid, raw, r)
		case "residents":
			rec, err = m.resident(sid, raw, r)
		case "gridWorkers":
			rec, err = m.worker(sid, raw, r)
		case "events":
			rec, err = m.event(sid, raw, r)
		default:
			err = fmt.Errorf("unknown stream %q", stream)
		}
	}
	if err != nil {
		b.Quarantine = append(b.Quarantine, connectors.QuarantineFor(stream, sid, raw, err))
		return
	}
	b.Records = append(b.Records, rec)
}

// decodeKind decodes the fields of a stream's kind alone, each kind into a
// struct of its own fields. An unknown stream has none: it decodes to an
// empty record, refused by mapKind.
func decodeKind(stream string, raw json.RawMessage) (*wireRecord, error) {
	switch stream {
	case "houses":
		var r struct {
			GridCode, Address, CompoundName, BuildingNo, UnitNo, RoomNo string
			Lng, Lat                                                    float64
			UpdateTime                                                  json.RawMessage
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		return &wireRecord{GridCode: r.GridCode, Address: r.Address, CompoundName: r.CompoundName, BuildingNo: r.BuildingNo,
			UnitNo: r.UnitNo, RoomNo: r.RoomNo, Lng: r.Lng, Lat: r.Lat, UpdateTime: rawValue(r.UpdateTime)}, nil
	case "residents":
		var r struct {
			Name, IDCard, Mobile, ResidentType, Relation string
			HouseID                                      json.RawMessage
			UpdateTime                                   json.RawMessage
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		return &wireRecord{Name: r.Name, IDCard: r.IDCard, Mobile: r.Mobile, ResidentType: r.ResidentType, Relation: r.Relation,
			HouseID: rawValue(r.HouseID), UpdateTime: rawValue(r.UpdateTime)}, nil
	case "gridWorkers":
		var r struct {
			Name, IDCard, Mobile, Post string
			GridCodes                  []string
			UpdateTime                 json.RawMessage
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		return &wireRecord{Name: r.Name, IDCard: r.IDCard, Mobile: r.Mobile, Post: r.Post, GridCodes: r.GridCodes, UpdateTime: rawValue(r.UpdateTime)}, nil
	case "events":
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
		w := &wireRecord{EventNo: r.EventNo, EventType: r.EventType, EventSubType: r.EventSubType, Title: r.Title, Content: r.Content,
			GridCode: r.GridCode, Address: r.Address, ReporterName: r.ReporterName, ReporterIDCard: r.ReporterIDCard,
			ReporterMobile: r.ReporterMobile, HandleDept: r.HandleDept, Lng: r.Lng, Lat: r.Lat, Status: rawValue(r.Status),
			Level: rawValue(r.Level), ReportTime: rawValue(r.ReportTime), Deadline: rawValue(r.Deadline), UpdateTime: rawValue(r.UpdateTime)}
		if r.Flows != nil {
			w.Flows = make([]wireFlow, len(r.Flows))
			for i, f := range r.Flows {
				w.Flows[i] = wireFlow{Status: rawValue(f.Status), Level: rawValue(f.Level), Time: rawValue(f.Time), Operator: f.Operator, Opinion: f.Opinion}
			}
		}
		return w, nil
	}
	return &wireRecord{}, nil
}

var recordTypes = map[string]canon.RecordType{
	"houses": canon.RecordHousehold, "residents": canon.RecordResident, "gridWorkers": canon.RecordGridWorker, "events": canon.RecordCase,
}

func (m *Mapper) prov(sid string, raw json.RawMessage, updated []byte) (canon.Provenance, error) {
	t, _, err := m.Times.Parse("updateTime", updated)
	if err != nil {
		return canon.Provenance{}, err
	}
	return canon.Provenance{Source: m.Source, SourceID: sid, SourceUpdatedAt: t, FetchedAt: m.Now(), PayloadHash: connectors.PayloadHash(raw)}, nil
}

// person normalises the identity fields of a record.
func (m *Mapper) person(prefix, name, idCard, mobile string) (canon.PersonRef, []canon.FieldDefect, error) {
	f := normalize.PersonFields{Name: "name", IDCard: "idCard", Phone: "mobile", RequireID: true}
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

func (m *Mapper) house(sid string, raw json.RawMessage, r *wireRecord) (any, error) {
	p, err := m.prov(sid, raw, r.UpdateTime)
	if err != nil {
		return nil, err
	}
	addr, err := normalize.Text("address", r.Address, 500)
	if err != nil {
		return nil, err
	}
	var loc *canon.Location
	if r.Lat != 0 || r.Lng != 0 {
		l, _, err := normalize.NormalizePoint("lat/lng", r.Lat, r.Lng, m.datum())
		switch {
		case err == nil:
			loc = &l
		case addr != "": // optional beside an address: kept without it
			p.FieldDefects = append(p.FieldDefects, normalize.FieldDefect(err, fmt.Appendf(nil, "%v,%v", r.Lat, r.Lng)))
		default:
			return nil, err
		}
	}
	g, err := m.grid("gridCode", r.GridCode, loc, addr)
	if err != nil {
		return nil, err
	}
	return &canon.Household{Provenance: p, GridCode: g, CompoundName: strings.TrimSpace(r.CompoundName), BuildingNo: strings.TrimSpace(r.BuildingNo),
		Unit: strings.TrimSpace(r.UnitNo), Room: strings.TrimSpace(r.RoomNo), AddressRaw: addr, Location: loc}, nil
}

func (m *Mapper) resident(sid string, raw json.RawMessage, r *wireRecord) (any, error) {
	p, err := m.prov(sid, raw, r.UpdateTime)
	if err != nil {
		return nil, err
	}
	person, defects, err := m.person("", r.Name, r.IDCard, r.Mobile)
	if err != nil {
		return nil, err
	}
	p.FieldDefects = append(p.FieldDefects, defects...)
	kind, err := normalize.ResidenceType("residentType", r.ResidentType)
	if err != nil {
		return nil, err
	}
	house, _ := parseInt(r.HouseID)
	return &canon.Resident{Provenance: p, Person: person, HouseholdSourceID: strconv.FormatInt(house, 10), Residence: kind, Relation: r.Relation}, nil
}

func (m *Mapper) worker(sid string, raw json.RawMessage, r *wireRecord) (any, error) {
	p, err := m.prov(sid, raw, r.UpdateTime)
	if err != nil {
		return nil, err
	}
	person, defects, err := m.person("", r.Name, r.IDCard, r.Mobile)
	if err != nil {
		return nil, err
	}
	p.FieldDefects = append(p.FieldDefects, defects...)
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

func (m *Mapper) event(sid string, raw json.RawMessage, r *wireRecord) (any, error) {
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
	reported, _, err := m.Times.Parse("reportTime", json.RawMessage(r.ReportTime))
	if err != nil {
		return nil, err
	}
	var due *time.Time
	if len(r.Deadline) > 0 && string(r.Deadline) != "null" {
		// Optional: a deadline that is no time is left out and kept as a
		// field defect.
		if d, _, err := m.Times.ParseDeadline("deadline", json.RawMessage(r.Deadline)); err != nil {
			p.FieldDefects = append(p.FieldDefects, normalize.FieldDefect(err, []byte(r.Deadline)))
		} else {
			due = &d
		}
	}
	var loc *canon.Location
	l, _, posErr := normalize.NormalizePoint("lat/lng", r.Lat, r.Lng, m.datum())
	if posErr == nil {
		loc = &l
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
	if posErr != nil {
		if addr == "" {
			return nil, posErr
		}
		// The position is optional beside an address: the case is kept
		// without it, placed by its address.
		p.FieldDefects = append(p.FieldDefects, normalize.FieldDefect(posErr, fmt.Appendf(nil, "%v,%v", r.Lat, r.Lng)))
	}
	g, err := m.grid("gridCode", r.GridCode, loc, addr)
	if err != nil {
		return nil, err
	}
	c := &canon.Case{Provenance: p, Kind: cat.Kind, CategoryCode: cat.Code,
		SourceCategory: canon.CodeName{Code: r.EventSubType, Name: cat.Name}, Title: title, Description: content,
		Status: status, SourceStatus: stepName, Tier: tier, GridCode: g, Location: loc, Address: addr,
		ReportedAt: reported, UpdatedAt: p.SourceUpdatedAt, DueAt: due, AssigneeDept: r.HandleDept}
	for i, f := range r.Flows {
		field := flowFields(i)
		st, ft, name, err := normalize.GovernanceStatus(field.status, numString(f.Status))
		if err != nil {
			return nil, err
		}
		if lt, err := normalize.GovernanceTier(field.level, numString(f.Level)); err == nil {
			ft = lt
		} else if ft == "" {
			ft = tier
		}
		at, _, err := m.Times.Parse(field.time, json.RawMessage(f.Time))
		if err != nil {
			return nil, err
		}
		c.Timeline = append(c.Timeline, canon.CaseEvent{At: at, Status: st, Tier: ft, SourceStatus: name, Actor: f.Operator, Note: f.Opinion})
		if st.Terminal() { // archived, or rejected (作废): the case has ended
			closed := at
			c.ClosedAt = &closed
		}
	}
	if strings.TrimSpace(r.ReporterName) != "" {
		// A reporter is kept with whatever identifies them (an ID card, or
		// name and phone only) for entity resolution; a defect in their
		// fields loses the reporter, never the event.
		rep, defects, err := m.person("reporter", r.ReporterName, r.ReporterIDCard, r.ReporterMobile)
		if err != nil {
			c.FieldDefects = append(c.FieldDefects, normalize.SealedFieldDefect(err, m.Keys, r.ReporterName))
		} else {
			c.FieldDefects = append(c.FieldDefects, defects...)
			c.Reporter = &rep
		}
	}
	return c, nil
}

// flowField names the fields of a flow step, for defect reports.
type flowField struct{ status, level, time string }

// flowFieldNames are those of the first steps, made once.
var flowFieldNames = func() (names [32]flowField) {
	for i := range names {
		names[i] = makeFlowField(i)
	}
	return names
}()

func flowFields(i int) flowField {
	if i < len(flowFieldNames) {
		return flowFieldNames[i]
	}
	return makeFlowField(i)
}

func makeFlowField(i int) flowField {
	return flowField{fmt.Sprintf("flows[%d].status", i), fmt.Sprintf("flows[%d].level", i), fmt.Sprintf("flows[%d].time", i)}
}

func numString(raw []byte) string {
	if n, ok := parseInt(raw); ok {
		return strconv.FormatInt(n, 10)
	}
	return strings.Trim(string(raw), `"`)
}
