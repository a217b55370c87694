package normalize

import (
	"sort"
	"strings"

	"github.com/ywtg/hub/canon"
)

// Category is a node of the unified case taxonomy (canon.Category): Level 1
// is a major class (BJ01, SJ05, ZZ01), Level 2 a minor class under it.
type Category = canon.Category

// SourceMapping maps one source system's code onto the unified taxonomy
// (canon.CategoryMapping): System is "citymgmt" or "governance".
type SourceMapping = canon.CategoryMapping

// Source system names in SourceMapping.System.
const (
	SystemCityMgmt   = "citymgmt"
	SystemGovernance = "governance"
)

// The code tables below are docs/sources.md as data; a code missing from
// them is UNKNOWN_CODE, never guessed.
//
// The unified taxonomy: city-management classes keep their CJ/T 214
// identity (BJ = 部件 components, SJ = 事件 events, then two digits of
// major and two of minor class); governance event types sit under ZZ with
// their own two-plus-two digits (ZZ01 矛盾纠纷, ZZ0101 邻里纠纷).
//
// Cross mappings. A governance subtype maps onto a city-management category
// only where it is the same real-world problem, so statistics and incident
// grouping see one category:
//
//	0501 环境卫生 → SJ01 市容环境 (the major class, not a minor): grid
//	     workers report rubbish left out, overflowing bins, dirty roads and
//	     water — CJ/T 214 事件 01's minors 暴露垃圾, 积存垃圾渣土, 道路不洁,
//	     水域不洁. Which minor is not known from the governance code, so the
//	     report lands on the class; a grouping rule matching a category with
//	     its ancestors joins it with the city-management minors.
//
// Kept under ZZ on purpose:
//
//	0502 设施报修 spans components (路灯, 井盖: BJ01) and events (下水道堵塞或破损:
//	     SJ04) and in-compound facilities no CJ/T 214 class covers: ZZ0502.
//	0401 违规经营 is a work-safety violation, not the street-order problems
//	     无照经营游商/店外经营; 0303 燃气隐患 is a hazard, not the rupture
//	     燃气管道破裂; 0302 房屋安全隐患 is structural safety, not 私搭乱建.
//	     They may describe the same spot, but they are different problems.
//
// Kinds: 部件 → COMPONENT, 事件 → EVENT, 矛盾纠纷 → DISPUTE, 治安问题 →
// PUBLIC_SECURITY, 风险隐患 and 安全生产 → RISK, 民生服务 → EVENT.

// cityClass is a CJ/T 214 major class with its minors.
type cityClass struct {
	code, name string // unified code (BJ01), name
	kind       canon.CaseKind
	minors     [][2]string // minor code, name
}

var cityClasses = []cityClass{
	{"BJ01", "公用设施", canon.KindComponent, [][2]string{{"01", "上水井盖"}, {"02", "污水井盖"}, {"03", "雨水井盖"}, {"04", "电力井盖"}, {"05", "通信井盖"}, {"06", "路灯"}, {"07", "消防栓"}}},
	{"BJ02", "道路交通", canon.KindComponent, [][2]string{{"01", "停车场"}, {"02", "公交站亭"}, {"03", "交通信号灯"}, {"04", "交通标志牌"}, {"05", "护栏"}}},
	{"BJ03", "市容环境", canon.KindComponent, [][2]string{{"01", "公共厕所"}, {"02", "垃圾箱"}, {"03", "果皮箱"}, {"04", "广告牌匾"}}},
	{"BJ04", "园林绿化", canon.KindComponent, [][2]string{{"01", "古树名木"}, {"02", "行道树"}, {"03", "绿地"}, {"04", "花坛"}}},
	{"BJ05", "房屋土地", canon.KindComponent, [][2]string{{"01", "宣传栏"}, {"02", "人防工事"}, {"03", "地下通道"}}},
	{"BJ06", "其他设施", canon.KindComponent, [][2]string{{"01", "健身设施"}, {"02", "重大危险源"}, {"03", "工地"}}},
	{"SJ01", "市容环境", canon.KindEvent, [][2]string{{"01", "私搭乱建"}, {"02", "暴露垃圾"}, {"03", "积存垃圾渣土"}, {"04", "道路不洁"}, {"05", "水域不洁"}}},
	{"SJ02", "宣传广告", canon.KindEvent, [][2]string{{"01", "非法小广告"}, {"02", "违章张贴悬挂广告牌匾"}, {"03", "占道广告牌"}}},
	{"SJ03", "施工管理", canon.KindEvent, [][2]string{{"01", "施工扰民"}, {"02", "工地扬尘"}, {"03", "道路遗撒"}, {"04", "无证掘路"}}},
	{"SJ04", "突发事件", canon.KindEvent, [][2]string{{"01", "路面塌陷"}, {"02", "自来水管破裂"}, {"03", "燃气管道破裂"}, {"04", "下水道堵塞或破损"}}},
	{"SJ05", "街面秩序", canon.KindEvent, [][2]string{{"01", "无照经营游商"}, {"02", "店外经营"}, {"03", "占道废品收购"}, {"04", "机动车乱停放"}, {"05", "非机动车乱停放"}}},
	{"SJ06", "其他事件", canon.KindEvent, [][2]string{{"01", "其他"}}},
}

// govType is a governance event type (eventType) with its subtypes.
type govType struct {
	code, name string // source code (01), name
	kind       canon.CaseKind
	subs       []govSub
}

// govSub is a governance subtype; shared names the city-management
// category it maps onto, or is empty for its own ZZ category.
type govSub struct {
	code, name, shared string
}

var govTypes = []govType{
	{"01", "矛盾纠纷", canon.KindDispute, []govSub{{"0101", "邻里纠纷", ""}, {"0102", "婚姻家庭纠纷", ""}, {"0103", "物业纠纷", ""}, {"0104", "劳资纠纷", ""}, {"0105", "土地山林纠纷", ""}}},
	{"02", "治安问题", canon.KindPublicSecurity, []govSub{{"0201", "盗窃", ""}, {"0202", "打架斗殴", ""}, {"0203", "黄赌毒线索", ""}, {"0204", "可疑人员", ""}}},
	{"03", "风险隐患", canon.KindRisk, []govSub{{"0301", "消防隐患", ""}, {"0302", "房屋安全隐患", ""}, {"0303", "燃气隐患", ""}, {"0304", "地质灾害隐患", ""}}},
	{"04", "安全生产", canon.KindRisk, []govSub{{"0401", "违规经营", ""}, {"0402", "危化品隐患", ""}, {"0403", "建筑工地安全", ""}}},
	{"05", "民生服务", canon.KindEvent, []govSub{{"0501", "环境卫生", "SJ01"}, {"0502", "设施报修", ""}, {"0503", "政策咨询", ""}, {"0504", "帮扶救助", ""}}},
}

// codeTables holds the lookup structures built once from the tables above.
type codeTables struct {
	categories []Category
	byCode     map[string]Category
	mappings   []SourceMapping
	govSub     map[string]string // governance subtype → unified code
}

var tables = buildTables()

func buildTables() codeTables {
	t := codeTables{byCode: map[string]Category{}, govSub: map[string]string{}}
	add := func(c Category) {
		t.categories = append(t.categories, c)
		t.byCode[c.Code] = c
	}
	for _, cl := range cityClasses {
		add(Category{Code: cl.code, Name: cl.name, Kind: cl.kind, Level: 1})
		typ := "01" // 部件
		if strings.HasPrefix(cl.code, "SJ") {
			typ = "02" // 事件
		}
		for _, m := range cl.minors {
			add(Category{Code: cl.code + m[0], Name: m[1], ParentCode: cl.code, Kind: cl.kind, Level: 2})
			t.mappings = append(t.mappings, SourceMapping{System: SystemCityMgmt, SourceCode: typ + cl.code[2:] + m[0], SourceName: m[1], CategoryCode: cl.code + m[0]})
		}
	}
	for _, gt := range govTypes {
		add(Category{Code: "ZZ" + gt.code, Name: gt.name, Kind: gt.kind, Level: 1})
		for _, s := range gt.subs {
			code := s.shared
			if code == "" {
				code = "ZZ" + s.code
				add(Category{Code: code, Name: s.name, ParentCode: "ZZ" + gt.code, Kind: gt.kind, Level: 2})
			}
			t.govSub[s.code] = code
			t.mappings = append(t.mappings, SourceMapping{System: SystemGovernance, SourceCode: s.code, SourceName: s.name, CategoryCode: code})
		}
	}
	sort.Slice(t.categories, func(i, j int) bool { return t.categories[i].Code < t.categories[j].Code })
	sort.Slice(t.mappings, func(i, j int) bool {
		a, b := t.mappings[i], t.mappings[j]
		if a.System != b.System {
			return a.System < b.System
		}
		return a.SourceCode < b.SourceCode
	})
	return t
}

// Categories returns the unified taxonomy in code order (a parent before
// its children).
func Categories() []Category { return append([]Category(nil), tables.categories...) }

// CategoryByCode looks up a unified category.
func CategoryByCode(code string) (Category, bool) {
	c, ok := tables.byCode[code]
	return c, ok
}

// Mappings returns every source code's unified category, by system and
// source code.
func Mappings() []SourceMapping { return append([]SourceMapping(nil), tables.mappings...) }

// GovernanceEventType maps a governance event type (2 digits) and subtype
// (4 digits, starting with the type); typeField and field name them.
func GovernanceEventType(typeField, field, typ, sub string) (Category, error) {
	typ, sub = strings.TrimSpace(typ), strings.TrimSpace(sub)
	if typ == "" {
		return Category{}, defect(MissingField, typeField, "no event type")
	}
	if sub == "" {
		return Category{}, defect(MissingField, field, "no event subtype")
	}
	if len(sub) != 4 || sub[:2] != typ {
		return Category{}, defect(UnknownCode, field, "event subtype %q does not belong to type %q", sub, typ)
	}
	code, ok := tables.govSub[sub]
	if !ok {
		return Category{}, defect(UnknownCode, field, "unknown event subtype %q", sub)
	}
	return tables.byCode[code], nil
}

// CityServiceCode maps a 6-digit Open311 service code: 01 部件 or 02 事件,
// then the CJ/T 214 major and minor class. A 5-digit code starting with 1
// or 2 (the code sent as a JSON number, its leading zero lost) is read
// with its zero.
func CityServiceCode(field, code string) (Category, error) {
	code = strings.TrimSpace(code)
	if len(code) == 5 && allDigits(code) && (code[0] == '1' || code[0] == '2') {
		code = "0" + code
	}
	if code == "" {
		return Category{}, defect(MissingField, field, "no service code")
	}
	// A class of the unified taxonomy by its own code: what another hub's
	// Open311 endpoint publishes for the classes of other systems.
	if c, ok := tables.byCode[code]; ok {
		return c, nil
	}
	if len(code) != 6 || !allDigits(code) || (code[:2] != "01" && code[:2] != "02") {
		return Category{}, defect(UnknownCode, field, "service code %q is not 01/02 + major + minor", code)
	}
	prefix := "BJ"
	if code[:2] == "02" {
		prefix = "SJ"
	}
	c, ok := tables.byCode[prefix+code[2:]]
	if !ok || c.Level != 2 {
		return Category{}, defect(UnknownCode, field, "unknown service code %q", code)
	}
	return c, nil
}

// CityClass maps the CSV export's 案件类型 (部件/事件), 大类代码 and 小类代码.
// A one-digit code ("1", as a spreadsheet leaves "01") is read with its
// leading zero.
func CityClass(field, kind, major, minor string) (Category, error) {
	kind, major, minor = strings.TrimSpace(kind), pad2(major), pad2(minor)
	if kind == "" || major == "" || minor == "" {
		return Category{}, defect(MissingField, field, "案件类型, 大类代码 or 小类代码 missing")
	}
	var typ string
	switch kind {
	case "部件":
		typ = "01"
	case "事件":
		typ = "02"
	default:
		return Category{}, defect(UnknownCode, field, "案件类型 %q is neither 部件 nor 事件", kind)
	}
	return CityServiceCode(field, typ+major+minor)
}

func pad2(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 1 && s[0] >= '0' && s[0] <= '9' {
		return "0" + s
	}
	return s
}

// govStep is a governance status code's place in the lifecycle; tier is
// set where the step implies one.
type govStep struct {
	status canon.CaseStatus
	tier   canon.CaseTier
	name   string
}

var govStatus = map[string]govStep{
	"10": {canon.StatusReported, canon.TierGrid, "网格员上报"},
	"11": {canon.StatusResolved, canon.TierGrid, "自行处置"},
	"20": {canon.StatusAccepted, canon.TierCommunity, "社区受理"},
	"30": {canon.StatusAccepted, canon.TierStreet, "上报街道"},
	"35": {canon.StatusReturned, "", "回退"},
	"40": {canon.StatusDispatched, canon.TierCity, "一网统管调度"},
	"50": {canon.StatusInProgress, "", "办理"},
	"55": {canon.StatusDeferred, "", "延期"},
	"60": {canon.StatusResolved, "", "办结"},
	"70": {canon.StatusVerifying, "", "核查评价"},
	"80": {canon.StatusClosed, "", "归档"},
	"90": {canon.StatusRejected, "", "作废"},
}

// GovernanceStatus maps a governance status code onto the lifecycle
// (docs/design.md §4): the status, the tier the step implies (empty when it implies
// none: the case stays at its current tier) and the step's name.
func GovernanceStatus(field, code string) (canon.CaseStatus, canon.CaseTier, string, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return "", "", "", defect(MissingField, field, "no status code")
	}
	s, ok := govStatus[code]
	if !ok {
		return "", "", "", defect(UnknownCode, field, "unknown status code %q", code)
	}
	return s.status, s.tier, s.name, nil
}

var govTiers = map[string]canon.CaseTier{"1": canon.TierGrid, "2": canon.TierCommunity, "3": canon.TierStreet, "4": canon.TierDistrict, "5": canon.TierCity}

// GovernanceTier maps a level code: 1 网格, 2 社区, 3 街道, 4 区, 5 市.
func GovernanceTier(field, code string) (canon.CaseTier, error) {
	t, ok := govTiers[strings.TrimSpace(code)]
	if !ok {
		return "", defect(UnknownCode, field, "unknown level %q", code)
	}
	return t, nil
}

// GridWorkerPost maps a post code: 1 专职, 2 兼职, 3 网格长.
func GridWorkerPost(field, code string) (canon.GridWorkerRole, error) {
	switch strings.TrimSpace(code) {
	case "1":
		return canon.GridWorkerFullTime, nil
	case "2":
		return canon.GridWorkerPartTime, nil
	case "3":
		return canon.GridWorkerLeader, nil
	}
	return "", defect(UnknownCode, field, "unknown post %q", code)
}

// ResidenceType maps 1 户籍 (registered) / 2 流动 (floating).
func ResidenceType(field, code string) (canon.ResidenceKind, error) {
	switch strings.TrimSpace(code) {
	case "1":
		return canon.Registered, nil
	case "2":
		return canon.Floating, nil
	}
	return "", defect(UnknownCode, field, "unknown resident type %q", code)
}

var cityStates = map[string]canon.CaseStatus{
	"上报": canon.StatusReported, "受理": canon.StatusAccepted, "立案": canon.StatusFiled, "派遣": canon.StatusDispatched,
	"处置": canon.StatusInProgress, "处置反馈": canon.StatusResolved, "核查": canon.StatusVerifying, "结案": canon.StatusClosed,
	"回退": canon.StatusReturned, "延期": canon.StatusDeferred, "挂账": canon.StatusSuspended, "返工": canon.StatusReopened,
	"作废": canon.StatusRejected,
}

// CityWorkflowState maps a city-management workflow step name (上报 … 结案,
// 回退, 延期, 挂账, 返工, 作废).
func CityWorkflowState(field, name string) (canon.CaseStatus, error) {
	s, ok := cityStates[strings.TrimSpace(name)]
	if !ok {
		return "", defect(UnknownCode, field, "unknown workflow step %q", name)
	}
	return s, nil
}

// Open311Status maps the spec's open/closed with the finer workflow step
// when the endpoint provides it: closed is CLOSED (REJECTED when the step
// says 作废); open is the step's status, or ACCEPTED without one (or with a
// terminal step, which contradicts open).
func Open311Status(field, status, step string) (canon.CaseStatus, error) {
	var fine canon.CaseStatus
	if strings.TrimSpace(step) != "" {
		var err error
		if fine, err = CityWorkflowState(field, step); err != nil {
			return "", err
		}
	}
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "closed":
		if fine == canon.StatusRejected {
			return fine, nil
		}
		return canon.StatusClosed, nil
	case "open":
		if fine != "" && !fine.Terminal() {
			return fine, nil
		}
		return canon.StatusAccepted, nil
	case "":
		return "", defect(MissingField, "status", "no status")
	}
	return "", defect(UnknownCode, "status", "status %q is neither open nor closed", status)
}

var cityTiers = map[string]canon.CaseTier{"网格": canon.TierGrid, "社区": canon.TierCommunity, "街道": canon.TierStreet, "区": canon.TierDistrict, "市": canon.TierCity}

// CityTier maps a tier name (网格/社区/街道/区/市); empty means the street,
// where 数字城管 cases are handled by default.
func CityTier(field, name string) (canon.CaseTier, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return canon.TierStreet, nil
	}
	t, ok := cityTiers[name]
	if !ok {
		return "", defect(UnknownCode, field, "unknown tier %q", name)
	}
	return t, nil
}

var orgKinds = map[string]canon.PartyOrgKind{"党工委": canon.OrgWorkingCommittee, "党委": canon.OrgCommittee,
	"党总支": canon.OrgGeneralBranch, "党支部": canon.OrgBranch, "党小组": canon.OrgGroup}

// PartyOrgKind maps 党工委/党委/党总支/党支部/党小组.
func PartyOrgKind(field, name string) (canon.PartyOrgKind, error) {
	k, ok := orgKinds[strings.TrimSpace(name)]
	if !ok {
		return "", defect(UnknownCode, field, "unknown organisation kind %q", name)
	}
	return k, nil
}

// StationKind maps 红色驿站/党群服务中心.
func StationKind(field, name string) (canon.StationKind, error) {
	switch strings.TrimSpace(name) {
	case "红色驿站":
		return canon.StationRedPost, nil
	case "党群服务中心":
		return canon.StationPartyService, nil
	}
	return "", defect(UnknownCode, field, "unknown station kind %q", name)
}

// GenderText maps the party system's gender text 男/女. It may disagree
// with the citizen ID, which is not a defect (docs/sources.md); the ID's
// gender is the one the hub keeps.
func GenderText(field, s string) (canon.Gender, error) {
	switch strings.TrimSpace(s) {
	case "男":
		return canon.Male, nil
	case "女":
		return canon.Female, nil
	case "":
		return "", defect(MissingField, field, "no gender")
	}
	return "", defect(UnknownCode, field, "unknown gender %q", s)
}
