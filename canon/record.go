package canon

import (
	"time"

	"github.com/paulmach/orb"
)

// Provenance records where a canonical row came from. Every source-derived
// record carries it; (Source, SourceID) is unique per record type.
type Provenance struct {
	Source          string    // configured source name, e.g. "governance"
	SourceID        string    // the record's id in its source system
	SourceUpdatedAt time.Time // the source's own update time, zero if unknown
	FetchedAt       time.Time // when the hub read it
	PayloadHash     []byte    // SHA-256 of the raw source payload
	// FieldDefects are the optional fields the record is stored without:
	// each value is kept, with its reason, as a field-level quarantine
	// entry instead of losing the whole record.
	FieldDefects []FieldDefect
}

// Prov returns the record's provenance; every record type embeds it.
func (p *Provenance) Prov() *Provenance { return p }

// FieldDefect is a refused value of one optional field (a phone, an
// e-mail, a secondary address, the position of a record that has an
// address): the record is stored without it.
type FieldDefect struct {
	Field   string // the source field, e.g. "mobile"
	Reason  string // the defect code, e.g. "BAD_PHONE"
	Message string
	// Raw is the value as received; personal data (phones, e-mails) is
	// sealed (pii.Keys.Seal) before it is put here, and Sealed says so.
	Raw    []byte
	Sealed bool
	// Key identifies the value for keeping one entry per record, field
	// and value (a keyed hash of sealed data, whose sealed form differs
	// each time); nil: the raw bytes identify it.
	Key []byte
}

// Point is a WGS-84 position.
type Point struct {
	Lat float64
	Lng float64
}

// Location is a normalised position that keeps the source's original value.
type Location struct {
	Point           // WGS-84
	Orig      Point // as published by the source
	OrigDatum Datum // datum the source published in
}

// Region is a node of the reference region and grid layer.
type Region struct {
	Code       string
	Name       string
	Level      RegionLevel
	ParentCode string // empty for the root
	Boundary   orb.Geometry
	Centroid   *Point
}

// CodeName is a code as a source system names it.
type CodeName struct {
	Code string
	Name string
}

// Category is a node of the unified case taxonomy.
type Category struct {
	Code       string
	Name       string
	ParentCode string
	Kind       CaseKind
	Level      int
}

// Source describes a configured source system.
type Source struct {
	Name        string
	Kind        SourceKind
	Description string
}

// CaseEvent is one step of a case's timeline.
type CaseEvent struct {
	At           time.Time
	Status       CaseStatus
	Tier         CaseTier
	SourceStatus string // the source's own step code or name
	Actor        string
	Note         string
}

// Case is an event, case or ticket from any source system.
type Case struct {
	Provenance
	Kind           CaseKind
	CategoryCode   string // unified category
	SourceCategory CodeName
	Title          string
	Description    string
	Status         CaseStatus
	SourceStatus   string
	Tier           CaseTier
	GridCode       string // reference-layer grid code
	Location       *Location
	Address        string
	ReportedAt     time.Time
	UpdatedAt      time.Time
	DueAt          *time.Time
	ClosedAt       *time.Time
	AssigneeDept   string
	Reporter       *PersonRef // nil when anonymous or unknown
	Timeline       []CaseEvent
}

// CategoryMapping maps one source system's code onto the unified taxonomy.
type CategoryMapping struct {
	System       string // e.g. "citymgmt", "governance"
	SourceCode   string
	SourceName   string
	CategoryCode string
}
