package canon

// RegionLevel is the level of a node in the administrative and grid tree.
type RegionLevel string

// Region levels from the city down to the grid (网格).
const (
	LevelCity      RegionLevel = "CITY"      // 市
	LevelDistrict  RegionLevel = "DISTRICT"  // 区县
	LevelStreet    RegionLevel = "STREET"    // 街道/乡镇
	LevelCommunity RegionLevel = "COMMUNITY" // 社区/村
	LevelGrid      RegionLevel = "GRID"      // 网格
)

// RegionLevels lists the levels from the top of the tree down.
var RegionLevels = []RegionLevel{LevelCity, LevelDistrict, LevelStreet, LevelCommunity, LevelGrid}

// Valid reports whether l is a known level.
func (l RegionLevel) Valid() bool {
	for _, v := range RegionLevels {
		if v == l {
			return true
		}
	}
	return false
}

// Depth is the position of the level in the tree, 0 for CITY.
func (l RegionLevel) Depth() int {
	for i, v := range RegionLevels {
		if v == l {
			return i
		}
	}
	return -1
}

// CaseStatus is the unified case lifecycle (docs/design.md §4).
type CaseStatus string

// Main path and side states of the unified lifecycle.
const (
	StatusReported   CaseStatus = "REPORTED"    // 上报
	StatusAccepted   CaseStatus = "ACCEPTED"    // 受理
	StatusFiled      CaseStatus = "FILED"       // 立案
	StatusDispatched CaseStatus = "DISPATCHED"  // 派遣
	StatusInProgress CaseStatus = "IN_PROGRESS" // 处置/办理
	StatusResolved   CaseStatus = "RESOLVED"    // 处置反馈/办结
	StatusVerifying  CaseStatus = "VERIFYING"   // 核查
	StatusClosed     CaseStatus = "CLOSED"      // 结案/归档
	StatusRejected   CaseStatus = "REJECTED"    // 不予立案/作废
	StatusReturned   CaseStatus = "RETURNED"    // 回退
	StatusDeferred   CaseStatus = "DEFERRED"    // 延期
	StatusSuspended  CaseStatus = "SUSPENDED"   // 挂账
	StatusReopened   CaseStatus = "REOPENED"    // 返工/重办
)

// CaseStatuses lists every status, main path first.
var CaseStatuses = []CaseStatus{
	StatusReported, StatusAccepted, StatusFiled, StatusDispatched, StatusInProgress,
	StatusResolved, StatusVerifying, StatusClosed,
	StatusRejected, StatusReturned, StatusDeferred, StatusSuspended, StatusReopened,
}

// Terminal reports whether a case in this status is finished (no more work).
func (s CaseStatus) Terminal() bool { return s == StatusClosed || s == StatusRejected }

// CaseTier is the level of government currently handling a case.
type CaseTier string

// Tiers, lowest first; escalation moves a case up this list.
const (
	TierGrid      CaseTier = "GRID"      // 网格
	TierCommunity CaseTier = "COMMUNITY" // 社区
	TierStreet    CaseTier = "STREET"    // 街道
	TierDistrict  CaseTier = "DISTRICT"  // 区
	TierCity      CaseTier = "CITY"      // 市 (一网统管平台)
)

// CaseTiers lists the tiers from the grid up.
var CaseTiers = []CaseTier{TierGrid, TierCommunity, TierStreet, TierDistrict, TierCity}

// CaseKind classifies a case across the silos.
type CaseKind string

// Case kinds (docs/design.md §4).
const (
	KindComponent      CaseKind = "COMPONENT"       // 城管部件
	KindEvent          CaseKind = "EVENT"           // 城管事件 / 民生服务
	KindDispute        CaseKind = "DISPUTE"         // 矛盾纠纷
	KindPublicSecurity CaseKind = "PUBLIC_SECURITY" // 治安问题
	KindRisk           CaseKind = "RISK"            // 风险隐患 / 安全生产
	KindHotline        CaseKind = "HOTLINE"         // 热线工单
)

// CaseKinds lists every case kind.
var CaseKinds = []CaseKind{KindComponent, KindEvent, KindDispute, KindPublicSecurity, KindRisk, KindHotline}

// SourceKind is the protocol family of a source system.
type SourceKind string

// Source kinds.
const (
	SourceSQL     SourceKind = "SQL"     // a database read directly
	SourceREST    SourceKind = "REST"    // a JSON REST API
	SourceOpen311 SourceKind = "OPEN311" // Open311 GeoReport v2
	SourceFile    SourceKind = "FILE"    // a file drop (e.g. CSV exports)
)

// SourceKinds lists every source kind.
var SourceKinds = []SourceKind{SourceSQL, SourceREST, SourceOpen311, SourceFile}

// Datum is a geodetic datum of a coordinate pair.
type Datum string

// Datums in use by Chinese map services.
const (
	WGS84 Datum = "WGS84" // GPS, the hub's storage datum
	GCJ02 Datum = "GCJ02" // 国测局 "Mars" datum (AMap, Tencent)
	BD09  Datum = "BD09"  // Baidu
)

// Gender derived from a citizen ID.
type Gender string

// Genders.
const (
	Male   Gender = "MALE"
	Female Gender = "FEMALE"
)

// PersonRole is a role a person plays in one of the silos.
type PersonRole string

// Person roles (docs/design.md §4).
const (
	RoleResident    PersonRole = "RESIDENT"
	RolePartyMember PersonRole = "PARTY_MEMBER"
	RoleGridWorker  PersonRole = "GRID_WORKER"
	RoleVolunteer   PersonRole = "VOLUNTEER"
	RoleReporter    PersonRole = "REPORTER"
)

// GridWorkerRole is the post of a grid worker.
type GridWorkerRole string

// Grid worker posts.
const (
	GridWorkerFullTime GridWorkerRole = "FULL_TIME" // 专职网格员
	GridWorkerPartTime GridWorkerRole = "PART_TIME" // 兼职网格员
	GridWorkerLeader   GridWorkerRole = "LEADER"    // 网格长
)

// PartyOrgKind is the kind of a party organisation (docs/design.md §4).
type PartyOrgKind string

// Party organisation kinds, top of the hierarchy first.
const (
	OrgWorkingCommittee PartyOrgKind = "WORKING_COMMITTEE" // 党工委
	OrgCommittee        PartyOrgKind = "COMMITTEE"         // 党委
	OrgGeneralBranch    PartyOrgKind = "GENERAL_BRANCH"    // 党总支
	OrgBranch           PartyOrgKind = "BRANCH"            // 党支部
	OrgGroup            PartyOrgKind = "GROUP"             // 党小组
)

// ResidenceKind says whether a resident is registered here or floating.
type ResidenceKind string

// Residence kinds.
const (
	Registered ResidenceKind = "REGISTERED" // 户籍人口
	Floating   ResidenceKind = "FLOATING"   // 流动人口
)

// StationKind is the kind of a party service station.
type StationKind string

// Station kinds.
const (
	StationRedPost      StationKind = "RED_POST"      // 红色驿站
	StationPartyService StationKind = "PARTY_SERVICE" // 党群服务中心
)

// RecordType names a kind of canonical record, e.g. in tombstones.
type RecordType string

// Record types, one per canonical table of source-derived records.
const (
	RecordHousehold         RecordType = "household"
	RecordResident          RecordType = "resident"
	RecordGridWorker        RecordType = "grid_worker"
	RecordPartyOrg          RecordType = "party_org"
	RecordPartyMember       RecordType = "party_member"
	RecordDualReport        RecordType = "dual_report"
	RecordServiceStation    RecordType = "service_station"
	RecordVolunteerActivity RecordType = "volunteer_activity"
	RecordCase              RecordType = "case"
)
