package citymgmt

import (
	"fmt"
	"strings"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/pii"
)

// Record is one city-management case as a channel of the system delivers
// it (an Open311 service request, a row of the CSV export), before any
// normalisation. Both channels map through Mapper.Case, so a case reads
// the same whichever way it arrived.
type Record struct {
	ID string
	// Status is GeoReport's open/closed; empty when the channel gives the
	// workflow step only (the CSV export).
	Status string
	// Step is the finer workflow step (受理, 立案 … 结案); empty when the
	// endpoint does not offer the extension.
	Step string
	// ServiceCode and ServiceName are the Open311 service (01/02 + major +
	// minor); the CSV export gives KindName (部件/事件), MajorCode and
	// MinorCode instead.
	ServiceCode, ServiceName       string
	KindName, MajorCode, MinorCode string
	Description                    string
	Agency                         string
	Address                        string
	Requested, Updated             string // times as written by the source
	Deadline                       string
	Closed                         string
	Lat, Long                      float64
	// NoPosition is set when the source gave no position (null, empty or
	// absent coordinates): the case is placed by grid code or address.
	NoPosition bool
	// PositionText is the position as written ("lat,long"), for reports.
	PositionText   string
	Tier, GridCode string
	History        []Step
	// The reporter of a 12345 hotline or public report, when the channel
	// names one: name and phone (no citizen ID), the dwelling as given.
	ReporterName, ReporterPhone, ReporterAddress string
}

// Step is one entry of a case's workflow history.
type Step struct {
	State, At, Actor, Note string
}

// Fields names a channel's source fields, for defect reports.
type Fields struct {
	// Updated is empty for a channel without an update time: the case's
	// update time is then its closing (or reporting) time.
	Requested, Updated, Deadline, Closed, Category, Status, Step, Tier, Position, Grid, Description, Address string
	// Reporter names the reporter's fields (name, ID, phone).
	Reporter normalize.PersonFields
	// History formats the field of the i-th history entry's state or time.
	History func(i int, part string) string
}

// Open311Fields are the GeoReport v2 field names.
var Open311Fields = Fields{Requested: "requested_datetime", Updated: "updated_datetime", Deadline: "expected_datetime",
	Closed: "updated_datetime", Category: "service_code", Status: "status", Step: "extended_attributes.workflow_state",
	Tier: "extended_attributes.tier", Position: "lat/long", Grid: "grid_code", Description: "description", Address: "address",
	History: open311History, Reporter: normalize.PersonFields{Name: "extended_attributes.reporter_name", Phone: "extended_attributes.reporter_phone"}}

// open311HistoryFields are the names of the state and time of the first
// history entries, made once: every entry of every request names them.
var open311HistoryFields = func() (names [32][2]string) {
	for i := range names {
		names[i] = [2]string{fmt.Sprintf("history[%d].state", i), fmt.Sprintf("history[%d].at", i)}
	}
	return names
}()

func open311History(i int, part string) string {
	if i >= 0 && i < len(open311HistoryFields) {
		switch part {
		case "state":
			return open311HistoryFields[i][0]
		case "at":
			return open311HistoryFields[i][1]
		}
	}
	return fmt.Sprintf("history[%d].%s", i, part)
}

// Mapper turns Records into canonical cases.
type Mapper struct {
	Source string      // the hub's source name, written into provenance
	Datum  canon.Datum // datum of Lat/Long
	Layer  *places.Layer
	// Addresses places cases whose grid code is unknown and whose position
	// lies in no grid by their address; nil: no address fallback.
	Addresses *address.Directory
	// Keys hash and seal the reporter's personal data; nil: reporters are
	// not kept.
	Keys   *pii.Keys
	Times  normalize.Times
	Now    func() time.Time
	Fields Fields
}

// descriptionLimit is the longest description accepted; longer text comes
// from a broken source and is quarantined (docs/sources.md).
const descriptionLimit = 4000

// addressLimit is the longest address accepted.
const addressLimit = 500

// Case maps one record; raw is its payload as received, for provenance.
// A value the normalisers refuse is returned as their *normalize.Defect.
func (m *Mapper) Case(r Record, raw []byte) (*canon.Case, error) {
	f := m.Fields
	var updated time.Time
	var err error
	// GeoReport v2 lets an endpoint omit updated_datetime: the case's
	// update time is then the last thing known to have happened, as for a
	// channel without one.
	hasUpdated := f.Updated != "" && strings.TrimSpace(r.Updated) != ""
	if hasUpdated {
		if updated, _, err = m.Times.ParseString(f.Updated, r.Updated); err != nil {
			return nil, err
		}
	}
	reported, _, err := m.Times.ParseString(f.Requested, r.Requested)
	if err != nil {
		return nil, err
	}
	var closedAt *time.Time
	if r.Closed != "" {
		t, _, err := m.Times.ParseString(f.Closed, r.Closed)
		if err != nil {
			return nil, err
		}
		closedAt = &t
	}
	if !hasUpdated { // the last thing known to have happened
		updated = reported
		if closedAt != nil && closedAt.After(updated) {
			updated = *closedAt
		}
	}
	cat, sourceCat, err := m.category(r)
	if err != nil {
		return nil, err
	}
	var status canon.CaseStatus
	switch {
	case strings.TrimSpace(r.Status) == "" && strings.TrimSpace(r.Step) == "":
		err = &normalize.Defect{Reason: normalize.MissingField, Field: f.Status, Message: "no status"}
	case r.Status != "":
		status, err = normalize.Open311Status(f.Step, r.Status, r.Step)
	default: // the channel gives the workflow step only
		status, err = normalize.CityWorkflowState(f.Step, r.Step)
	}
	if err != nil {
		return nil, err
	}
	tier, err := normalize.CityTier(f.Tier, r.Tier)
	if err != nil {
		return nil, err
	}
	desc, err := normalize.Text(f.Description, r.Description, descriptionLimit)
	if err != nil {
		return nil, err
	}
	// The address is kept as reported (whitespace and markup cleaned);
	// its standardised line and components are the address service's.
	addr, err := normalize.Text(f.Address, r.Address, addressLimit)
	if err != nil {
		return nil, err
	}
	var loc *canon.Location
	var defects []canon.FieldDefect
	if !r.NoPosition {
		l, _, err := normalize.NormalizePoint(f.Position, r.Lat, r.Long, m.Datum)
		switch {
		case err == nil:
			loc = &l
		case addr != "":
			// The position is optional beside an address: the case is
			// kept without it, placed by its address.
			raw := r.PositionText
			if raw == "" {
				raw = fmt.Sprintf("%v,%v", r.Lat, r.Long)
			}
			defects = append(defects, normalize.FieldDefect(err, []byte(raw)))
		default:
			return nil, err
		}
	}
	var pos *canon.Point
	if loc != nil {
		pos = &loc.Point
	}
	grid, _, ok := m.Layer.Place(strings.TrimSpace(r.GridCode), pos, addr, m.Addresses.Current())
	if !ok {
		return nil, &normalize.Defect{Reason: normalize.UnknownGrid, Field: f.Grid,
			Message: fmt.Sprintf("grid %q unknown, and neither the position nor the address lies in a known grid", r.GridCode)}
	}
	title := cat.Name
	if desc != "" {
		title = cat.Name + "：" + truncate(desc, 40)
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	cs := &canon.Case{
		Provenance: canon.Provenance{Source: m.Source, SourceID: r.ID, SourceUpdatedAt: updated, FetchedAt: now(), PayloadHash: connectors.PayloadHash(raw),
			FieldDefects: defects},
		Kind: cat.Kind, CategoryCode: cat.Code, SourceCategory: sourceCat,
		Title: title, Description: desc, Status: status, SourceStatus: r.Step, Tier: tier, GridCode: grid, Location: loc,
		Address: addr, ReportedAt: reported, UpdatedAt: updated, AssigneeDept: r.Agency, ClosedAt: closedAt,
	}
	if r.Deadline != "" {
		// Optional (GeoReport's expected_datetime): a deadline that is no
		// time is left out and kept as a field defect.
		if d, _, err := m.Times.ParseDeadlineString(f.Deadline, r.Deadline); err != nil {
			cs.FieldDefects = append(cs.FieldDefects, normalize.FieldDefect(err, []byte(r.Deadline)))
		} else {
			cs.DueAt = &d
		}
	}
	for i, h := range r.History {
		st, err := normalize.CityWorkflowState(f.History(i, "state"), h.State)
		if err != nil {
			return nil, err
		}
		at, _, err := m.Times.ParseString(f.History(i, "at"), h.At)
		if err != nil {
			return nil, err
		}
		cs.Timeline = append(cs.Timeline, canon.CaseEvent{At: at, Status: st, Tier: tier, SourceStatus: h.State, Actor: h.Actor, Note: h.Note})
		if st.Terminal() { // closed, or rejected (作废): the case has ended
			closed := at
			cs.ClosedAt = &closed
		}
	}
	if cs.Status.Terminal() && cs.ClosedAt == nil {
		cs.ClosedAt = &updated
	}
	if m.Keys != nil && strings.TrimSpace(r.ReporterName) != "" {
		// A reporter known by name and phone only: kept for entity
		// resolution; a defect in their fields loses the reporter, never
		// the case.
		rep, pd, err := normalize.Person(m.Keys, f.Reporter, r.ReporterName, "", r.ReporterPhone)
		if err != nil {
			cs.FieldDefects = append(cs.FieldDefects, normalize.SealedFieldDefect(err, m.Keys, r.ReporterName))
		} else {
			rep.Address = strings.TrimSpace(r.ReporterAddress)
			cs.FieldDefects = append(cs.FieldDefects, pd...)
			cs.Reporter = &rep
		}
	}
	return cs, nil
}

// category maps the service code, or the CSV's class columns, onto the
// unified taxonomy; the source's own code is kept in the Open311 form
// (01/02 + major + minor) whichever channel gave it.
func (m *Mapper) category(r Record) (normalize.Category, canon.CodeName, error) {
	if r.ServiceCode != "" || r.KindName == "" && r.MajorCode == "" && r.MinorCode == "" {
		cat, err := normalize.CityServiceCode(m.Fields.Category, r.ServiceCode)
		return cat, canon.CodeName{Code: r.ServiceCode, Name: r.ServiceName}, err
	}
	cat, err := normalize.CityClass(m.Fields.Category, r.KindName, r.MajorCode, r.MinorCode)
	if err != nil {
		return cat, canon.CodeName{}, err
	}
	typ := "01"
	if strings.TrimSpace(r.KindName) == "事件" {
		typ = "02"
	}
	return cat, canon.CodeName{Code: typ + cat.Code[2:], Name: cat.Name}, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
