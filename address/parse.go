package address

import (
	"strconv"
	"strings"
	"unicode"
)

// Address is a free-text Chinese address split into its components
// (docs/design.md §4). Every component is "" when absent. Numbers are ASCII digits
// (三栋 → Building "3"); names keep their suffix (樊城区, 汉江街道,
// 长虹社区, 长虹路, 幸福小区).
type Address struct {
	Province   string   // stripped prefix: 湖北省
	City       string   // stripped prefix: 襄阳市 (or a county-level city when no district follows)
	District   string   // 樊城区, 南漳县, 枣阳市
	Street     string   // 汉江街道 (办事处 folded to 街道), 太平店镇, 乡
	Community  string   // 长虹社区 (居委会 folded to 社区), 七里村
	Road       string   // 长虹路, 解放大道, 鼓楼巷
	RoadNo     string   // 12, 12-3 (the 号 dropped)
	Compound   string   // 幸福小区, 铁路新村, 万达广场 (phase kept: 幸福小区二期)
	Building   string   // 12, A
	Unit       string   // 3
	Floor      string   // 10
	Room       string   // 1001
	Normalized string   // canonical single line built from the components
	Rest       string   // what no component took, in order
	Repairs    []Repair // FULL_WIDTH_DIGITS, TRADITIONAL_CHARACTERS, CHINESE_NUMERALS
}

// Parse splits a free-text address. It never fails: what it cannot
// place stays in Rest, and Normalized falls back to the cleaned text when
// no component was found. The steps:
//   - full-width characters are folded, traditional characters made
//     simplified (襄陽市樊城區 → 襄阳市樊城区), spaces and list punctuation
//     removed, dash look-alikes made '-', latin letters upper-cased;
//   - Chinese numerals in the house part become digits: 三栋 → 3栋,
//     二单元 → 2单元, 十二号楼 → 12号楼, 一千零一室 → 1001室, 二〇三室 → 203室
//     (not in names: 二环路, 一品花园 stay);
//   - a province (…省, …自治区) and a city (…市, …自治州) at the start are
//     stripped into Province and City;
//   - district (…区/县/市/旗), street (…街道/镇/乡/办事处), community
//     (…社区/村/居委会), road (…路/街/大道/大街/巷/胡同/弄) with its
//     number (12号) are read in that order, each optional;
//   - the text before the house part is the compound; the house part reads
//     12栋/12幢/12号楼/12座/12#, 3单元, 10层 (or 10楼 after a building),
//     1001室/1001号/1001, or the short forms 12-3-1001 and 12-1001.
func Parse(raw string) Address {
	var a Address
	r, repairs := prepareAddress(raw)
	a.Repairs = repairs
	var overflow []rune
	if len(r) > maxAddressRunes {
		r, overflow = r[:maxAddressRunes], r[maxAddressRunes:]
	}
	p := &addrParser{r: r}
	p.admin(&a)
	p.road(&a)
	p.tail(&a)
	a.Rest = string(append(p.rest, overflow...))
	a.Normalized = a.build()
	if a.Normalized == "" {
		a.Normalized = string(r)
	}
	return a
}

// maxAddressRunes bounds the parsed part of an address; a longer text is
// no address, and its remainder goes to Rest.
const maxAddressRunes = 256

// build joins the components into the canonical line.
func (a *Address) build() string {
	var b strings.Builder
	if a.District == "" {
		b.WriteString(a.City)
	}
	b.WriteString(a.District)
	b.WriteString(a.Street)
	b.WriteString(a.Community)
	b.WriteString(a.Road)
	if a.RoadNo != "" {
		b.WriteString(a.RoadNo + "号")
	}
	b.WriteString(a.Compound)
	for _, part := range [][2]string{{a.Building, "栋"}, {a.Unit, "单元"}, {a.Floor, "层"}, {a.Room, "室"}} {
		if part[0] != "" {
			b.WriteString(part[0] + part[1])
		}
	}
	return b.String()
}

// prepareAddress folds width, drops spaces and list punctuation, unifies
// dashes, upper-cases letters and converts house-part numerals.
func prepareAddress(raw string) ([]rune, []Repair) {
	var repairs []Repair
	s := strings.ToValidUTF8(raw, "")
	if t, fw := FoldWidth(s); fw {
		s = t
		repairs = append(repairs, FullWidthDigits)
	}
	if t, tc := ToSimplified(s); tc {
		s = t
		repairs = append(repairs, TraditionalChars)
	}
	r := make([]rune, 0, len(s)/2)
	for _, c := range s {
		switch {
		case unicode.IsSpace(c) || invisible(c):
		case c == ',' || c == '，' || c == '、' || c == ';' || c == '；' || c == '。':
		case c == '\u2014' || c == '\u2013' || c == '\u2012' || c == '\u2212' || c == '~' || c == '～':
			r = append(r, '-')
		case c >= 'a' && c <= 'z':
			r = append(r, c-'a'+'A')
		default:
			r = append(r, c)
		}
	}
	if out, changed := convertNumerals(r); changed {
		r = out
		repairs = append(repairs, ChineseNumerals)
	}
	return r, repairs
}

// Chinese numeral values; 十百千 are units.
func numeralValue(c rune) (int, bool) {
	switch c {
	case '〇', '零':
		return 0, true
	case '一':
		return 1, true
	case '二':
		return 2, true
	case '三':
		return 3, true
	case '四':
		return 4, true
	case '五':
		return 5, true
	case '六':
		return 6, true
	case '七':
		return 7, true
	case '八':
		return 8, true
	case '九':
		return 9, true
	}
	return 0, false
}

func isNumeral(c rune) bool {
	_, ok := numeralValue(c)
	return ok || c == '十' || c == '百' || c == '千'
}

// houseSuffixes follow a number in the house part of an address.
var houseSuffixes = runesOf("号楼", "单元", "栋", "幢", "号", "座", "层", "楼", "室", "户")

func runesOf(ss ...string) [][]rune {
	out := make([][]rune, len(ss))
	for i, s := range ss {
		out[i] = []rune(s)
	}
	return out
}

// hasAt reports whether r has w at i.
func hasAt(r []rune, i int, w []rune) bool {
	if i < 0 || i+len(w) > len(r) {
		return false
	}
	for j, c := range w {
		if r[i+j] != c {
			return false
		}
	}
	return true
}

// suffixAt returns the first of ws found at i.
func suffixAt(r []rune, i int, ws [][]rune) ([]rune, bool) {
	for _, w := range ws {
		if hasAt(r, i, w) {
			return w, true
		}
	}
	return nil, false
}

// convertNumerals turns numeral runs followed by a house suffix into
// digits; a 第 before such a run is dropped. 号 followed by 路/街/巷/线 is a
// name (三号路, 一号线) and stays.
func convertNumerals(r []rune) ([]rune, bool) {
	has := false
	for _, c := range r {
		if isNumeral(c) {
			has = true
			break
		}
	}
	if !has {
		return r, false
	}
	out := make([]rune, 0, len(r))
	changed := false
	for i := 0; i < len(r); {
		if !isNumeral(r[i]) {
			out = append(out, r[i])
			i++
			continue
		}
		j := i
		for j < len(r) && isNumeral(r[j]) {
			j++
		}
		suffix, ok := suffixAt(r, j, houseSuffixes)
		if ok && string(suffix) == "号" && j+1 < len(r) && strings.ContainsRune("路街巷线", r[j+1]) {
			ok = false
		}
		digits, valid := chineseNumber(r[i:j])
		if !ok || !valid {
			out = append(out, r[i:j]...)
			i = j
			continue
		}
		if n := len(out); n > 0 && out[n-1] == '第' {
			out = out[:n-1]
		}
		out = append(out, []rune(digits)...)
		changed = true
		i = j
	}
	return out, changed
}

// chineseNumber reads a numeral run: positional (十二 → 12, 一千零一 →
// 1001, 二十 → 20) when it has 十百千, digit by digit (二〇三 → 203)
// otherwise.
func chineseNumber(r []rune) (string, bool) {
	if len(r) == 0 || len(r) > 10 {
		return "", false
	}
	positional := false
	for _, c := range r {
		if c == '十' || c == '百' || c == '千' {
			positional = true
		}
	}
	if !positional {
		b := make([]byte, len(r))
		for i, c := range r {
			v, _ := numeralValue(c)
			b[i] = byte('0' + v)
		}
		return string(b), true
	}
	total, cur := 0, -1 // cur: pending digit, -1 when none
	lastUnit := 10000
	for _, c := range r {
		if v, ok := numeralValue(c); ok {
			if v == 0 {
				continue // 零 marks a gap: 一千零一
			}
			if cur >= 0 {
				return "", false // two digits in a row: not positional
			}
			cur = v
			continue
		}
		unit := 10
		switch c {
		case '百':
			unit = 100
		case '千':
			unit = 1000
		}
		if unit >= lastUnit {
			return "", false // 十百: units must fall
		}
		lastUnit = unit
		if cur < 0 {
			if unit != 10 || total != 0 {
				return "", false // 百 and 千 need a digit; 十 alone is 10
			}
			cur = 1
		}
		total += cur * unit
		cur = -1
	}
	if cur > 0 {
		total += cur
	}
	return strconv.Itoa(total), true
}

// addrParser walks the prepared runes.
type addrParser struct {
	r    []rune
	p    int
	rest []rune
}

// Suffixes by level, longest first where one is a prefix of another.
var (
	provinceSuffixes  = runesOf("特别行政区", "自治区", "省")
	citySuffixes      = runesOf("自治州", "地区", "市", "盟")
	districtSuffixes  = runesOf("自治县", "区", "县", "市", "旗")
	streetSuffixes    = runesOf("街道办事处", "街道办", "街道", "办事处", "镇", "乡")
	communitySuffixes = runesOf("社区居民委员会", "社区居委会", "村民委员会", "居民委员会", "村委会", "居委会", "社区", "村")
	roadSuffixes      = runesOf("大道", "大街", "胡同", "路", "街", "巷", "弄")
	compoundSuffixes  = runesOf("小区", "花园", "家园", "公寓", "新村", "广场", "大厦", "山庄", "苑", "城", "园", "庭", "府", "里")
	// A name part followed by one of these is the start of a compound
	// name (江南水乡花园, 铁路新村), not a street or road. Single-character
	// suffixes are left out: 南漳县城关镇 is a county and a town.
	compoundFollowers = runesOf("小区", "花园", "家园", "公寓", "新村", "广场", "大厦", "山庄")
)

// Characters an administrative name does not contain: they belong to road,
// compound or house parts.
const notInAdminName = "路街巷号栋幢室单元层小苑"

// After 市 these make a word (市场, 市民, 市政 …), not a city.
const notAfterShi = "场民政容委级中内属直辖区"

// The character before 区 that makes a word (小区, 社区, 校区, 景区 …).
const notBeforeQu = "小社校景片街营厂园"

func isHanRune(c rune) bool { return unicode.Is(unicode.Han, c) }

// admin reads province, city, district, street and community.
func (p *addrParser) admin(a *Address) {
	if name, suf, ok := p.level(2, 10, provinceSuffixes, nil); ok {
		a.Province = name + suf
	}
	if name, suf, ok := p.level(2, 6, citySuffixes, func(name string, suf []rune, next rune) bool {
		return !strings.ContainsAny(name, notInAdminName) && !(string(suf) == "市" && strings.ContainsRune(notAfterShi, next))
	}); ok {
		a.City = name + suf
	}
	if name, suf, ok := p.level(2, 8, districtSuffixes, func(name string, suf []rune, next rune) bool {
		if strings.ContainsAny(name, notInAdminName+"村") {
			return false
		}
		last := []rune(name)[len([]rune(name))-1]
		switch string(suf) {
		case "区":
			return !strings.ContainsRune(notBeforeQu, last)
		case "市":
			return !strings.ContainsRune(notAfterShi, next)
		}
		return true
	}); ok {
		a.District = name + suf
	}
	if name, suf, ok := p.level(2, 8, streetSuffixes, func(name string, suf []rune, next rune) bool {
		return !strings.ContainsAny(name, "号栋幢室小区社村")
	}); ok {
		if suf == "街道办事处" || suf == "街道办" || suf == "办事处" {
			suf = "街道"
		}
		a.Street = name + suf
	}
	if name, suf, ok := p.level(2, 8, communitySuffixes, func(name string, suf []rune, next rune) bool {
		if strings.ContainsAny(name, "号栋幢室") {
			return false
		}
		if string(suf) == "村" && strings.HasSuffix(name, "新") {
			return false // …新村 is a compound
		}
		return true
	}); ok {
		if strings.HasPrefix(suf, "村") {
			suf = "村"
		} else {
			suf = "社区"
		}
		a.Community = name + suf
	}
}

// level reads a Han name of min..max runes followed by one of suffixes,
// at the current position, shortest name first. ok, when given, vets a
// candidate with the rune that follows the suffix (0 at the end). A
// suffix followed by a compound suffix (江南水乡花园) is no match.
func (p *addrParser) level(min, max int, suffixes [][]rune, ok func(name string, suf []rune, next rune) bool) (string, string, bool) {
	r := p.r
	for k := 1; k <= max && p.p+k <= len(r); k++ {
		if !isHanRune(r[p.p+k-1]) {
			break
		}
		if k < min {
			continue
		}
		end := p.p + k
		suf, found := suffixAt(r, end, suffixes)
		if !found {
			continue
		}
		after := end + len(suf)
		var next rune
		if after < len(r) {
			next = r[after]
		}
		if _, compound := suffixAt(r, after, compoundFollowers); compound && len(suf) == 1 && !communityFollows(r[after:]) {
			// 江南水乡花园 is a compound; 南城街道花园新村社区 and
			// 兴隆镇新村杏花社区 are a street and its community.
			continue
		}
		name := string(r[p.p:end])
		if ok != nil && !ok(name, suf, next) {
			continue
		}
		p.p = after
		return name, string(suf), true
	}
	return "", "", false
}

// communityFollows reports whether a community suffix (社区, 居委会,
// 村委会) lies ahead in r.
func communityFollows(r []rune) bool {
	s := string(r)
	return strings.Contains(s, "社区") || strings.Contains(s, "居委会") || strings.Contains(s, "村委会")
}

// road reads a road name and its number.
func (p *addrParser) road(a *Address) {
	r := p.r
	for k := 1; k <= 12 && p.p+k <= len(r); k++ {
		c := r[p.p+k-1]
		if !(isHanRune(c) || (k > 1 && c >= '0' && c <= '9')) || strings.ContainsRune("栋幢室", c) ||
			(c == '号' && k > 1 && r[p.p+k-2] >= '0' && r[p.p+k-2] <= '9') {
			break
		}
		end := p.p + k
		suf, found := suffixAt(r, end, roadSuffixes)
		if !found {
			continue
		}
		after := end + len(suf)
		if string(suf) == "街" && hasAt(r, after, []rune("道")) {
			continue
		}
		if _, compound := suffixAt(r, after, compoundFollowers); compound {
			continue // 铁路新村 is a compound, not 铁路
		}
		if more, ok := suffixAt(r, after, roadSuffixes); ok && !(string(more) == "街" && hasAt(r, after+1, []rune("道"))) {
			continue // 陈老巷街 is a road, not 陈老巷 before a compound 街
		}
		numAfter := after < len(r) && r[after] >= '0' && r[after] <= '9'
		if k < 2 && !numAfter {
			continue
		}
		a.Road = string(r[p.p:end]) + string(suf)
		p.p = after
		// The number: 12号, 12-3号; 12号楼 is a building, not a number.
		q := p.p
		for q < len(r) && ((r[q] >= '0' && r[q] <= '9') || (r[q] == '-' && q > p.p && q+1 < len(r) && r[q+1] >= '0' && r[q+1] <= '9')) {
			q++
		}
		if q > p.p && q < len(r) && r[q] == '号' && !hasAt(r, q+1, []rune("楼")) {
			a.RoadNo = string(r[p.p:q])
			p.p = q + 1
			if hasAt(r, p.p, []rune("院")) {
				p.p++ // 12号院: the courtyard of the number
			}
		}
		return
	}
}

// houseToken is one number of the house part with what follows it.
type houseToken struct {
	num    string
	suffix string // 栋, 单元, …; "-" for a dash group; "" for a bare number
	group  []string
	end    int
}

// tokenAt reads a house token at i: [A-Z]?digits[A-Z]? or a single letter,
// then a suffix, or a dash group 12-3-1001.
func tokenAt(r []rune, i int) (houseToken, bool) {
	j := i
	if j < len(r) && r[j] >= 'A' && r[j] <= 'Z' {
		j++
	}
	for j < len(r) && r[j] >= '0' && r[j] <= '9' && j-i <= 8 {
		j++
	}
	if j < len(r) && r[j] >= 'A' && r[j] <= 'Z' && j > i && r[j-1] >= '0' && r[j-1] <= '9' {
		j++
	}
	if j == i || j-i > 8 {
		return houseToken{}, false
	}
	t := houseToken{num: string(r[i:j])}
	if hasAt(r, j, []rune("#楼")) {
		t.suffix, t.end = "栋", j+2
		return t, true
	}
	if hasAt(r, j, []rune("#")) {
		t.suffix, t.end = "栋", j+1
		return t, true
	}
	if suf, ok := suffixAt(r, j, houseSuffixes); ok {
		t.suffix, t.end = string(suf), j+len(suf)
		if t.suffix == "号" && hasAt(r, t.end, []rune("房")) {
			t.suffix, t.end = "室", t.end+1
		}
		return t, true
	}
	if hasAt(r, j, []rune("房")) {
		t.suffix, t.end = "室", j+1
		return t, true
	}
	if j < len(r) && r[j] == '-' && allDigitRunes(t.num) {
		group := []string{t.num}
		k := j
		for len(group) < 4 && k < len(r) && r[k] == '-' {
			m := k + 1
			for m < len(r) && r[m] >= '0' && r[m] <= '9' && m-k <= 9 {
				m++
			}
			if m == k+1 || m-k-1 > 8 {
				break
			}
			group = append(group, string(r[k+1:m]))
			k = m
		}
		if len(group) >= 2 {
			if suf, ok := suffixAt(r, k, runesOf("室", "号")); ok {
				k += len(suf)
			}
			t.suffix, t.group, t.end = "-", group, k
			return t, true
		}
	}
	// A bare number: only at the end or before a separator; digits glued
	// to Han text (21世纪) are part of a name.
	if j == len(r) || r[j] == '-' {
		if j < len(r) {
			j++
		}
		t.end = j
		return t, true
	}
	return houseToken{}, false
}

func allDigitRunes(s string) bool { return allDigits(s) }

// crossingWords end a road's crossing with another (与春园路交叉口).
var crossingWords = runesOf("交叉口", "交汇处", "交界处", "十字路口", "路口", "口")

// crossing reports whether r, what follows a road, names that road's
// crossing with another (与春园路交叉口, 和环城路路口, 与解放路口) and
// nothing after it but a remark (附近): no compound, no house number.
func crossing(r []rune) bool {
	if len(r) < 3 || r[0] != '与' && r[0] != '和' {
		return false
	}
	for i := 2; i < len(r); i++ {
		w, ok := suffixAt(r, i, crossingWords)
		if !ok {
			continue
		}
		name, after := r[1:i], r[i+len(w):]
		if namesCompoundOrHouse(name) || namesCompoundOrHouse(after) {
			return false // 和平小区路口 names a compound
		}
		if string(w) == "路口" && len(name) >= 2 {
			return true // 与解放路口: the road's 路 is the word's
		}
		for _, suf := range roadSuffixes {
			if len(name) > len(suf) && string(name[len(name)-len(suf):]) == string(suf) {
				return true
			}
		}
		return false
	}
	return false
}

// namesCompoundOrHouse reports whether r holds a digit or a suffix that
// only a compound takes (小区, 花园, …; a road may be named 春园路).
func namesCompoundOrHouse(r []rune) bool {
	for i, c := range r {
		if c >= '0' && c <= '9' {
			return true
		}
		if _, ok := suffixAt(r, i, compoundFollowers); ok {
			return true
		}
	}
	return false
}

// tail reads the compound and the house part.
func (p *addrParser) tail(a *Address) {
	r := p.r
	start := p.p
	if a.Road != "" && crossing(r[start:]) {
		// A crossing of roads names no compound and no house: it stays
		// in Rest.
		p.rest = append(p.rest, r[start:]...)
		return
	}
	q := len(r)
	for i := start; i < len(r); i++ {
		c := r[i]
		if (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') {
			// A letter or digit inside a latin word (a name such as "SOHO")
			// is no house number.
			if i > start && r[i-1] >= 'A' && r[i-1] <= 'Z' {
				continue
			}
			if _, ok := tokenAt(r, i); ok {
				q = i
				break
			}
		}
	}
	seg := trimSeparators(r[start:q])
	if q == len(r) {
		// No house part: the compound ends with its last suffix.
		cut := -1
		for i := range seg {
			if suf, ok := suffixAt(seg, i, compoundSuffixes); ok {
				cut = i + len(suf)
			}
		}
		if cut > 0 {
			a.Compound = string(seg[:cut])
			p.rest = append(p.rest, seg[cut:]...)
		} else {
			p.rest = append(p.rest, seg...)
		}
		return
	}
	a.Compound = string(seg)
	p.house(a, q)
}

func trimSeparators(r []rune) []rune {
	for len(r) > 0 && (r[0] == '-' || r[0] == '#') {
		r = r[1:]
	}
	for len(r) > 0 && (r[len(r)-1] == '-') {
		r = r[:len(r)-1]
	}
	return r
}

// house reads the house tokens from i.
func (p *addrParser) house(a *Address, i int) {
	r := p.r
	for i < len(r) {
		if r[i] == '-' {
			i++
			continue
		}
		t, ok := tokenAt(r, i)
		if !ok {
			p.rest = append(p.rest, r[i])
			i++
			continue
		}
		num := strings.TrimLeft(t.num, "0")
		if num == "" {
			num = "0"
		}
		if !allDigits(t.num) {
			num = t.num
		}
		placed := true
		switch t.suffix {
		case "栋", "幢", "号楼", "座":
			placed = set(&a.Building, num)
		case "单元":
			placed = set(&a.Unit, num)
		case "层":
			placed = set(&a.Floor, num)
		case "室", "户":
			placed = set(&a.Room, num)
		case "楼":
			if a.Building == "" {
				placed = set(&a.Building, num)
			} else {
				placed = set(&a.Floor, num)
			}
		case "号":
			if a.Building == "" {
				placed = set(&a.Building, num)
			} else {
				placed = set(&a.Room, num)
			}
		case "-":
			placed = p.group(a, t.group)
		default: // a bare number
			switch {
			case a.Building == "" && a.Unit == "" && a.Room == "":
				placed = set(&a.Building, num)
			default:
				placed = set(&a.Room, num)
			}
		}
		if !placed {
			p.rest = append(p.rest, r[i:t.end]...)
		}
		i = t.end
	}
}

// group places a dash group: building-unit-room, building-room,
// building-unit-floor-room, or after a building unit-room and
// unit-floor-room. It places all of the group or nothing.
func (p *addrParser) group(a *Address, g []string) bool {
	for i, s := range g {
		if t := strings.TrimLeft(s, "0"); t != "" {
			g[i] = t
		} else {
			g[i] = "0"
		}
	}
	var fields []*string
	switch {
	case a.Building == "" && len(g) == 2:
		fields = []*string{&a.Building, &a.Room}
	case a.Building == "" && len(g) == 3:
		fields = []*string{&a.Building, &a.Unit, &a.Room}
	case a.Building == "" && len(g) == 4:
		fields = []*string{&a.Building, &a.Unit, &a.Floor, &a.Room}
	case a.Building != "" && len(g) == 2:
		fields = []*string{&a.Unit, &a.Room}
	case a.Building != "" && len(g) == 3:
		fields = []*string{&a.Unit, &a.Floor, &a.Room}
	default:
		return false
	}
	for _, f := range fields {
		if *f != "" {
			return false
		}
	}
	for i, f := range fields {
		*f = g[i]
	}
	return true
}

// set fills an empty component; a second value for it is not placed.
func set(field *string, v string) bool {
	if *field != "" {
		return false
	}
	*field = v
	return true
}
