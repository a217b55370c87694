package canon

import "time"

// PersonRef identifies a person across sources without carrying the raw
// citizen ID: the matching key is a keyed hash (HMAC) of the validated
// 18-digit number. Masked forms are what callers see by default; the
// sealed fields hold the raw values encrypted, for audited unmasking. A
// record without a valid ID (a hotline reporter known by name and phone,
// an ID failing its check digit) has no IDHash: entity resolution decides
// its person from the other fields.
type PersonRef struct {
	IDHash      []byte // HMAC-SHA256 of the normalised citizen ID
	IDMasked    string // 420606********1239
	IDSealed    []byte // encrypted citizen ID, nil if not kept
	Name        string
	NameMasked  string // 张*, pii.MaskName of Name
	Gender      Gender
	BirthDate   time.Time // zero if unknown
	PhoneHash   []byte    // HMAC-SHA256 of the normalised phone, nil if none
	PhoneMasked string    // 138****0000
	PhoneSealed []byte
	// Address is the dwelling the record states, as written ("" when it
	// states none): entity resolution compares it.
	Address string
}

// Household is a dwelling (户) as a source records it, with its building and
// compound when known.
type Household struct {
	Provenance
	GridCode     string
	CompoundName string
	BuildingNo   string
	Unit         string
	Room         string
	AddressRaw   string
	Location     *Location
}

// Resident is a person living in a household (实有人口).
type Resident struct {
	Provenance
	Person            PersonRef
	HouseholdSourceID string
	GridCode          string
	Residence         ResidenceKind
	Relation          string // 户主, 配偶, …
}

// GridWorker is a grid worker (网格员) and the grids they serve.
type GridWorker struct {
	Provenance
	Person    PersonRef
	Role      GridWorkerRole
	GridCodes []string
}

// PartyOrg is a party organisation (党组织).
type PartyOrg struct {
	Provenance
	Name           string
	Kind           PartyOrgKind
	ParentSourceID string
	CommunityName  string
	GridCode       string // the grid it is anchored to, if any
}

// PartyMember is a party member (党员) of an organisation.
type PartyMember struct {
	Provenance
	Person           PersonRef
	OrgSourceID      string
	JoinedOn         time.Time // zero if unknown
	CentralHousehold bool      // 党员中心户
	AddressRaw       string
	GridCode         string // home grid when the address matched
}

// DualReport is an in-service member reporting to a community (双报到).
type DualReport struct {
	Provenance
	MemberSourceID string
	CommunityCode  string
	CommunityName  string
	BranchSourceID string
	Employer       string
	ReportedOn     time.Time
}

// ServiceStation is a party service station (红色驿站, 党群服务中心).
type ServiceStation struct {
	Provenance
	Name          string
	Kind          StationKind
	Address       string
	Location      *Location
	Services      []string
	OpeningHours  string
	CommunityCode string
}

// VolunteerActivity is a member's volunteer service (志愿服务活动).
type VolunteerActivity struct {
	Provenance
	Title           string
	MemberSourceID  string
	StationSourceID string
	HeldOn          time.Time
	Hours           float64
	Points          int
}
