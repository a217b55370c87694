package city

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// This file renders the records of each source system as that system
// publishes them, with the injected defects applied. Protocol concerns
// (JSON/XML/SQL shapes, time formats) belong to the server packages.

// textRand returns the deterministic random stream of one record's text.
func (c *City) textRand(e Entity, i int) *rand.Rand {
	return rand.New(rand.NewPCG(c.cfg.Seed^uint64(e)<<56, uint64(i)))
}

// ---- governance system ----

// GovGridRec is a record of /api/v1/grids.
type GovGridRec struct {
	ID            int64
	GridCode      string
	GridName      string
	CommunityCode string
	UpdateTime    int64
}

// GovGrid renders grid i (ordinal among Grids).
func (c *City) GovGrid(i int) GovGridRec {
	r := &c.Regions[c.Grids[i]]
	return GovGridRec{ID: int64(i + 1), GridCode: r.Code, GridName: r.Name, CommunityCode: c.Regions[r.Parent].Code, UpdateTime: c.gridMeta[i].Updated}
}

// GovWorkerRec is a record of /api/v1/gridWorkers.
type GovWorkerRec struct {
	ID         int64
	Name       string
	IDCard     string
	Mobile     string
	GridCodes  []string
	Post       string
	UpdateTime int64
	Deleted    bool
}

// GovWorker renders grid worker i.
func (c *City) GovWorker(i int) GovWorkerRec {
	w := &c.Workers[i]
	p := &c.People[w.Person]
	r := GovWorkerRec{ID: int64(i + 1), Name: p.Name, IDCard: p.ID, Mobile: p.Phone, Post: strconv.Itoa(int(w.Post)), UpdateTime: w.Updated, Deleted: w.Deleted}
	for _, g := range w.Grids {
		r.GridCodes = append(r.GridCodes, c.Regions[g].Code)
	}
	switch w.Def {
	case KPhoneFormat:
		r.Mobile = phoneFormatted(p.Phone, i)
	case KID15:
		r.IDCard = idTo15(p.ID)
	case KNameSpace:
		r.Name = nameWithSpace(p.Name)
	}
	return r
}

// GovHouseRec is a record of /api/v1/houses.
type GovHouseRec struct {
	ID                               int64
	GridCode                         string
	Address                          string
	CompoundName, BuildingNo, UnitNo string
	RoomNo                           string
	Lng, Lat                         float64 // BD-09
	UpdateTime                       int64
	Deleted                          bool
}

// roomNo is the door number of a household: floor and room (1201).
func (h *Household) roomNo() int { return int(h.Floor)*100 + int(h.Room) }

// houseAddress writes a household's address; numerals in Chinese when cn.
func (c *City) houseAddress(h *Household, prefix int, cn bool) string {
	b := &c.Buildings[h.Building]
	g := &c.Regions[b.Grid]
	cm := &c.Regions[g.Parent]
	st := &c.Regions[cm.Parent]
	d := &c.Regions[st.Parent]
	num := func(n int) string {
		if cn {
			return chineseNumber(n)
		}
		return strconv.Itoa(n)
	}
	var pre string
	switch prefix % 3 {
	case 0:
		pre = "湖北省襄阳市" + d.Name + st.Name + cm.Name
	case 1:
		pre = d.Name + st.Name
	default:
		pre = "襄阳市" + d.Name + cm.Name
	}
	return fmt.Sprintf("%s%s%s栋%s单元%d室", pre, c.Compounds[b.Compound].Name, num(int(b.No)), num(int(h.Unit)), h.roomNo())
}

// GovHouse renders household i.
func (c *City) GovHouse(i int) GovHouseRec {
	h := &c.Households[i]
	b := &c.Buildings[h.Building]
	r := GovHouseRec{ID: int64(i + 1), GridCode: c.Regions[b.Grid].Code, CompoundName: c.Compounds[b.Compound].Name,
		BuildingNo: strconv.Itoa(int(b.No)), UnitNo: strconv.Itoa(int(h.Unit)), RoomNo: strconv.Itoa(h.roomNo()),
		UpdateTime: h.Updated, Deleted: h.Deleted}
	r.Address = c.houseAddress(h, i, h.Def == KChineseNumeral)
	r.Lng, r.Lat = WGS84ToBD09(b.Lng, b.Lat)
	r.Lng, r.Lat = round6(r.Lng), round6(r.Lat)
	switch h.Def {
	case KFullWidth:
		r.Address = fullWidth(r.Address)
	case KCoordSwapped:
		r.Lng, r.Lat = r.Lat, r.Lng
	case KCoordOutside:
		r.Lng, r.Lat = outside(r.Lng, r.Lat)
	}
	return r
}

// GovResidentRec is a record of /api/v1/residents.
type GovResidentRec struct {
	ID           int64
	Name         string
	IDCard       string
	Mobile       string
	HouseID      int64
	ResidentType string // 1 户籍, 2 流动
	Relation     string
	UpdateTime   int64
	Deleted      bool
}

// GovResident renders person i as a resident record.
func (c *City) GovResident(i int) GovResidentRec {
	p := &c.People[i]
	h := &c.Households[p.Household]
	r := GovResidentRec{ID: int64(i + 1), Name: p.Name, IDCard: p.ID, Mobile: p.Phone, HouseID: int64(p.Household + 1),
		ResidentType: "1", Relation: relations[p.Rel], UpdateTime: p.Updated, Deleted: p.Deleted}
	if h.Floating {
		r.ResidentType = "2"
	}
	switch p.Def {
	case KID15:
		r.IDCard = idTo15(p.ID)
	case KIDLowerX:
		r.IDCard = p.ID[:17] + "x"
	case KIDChecksum:
		r.IDCard = wrongChecksum(p.ID)
	case KPhoneFormat:
		r.Mobile = phoneFormatted(p.Phone, i)
	case KFullWidth:
		r.Mobile = fullWidth(p.Phone)
	case KNameSpace:
		r.Name = nameWithSpace(p.Name)
	case KMissingField:
		r.IDCard = ""
	case KGBKBytes:
		r.Name = gbkBytes(p.Name)
	case KUnknownCode:
		r.ResidentType = "9"
	}
	return r
}

// GovFlow is one entry of an event's flows.
type GovFlow struct {
	Status   int
	Level    int
	Time     int64
	Operator string
	Opinion  string
}

// GovEventRec is a record of /api/v1/events.
type GovEventRec struct {
	ID                                           int64
	EventNo                                      string
	EventType, EventSubType                      string
	Title, Content                               string
	GridCode                                     string
	Address                                      string
	Lng, Lat                                     float64 // BD-09
	ReporterName, ReporterIDCard, ReporterMobile string
	ReportTime                                   int64
	Deadline                                     int64
	Status                                       int
	Level                                        int
	HandleDept                                   string
	Flows                                        []GovFlow
	UpdateTime                                   int64
	Deleted                                      bool
}

var govPhrases = map[string][]string{
	"0101": {"楼上楼下因噪音问题发生争执", "邻居因楼道堆放杂物产生矛盾"},
	"0102": {"夫妻因家庭琐事发生争吵，需调解", "家庭赡养问题引发纠纷"},
	"0103": {"业主与物业公司因物业费问题发生纠纷", "小区停车位管理引发业主与物业矛盾"},
	"0104": {"务工人员反映工资被拖欠", "装修工人与业主因工钱结算发生争执"},
	"0105": {"村民因宅基地边界发生争执", "承包地界址不清引发纠纷"},
	"0201": {"居民反映电动车电瓶被盗", "楼道内快递包裹被盗"},
	"0202": {"夜市摊点附近有人打架", "两名男子因口角发生肢体冲突"},
	"0203": {"群众举报出租屋内疑似聚众赌博", "发现可疑人员兜售不明药品"},
	"0204": {"发现可疑人员在小区内徘徊", "有陌生人多次尾随居民进入单元楼"},
	"0301": {"楼道内电动车违规充电，存在消防隐患", "消防通道被杂物堵塞"},
	"0302": {"老旧房屋外墙出现裂缝", "居民楼阳台护栏松动存在坠落风险"},
	"0303": {"居民反映楼道内有燃气异味", "餐馆燃气管道老化"},
	"0304": {"山体边坡出现裂缝，有滑坡风险", "雨后路基出现沉降"},
	"0401": {"沿街商铺违规占道经营", "小作坊无证生产"},
	"0402": {"发现违规存放液化气罐", "加油站周边违规堆放易燃物"},
	"0403": {"建筑工地未设置安全围挡", "工地塔吊作业无专人看护"},
	"0501": {"小区垃圾清运不及时，垃圾堆积", "路边垃圾桶满溢，异味明显"},
	"0502": {"小区路灯损坏，夜间照明不足", "下水道堵塞，污水外溢"},
	"0503": {"居民咨询医保缴费政策", "群众咨询养老服务补贴申请"},
	"0504": {"独居老人生活困难需帮扶", "困难家庭申请临时救助"},
}

// eventPlace is a place description of a case inside its grid.
// numbered avoids the crossroads form, which has no house number.
func (c *City) eventPlace(rng *rand.Rand, grid int32, cn, numbered bool) (addr string) {
	g := &c.Regions[grid]
	cm := &c.Regions[g.Parent]
	st := &c.Regions[cm.Parent]
	d := &c.Regions[st.Parent]
	road := st.Roads[rng.IntN(len(st.Roads))]
	n := 1 + rng.IntN(300)
	ns := strconv.Itoa(n)
	if cn {
		ns = chineseNumber(n)
	}
	form := rng.IntN(3)
	if numbered && form == 1 {
		form = 0
	}
	switch form {
	case 0:
		return d.Name + st.Name + road + ns + "号附近"
	case 1:
		road2 := st.Roads[(rng.IntN(len(st.Roads)-1)+1+indexOf(st.Roads, road))%len(st.Roads)]
		return d.Name + road + "与" + road2 + "交叉口"
	default:
		return st.Name + cm.Name + road + ns + "号"
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return 0
}

func (c *City) govOperator(cs *Case, st Step) string {
	g := &c.Regions[cs.Grid]
	cm := &c.Regions[g.Parent]
	switch st.State {
	case 10, 11:
		if cs.Reporter == ReporterWorker && cs.Person >= 0 {
			return c.People[cs.Person].Name
		}
		return g.Name + "网格员"
	case 20, 35, 70:
		if st.Level >= 3 {
			return c.Regions[cm.Parent].Name + "综治中心"
		}
		return cm.Name + "居委会"
	case 30:
		return c.Regions[cm.Parent].Name + "综治中心"
	case 40:
		return "襄阳市一网统管指挥中心"
	case 50, 55, 60:
		if st.Level <= 2 {
			return cm.Name + "居委会"
		}
		return govDepts[cs.Dept]
	case 80:
		return "系统"
	}
	return cm.Name + "居委会"
}

var govOpinions = map[uint8]string{10: "网格巡查发现，已上报", 11: "已现场处置完毕", 20: "已受理", 30: "超出社区处置能力，上报街道",
	35: "不属于本级职责，退回社区", 40: "已调度相关部门办理", 50: "正在办理", 55: "情况复杂，申请延期", 60: "已办结", 70: "群众满意", 80: "归档", 90: "重复上报，作废"}

// GovEvent renders governance event i.
func (c *City) GovEvent(i int) GovEventRec {
	cs := &c.GovEvents[i]
	ref := c.govSubs[cs.Class]
	gt := govTypes[ref.typ]
	sub := gt.subs[ref.sub]
	rng := c.textRand(GovEvents, i)
	last := cs.Steps[len(cs.Steps)-1]
	r := GovEventRec{ID: int64(i + 1), EventNo: "ZZ" + unix(cs.Reported).Format("20060102") + fmt.Sprintf("%07d", i+1),
		EventType: gt.code, EventSubType: sub.code, GridCode: c.Regions[cs.Grid].Code,
		ReportTime: cs.Reported, Deadline: cs.Deadline, Status: int(last.State), Level: int(last.Level),
		HandleDept: govDepts[cs.Dept], UpdateTime: cs.Updated, Deleted: cs.Deleted}
	r.Address = c.eventPlace(rng, cs.Grid, false, false)
	phr := govPhrases[sub.code]
	phrase := phr[rng.IntN(len(phr))]
	r.Title = sub.name + "：" + phrase
	who := "网格员巡查发现"
	if cs.Reporter == ReporterResident {
		who = "居民来电反映"
	}
	r.Content = fmt.Sprintf("%s，%s%s，请相关部门核实处理。", unix(cs.Reported).Format("1月2日15时04分"), who, r.Address+phrase)
	r.Lng, r.Lat = WGS84ToBD09(cs.Lng, cs.Lat)
	r.Lng, r.Lat = round6(r.Lng), round6(r.Lat)
	if cs.Person >= 0 {
		p := &c.People[cs.Person]
		r.ReporterName, r.ReporterIDCard, r.ReporterMobile = p.Name, p.ID, p.Phone
	}
	for _, st := range cs.Steps {
		r.Flows = append(r.Flows, GovFlow{Status: int(st.State), Level: int(st.Level), Time: int64(st.At), Operator: c.govOperator(cs, st), Opinion: govOpinions[st.State]})
	}
	switch cs.Def {
	case KCoordSwapped:
		r.Lng, r.Lat = r.Lat, r.Lng
	case KCoordOutside:
		r.Lng, r.Lat = outside(r.Lng, r.Lat)
	case KHTML:
		r.Content = htmlWrap(r.Content)
	case KOversized:
		r.Content = oversized(r.Content)
	case KGBKBytes:
		r.Content = gbkBytes(r.Content)
	case KUnknownCode:
		r.EventSubType = gt.code + "99"
	case KMissingField:
		r.EventType = ""
	case KPhoneFormat:
		r.ReporterMobile = phoneFormatted(r.ReporterMobile, i)
	case KID15:
		r.ReporterIDCard = idTo15(r.ReporterIDCard)
	}
	return r
}

// ---- city management ----

// CityStep is one history entry of a city-management request.
type CityStep struct {
	State string
	At    int64
	Actor string
	Note  string
}

// CityRequestRec is a city-management case as Open311 and the CSV export
// publish it.
type CityRequestRec struct {
	ID            string
	Open          bool
	StatusNotes   string
	ServiceCode   string // 6 digits: 01/02 + major + minor
	ServiceName   string
	KindName      string // 部件 / 事件
	MajorCode     string
	MinorCode     string
	Description   string
	Agency        string
	Address       string
	Requested     int64
	RequestedKind Kind // KNone, KTimeNoZone, KTimeEpochMs or KMissingField: how the time is written
	Updated       int64
	Expected      int64   // the deadline
	ClosedAt      int64   // 0 while open
	Lat, Long     float64 // GCJ-02
	MediaURL      string
	State         string
	Tier          string
	GridCode      string
	History       []CityStep
	// The reporter of a 12345 hotline or public report, known by name and
	// phone only (no ID), with the dwelling they gave when they gave one;
	// "" for a supervisor's report.
	ReporterName, ReporterPhone, ReporterAddress string
}

// cityService returns the service code and name of a minor class.
func cityService(sub citySubRef) (code, name string) {
	cl := cityClasses[sub.class]
	return fmt.Sprintf("%02d%s%02d", cl.kind, cl.major, sub.minor+1), cl.minors[sub.minor]
}

func (c *City) supervisor(cs *Case) string {
	d := c.Regions[c.ancestor(cs.Grid, LevelDistrict)].Code
	return fmt.Sprintf("监督员%s%03d", d[4:], 1+int(c.gridOrdinal[cs.Grid])%40)
}

func (c *City) cityActor(cs *Case, st Step) string {
	switch st.State {
	case csReport:
		switch cs.Reporter {
		case ReporterHotline:
			return "12345热线"
		case ReporterPublic:
			return "公众"
		}
		return c.supervisor(cs)
	case csAccept:
		return "受理员"
	case csFile, csClose, csRework, csVoid:
		return "值班长"
	case csDispatch:
		return "派遣员"
	case csVerify:
		return c.supervisor(cs)
	}
	if st.Level == 3 {
		return c.Regions[c.ancestor(cs.Grid, LevelStreet)].Name + "城管中队"
	}
	return cityDepts[cs.Dept]
}

var cityNotes = []string{"", "", "已受理", "予以立案", "已派遣至处置单位", "正在处置", "已处置完毕，附处置后照片", "核查通过", "结案", "非本单位职责，申请回退", "申请延期", "列入挂账", "核查未通过，返工", "不予立案"}

var cityDetails = map[string][]string{
	"01": {"现场杂乱，影响市容", "有群众反映"},
	"02": {"墙面、电线杆张贴小广告多处", "占用人行道摆放广告牌"},
	"03": {"夜间施工噪音扰民", "工地未覆盖，扬尘严重"},
	"04": {"需紧急处置", "存在安全隐患，已设置警示"},
	"05": {"占用人行道约%d平方米", "影响行人通行，共%d处"},
	"06": {"群众反映，需核实", "其他问题"},
}

// CityRequest renders city-management case i.
func (c *City) CityRequest(i int) CityRequestRec {
	cs := &c.CityCases[i]
	sub := c.citySubs[cs.Class]
	cl := cityClasses[sub.class]
	rng := c.textRand(CityRequests, i)
	last := cs.Steps[len(cs.Steps)-1]
	r := CityRequestRec{ID: unix(cs.Reported).Format("20060102") + fmt.Sprintf("%07d", i+1),
		Open: c.caseOpen(false, cs), Requested: cs.Reported, Updated: cs.Updated, Expected: cs.Deadline,
		State: cityStateNames[last.State], Tier: tierNames[last.Level], GridCode: c.Regions[cs.Grid].Code,
		MajorCode: cl.major, MinorCode: fmt.Sprintf("%02d", sub.minor+1), KindName: "部件"}
	if cl.kind == 2 {
		r.KindName = "事件"
	}
	r.ServiceCode, r.ServiceName = cityService(sub)
	r.StatusNotes = cityNotes[last.State+1]
	if !r.Open {
		r.ClosedAt = int64(last.At)
	}
	r.Agency = c.cityActor(cs, Step{State: csHandle, Level: last.Level})
	r.Address = c.eventPlace(rng, cs.Grid, cs.Def == KChineseNumeral, cs.Def == KChineseNumeral || cs.Def == KFullWidth)
	var detail string
	if cl.kind == 1 {
		detail = []string{"破损", "缺失", "移位", "损坏，存在安全隐患"}[rng.IntN(4)]
	} else {
		ds := cityDetails[cl.major]
		detail = "，" + ds[rng.IntN(len(ds))]
		if cl.major == "05" {
			detail = fmt.Sprintf(detail, 2+rng.IntN(20))
		}
	}
	r.Description = r.Address + r.ServiceName + detail
	r.Long, r.Lat = WGS84ToGCJ02(cs.Lng, cs.Lat)
	r.Long, r.Lat = round6(r.Long), round6(r.Lat)
	if rng.IntN(3) > 0 {
		r.MediaURL = fmt.Sprintf("http://cgfile.xiangyang.local/media/%s/%s_1.jpg", unix(cs.Reported).Format("200601"), r.ID)
	}
	for _, st := range cs.Steps {
		r.History = append(r.History, CityStep{State: cityStateNames[st.State], At: int64(st.At), Actor: c.cityActor(cs, st), Note: cityNotes[st.State+1]})
	}
	if m, ok := c.hotlineReporter(i); ok {
		r.ReporterName, r.ReporterPhone, r.ReporterAddress = m.Name, m.Phone, m.Address
	}
	switch cs.Def {
	case KCoordSwapped:
		r.Lat, r.Long = r.Long, r.Lat
	case KCoordOutside:
		r.Long, r.Lat = outside(r.Long, r.Lat)
	case KHTML:
		r.Description = htmlWrap(r.Description)
	case KOversized:
		r.Description = oversized(r.Description)
	case KUnknownCode:
		r.ServiceCode = r.ServiceCode[:4] + "99"
		r.MinorCode = "99"
	case KMissingField, KTimeNoZone, KTimeEpochMs:
		r.RequestedKind = cs.Def
	case KFullWidth:
		r.Address = fullWidth(r.Address)
		r.Description = fullWidth(r.Description)
	}
	return r
}

// ---- party building ----

// PartyOrgRow is a row of t_dzz. Empty strings of nullable columns are NULL.
type PartyOrgRow struct {
	DZZID, DZZMC, DZZLB, SJDZZID, SZSQ, WGBM, GXSJ string
	SFYX                                           int16
}

func localTime(t int64) string { return unix(t).Format(time.DateTime) }

func sfyx(r *Rec) int16 {
	if r.Deleted {
		return 0
	}
	return 1
}

// PartyOrg renders org i.
func (c *City) PartyOrg(i int) PartyOrgRow {
	o := &c.Orgs[i]
	r := PartyOrgRow{DZZID: o.ID, DZZMC: o.Name, DZZLB: orgKindNames[o.Kind], GXSJ: localTime(o.Updated), SFYX: sfyx(&o.Rec)}
	if o.Parent >= 0 {
		r.SJDZZID = c.Orgs[o.Parent].ID
	}
	if o.Community >= 0 {
		r.SZSQ = c.Regions[o.Community].Name
	}
	if o.Grid >= 0 && !o.NoGridCode {
		r.WGBM = c.Regions[o.Grid].Code
	}
	return r
}

// PartyMemberRow is a row of t_dy.
type PartyMemberRow struct {
	DYID, XM, XB, SFZH, LXDH, DZZID, RDRQ string
	SFZXHZ                                int16
	JZDZ, GXSJ                            string
	SFYX                                  int16
}

// PartyMember renders member i; dup selects the duplicate row of a member
// carrying KDuplicate.
func (c *City) PartyMember(i int, dup bool) PartyMemberRow {
	m := &c.Members[i]
	p := &c.People[m.Person]
	r := PartyMemberRow{DYID: m.ID, XM: p.Name, XB: "女", SFZH: p.ID, LXDH: p.Phone, DZZID: c.Orgs[m.Org].ID,
		RDRQ: unix(m.Joined).Format(time.DateOnly), JZDZ: c.houseAddress(&c.Households[p.Household], i+1, m.Def == KChineseNumeral),
		GXSJ: localTime(m.Updated), SFYX: sfyx(&m.Rec)}
	if male(p.ID) != m.WrongGender {
		r.XB = "男"
	}
	if m.Central {
		r.SFZXHZ = 1
	}
	if dup {
		r.DYID = m.DupID
	}
	switch m.Def {
	case KID15:
		r.SFZH = idTo15(p.ID)
	case KIDLowerX:
		r.SFZH = p.ID[:17] + "x"
	case KIDChecksum:
		r.SFZH = wrongChecksum(p.ID)
	case KPhoneFormat:
		r.LXDH = phoneFormatted(p.Phone, i)
	case KFullWidth:
		r.LXDH = fullWidth(p.Phone)
	case KNameSpace:
		r.XM = nameWithSpace(p.Name)
	case KMissingField:
		r.SFZH = ""
	case KTimeEpochMs:
		r.RDRQ = strconv.FormatInt(m.Joined*1000, 10)
	}
	return r
}

// PartyDualReportRow is a row of t_sbd.
type PartyDualReportRow struct {
	SBDID, DYID, BDSQ, BDSQBM, BDDZZID, GZDW, BDRQ, GXSJ string
	SFYX                                                 int16
}

// PartyDualReport renders dual report i.
func (c *City) PartyDualReport(i int) PartyDualReportRow {
	d := &c.DualReports[i]
	m := &c.Members[d.Member]
	r := PartyDualReportRow{SBDID: d.ID, DYID: m.ID, BDSQ: c.Regions[d.Community].Name, BDDZZID: c.Orgs[d.Branch].ID,
		GZDW: employers[m.Employer], BDRQ: unix(d.Date).Format(time.DateOnly), GXSJ: localTime(d.Updated), SFYX: sfyx(&d.Rec)}
	if !d.NoCode {
		r.BDSQBM = c.Regions[d.Community].Code
	}
	return r
}

// PartyStationRow is a row of t_hyzz.
type PartyStationRow struct {
	ZZID, ZZMC, ZZLX, DZ string
	JD, WD               float64 // BD-09
	FWXM, KFSJ, SQBM     string
	GXSJ                 string
	SFYX                 int16
}

// PartyStation renders station i.
func (c *City) PartyStation(i int) PartyStationRow {
	s := &c.Stations[i]
	r := PartyStationRow{ZZID: s.ID, ZZMC: s.Name, ZZLX: stationKindNames[s.Kind], DZ: s.Address, FWXM: s.Services,
		KFSJ: "周一至周五 08:30-12:00 14:00-18:00", SQBM: c.Regions[s.Community].Code, GXSJ: localTime(s.Updated), SFYX: sfyx(&s.Rec)}
	if s.Kind == 1 {
		r.KFSJ = "周一至周日 08:30-17:30"
	}
	r.JD, r.WD = WGS84ToBD09(s.Lng, s.Lat)
	r.JD, r.WD = round6(r.JD), round6(r.WD)
	switch s.Def {
	case KCoordSwapped:
		r.JD, r.WD = r.WD, r.JD
	case KUnknownCode:
		r.ZZLX = "便民服务点"
	}
	return r
}

// PartyActivityRow is a row of t_fwhd.
type PartyActivityRow struct {
	HDID, HDMC, DYID, ZZID, HDRQ string
	FWSC                         float64
	JF                           int32
	GXSJ                         string
	SFYX                         int16
}

// PartyActivity renders activity i.
func (c *City) PartyActivity(i int) PartyActivityRow {
	a := &c.Activities[i]
	r := PartyActivityRow{HDID: a.ID, HDMC: activityTitles[a.Title], DYID: c.Members[a.Member].ID, ZZID: c.Stations[a.Station].ID,
		HDRQ: unix(a.Date).Format(time.DateOnly), FWSC: float64(a.Hours), JF: int32(a.Points), GXSJ: localTime(a.Updated), SFYX: sfyx(&a.Rec)}
	switch a.Def {
	case KHTML:
		r.HDMC = htmlWrap(r.HDMC)
	case KOversized:
		r.HDMC = oversized(r.HDMC)
	case KMissingField:
		r.DYID = ""
	}
	return r
}

// Service is a city-management service (a CJ/T 214 minor class) as
// Open311 lists it.
type Service struct {
	Code        string // 6 digits
	Name        string // minor class
	Group       string // 部件-公用设施, 事件-街面秩序, …
	Description string
	Keywords    string
}

// Services lists the city-management services in code order.
func Services() []Service {
	var out []Service
	for ci, cl := range cityClasses {
		kind := "部件"
		if cl.kind == 2 {
			kind = "事件"
		}
		for mi, m := range cl.minors {
			code, _ := cityService(citySubRef{ci, mi})
			out = append(out, Service{Code: code, Name: m, Group: kind + "-" + cl.majorName,
				Description: kind + "类" + cl.majorName + "：" + m, Keywords: kind + "," + cl.majorName + "," + m})
		}
	}
	return out
}

// CityIndex returns the case index of a service_request_id, or -1. The
// caller holds RLock.
func (c *City) CityIndex(id string) int {
	if len(id) != 15 {
		return -1
	}
	n, err := strconv.Atoi(id[8:])
	if err != nil || n < 1 || n > len(c.CityCases) || c.SourceID(CityRequests, n-1) != id {
		return -1
	}
	return n - 1
}
