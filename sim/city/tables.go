package city

// This file holds the simulator's own code tables. They describe the
// foreign systems as those systems see themselves and deliberately do not
// share anything with the hub's canonical model.

// districtDef is a district (区/县/县级市) with its GB/T 2260 code and its
// streets and towns (街道/镇/乡), in the order they are used.
type districtDef struct {
	code, name string
	streets    []string
}

// districts lists the districts of 襄阳市 (420600) in the order scales add
// them: the three urban districts first.
var districts = []districtDef{
	{"420606", "樊城区", []string{"汉江街道", "王寨街道", "中原街道", "定中街街道", "米公街道", "屏襄门街道", "清河口街道", "柿铺街道", "紫贞街道", "七里河街道", "太平店镇", "牛首镇"}},
	{"420602", "襄城区", []string{"真武山街道", "古城街道", "庞公街道", "檀溪街道", "隆中街道", "余家湖街道", "卧龙镇", "尹集乡", "欧庙镇", "襄水街道"}},
	{"420607", "襄州区", []string{"张湾街道", "肖湾街道", "六两河街道", "东津镇", "伙牌镇", "古驿镇", "朱集镇", "程河镇", "双沟镇", "张家集镇", "黄集镇", "峪山镇", "龙王镇", "石桥镇"}},
	{"420682", "老河口市", []string{"光化街道", "酂阳街道", "孟楼镇", "竹林桥镇", "薛集镇", "张集镇", "仙人渡镇", "洪山嘴镇", "李楼镇", "袁冲乡"}},
	{"420683", "枣阳市", []string{"北城街道", "南城街道", "环城街道", "兴隆镇", "王城镇", "吴店镇", "熊集镇", "琚湾镇", "七方镇", "杨当镇", "太平镇", "新市镇", "鹿头镇", "刘升镇"}},
	{"420684", "宜城市", []string{"鄢城街道", "南营街道", "龙头街道", "郑集镇", "小河镇", "刘猴镇", "孔湾镇", "流水镇", "板桥店镇", "王集镇", "雷河镇"}},
	{"420625", "谷城县", []string{"城关镇", "石花镇", "盛康镇", "庙滩镇", "五山镇", "茨河镇", "南河镇", "紫金镇", "冷集镇", "赵湾乡"}},
	{"420624", "南漳县", []string{"城关镇", "武安镇", "九集镇", "李庙镇", "长坪镇", "薛坪镇", "板桥镇", "巡检镇", "东巩镇", "肖堰镇"}},
	{"420626", "保康县", []string{"城关镇", "黄堡镇", "后坪镇", "龙坪镇", "店垭镇", "马良镇", "歇马镇", "马桥镇", "寺坪镇", "过渡湾镇"}},
}

// communityStems are combined pairwise into community names.
var communityStems = []string{
	"长虹", "春园", "人民", "解放", "新华", "建设", "胜利", "幸福", "和平", "光明", "友谊", "民主",
	"朝阳", "滨江", "花园", "锦绣", "丹江", "清河", "邓城", "樊西", "铁路", "航空", "团山", "卧龙",
	"东风", "前进", "红光", "新村", "荆州", "檀溪", "鼓楼", "昭明", "南湖", "北街", "西园", "东岗",
	"万山", "岘山", "凤凰", "鹿门", "紫薇", "桃园", "柳林", "梨园", "杏花", "汉城", "水星", "金华",
}

// roadStems make road names (路/街/大道).
var roadStems = []string{
	"长虹", "人民", "解放", "春园", "前进", "中原", "檀溪", "环城", "襄阳", "航空", "大庆", "丹江",
	"胜利", "建设", "新华", "鼓楼", "昭明", "荆州", "汉江", "清河", "民主", "友谊", "卧龙", "隆中",
	"邓城", "米公", "屏襄", "七里河", "园林", "铁佛寺", "定中", "陈老巷", "磁器", "炮铺",
}

var roadSuffixes = []string{"路", "路", "路", "街", "大道", "巷"}

// compoundStems and compoundSuffixes make compound (小区) names.
var compoundStems = []string{
	"汉江", "清河", "锦绣", "幸福", "阳光", "翡翠", "枫林", "金色", "御景", "中原", "长虹", "书香",
	"世纪", "丽景", "滨江", "铁路", "恒大", "万达", "碧桂", "东方", "民发", "山水", "檀溪", "卧龙",
}

var compoundSuffixes = []string{"名都", "花园", "华庭", "家园", "小区", "新村", "公馆", "雅苑", "佳苑", "城", "嘉园", "湾"}

// surnames with weights (per mille, roughly the national frequencies).
var surnames = []struct {
	s string
	w int
}{
	{"王", 72}, {"李", 72}, {"张", 69}, {"刘", 55}, {"陈", 45}, {"杨", 32}, {"黄", 22}, {"赵", 21},
	{"吴", 20}, {"周", 19}, {"徐", 17}, {"孙", 15}, {"马", 15}, {"朱", 14}, {"胡", 13}, {"郭", 12},
	{"何", 12}, {"高", 12}, {"林", 12}, {"罗", 11}, {"郑", 11}, {"梁", 10}, {"谢", 9}, {"宋", 9},
	{"唐", 8}, {"许", 8}, {"韩", 8}, {"冯", 7}, {"邓", 7}, {"曹", 7}, {"彭", 7}, {"曾", 6},
	{"肖", 6}, {"田", 6}, {"董", 6}, {"袁", 5}, {"潘", 5}, {"于", 5}, {"蒋", 5}, {"蔡", 5},
	{"余", 5}, {"杜", 5}, {"叶", 4}, {"程", 4}, {"苏", 4}, {"魏", 4}, {"吕", 4}, {"丁", 4},
	{"任", 4}, {"沈", 3}, {"姚", 3}, {"卢", 3}, {"姜", 3}, {"崔", 3}, {"钟", 3}, {"谭", 3},
	{"陆", 3}, {"汪", 3}, {"范", 3}, {"金", 3}, {"石", 3}, {"廖", 3}, {"贾", 3}, {"夏", 3},
	{"付", 2}, {"方", 2}, {"白", 2}, {"邹", 2}, {"孟", 2}, {"熊", 2}, {"秦", 2}, {"邱", 2},
	{"江", 2}, {"尹", 2}, {"薛", 2}, {"闫", 2}, {"段", 2}, {"雷", 2}, {"侯", 2}, {"龙", 2},
	{"欧阳", 1}, {"司马", 1}, {"诸葛", 1},
}

var givenMale = []rune("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林锋建国志文斌亮成东海峰")
var givenFemale = []rune("芳娜敏静丽艳娟霞燕玲桂丹萍红琳洁梅莉婷雪慧颖佳倩晶琴云兰凤英秀玉珍淑惠")
var givenAny = []rune("子一思嘉欣雨梓晨诗可语沐安若泽睿宏")

// mobilePrefixes are the first three digits of mainland mobile numbers.
var mobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157", "158", "159", "176", "177", "180", "181", "182", "183", "186", "187", "188", "189", "199"}

// birthplaces: codes of residents' birth registration regions. Registered
// residents are mostly born in 4206xx; floating residents come from
// elsewhere.
var localBirthplaces = []string{"420602", "420606", "420607", "420624", "420625", "420626", "420682", "420683", "420684", "420600"}
var remoteBirthplaces = []string{"420100", "410100", "411300", "421300", "420800", "500100", "420500", "411400", "430100", "610100"}

// employers of in-service party members (双报到).
var employers = []string{
	"襄阳市财政局", "襄阳市人民政府办公室", "襄阳市教育局", "襄阳市公安局", "襄阳市住房和城乡建设局",
	"襄阳市城市管理执法委员会", "襄阳市中心医院", "樊城区人民医院", "襄城区人民政府", "樊城区教育局",
	"襄州区人民政府", "襄阳市税务局", "国网襄阳供电公司", "襄阳市水务集团", "襄阳市第四中学",
	"襄阳职业技术学院", "湖北文理学院", "襄阳市市场监督管理局", "襄阳市民政局", "襄阳市自然资源和规划局",
}

// Party organisation kinds (dzzlb) as the party system writes them.
const (
	orgWorkCommittee = iota // 党工委
	orgCommittee            // 党委
	orgGeneralBranch        // 党总支
	orgBranch               // 党支部
	orgGroup                // 党小组
)

var orgKindNames = []string{"党工委", "党委", "党总支", "党支部", "党小组"}

// Station kinds.
var stationKindNames = []string{"红色驿站", "党群服务中心"}

var stationServices = []string{"政策咨询", "便民理发", "法律援助", "健康义诊", "爱心托管", "代办服务", "图书阅览", "手机充电", "饮水休息", "心理疏导", "志愿者招募", "家电维修"}

var activityTitles = []string{"清洁家园志愿服务", "关爱空巢老人上门走访", "文明交通劝导", "垃圾分类宣传", "义务理发进社区", "防诈骗知识宣讲", "爱心助学", "疫苗接种引导", "背街小巷环境整治", "党员先锋岗值守", "法律咨询进社区", "汛期巡堤"}

// Governance event types (综治 eventType/eventSubType).
type govType struct {
	code, name string
	deadlineH  float64 // working hours
	subs       []govSub
}

type govSub struct {
	code, name string
	weight     int
}

var govTypes = []govType{
	{"01", "矛盾纠纷", 72, []govSub{{"0101", "邻里纠纷", 40}, {"0102", "婚姻家庭纠纷", 20}, {"0103", "物业纠纷", 25}, {"0104", "劳资纠纷", 10}, {"0105", "土地山林纠纷", 5}}},
	{"02", "治安问题", 24, []govSub{{"0201", "盗窃", 35}, {"0202", "打架斗殴", 20}, {"0203", "黄赌毒线索", 10}, {"0204", "可疑人员", 35}}},
	{"03", "风险隐患", 24, []govSub{{"0301", "消防隐患", 40}, {"0302", "房屋安全隐患", 25}, {"0303", "燃气隐患", 25}, {"0304", "地质灾害隐患", 10}}},
	{"04", "安全生产", 24, []govSub{{"0401", "违规经营", 50}, {"0402", "危化品隐患", 15}, {"0403", "建筑工地安全", 35}}},
	{"05", "民生服务", 72, []govSub{{"0501", "环境卫生", 40}, {"0502", "设施报修", 30}, {"0503", "政策咨询", 15}, {"0504", "帮扶救助", 15}}},
}

// govTypeWeights: share of each event type among governance events.
var govTypeWeights = []int{25, 12, 18, 10, 35}

// Governance status codes (Step.State of governance events): 10 网格员上报,
// 11 自行处置, 20 社区受理, 30 上报街道, 35 回退, 40 一网统管调度, 50 办理,
// 55 延期, 60 办结, 70 核查评价, 80 归档, 90 作废.

// Tier names by level code 1..5.
var tierNames = []string{"", "网格", "社区", "街道", "区", "市"}

// City-management (CJ/T 214) classes.
type cityClass struct {
	kind      int // 1 部件, 2 事件
	major     string
	majorName string
	deadlineH float64
	weight    int // share of cases per mille within the class table
	minors    []string
}

var cityClasses = []cityClass{
	{1, "01", "公用设施", 72, 18, []string{"上水井盖", "污水井盖", "雨水井盖", "电力井盖", "通信井盖", "路灯", "消防栓"}},
	{1, "02", "道路交通", 72, 8, []string{"停车场", "公交站亭", "交通信号灯", "交通标志牌", "护栏"}},
	{1, "03", "市容环境", 72, 7, []string{"公共厕所", "垃圾箱", "果皮箱", "广告牌匾"}},
	{1, "04", "园林绿化", 72, 5, []string{"古树名木", "行道树", "绿地", "花坛"}},
	{1, "05", "房屋土地", 72, 2, []string{"宣传栏", "人防工事", "地下通道"}},
	{1, "06", "其他设施", 72, 2, []string{"健身设施", "重大危险源", "工地"}},
	{2, "01", "市容环境", 8, 100, []string{"私搭乱建", "暴露垃圾", "积存垃圾渣土", "道路不洁", "水域不洁"}},
	{2, "02", "宣传广告", 8, 250, []string{"非法小广告", "违章张贴悬挂广告牌匾", "占道广告牌"}},
	{2, "03", "施工管理", 24, 30, []string{"施工扰民", "工地扬尘", "道路遗撒", "无证掘路"}},
	{2, "04", "突发事件", 4, 15, []string{"路面塌陷", "自来水管破裂", "燃气管道破裂", "下水道堵塞或破损"}},
	{2, "05", "街面秩序", 4, 550, []string{"无照经营游商", "店外经营", "占道废品收购", "机动车乱停放", "非机动车乱停放"}},
	{2, "06", "其他事件", 24, 13, []string{"其他"}},
}

// City workflow states (workflow_state).
const (
	csReport = iota
	csAccept
	csFile
	csDispatch
	csHandle
	csFeedback
	csVerify
	csClose
	csReturn
	csDefer
	csSuspend
	csRework
	csVoid
)

var cityStateNames = []string{"上报", "受理", "立案", "派遣", "处置", "处置反馈", "核查", "结案", "回退", "延期", "挂账", "返工", "作废"}

// Departments handling cases.
var cityDepts = []string{"城管执法局", "环境卫生管理处", "市政设施管理处", "园林局", "住房和城乡建设局", "国网襄阳供电公司", "襄阳市水务集团", "襄阳华润燃气", "公安交警支队", "街道办事处", "市场监督管理局", "生态环境局"}

var govDepts = []string{"社区居委会", "街道综治中心", "派出所", "区城市管理执法局", "区住建局", "区应急管理局", "区市场监督管理局", "街道办事处", "司法所", "区民政局"}

// incidentPairs: governance subtypes that are often the same real-world
// incident as a city-management class (event major, minor index), used for
// cross-silo incidents.
var incidentPairs = []struct {
	govSub    string
	cityClass int // index into cityClasses
	minor     int // 0-based minor index
}{
	{"0501", 6, 1},  // 环境卫生 ~ 暴露垃圾
	{"0501", 6, 2},  // 环境卫生 ~ 积存垃圾渣土
	{"0501", 6, 3},  // 环境卫生 ~ 道路不洁
	{"0502", 0, 5},  // 设施报修 ~ 路灯
	{"0502", 0, 1},  // 设施报修 ~ 污水井盖
	{"0502", 9, 3},  // 设施报修 ~ 下水道堵塞或破损
	{"0401", 10, 1}, // 违规经营 ~ 店外经营
	{"0401", 10, 0}, // 违规经营 ~ 无照经营游商
	{"0303", 9, 2},  // 燃气隐患 ~ 燃气管道破裂
	{"0302", 6, 0},  // 房屋安全隐患 ~ 私搭乱建
}

var relations = []string{"户主", "配偶", "子女", "父母", "其他"}

var chineseDigits = []rune("〇一二三四五六七八九")
