package model

import (
	"encoding/base64"
	"strconv"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

// GlobalID is the Relay global ID of a row: base64url of "Type:id",
// opaque to clients (graph decodes it).
func GlobalID(typ string, id int64) string {
	var buf [48]byte
	b := strconv.AppendInt(append(append(buf[:0], typ...), ':'), id, 10)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Case is a stored case as the GraphQL Case sees it: the store's row, with
// the fields that need no I/O as methods, so that they resolve inline
// instead of as concurrent resolvers (no goroutine per case). A
// *store.Case converts to a *Case for free (CaseOf).
type Case store.Case

// CaseOf is c as a GraphQL Case (nil for nil).
func CaseOf(c *store.Case) *Case { return (*Case)(c) }

// CasesOf is a list of stored cases as GraphQL Cases.
func CasesOf(cs []*store.Case) []*Case {
	out := make([]*Case, len(cs))
	for i, c := range cs {
		out[i] = (*Case)(c)
	}
	return out
}

// NodeID is the case's Relay global ID.
func (c *Case) NodeID() string { return GlobalID("Case", c.ID) }

// SourceID is the case's id in its source system.
func (c *Case) SourceID() string { return c.Provenance.SourceID }

// SourceCategory is the source system's own category of the case.
func (c *Case) SourceCategory() *store.Category {
	return &store.Category{Code: c.SourceCategoryCode, Name: c.SourceCategoryName, Kind: c.Kind}
}

// Location is the case's WGS-84 position, nil when it has none.
func (c *Case) Location() *canon.Point {
	if c.Lat == nil || c.Lng == nil {
		return nil
	}
	return &canon.Point{Lat: *c.Lat, Lng: *c.Lng}
}

// Assignee is the department the case is assigned to, nil when none.
func (c *Case) Assignee() *string {
	if c.AssigneeDept == "" {
		return nil
	}
	return &c.AssigneeDept
}

// Incident is a stored incident as the GraphQL Incident sees it (see
// Case): its location is a method, resolved inline.
type Incident store.Incident

// IncidentOf is x as a GraphQL Incident (nil for nil).
func IncidentOf(x *store.Incident) *Incident { return (*Incident)(x) }

// IncidentsOf is a list of stored incidents as GraphQL Incidents.
func IncidentsOf(xs []*store.Incident) []*Incident {
	out := make([]*Incident, len(xs))
	for i, x := range xs {
		out[i] = (*Incident)(x)
	}
	return out
}

// Location is the incident's WGS-84 position, nil when it has none.
func (x *Incident) Location() *canon.Point {
	if x.Lat == nil || x.Lng == nil {
		return nil
	}
	return &canon.Point{Lat: *x.Lat, Lng: *x.Lng}
}
