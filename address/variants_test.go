package address_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/longbridgeapp/opencc"
	"github.com/mozillazg/go-pinyin"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/sim/city"
)

var update = flag.Bool("update", false, "regenerate testdata/variants.tsv and testdata/reference.json from the demo city")

// The variant set: realistic spellings of the addresses of known buildings
// of the demo city (medium scale, seed 1), one line per spelling, with the
// building they designate; and spellings of compounds held out of the
// reference, which must match nothing. TestAddressVariants measures the
// gazetteer against it; go test ./address -run TestAddressVariants -update
// regenerates it.
const (
	variantsFile  = "testdata/variants.tsv"
	referenceFile = "testdata/reference.json"
)

// variant is one line of the set.
type variant struct {
	family   string
	text     string
	compound string // the compound's id; "" for a held-out compound
	building string // the building's id; "" for a held-out compound
}

func TestAddressVariants(t *testing.T) {
	if *update {
		writeVariantSet(t)
	}
	ref := readReference(t)
	g, err := address.NewGazetteer(ref.Regions, ref.Compounds)
	if err != nil {
		t.Fatal(err)
	}
	vs := readVariants(t)
	type tally struct{ n, right, wrong, wrongHigh, none int }
	families := map[string]*tally{}
	// Calibration: of the matches (a compound named) in each confidence
	// band, how many name the right building (or, for a compound-only
	// match, the right compound).
	bands := []float64{0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01}
	type band struct{ n, right int }
	cal := make([]band, len(bands)-1)
	var wrongs []string
	for _, v := range vs {
		m := g.Match(address.Parse(v.text))
		f := families[v.family]
		if f == nil {
			f = &tally{}
			families[v.family] = f
		}
		f.n++
		right := m.CompoundID != "" && m.CompoundID == v.compound && (m.BuildingID == "" || m.BuildingID == v.building)
		switch {
		case m.CompoundID == "":
			f.none++
		case right && m.BuildingID == v.building:
			f.right++
		case !right:
			f.wrong++
			if m.Confidence >= 0.5 {
				f.wrongHigh++
			}
			if len(wrongs) < 20 {
				wrongs = append(wrongs, fmt.Sprintf("%s %q → %s/%s at %.2f (%s), want %s/%s", v.family, v.text, m.CompoundID, m.BuildingID, m.Confidence, m.Explanation, v.compound, v.building))
			}
		}
		if m.CompoundID != "" {
			for i := range cal {
				if m.Confidence >= bands[i] && m.Confidence < bands[i+1] {
					cal[i].n++
					if right {
						cal[i].right++
					}
				}
			}
		}
	}
	names := make([]string, 0, len(families))
	for k := range families {
		names = append(names, k)
	}
	sort.Strings(names)
	var known, knownRight, wrongHigh int
	t.Logf("%-22s %6s %8s %6s %6s", "family", "n", "right", "none", "wrong")
	for _, k := range names {
		f := families[k]
		t.Logf("%-22s %6d %7.1f%% %6d %6d", k, f.n, 100*float64(f.right)/float64(f.n), f.none, f.wrong)
		if k != "held-out" {
			known += f.n
			knownRight += f.right
		}
		wrongHigh += f.wrongHigh
	}
	t.Logf("known buildings: %d of %d right (%.1f%%); wrong matches at confidence ≥ 0.5: %d", knownRight, known, 100*float64(knownRight)/float64(known), wrongHigh)
	t.Logf("calibration (matches naming a compound):")
	for i, b := range cal {
		if b.n == 0 {
			continue
		}
		t.Logf("  confidence [%.1f, %.1f): %5d matches, %5.1f%% right", bands[i], min(bands[i+1], 1), b.n, 100*float64(b.right)/float64(b.n))
		// A confidence means what it says: at least that share is right.
		if b.n >= 20 && float64(b.right)/float64(b.n) < bands[i] {
			t.Errorf("confidence band [%.1f, %.1f): only %d of %d right", bands[i], bands[i+1], b.right, b.n)
		}
	}
	for _, w := range wrongs {
		t.Log("wrong: " + w)
	}
	if wrongHigh > 0 {
		t.Errorf("%d wrong matches at confidence ≥ 0.5, want none", wrongHigh)
	}
	if float64(knownRight) < 0.95*float64(known) {
		t.Errorf("%d of %d variants of known buildings matched, want ≥ 95%%", knownRight, known)
	}
}

func readReference(t testing.TB) canon.AddressReference {
	t.Helper()
	raw, err := os.ReadFile(referenceFile)
	if err != nil {
		t.Fatal(err)
	}
	var ref canon.AddressReference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func readVariants(t testing.TB) []variant {
	t.Helper()
	f, err := os.Open(variantsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []variant
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 4 {
			t.Fatalf("bad line %q", line)
		}
		out = append(out, variant{family: p[0], text: p[1], compound: p[2], building: p[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 1000 {
		t.Fatalf("%d variants", len(out))
	}
	return out
}

// writeVariantSet generates the set from the demo city.
func writeVariantSet(t *testing.T) {
	t.Helper()
	cfg := city.DefaultConfig()
	cfg.Scale = city.Medium
	c, err := city.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2260, 1))
	// Every 20th compound is held out of the reference, unless its
	// community has another compound of the same name (then the text
	// designates that one).
	commOf := func(ci int) int32 { return c.Regions[c.Compounds[ci].Grid].Parent }
	sameName := map[[2]string]int{}
	for ci, cp := range c.Compounds {
		sameName[[2]string{strconv.Itoa(int(commOf(ci))), cp.Name}]++
	}
	heldOut := func(ci int) bool {
		return ci%20 == 7 && sameName[[2]string{strconv.Itoa(int(commOf(ci))), c.Compounds[ci].Name}] == 1
	}
	var ref canon.AddressReference
	for _, r := range c.Regions {
		parent := ""
		if r.Parent >= 0 {
			parent = c.Regions[r.Parent].Code
		}
		ref.Regions = append(ref.Regions, canon.RegionRef{Code: r.Code, Name: r.Name, Level: canon.RegionLevel(r.Level), ParentCode: parent})
	}
	byCompound := map[int32][]int{}
	for bi, b := range c.Buildings {
		byCompound[b.Compound] = append(byCompound[b.Compound], bi)
	}
	names := map[string]bool{}
	for ci, cp := range c.Compounds {
		names[cp.Name] = true
		if heldOut(ci) {
			continue
		}
		cr := canon.CompoundRef{ID: fmt.Sprintf("C%d", ci), Name: cp.Name, GridCode: c.Regions[cp.Grid].Code}
		for _, bi := range byCompound[int32(ci)] {
			b := c.Buildings[bi]
			cr.Buildings = append(cr.Buildings, canon.BuildingRef{ID: fmt.Sprintf("B%d", bi), Number: strconv.Itoa(int(b.No)), GridCode: c.Regions[b.Grid].Code})
		}
		ref.Compounds = append(ref.Compounds, cr)
	}
	raw, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(referenceFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	t2s, err := opencc.New("s2t")
	if err != nil {
		t.Fatal(err)
	}
	common, byReading := commonHan()
	var lines []string
	emit := func(family, text string, ci, bi int) {
		cid, bid := fmt.Sprintf("C%d", ci), fmt.Sprintf("B%d", bi)
		if heldOut(ci) {
			family, cid, bid = "held-out", "", ""
		}
		lines = append(lines, strings.Join([]string{family, text, cid, bid}, "\t"))
	}
	perm := rng.Perm(len(c.Buildings))
	sampled, held := 0, 0
	for _, bi := range perm {
		b := c.Buildings[bi]
		ci := int(b.Compound)
		if heldOut(ci) {
			if held >= 60 {
				continue
			}
			held++
		} else {
			if sampled >= 400 {
				continue
			}
			sampled++
		}
		cp := c.Compounds[ci]
		gr := c.Regions[b.Grid]
		cm := c.Regions[gr.Parent]
		st := c.Regions[cm.Parent]
		d := c.Regions[st.Parent]
		unit := 1 + rng.IntN(max(1, int(b.Units)))
		floor := 1 + rng.IntN(max(1, int(b.Floors)))
		room := floor*100 + 1 + rng.IntN(2)
		no := int(b.No)
		admin := d.Name + st.Name + cm.Name
		house := fmt.Sprintf("%d栋%d单元%d室", no, unit, room)
		{
			emit("standard", admin+cp.Name+house, ci, bi)
			emit("幢", admin+cp.Name+fmt.Sprintf("%d幢%d单元%d", no, unit, room), ci, bi)
			emit("号楼", admin+cp.Name+fmt.Sprintf("%d号楼%d单元%d室", no, unit, room), ci, bi)
			emit("chinese-numerals", admin+cp.Name+fmt.Sprintf("%s栋%s单元%d室", hanNumber(no), hanNumber(unit), room), ci, bi)
			emit("full-width", toFullWidth(admin+cp.Name+house), ci, bi)
			emit("12-3-1001", admin+cp.Name+fmt.Sprintf("%d-%d-%d", no, unit, room), ci, bi)
			emit("province-city", "湖北省襄阳市"+admin+cp.Name+house, ci, bi)
			emit("no-province-city-district", st.Name+cm.Name+cp.Name+house, ci, bi)
			emit("extra-spaces", strings.Join([]string{d.Name, " ", st.Name, "  ", cm.Name, " ", cp.Name, " ", strconv.Itoa(no), " 栋 ", strconv.Itoa(unit), " 单元 ", strconv.Itoa(room)}, ""), ci, bi)
			if tc, err := t2s.Convert(admin + cp.Name + house); err == nil {
				emit("traditional", tc, ci, bi)
			}
			short := strings.TrimSuffix(strings.TrimSuffix(st.Name, "街道"), "镇")
			emit("community-prefix", d.Name+short+cm.Name+cp.Name+house, ci, bi)
			core, ok := strings.CutSuffix(cm.Name, "社区")
			if !ok {
				core = strings.TrimSuffix(cm.Name, "村")
			}
			emit("community-core-prefix", d.Name+st.Name+core+cp.Name+house, ci, bi)
		}
		// One mistyped character of the compound's name: a homophone half
		// the time, else another common character; never a name the city
		// has (that text names another compound).
		for try := 0; try < 20; try++ {
			r := []rune(cp.Name)
			i := rng.IntN(len(r))
			var repl rune
			if try%2 == 0 {
				var pool []rune
				for _, rd := range readingsOf(r[i]) {
					pool = append(pool, byReading[rd]...)
				}
				if len(pool) == 0 {
					continue
				}
				repl = pool[rng.IntN(len(pool))]
			} else {
				repl = common[rng.IntN(len(common))]
			}
			if repl == r[i] {
				continue
			}
			r[i] = repl
			if names[string(r)] {
				continue
			}
			family := "typo-homophone"
			if try%2 == 1 {
				family = "typo-other"
			}
			emit(family, admin+string(r)+house, ci, bi)
			break
		}
	}
	head := "# Address variants of the demo city (medium, seed 1): family, text, compound id, building id (empty: held out of the reference).\n" +
		"# Generated by go test ./address -run TestAddressVariants -update; the reference is testdata/reference.json.\n"
	if err := os.WriteFile(variantsFile, []byte(head+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d variants and %d compounds to %s", len(lines), len(ref.Compounds), filepath.Dir(variantsFile))
}

// commonHan returns the 3755 common characters (GB 2312 level 1) and
// them by toneless reading.
func commonHan() ([]rune, map[string][]rune) {
	dec := simplifiedchinese.GBK.NewDecoder()
	var common []rune
	byReading := map[string][]rune{}
	for hi := 0xB0; hi <= 0xD7; hi++ {
		for lo := 0xA1; lo <= 0xFE; lo++ {
			s, err := dec.String(string([]byte{byte(hi), byte(lo)}))
			r := []rune(s)
			if err != nil || len(r) != 1 || r[0] < 0x4E00 {
				continue
			}
			common = append(common, r[0])
			for _, rd := range readingsOf(r[0]) {
				byReading[rd] = append(byReading[rd], r[0])
			}
		}
	}
	return common, byReading
}

func readingsOf(r rune) []string {
	a := pinyin.NewArgs()
	a.Heteronym = true
	return pinyin.SinglePinyin(r, a)
}

func hanNumber(n int) string {
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	switch {
	case n < 10:
		return digits[n]
	case n < 20:
		if n == 10 {
			return "十"
		}
		return "十" + digits[n-10]
	case n < 100:
		s := digits[n/10] + "十"
		if n%10 != 0 {
			s += digits[n%10]
		}
		return s
	}
	return strconv.Itoa(n)
}

func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

// BenchmarkMatchVariants matches the variant set against the reference of
// the demo city (medium): parse and match per address.
func BenchmarkMatchVariants(b *testing.B) {
	ref := readReference(b)
	g, err := address.NewGazetteer(ref.Regions, ref.Compounds)
	if err != nil {
		b.Fatal(err)
	}
	vs := readVariants(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		g.Match(address.Parse(vs[i%len(vs)].text))
	}
}
