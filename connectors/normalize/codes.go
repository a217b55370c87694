package normalize

import (
	"sort"

	"github.com/ywtg/hub/canon"
)

// The unified taxonomy: city-management classes keep their CJ/T 214
// identity (BJ = 部件, SJ = 事件, two digits of major class, two of minor);
// governance event types sit under ZZ. Where a governance subtype is the
// same real-world problem as a city-management class it maps onto that
// class, so statistics and incident grouping see one category:
//   0501 环境卫生 → SJ0102 暴露垃圾 (both: rubbish left in public space)
//   0502 设施报修 → BJ01 公用设施 (a report about a public facility)
// Every other governance subtype keeps a ZZ category of its own.

type class struct {
	code, name string
	kind       canon.CaseKind
	minors     [][2]string
}

var cityClasses = []class{
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

var govClasses = []class{
	{"ZZ01", "矛盾纠纷", canon.KindDispute, [][2]string{{"01", "邻里纠纷"}, {"02", "婚姻家庭纠纷"}, {"03", "物业纠纷"}, {"04", "劳资纠纷"}, {"05", "土地山林纠纷"}}},
	{"ZZ02", "治安问题", canon.KindPublicSecurity, [][2]string{{"01", "盗窃"}, {"02", "打架斗殴"}, {"03", "黄赌毒线索"}, {"04", "可疑人员"}}},
	{"ZZ03", "风险隐患", canon.KindRisk, [][2]string{{"01", "消防隐患"}, {"02", "房屋安全隐患"}, {"03", "燃气隐患"}, {"04", "地质灾害隐患"}}},
	{"ZZ04", "安全生产", canon.KindRisk, [][2]string{{"01", "违规经营"}, {"02", "危化品隐患"}, {"03", "建筑工地安全"}}},
	{"ZZ05", "民生服务", canon.KindEvent, [][2]string{{"03", "政策咨询"}, {"04", "帮扶救助"}}},
}

// govShared maps governance subtypes onto a city-management category.
var govShared = map[string]string{"0501": "SJ0102", "0502": "BJ01"}

var govSubNames = map[string]string{"0501": "环境卫生", "0502": "设施报修"}

var (
	categories []canon.Category
	byCode     = map[string]canon.Category{}
	mappings   []canon.CategoryMapping
)

func init() {
	add := func(c canon.Category) { categories = append(categories, c); byCode[c.Code] = c }
	for _, list := range [][]class{cityClasses, govClasses} {
		for _, cl := range list {
			add(canon.Category{Code: cl.code, Name: cl.name, Kind: cl.kind, Level: 1})
			for _, m := range cl.minors {
				add(canon.Category{Code: cl.code + m[0], Name: m[1], ParentCode: cl.code, Kind: cl.kind, Level: 2})
			}
		}
	}
	sort.Slice(categories, func(i, j int) bool { return categories[i].Code < categories[j].Code })
	for _, cl := range cityClasses {
		typ := "01"
		if cl.code[:2] == "SJ" {
			typ = "02"
		}
		for _, m := range cl.minors {
			mappings = append(mappings, canon.CategoryMapping{System: "citymgmt", SourceCode: typ + cl.code[2:] + m[0], SourceName: m[1], CategoryCode: cl.code + m[0]})
		}
	}
	for _, cl := range govClasses {
		for _, m := range cl.minors {
			sub := cl.code[2:] + m[0]
			mappings = append(mappings, canon.CategoryMapping{System: "governance", SourceCode: sub, SourceName: m[1], CategoryCode: cl.code + m[0]})
		}
	}
	for sub, code := range govShared {
		mappings = append(mappings, canon.CategoryMapping{System: "governance", SourceCode: sub, SourceName: govSubNames[sub], CategoryCode: code})
	}
	sort.Slice(mappings, func(i, j int) bool {
		return mappings[i].System+mappings[i].SourceCode < mappings[j].System+mappings[j].SourceCode
	})
}

// Categories returns the unified taxonomy in code order.
func Categories() []canon.Category { return append([]canon.Category(nil), categories...) }

// Mappings returns every source code's unified category.
func Mappings() []canon.CategoryMapping { return append([]canon.CategoryMapping(nil), mappings...) }

// GovernanceEventType maps a governance event type and subtype.
func GovernanceEventType(field, typ, sub string) (canon.Category, error) {
	if typ == "" || sub == "" {
		return canon.Category{}, defect(MissingField, field, "event type or subtype missing")
	}
	if len(sub) != 4 || sub[:2] != typ {
		return canon.Category{}, defect(UnknownCode, field, "event subtype %q does not belong to type %q", sub, typ)
	}
	code, ok := govShared[sub]
	if !ok {
		code = "ZZ" + sub
	}
	c, ok := byCode[code]
	if !ok {
		return canon.Category{}, defect(UnknownCode, field, "unknown event subtype %q", sub)
	}
	if _, shared := govShared[sub]; shared {
		c.Kind = canon.KindEvent // 民生服务 reports stay events
	}
	return c, nil
}

// CityServiceCode maps a 6-digit Open311 service code (01 部件 / 02 事件,
// major, minor).
func CityServiceCode(field, code string) (canon.Category, error) {
	if len(code) != 6 || (code[:2] != "01" && code[:2] != "02") {
		return canon.Category{}, defect(UnknownCode, field, "service code %q is not 01/02 + major + minor", code)
	}
	prefix := "BJ"
	if code[:2] == "02" {
		prefix = "SJ"
	}
	c, ok := byCode[prefix+code[2:]]
	if !ok {
		return canon.Category{}, defect(UnknownCode, field, "unknown service code %q", code)
	}
	return c, nil
}

// govStatus maps governance status codes onto the lifecycle; tier is set
// where the step implies one.
var govStatus = map[string]struct {
	status canon.CaseStatus
	tier   canon.CaseTier
	name   string
}{
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

// GovernanceStatus maps a status code; the tier is empty when the step
// does not imply one.
func GovernanceStatus(field, code string) (canon.CaseStatus, canon.CaseTier, string, error) {
	s, ok := govStatus[code]
	if !ok {
		return "", "", "", defect(UnknownCode, field, "unknown status code %q", code)
	}
	return s.status, s.tier, s.name, nil
}

var govTiers = map[string]canon.CaseTier{"1": canon.TierGrid, "2": canon.TierCommunity, "3": canon.TierStreet, "4": canon.TierDistrict, "5": canon.TierCity}

// GovernanceTier maps a level code 1–5.
func GovernanceTier(field, code string) (canon.CaseTier, error) {
	t, ok := govTiers[code]
	if !ok {
		return "", defect(UnknownCode, field, "unknown level %q", code)
	}
	return t, nil
}

// GridWorkerPost maps a post code.
func GridWorkerPost(field, code string) (canon.GridWorkerRole, error) {
	switch code {
	case "1":
		return canon.GridWorkerFullTime, nil
	case "2":
		return canon.GridWorkerPartTime, nil
	case "3":
		return canon.GridWorkerLeader, nil
	}
	return "", defect(UnknownCode, field, "unknown post %q", code)
}

// ResidenceType maps 1 户籍 / 2 流动.
func ResidenceType(field, code string) (canon.ResidenceKind, error) {
	switch code {
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

// CityWorkflowState maps a city-management workflow step name.
func CityWorkflowState(field, name string) (canon.CaseStatus, error) {
	s, ok := cityStates[name]
	if !ok {
		return "", defect(UnknownCode, field, "unknown workflow step %q", name)
	}
	return s, nil
}

// Open311Status maps the spec's open/closed with the finer workflow step
// when the endpoint provides it: closed is CLOSED (or REJECTED when the
// step says 作废); open is the step's status, or ACCEPTED without one.
func Open311Status(field, status, step string) (canon.CaseStatus, error) {
	var fine canon.CaseStatus
	if step != "" {
		var err error
		if fine, err = CityWorkflowState(field, step); err != nil {
			return "", err
		}
	}
	switch status {
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
	}
	return "", defect(UnknownCode, "status", "status %q is neither open nor closed", status)
}

var cityTiers = map[string]canon.CaseTier{"网格": canon.TierGrid, "社区": canon.TierCommunity, "街道": canon.TierStreet, "区": canon.TierDistrict, "市": canon.TierCity}

// CityTier maps a tier name; empty means the street, where 数字城管 cases
// are handled by default.
func CityTier(field, name string) (canon.CaseTier, error) {
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
	k, ok := orgKinds[name]
	if !ok {
		return "", defect(UnknownCode, field, "unknown organisation kind %q", name)
	}
	return k, nil
}

// StationKind maps 红色驿站/党群服务中心.
func StationKind(field, name string) (canon.StationKind, error) {
	switch name {
	case "红色驿站":
		return canon.StationRedPost, nil
	case "党群服务中心":
		return canon.StationPartyService, nil
	}
	return "", defect(UnknownCode, field, "unknown station kind %q", name)
}
