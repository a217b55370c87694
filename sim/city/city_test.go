package city_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"github.com/ywtg/hub/sim/city"
)

// validID is the test's own GB 11643-1999 checker.
func validID(id string) bool {
	if len(id) != 18 {
		return false
	}
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
		sum += int(id[i]-'0') * w[i]
	}
	if _, err := time.Parse("20060102", id[6:14]); err != nil {
		return false
	}
	return id[17] == "10X98765432"[sum%11]
}

var cache = map[city.Config]*city.City{}

func gen(tb testing.TB, cfg city.Config) *city.City {
	tb.Helper()
	if c, ok := cache[cfg]; ok {
		return c
	}
	c, err := city.Generate(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	cache[cfg] = c
	return c
}

func small(tb testing.TB) *city.City { return gen(tb, city.DefaultConfig()) }

func outputs(t *testing.T, c *city.City) (layer, truth []byte) {
	t.Helper()
	var a, b bytes.Buffer
	if err := c.WriteGeoJSON(&a); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteTruth(&b); err != nil {
		t.Fatal(err)
	}
	return a.Bytes(), b.Bytes()
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name      string
		a, b      city.Config
		wantEqual bool
	}{
		{"same seed", city.DefaultConfig(), city.DefaultConfig(), true},
		{"other seed", city.DefaultConfig(), func() city.Config { c := city.DefaultConfig(); c.Seed = 2; return c }(), false},
		{"other dirt", city.DefaultConfig(), func() city.Config { c := city.DefaultConfig(); c.DirtyRate = 0.1; return c }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, err := city.Generate(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := city.Generate(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			la, ta := outputs(t, ca)
			lb, tb := outputs(t, cb)
			if got := bytes.Equal(la, lb) && bytes.Equal(ta, tb); got != tt.wantEqual {
				t.Errorf("outputs equal = %v, want %v", got, tt.wantEqual)
			}
		})
	}
}

func TestScaleSizes(t *testing.T) {
	c := small(t)
	if n := len(c.Grids); n < 20 || n > 40 {
		t.Errorf("small: %d grids, want ≈30", n)
	}
	if n := len(c.People); n < 4900 || n > 5200 {
		t.Errorf("small: %d residents, want ≈5000", n)
	}
	if n := len(c.GovEvents) + len(c.CityCases); n < 4900 || n > 5200 {
		t.Errorf("small: %d cases, want ≈5000", n)
	}
	if len(c.Incidents) == 0 || len(c.Members) == 0 || len(c.Workers) == 0 || len(c.Stations) == 0 || len(c.Activities) == 0 {
		t.Errorf("small: empty population: %d incidents %d members %d workers %d stations %d activities",
			len(c.Incidents), len(c.Members), len(c.Workers), len(c.Stations), len(c.Activities))
	}
	if w := float64(len(c.Workers)) / float64(len(c.Grids)); w < 1.2 || w > 2.2 {
		t.Errorf("%.2f grid workers per grid, want ≈1.5", w)
	}
}

func TestCitizenIDs(t *testing.T) {
	c := small(t)
	idDefects := map[string]bool{"id_15": true, "id_lower_x": true, "id_checksum": true, "missing_field": true}
	dirty := map[string]string{} // entity/id → kind of ID defects
	for _, d := range c.Defects() {
		if idDefects[d.Kind] && (d.Field == "idCard" || d.Field == "sfzh" || d.Field == "reporterIdCard") {
			dirty[d.Entity+"/"+d.ID] = d.Kind
		}
	}
	check := func(t *testing.T, entity, id, value string) {
		t.Helper()
		kind, isDirty := dirty[entity+"/"+id]
		switch {
		case !isDirty && !validID(value):
			t.Errorf("%s %s: clean citizen ID %q is not valid", entity, id, value)
		case kind == "id_15" && len(value) != 15:
			t.Errorf("%s %s: id_15 defect shows %q", entity, id, value)
		case kind == "id_lower_x" && !strings.HasSuffix(value, "x"):
			t.Errorf("%s %s: id_lower_x defect shows %q", entity, id, value)
		case kind == "id_checksum" && (len(value) != 18 || validID(value)):
			t.Errorf("%s %s: id_checksum defect shows %q", entity, id, value)
		case kind == "missing_field" && value != "":
			t.Errorf("%s %s: missing_field defect shows %q", entity, id, value)
		}
	}
	c.RLock()
	defer c.RUnlock()
	seen := map[string]bool{}
	for i := range c.People {
		if seen[c.People[i].ID] {
			t.Errorf("citizen ID %s generated twice", c.People[i].ID)
		}
		seen[c.People[i].ID] = true
		r := c.GovResident(i)
		check(t, "residents", c.SourceID(city.GovResidents, i), r.IDCard)
	}
	for i := range c.Workers {
		r := c.GovWorker(i)
		check(t, "gridWorkers", c.SourceID(city.GovWorkers, i), r.IDCard)
	}
	for i := range c.Members {
		r := c.PartyMember(i, false)
		check(t, "t_dy", r.DYID, r.SFZH)
	}
}

func polygonOf(t *testing.T, f *geojson.Feature) orb.Polygon {
	t.Helper()
	p, ok := f.Geometry.(orb.Polygon)
	if !ok {
		t.Fatalf("%v: geometry %T, want Polygon", f.Properties["code"], f.Geometry)
	}
	return p
}

func TestLayerTiling(t *testing.T) {
	c := small(t)
	layer, _ := outputs(t, c)
	fc, err := geojson.UnmarshalFeatureCollection(layer)
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != len(c.Regions) {
		t.Fatalf("%d features, want %d", len(fc.Features), len(c.Regions))
	}
	byCode := map[string]*geojson.Feature{}
	children := map[string][]*geojson.Feature{}
	levels := map[string]int{"CITY": 0, "DISTRICT": 1, "STREET": 2, "COMMUNITY": 3, "GRID": 4}
	codeLen := []int{6, 6, 9, 12, 15}
	for _, f := range fc.Features {
		code, _ := f.Properties["code"].(string)
		level, _ := f.Properties["level"].(string)
		lv, ok := levels[level]
		if !ok {
			t.Fatalf("%s: level %q", code, level)
		}
		if len(code) != codeLen[lv] {
			t.Errorf("%s: %s code has %d digits", code, level, len(code))
		}
		if name, _ := f.Properties["name"].(string); name == "" {
			t.Errorf("%s: no name", code)
		}
		poly := polygonOf(t, f)
		ring := poly[0]
		if !ring.Closed() {
			t.Errorf("%s: ring not closed", code)
		}
		if ring.Orientation() != orb.CCW {
			t.Errorf("%s: outer ring not counter-clockwise", code)
		}
		for _, p := range ring {
			if p[0] < 111 || p[0] > 114 || p[1] < 31 || p[1] > 33 {
				t.Errorf("%s: position %v not [lng, lat] near 襄阳", code, p)
				break
			}
		}
		byCode[code] = f
		parent, hasParent := f.Properties["parent"].(string)
		if (lv == 0) == hasParent {
			t.Errorf("%s: parent %q on level %s", code, parent, level)
		}
		if hasParent {
			if !strings.HasPrefix(code, parent) && lv > 1 {
				t.Errorf("%s: code does not extend parent %s", code, parent)
			}
			children[parent] = append(children[parent], f)
		}
	}
	for code, kids := range children {
		pf, ok := byCode[code]
		if !ok {
			t.Fatalf("parent %s missing", code)
		}
		parent := polygonOf(t, pf)
		sum := 0.0
		for i, k := range kids {
			kp := polygonOf(t, k)
			sum += planar.Area(kp)
			// Each child lies inside the parent …
			for _, p := range kp[0] {
				if !kp.Bound().Intersects(parent.Bound()) || p[0] < parent.Bound().Min[0] || p[0] > parent.Bound().Max[0] ||
					p[1] < parent.Bound().Min[1] || p[1] > parent.Bound().Max[1] {
					t.Errorf("%v outside parent %s", k.Properties["code"], code)
				}
			}
			// … and no sibling contains a point of its interior.
			c, _ := planar.CentroidArea(kp)
			inner := []orb.Point{c}
			for _, p := range kp[0][:4] {
				inner = append(inner, orb.Point{c[0] + 0.98*(p[0]-c[0]), c[1] + 0.98*(p[1]-c[1])})
			}
			for j, o := range kids {
				if i == j {
					continue
				}
				for _, p := range inner {
					if planar.PolygonContains(polygonOf(t, o), p) {
						t.Errorf("%v overlaps sibling %v", k.Properties["code"], o.Properties["code"])
					}
				}
			}
		}
		if pa := planar.Area(parent); math.Abs(sum-pa) > 1e-9*pa {
			t.Errorf("%s: children's area %v, parent's %v", code, sum, pa)
		}
	}
	// Buildings strictly inside their grid.
	for i, b := range c.Buildings {
		g := c.Regions[b.Grid]
		poly := polygonOf(t, byCode[g.Code])
		if !planar.PolygonContains(poly, orb.Point{b.Lng, b.Lat}) || !g.Rect.Contains(b.Lng, b.Lat) {
			t.Errorf("building %d (%v,%v) not inside grid %s", i, b.Lng, b.Lat, g.Code)
		}
	}
	// Cases inside their grid.
	for i, cs := range c.CityCases {
		if !c.Regions[cs.Grid].Rect.Contains(cs.Lng, cs.Lat) {
			t.Errorf("city case %d outside its grid", i)
		}
	}
}

func TestGroundTruth(t *testing.T) {
	c := small(t)
	_, raw := outputs(t, c)
	var truth city.Truth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	if truth.Format != city.TruthFormat || truth.Scale != "small" || truth.Seed != 1 {
		t.Errorf("header: %+v", truth.Format)
	}
	c.RLock()
	defer c.RUnlock()
	// Index every emitted record: entity → id → record index.
	ids := map[string]map[string]int{}
	for _, e := range city.Entities() {
		ids[e.Name()] = map[string]int{}
	}
	for i := range c.Grids {
		ids["grids"][c.SourceID(city.GovGrids, i)] = i
	}
	for i := range c.Workers {
		ids["gridWorkers"][c.SourceID(city.GovWorkers, i)] = i
	}
	for i := range c.Households {
		ids["houses"][c.SourceID(city.GovHouses, i)] = i
	}
	for i := range c.People {
		ids["residents"][c.SourceID(city.GovResidents, i)] = i
	}
	for i := range c.GovEvents {
		ids["events"][c.SourceID(city.GovEvents, i)] = i
	}
	for i := range c.CityCases {
		ids["requests"][c.SourceID(city.CityRequests, i)] = i
	}
	for i := range c.Members {
		ids["t_dy"][c.Members[i].ID] = i
		if c.Members[i].DupID != "" {
			ids["t_dy"][c.Members[i].DupID] = i
		}
	}
	for i := range c.Stations {
		ids["t_hyzz"][c.Stations[i].ID] = i
	}
	for i := range c.Activities {
		ids["t_fwhd"][c.Activities[i].ID] = i
	}
	kinds := map[string]int{}
	for _, d := range truth.Defects {
		kinds[d.Kind]++
		i, ok := ids[d.Entity][d.ID]
		if !ok {
			t.Errorf("defect %+v: no such record", d)
			continue
		}
		if d.Kind != "duplicate" && d.Field == "" {
			t.Errorf("defect %+v: no field", d)
		}
		if want := map[bool]string{true: "QUARANTINE", false: "REPAIR"}[quarantine[d.Kind]]; d.Action != want {
			t.Errorf("defect %+v: action %s, want %s", d, d.Action, want)
		}
		value := fieldValue(c, d.Entity, i, d.Field)
		if msg := shows(d.Kind, value); msg != "" {
			t.Errorf("defect %s %s %s.%s: value %.80q %s", d.Kind, d.Entity, d.ID, d.Field, value, msg)
		}
	}
	total := 0
	for _, n := range truth.Counts {
		total += n.Records
	}
	if share := float64(len(truth.Defects)) / float64(total); share < 0.01 || share > 0.04 {
		t.Errorf("defect share %.3f, want ≈0.02", share)
	}
	for _, k := range []string{"id_15", "phone_format", "coord_swapped", "html", "duplicate", "id_checksum", "coord_outside_china", "unknown_code", "missing_field", "gbk_bytes", "oversized_text", "time_no_zone", "time_epoch_ms", "full_width", "chinese_numeral"} {
		if kinds[k] == 0 {
			t.Errorf("no %s defect injected", k)
		}
	}
	// Incidents: both systems, close in place and time.
	if len(truth.Incidents) == 0 {
		t.Fatal("no incidents")
	}
	for _, inc := range truth.Incidents {
		var gov, cty []city.Case
		for _, r := range inc.Records {
			switch r.System {
			case "gov":
				gov = append(gov, c.GovEvents[ids["events"][r.ID]])
			case "city":
				cty = append(cty, c.CityCases[ids["requests"][r.ID]])
			}
		}
		if len(gov) == 0 || len(cty) == 0 {
			t.Errorf("incident %s not in both systems: %+v", inc.Key, inc.Records)
			continue
		}
		for _, a := range gov {
			for _, b := range cty {
				dy := (a.Lat - b.Lat) * 111_000
				dx := (a.Lng - b.Lng) * 111_000 * math.Cos(a.Lat*math.Pi/180)
				if d := math.Hypot(dx, dy); d > 200 {
					t.Errorf("incident %s: cases %.0f m apart", inc.Key, d)
				}
				if dt := math.Abs(float64(a.Reported - b.Reported)); dt > 4*3600 {
					t.Errorf("incident %s: cases %.0f s apart", inc.Key, dt)
				}
			}
		}
	}
	// Persons: every record exists; cross-silo people exist.
	multi := 0
	for _, p := range truth.Persons {
		if !validID(p.IDCard) {
			t.Errorf("person %s: true ID %s invalid", p.Key, p.IDCard)
		}
		systems := map[string]bool{}
		for _, r := range p.Records {
			if _, ok := ids[r.Entity][r.ID]; !ok {
				t.Errorf("person %s: record %+v does not exist", p.Key, r)
			}
			systems[r.System] = true
		}
		if len(systems) > 1 {
			multi++
		}
	}
	if multi < 100 {
		t.Errorf("only %d people appear in more than one system", multi)
	}
}

var quarantine = map[string]bool{"id_checksum": true, "coord_outside_china": true, "unknown_code": true, "missing_field": true, "gbk_bytes": true, "oversized_text": true}

// fieldValue returns the emitted value of a record's field as text.
func fieldValue(c *city.City, entity string, i int, field string) string {
	ff := func(a, b float64) string {
		return strconv.FormatFloat(a, 'f', -1, 64) + "/" + strconv.FormatFloat(b, 'f', -1, 64)
	}
	switch entity {
	case "residents":
		r := c.GovResident(i)
		return map[string]string{"idCard": r.IDCard, "mobile": r.Mobile, "name": r.Name, "residentType": r.ResidentType}[field]
	case "gridWorkers":
		r := c.GovWorker(i)
		return map[string]string{"idCard": r.IDCard, "mobile": r.Mobile, "name": r.Name}[field]
	case "houses":
		r := c.GovHouse(i)
		return map[string]string{"address": r.Address, "lng/lat": ff(r.Lng, r.Lat)}[field]
	case "events":
		r := c.GovEvent(i)
		return map[string]string{"lng/lat": ff(r.Lng, r.Lat), "content": r.Content, "eventSubType": r.EventSubType, "eventType": r.EventType,
			"reporterMobile": r.ReporterMobile, "reporterIdCard": r.ReporterIDCard}[field]
	case "requests":
		r := c.CityRequest(i)
		req := ""
		switch r.RequestedKind {
		case city.KTimeNoZone:
			req = "2006-01-02 15:04:05"
		case city.KTimeEpochMs:
			req = "1700000000000"
		case city.KNone:
			req = "2006-01-02T15:04:05+08:00"
		}
		return map[string]string{"lat/long": ff(r.Long, r.Lat), "description": r.Description, "service_code": r.ServiceCode,
			"requested_datetime": req, "address": r.Address}[field]
	case "t_dy":
		r := c.PartyMember(i, false)
		return map[string]string{"sfzh": r.SFZH, "lxdh": r.LXDH, "jzdz": r.JZDZ, "xm": r.XM, "rdrq": r.RDRQ}[field]
	case "t_hyzz":
		r := c.PartyStation(i)
		return map[string]string{"jd/wd": ff(r.JD, r.WD), "zzlx": r.ZZLX}[field]
	case "t_fwhd":
		r := c.PartyActivity(i)
		return map[string]string{"hdmc": r.HDMC, "dyid": r.DYID}[field]
	}
	return ""
}

// shows checks that a value exhibits a defect kind; "" when it does.
func shows(kind, v string) string {
	digitsOnly := func(s string) bool {
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	switch kind {
	case "id_15":
		if len(v) != 15 {
			return "is not 15 characters"
		}
	case "id_lower_x":
		if !strings.HasSuffix(v, "x") {
			return "has no lower-case x"
		}
	case "id_checksum":
		if validID(v) || len(v) != 18 {
			return "is not an 18-character ID with a wrong check"
		}
	case "phone_format":
		if digitsOnly(v) && len(v) == 11 {
			return "is a plain phone"
		}
	case "full_width":
		if !strings.ContainsAny(v, "０１２３４５６７８９") {
			return "has no full-width digits"
		}
	case "chinese_numeral":
		if !strings.ContainsAny(v, "一二三四五六七八九十") {
			return "has no Chinese numerals"
		}
	case "coord_swapped":
		var a, b float64
		parts := strings.Split(v, "/")
		a, b = atof(parts[0]), atof(parts[1])
		if !(a < 40 && b > 100) {
			return "is not swapped"
		}
	case "coord_outside_china":
		a := atof(strings.Split(v, "/")[0])
		if a > 70 {
			return "is inside China"
		}
	case "html":
		if !strings.Contains(v, "<") {
			return "has no markup"
		}
	case "oversized_text":
		if utf8.RuneCountInString(v) <= 4000 {
			return "is not oversized"
		}
	case "gbk_bytes":
		if utf8.ValidString(v) {
			return "is valid UTF-8"
		}
	case "missing_field":
		if v != "" {
			return "is present"
		}
	case "unknown_code":
		if !strings.HasSuffix(v, "99") && v != "9" && v != "便民服务点" {
			return "is a known code"
		}
	case "time_no_zone":
		if strings.Contains(v, "+") {
			return "has a zone"
		}
	case "time_epoch_ms":
		if !digitsOnly(v) {
			return "is not epoch ms"
		}
	case "name_space":
		if !strings.Contains(v, " ") {
			return "has no space"
		}
	}
	return ""
}

func atof(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
