package normalize_test

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors/normalize"
)

// sourcesDoc reads docs/sources.md, the authoritative list of codes.
func sourcesDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/sources.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// line returns the first line of doc containing marker.
func line(t *testing.T, doc, marker string) string {
	t.Helper()
	for _, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, marker) {
			return l
		}
	}
	t.Fatalf("docs/sources.md has no line with %q", marker)
	return ""
}

// codeNames finds "`code` name" pairs.
var codeNames = regexp.MustCompile("`([0-9]+)` ([^`,.;()\\s]+)")

// quoted finds `word` items.
var quoted = regexp.MustCompile("`([^`]+)`")

func TestEveryDocumentedCodeMaps(t *testing.T) {
	doc := sourcesDoc(t)
	mapped := map[string]normalize.SourceMapping{}
	for _, m := range normalize.Mappings() {
		mapped[m.System+"/"+m.SourceCode] = m
	}

	// Governance event types and subtypes.
	n := 0
	for _, l := range strings.Split(doc, "\n") {
		m := regexp.MustCompile("^- `(0[0-9])` (\\S+): (.*)$").FindStringSubmatch(l)
		if m == nil {
			continue
		}
		for _, p := range codeNames.FindAllStringSubmatch(m[3], -1) {
			n++
			c, err := normalize.GovernanceEventType("tt", "t", m[1], p[1])
			if err != nil {
				t.Errorf("governance %s/%s %s: %v", m[1], p[1], p[2], err)
				continue
			}
			mp, ok := mapped["governance/"+p[1]]
			if !ok || mp.SourceName != p[2] || mp.CategoryCode != c.Code {
				t.Errorf("governance %s %s: mapping %+v, category %s", p[1], p[2], mp, c.Code)
			}
		}
	}
	if n != 20 {
		t.Errorf("found %d governance subtypes in docs/sources.md, want 20", n)
	}

	// CJ/T 214 classes: every minor as a service code, as a CSV class, by name.
	n = 0
	for _, l := range strings.Split(doc, "\n") {
		m := regexp.MustCompile("^- (部件|事件) `([0-9]{2})` (\\S+): (.*)$").FindStringSubmatch(l)
		if m == nil {
			continue
		}
		typ, prefix := "01", "BJ"
		if m[1] == "事件" {
			typ, prefix = "02", "SJ"
		}
		major, ok := normalize.CategoryByCode(prefix + m[2])
		if !ok || major.Name != m[3] || major.Level != 1 {
			t.Errorf("%s %s %s: major %+v", m[1], m[2], m[3], major)
		}
		for _, p := range codeNames.FindAllStringSubmatch(m[4], -1) {
			n++
			code := typ + m[2] + p[1]
			c, err := normalize.CityServiceCode("service_code", code)
			if err != nil || c.Name != p[2] || c.Code != prefix+m[2]+p[1] || c.ParentCode != prefix+m[2] {
				t.Errorf("service code %s %s → %+v %v", code, p[2], c, err)
			}
			if c2, err := normalize.CityClass("csv", m[1], m[2], p[1]); err != nil || c2 != c {
				t.Errorf("CSV %s %s %s → %+v %v", m[1], m[2], p[1], c2, err)
			}
			if mp := mapped["citymgmt/"+code]; mp.CategoryCode != c.Code || mp.SourceName != p[2] {
				t.Errorf("mapping of %s: %+v", code, mp)
			}
		}
	}
	if n != 48 {
		t.Errorf("found %d CJ/T 214 minors in docs/sources.md, want 48", n)
	}
	if len(mapped) != 20+48 {
		t.Errorf("%d mappings, want %d (one per documented source code)", len(mapped), 20+48)
	}

	// Status and level codes.
	for _, p := range codeNames.FindAllStringSubmatch(line(t, doc, "Event status codes:"), -1) {
		if _, _, name, err := normalize.GovernanceStatus("status", p[1]); err != nil || name != p[2] {
			t.Errorf("status %s %s → %q %v", p[1], p[2], name, err)
		}
	}
	for _, p := range codeNames.FindAllStringSubmatch(line(t, doc, "Level (tier) codes:"), -1) {
		tier, err := normalize.GovernanceTier("level", p[1])
		if want, _ := normalize.CityTier("tier", p[2]); err != nil || tier != want {
			t.Errorf("level %s %s → %s %v", p[1], p[2], tier, err)
		}
	}
	for _, p := range codeNames.FindAllStringSubmatch(line(t, doc, "`post` ("), -1) {
		if _, err := normalize.GridWorkerPost("post", p[1]); err != nil {
			t.Errorf("post %s: %v", p[1], err)
		}
	}
	for _, p := range codeNames.FindAllStringSubmatch(line(t, doc, "`residentType` ("), -1) {
		if _, err := normalize.ResidenceType("residentType", p[1]); err != nil {
			t.Errorf("residentType %s: %v", p[1], err)
		}
	}

	// Names.
	steps := doc[strings.Index(doc, "Workflow steps (`workflow_state`):"):]
	steps = steps[:strings.Index(steps, "(side states)")]
	han := regexp.MustCompile(`\p{Han}+`).FindAllString(steps, -1)
	if len(han) != 13 {
		t.Errorf("found %d workflow steps, want 13: %v", len(han), han)
	}
	for _, s := range han {
		if _, err := normalize.CityWorkflowState("workflow_state", s); err != nil {
			t.Errorf("workflow step %s: %v", s, err)
		}
	}
	for _, s := range quoted.FindAllStringSubmatch(line(t, doc, "`dzzlb` kind"), -1)[1:] {
		if strings.HasPrefix(s[1], "党") {
			if _, err := normalize.PartyOrgKind("dzzlb", s[1]); err != nil {
				t.Errorf("org kind %s: %v", s[1], err)
			}
		}
	}
	for _, s := range quoted.FindAllStringSubmatch(line(t, doc, "`zzlx` kind"), -1) {
		if s[1] == "红色驿站" || s[1] == "党群服务中心" {
			if _, err := normalize.StationKind("zzlx", s[1]); err != nil {
				t.Errorf("station kind %s: %v", s[1], err)
			}
		}
	}
	tiers := line(t, doc, "`tier` (`网格`")
	for _, s := range quoted.FindAllStringSubmatch(tiers[strings.Index(tiers, "`tier`"):], -1)[1:6] {
		if _, err := normalize.CityTier("tier", s[1]); err != nil {
			t.Errorf("tier %s: %v", s[1], err)
		}
	}
	for _, s := range []string{"男", "女"} {
		if _, err := normalize.GenderText("xb", s); err != nil {
			t.Errorf("xb %s: %v", s, err)
		}
	}
}

func TestTaxonomyIsATree(t *testing.T) {
	cats := normalize.Categories()
	byCode := map[string]normalize.Category{}
	for i, c := range cats {
		if _, dup := byCode[c.Code]; dup {
			t.Fatalf("duplicate code %s", c.Code)
		}
		if i > 0 && cats[i-1].Code >= c.Code {
			t.Fatalf("not in code order at %s", c.Code)
		}
		if c.Name == "" || c.Kind == "" {
			t.Fatalf("%s: incomplete %+v", c.Code, c)
		}
		switch c.Level {
		case 1:
			if c.ParentCode != "" || len(c.Code) != 4 {
				t.Fatalf("major %+v", c)
			}
		case 2:
			p, ok := byCode[c.ParentCode]
			if !ok || p.Level != 1 || !strings.HasPrefix(c.Code, p.Code) || len(c.Code) != 6 || p.Kind != c.Kind {
				t.Fatalf("minor %+v under %+v", c, p)
			}
		default:
			t.Fatalf("level %d: %+v", c.Level, c)
		}
		if got, ok := normalize.CategoryByCode(c.Code); !ok || got != c {
			t.Fatalf("CategoryByCode(%s) = %+v", c.Code, got)
		}
		byCode[c.Code] = c
	}
	if !reflect.DeepEqual(cats, normalize.Categories()) || !reflect.DeepEqual(normalize.Mappings(), normalize.Mappings()) {
		t.Fatal("order is not deterministic")
	}
	// Returned slices are copies: the tables cannot be changed through them.
	cats[0].Name = "changed"
	if normalize.Categories()[0].Name == "changed" {
		t.Fatal("Categories exposes the table")
	}
	seen := map[string]bool{}
	for _, m := range normalize.Mappings() {
		if _, ok := byCode[m.CategoryCode]; !ok {
			t.Errorf("mapping %+v onto an unknown category", m)
		}
		if seen[m.System+m.SourceCode] {
			t.Errorf("mapping %+v twice", m)
		}
		seen[m.System+m.SourceCode] = true
	}
	wantKinds := map[string]canon.CaseKind{"BJ01": canon.KindComponent, "SJ05": canon.KindEvent, "ZZ01": canon.KindDispute,
		"ZZ02": canon.KindPublicSecurity, "ZZ03": canon.KindRisk, "ZZ04": canon.KindRisk, "ZZ05": canon.KindEvent}
	for code, kind := range wantKinds {
		if byCode[code].Kind != kind {
			t.Errorf("%s kind %s, want %s", code, byCode[code].Kind, kind)
		}
	}
}

func TestCrossMappings(t *testing.T) {
	// 环境卫生 lands on the city-management class 市容环境 (events); the other
	// governance subtypes keep their own categories.
	c, err := normalize.GovernanceEventType("tt", "t", "05", "0501")
	if err != nil || c.Code != "SJ01" || c.Kind != canon.KindEvent {
		t.Fatalf("0501 → %+v %v", c, err)
	}
	for sub, want := range map[string]string{"0502": "ZZ0502", "0401": "ZZ0401", "0303": "ZZ0303", "0101": "ZZ0101"} {
		if c, err := normalize.GovernanceEventType("tt", "t", sub[:2], sub); err != nil || c.Code != want {
			t.Errorf("%s → %+v %v, want %s", sub, c, err, want)
		}
	}
}

func TestUnknownCodes(t *testing.T) {
	unknown := map[string]error{}
	try := func(name string, err error) { unknown[name] = err }
	_, err := normalize.GovernanceEventType("tt", "t", "01", "0199")
	try("subtype xx99", err)
	_, err = normalize.GovernanceEventType("tt", "t", "09", "0901")
	try("type 09", err)
	_, err = normalize.GovernanceEventType("tt", "t", "01", "0201")
	try("subtype of another type", err)
	_, err = normalize.GovernanceEventType("tt", "t", "01", "01")
	try("short subtype", err)
	if c, err := normalize.CityServiceCode("s", "10101"); err != nil || c.Code != "BJ0101" {
		t.Errorf("service code sent as the number 10101: %+v %v", c, err)
	}
	_, err = normalize.CityServiceCode("s", "30101")
	try("5-digit service kind 3", err)
	_, err = normalize.CityServiceCode("s", "020599")
	try("service code xxxx99", err)
	_, err = normalize.CityServiceCode("s", "030101")
	try("service kind 03", err)
	_, err = normalize.CityServiceCode("s", "0201")
	try("short service code", err)
	_, err = normalize.CityServiceCode("s", "020100")
	try("minor 00", err)
	_, err = normalize.CityServiceCode("s", "02010a")
	try("letter", err)
	_, err = normalize.CityClass("c", "案件", "01", "01")
	try("CSV kind", err)
	_, _, _, err = normalize.GovernanceStatus("s", "99")
	try("status 99", err)
	_, err = normalize.GovernanceTier("l", "6")
	try("level 6", err)
	_, err = normalize.GridWorkerPost("p", "4")
	try("post 4", err)
	_, err = normalize.ResidenceType("r", "9")
	try("resident type 9", err)
	_, err = normalize.CityWorkflowState("w", "完成")
	try("step 完成", err)
	_, err = normalize.Open311Status("w", "pending", "")
	try("status pending", err)
	_, err = normalize.Open311Status("w", "open", "完成")
	try("open with an unknown step", err)
	_, err = normalize.CityTier("t", "省")
	try("tier 省", err)
	_, err = normalize.PartyOrgKind("k", "支部")
	try("org kind 支部", err)
	_, err = normalize.StationKind("k", "驿站")
	try("station kind 驿站", err)
	_, err = normalize.GenderText("xb", "未知")
	try("gender 未知", err)
	for name, err := range unknown {
		wantDefect(t, name, err, normalize.UnknownCode)
	}

	_, err = normalize.GovernanceEventType("tt", "t", "", "0101")
	wantDefect(t, "empty type", err, normalize.MissingField)
	_, err = normalize.CityServiceCode("s", "")
	wantDefect(t, "empty service code", err, normalize.MissingField)
	_, _, _, err = normalize.GovernanceStatus("s", " ")
	wantDefect(t, "empty status", err, normalize.MissingField)
}

func TestGovernanceStatus(t *testing.T) {
	// docs/design.md §4: the lifecycle and the tier each step implies.
	tests := []struct {
		code   string
		status canon.CaseStatus
		tier   canon.CaseTier
	}{
		{"10", canon.StatusReported, canon.TierGrid},
		{"11", canon.StatusResolved, canon.TierGrid},
		{"20", canon.StatusAccepted, canon.TierCommunity},
		{"30", canon.StatusAccepted, canon.TierStreet},
		{"35", canon.StatusReturned, ""},
		{"40", canon.StatusDispatched, canon.TierCity},
		{"50", canon.StatusInProgress, ""},
		{"55", canon.StatusDeferred, ""},
		{"60", canon.StatusResolved, ""},
		{"70", canon.StatusVerifying, ""},
		{"80", canon.StatusClosed, ""},
		{"90", canon.StatusRejected, ""},
	}
	for _, tc := range tests {
		s, tier, name, err := normalize.GovernanceStatus("status", tc.code)
		if err != nil || s != tc.status || tier != tc.tier || name == "" {
			t.Errorf("%s → %s %s %q %v, want %s %s", tc.code, s, tier, name, err, tc.status, tc.tier)
		}
	}
	for code, want := range map[string]canon.CaseTier{"1": canon.TierGrid, "2": canon.TierCommunity, "3": canon.TierStreet, "4": canon.TierDistrict, "5": canon.TierCity} {
		if got, err := normalize.GovernanceTier("level", code); err != nil || got != want {
			t.Errorf("level %s → %s %v", code, got, err)
		}
	}
}

func TestCityStatus(t *testing.T) {
	steps := map[string]canon.CaseStatus{"上报": canon.StatusReported, "受理": canon.StatusAccepted, "立案": canon.StatusFiled,
		"派遣": canon.StatusDispatched, "处置": canon.StatusInProgress, "处置反馈": canon.StatusResolved, "核查": canon.StatusVerifying,
		"结案": canon.StatusClosed, "回退": canon.StatusReturned, "延期": canon.StatusDeferred, "挂账": canon.StatusSuspended,
		"返工": canon.StatusReopened, "作废": canon.StatusRejected}
	for step, want := range steps {
		if got, err := normalize.CityWorkflowState("s", step); err != nil || got != want {
			t.Errorf("%s → %s %v", step, got, err)
		}
	}
	tests := []struct {
		status, step string
		want         canon.CaseStatus
	}{
		{"closed", "", canon.StatusClosed},
		{"closed", "结案", canon.StatusClosed},
		{"closed", "作废", canon.StatusRejected},
		{"open", "", canon.StatusAccepted},
		{"open", "派遣", canon.StatusDispatched},
		{"open", "挂账", canon.StatusSuspended},
		{"open", "结案", canon.StatusAccepted}, // contradicts open: the known floor
		{"Open", " 处置 ", canon.StatusInProgress},
	}
	for _, tc := range tests {
		if got, err := normalize.Open311Status("s", tc.status, tc.step); err != nil || got != tc.want {
			t.Errorf("%s/%s → %s %v, want %s", tc.status, tc.step, got, err, tc.want)
		}
	}
	if got, err := normalize.CityTier("tier", ""); err != nil || got != canon.TierStreet {
		t.Errorf("empty tier → %s %v", got, err)
	}
	if c, err := normalize.CityClass("csv", "事件", "5", "1"); err != nil || c.Code != "SJ0501" {
		t.Errorf("spreadsheet-stripped codes → %+v %v", c, err)
	}
}

func FuzzCodes(f *testing.F) {
	f.Add("05", "0501", "020501")
	f.Add("", "", "")
	f.Add("0", "0\x00", "01010")
	f.Fuzz(func(t *testing.T, typ, sub, service string) {
		check := func(c normalize.Category, err error) {
			if err != nil {
				if _, ok := normalize.AsDefect(err); !ok {
					t.Fatalf("error %v is no defect", err)
				}
				return
			}
			if got, ok := normalize.CategoryByCode(c.Code); !ok || got != c {
				t.Fatalf("category %+v not in the taxonomy", c)
			}
		}
		check(normalize.GovernanceEventType("tt", "t", typ, sub))
		check(normalize.CityServiceCode("s", service))
		check(normalize.CityClass("c", typ, sub, service))
		_, _, _, _ = normalize.GovernanceStatus("s", typ)
		_, _ = normalize.Open311Status("s", typ, sub)
		_, _ = normalize.CityTier("t", sub)
	})
}

func BenchmarkCodes(b *testing.B) {
	b.Run("GovernanceEventType", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := normalize.GovernanceEventType("tt", "t", "01", "0103"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CityServiceCode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := normalize.CityServiceCode("s", "020501"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GovernanceStatus", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := normalize.GovernanceStatus("s", "40"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
