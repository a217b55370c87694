package connectors_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim/city"
)

// truthKey names a source record as the ground truth does.
type truthKey struct{ system, entity, id string }

// entityOf maps a connector's source and stream onto the truth's system
// and entity.
func entityOf(source, stream string) (string, string) {
	switch source {
	case "party":
		return "party", stream
	case "governance":
		return "gov", stream
	}
	return "city", "requests" // Open311 requests and CSV rows alike
}

// quarantineReason is the reason a correct hub gives each quarantine kind.
var quarantineReason = map[string]connectors.Reason{
	"id_checksum": "BAD_CHECKSUM", "coord_outside_china": "OUT_OF_CHINA", "unknown_code": "UNKNOWN_CODE",
	"missing_field": "MISSING_FIELD", "gbk_bytes": "BAD_ENCODING", "oversized_text": "TEXT_TOO_LONG",
}

// csvColumns are the CSV export's names of the Open311 fields the truth names.
var csvColumns = map[string]string{"上报时间": "requested_datetime", "经度/纬度": "lat/long", "问题描述": "description",
	"案件类型/大类代码/小类代码": "service_code", "地址": "address"}

// sameField compares a quarantine's field with the truth's: the same
// name, the CSV column of the same field, or the same pair of coordinate
// fields in either order ("lat/lng" is "lng/lat").
func sameField(source, got, want string) bool {
	if source == "citymgmt-archive" {
		if f, ok := csvColumns[got]; ok {
			got = f
		}
	}
	if got == want {
		return true
	}
	g, w := strings.Split(got, "/"), strings.Split(want, "/")
	slices.Sort(g)
	slices.Sort(w)
	return len(g) == 2 && slices.Equal(g, w)
}

// outcome is what one source made of one native record.
type outcome struct {
	records    []any
	quarantine []connectors.Quarantine
}

// TestGroundTruthDefects runs every connector over the whole small city and
// checks every injected defect against the generator's ground truth: each
// QUARANTINE defect is quarantined with the right reason and field, each
// REPAIR defect is mapped to a record holding the repaired value, and
// nothing is quarantined that the truth did not mark. The city of seed 1
// has the default defect rate; the second run injects a defect into a
// quarter of the records, so that every kind of every entity occurs.
func TestGroundTruthDefects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		seed  uint64
		dirty float64
	}{{"seed 1, default rate", 1, 0}, {"seed 7, rate 0.25", 7, 0.25}} {
		t.Run(tc.name, func(t *testing.T) { groundTruth(t, tc.seed, tc.dirty) })
	}
}

func groundTruth(t *testing.T, seed uint64, dirty float64) {
	sys, keys, conns := simCity(t, seed, dirty)
	raw, err := os.ReadFile(sys.TruthPath)
	if err != nil {
		t.Fatal(err)
	}
	var truth city.Truth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	// Everything every connector read, by source and record.
	bySource := map[string]map[truthKey]*outcome{}
	for _, c := range conns {
		p := pullAll(t, c)
		m := map[truthKey]*outcome{}
		for _, stream := range p.streams {
			sys, ent := entityOf(p.source, stream)
			at := func(id string) *outcome {
				k := truthKey{sys, ent, id}
				if m[k] == nil {
					m[k] = &outcome{}
				}
				return m[k]
			}
			b := p.batches[stream]
			for _, r := range b.Records {
				o := at(provenanceOf(r).SourceID)
				o.records = append(o.records, r)
			}
			for _, q := range b.Quarantine {
				o := at(q.SourceID)
				o.quarantine = append(o.quarantine, q)
			}
		}
		bySource[p.source] = m
	}
	// The CSV export holds the cases of the days before its last file.
	csvLast := ""
	if files, _ := os.ReadDir(sys.CSVDir); len(files) > 0 {
		for _, f := range files {
			if n := f.Name(); strings.HasPrefix(n, "cases_") && n[6:14] > csvLast {
				csvLast = n[6:14]
			}
		}
	}
	sourcesOf := func(d city.TruthDefect) []string {
		switch d.System {
		case "party":
			return []string{"party"}
		case "gov":
			return []string{"governance"}
		}
		if d.ID[:8] <= csvLast {
			return []string{"citymgmt", "citymgmt-archive"}
		}
		return []string{"citymgmt"}
	}
	check := repairChecks(sys.City, keys)

	type cell struct{ kind, action, source string }
	tally := map[cell][2]int{} // checked, failed
	marked := map[string]map[truthKey]bool{}
	failures := 0
	fail := func(format string, args ...any) {
		failures++
		if failures <= 60 {
			t.Errorf(format, args...)
		}
	}
	for _, d := range truth.Defects {
		k := truthKey{d.System, d.Entity, d.ID}
		for _, src := range sourcesOf(d) {
			if marked[src] == nil {
				marked[src] = map[truthKey]bool{}
			}
			c := cell{d.Kind, d.Action, src}
			n := tally[c]
			n[0]++
			ok := true
			o := bySource[src][k]
			switch {
			case o == nil:
				fail("%s %s/%s %s (%s %s): not read at all", src, d.Entity, d.ID, d.Kind, d.Action, d.Field)
				ok = false
			case d.Action == "QUARANTINE" && len(o.records) > 0 && fieldDefect(o.records[len(o.records)-1], quarantineReason[d.Kind], src, d.Field):
				// An optional value refused (the position of a record
				// that has an address): the record is kept without it,
				// and the value is quarantined at field level.
				marked[src][k] = true
			case d.Action == "QUARANTINE":
				marked[src][k] = true
				if len(o.records) > 0 {
					fail("%s %s/%s %s: stored, should be quarantined as %s", src, d.Entity, d.ID, d.Kind, quarantineReason[d.Kind])
					ok = false
					break
				}
				q := o.quarantine[0]
				if q.Reason != quarantineReason[d.Kind] || !sameField(src, q.Field, d.Field) {
					fail("%s %s/%s %s: quarantined as %s/%s (%s), want %s/%s", src, d.Entity, d.ID, d.Kind, q.Reason, q.Field, q.Message, quarantineReason[d.Kind], d.Field)
					ok = false
				}
			default:
				if len(o.records) == 0 {
					q := o.quarantine[0]
					fail("%s %s/%s %s (%s): quarantined as %s/%s (%s), should be repaired", src, d.Entity, d.ID, d.Kind, d.Field, q.Reason, q.Field, q.Message)
					ok = false
					break
				}
				if err := check(d, o.records[len(o.records)-1], bySource[src]); err != nil {
					fail("%s %s/%s %s (%s): %v", src, d.Entity, d.ID, d.Kind, d.Field, err)
					ok = false
				}
			}
			if !ok {
				n[1]++
			}
			tally[c] = n
		}
	}
	// Nothing is quarantined that the truth did not mark.
	for src, m := range bySource {
		for k, o := range m {
			if len(o.quarantine) > 0 && !marked[src][k] {
				q := o.quarantine[0]
				fail("%s %s/%s quarantined as %s/%s (%s), the truth marks no defect", src, k.entity, k.id, q.Reason, q.Field, q.Message)
			}
		}
	}
	// The tally.
	cells := make([]cell, 0, len(tally))
	for c := range tally {
		cells = append(cells, c)
	}
	sort.Slice(cells, func(i, j int) bool {
		a, b := cells[i], cells[j]
		return cmp.Or(cmp.Compare(a.action, b.action), cmp.Compare(a.kind, b.kind), cmp.Compare(a.source, b.source)) < 0
	})
	var tb strings.Builder
	fmt.Fprintf(&tb, "\n%-20s %-11s %-17s %7s %7s\n", "kind", "action", "source", "checked", "failed")
	total := [2]int{}
	for _, c := range cells {
		n := tally[c]
		total[0], total[1] = total[0]+n[0], total[1]+n[1]
		fmt.Fprintf(&tb, "%-20s %-11s %-17s %7d %7d\n", c.kind, c.action, c.source, n[0], n[1])
	}
	fmt.Fprintf(&tb, "%-20s %-11s %-17s %7d %7d\n", "total", "", "", total[0], total[1])
	t.Log(tb.String())
	if failures > 0 {
		t.Errorf("%d failures in all", failures)
	}
}

// fieldDefect reports whether a record was stored without the value of
// field, refused for reason, as a field-level quarantine entry.
func fieldDefect(rec any, reason connectors.Reason, source, field string) bool {
	for _, f := range provenanceOf(rec).FieldDefects {
		if f.Reason == string(reason) && sameField(source, f.Field, field) {
			// A refused position is not stored at all.
			return reason != "OUT_OF_CHINA" || locationOf(rec) == nil
		}
	}
	return false
}

func provenanceOf(r any) canon.Provenance {
	switch r := r.(type) {
	case *canon.Case:
		return r.Provenance
	case *canon.Household:
		return r.Provenance
	case *canon.Resident:
		return r.Provenance
	case *canon.GridWorker:
		return r.Provenance
	case *canon.PartyOrg:
		return r.Provenance
	case *canon.PartyMember:
		return r.Provenance
	case *canon.DualReport:
		return r.Provenance
	case *canon.ServiceStation:
		return r.Provenance
	case *canon.VolunteerActivity:
		return r.Provenance
	}
	panic(fmt.Sprintf("record type %T", r))
}

func personOf(r any) *canon.PersonRef {
	switch r := r.(type) {
	case *canon.Resident:
		return &r.Person
	case *canon.GridWorker:
		return &r.Person
	case *canon.PartyMember:
		return &r.Person
	case *canon.Case:
		return r.Reporter
	}
	return nil
}

func locationOf(r any) *canon.Location {
	switch r := r.(type) {
	case *canon.Case:
		return r.Location
	case *canon.Household:
		return r.Location
	case *canon.ServiceStation:
		return r.Location
	}
	return nil
}

// textOf returns the text field a defect landed in.
func textOf(r any, field string) (string, bool) {
	switch r := r.(type) {
	case *canon.Case:
		switch field {
		case "description", "content":
			return r.Description, true
		case "address":
			return r.Address, true
		}
	case *canon.Household:
		return r.AddressRaw, field == "address"
	case *canon.PartyMember:
		return r.AddressRaw, field == "jzdz"
	case *canon.VolunteerActivity:
		return r.Title, field == "hdmc"
	}
	return "", false
}

var (
	fullWidth      = regexp.MustCompile(`[\x{FF01}-\x{FF5E}\x{3000}]`)
	chineseNumeral = regexp.MustCompile(`[〇零一二三四五六七八九十百千两]+(栋|幢|单元|号楼|号|室|层|楼)`)
)

// repairChecks returns the check of a REPAIR defect's record: the value the
// defect damaged holds what the generator knows to be true.
func repairChecks(c *city.City, keys *pii.Keys) func(d city.TruthDefect, rec any, all map[truthKey]*outcome) error {
	members := map[string]int{}
	for i, m := range c.Members {
		members[m.ID] = i
		if m.DupID != "" {
			members[m.DupID] = i
		}
	}
	stations := map[string]int{}
	for i, s := range c.Stations {
		stations[s.ID] = i
	}
	// person returns the true person of a record, -1 when none.
	person := func(entity, id string) int32 {
		n, _ := strconv.Atoi(id)
		switch entity {
		case "residents":
			return int32(n - 1)
		case "gridWorkers":
			return c.Workers[n-1].Person
		case "events":
			return c.GovEvents[n-1].Person
		case "t_dy":
			return c.Members[members[id]].Person
		}
		return -1
	}
	// position returns the true WGS-84 position of a record.
	position := func(entity, id string) (float64, float64) {
		n, _ := strconv.Atoi(id)
		switch entity {
		case "houses":
			b := c.Buildings[c.Households[n-1].Building]
			return b.Lng, b.Lat
		case "events":
			return c.GovEvents[n-1].Lng, c.GovEvents[n-1].Lat
		case "requests":
			i := c.CityIndex(id)
			return c.CityCases[i].Lng, c.CityCases[i].Lat
		case "t_hyzz":
			s := c.Stations[stations[id]]
			return s.Lng, s.Lat
		}
		return math.NaN(), math.NaN()
	}
	return func(d city.TruthDefect, rec any, all map[truthKey]*outcome) error {
		switch d.Kind {
		case "id_15", "id_lower_x", "phone_format", "full_width", "name_space":
			if d.Kind == "full_width" && (d.Field == "address" || d.Field == "jzdz") {
				break
			}
			pi := person(d.Entity, d.ID)
			p := personOf(rec)
			if pi < 0 || p == nil {
				return fmt.Errorf("no person on the record")
			}
			truePerson := c.People[pi]
			switch {
			case strings.Contains(strings.ToLower(d.Field), "idcard") || d.Field == "sfzh":
				if !bytes.Equal(p.IDHash, keys.Hash("id", truePerson.ID)) {
					return fmt.Errorf("citizen ID not the person's true 18-digit ID")
				}
			case strings.Contains(strings.ToLower(d.Field), "mobile") || d.Field == "lxdh":
				if !bytes.Equal(p.PhoneHash, keys.Hash("phone", truePerson.Phone)) {
					return fmt.Errorf("phone %s not the person's true number", p.PhoneMasked)
				}
			default:
				if p.Name != truePerson.Name {
					return fmt.Errorf("name %q, the person is %q", p.Name, truePerson.Name)
				}
			}
			return nil
		case "coord_swapped":
			loc := locationOf(rec)
			lng, lat := position(d.Entity, d.ID)
			if loc == nil {
				return fmt.Errorf("no location")
			}
			if m := metres(loc.Lng, loc.Lat, lng, lat); m > 1 {
				return fmt.Errorf("position %.6f,%.6f is %.1f m from the true %.6f,%.6f", loc.Lng, loc.Lat, m, lng, lat)
			}
			return nil
		case "time_no_zone", "time_epoch_ms":
			switch r := rec.(type) {
			case *canon.Case:
				want := c.CityCases[c.CityIndex(d.ID)].Reported
				if r.ReportedAt.Unix() != want {
					return fmt.Errorf("reported %s, truly %s", r.ReportedAt, time.Unix(want, 0).In(city.CST))
				}
			case *canon.PartyMember:
				want := time.Unix(c.Members[members[d.ID]].Joined, 0).In(city.CST).Format(time.DateOnly)
				if got := r.JoinedOn.In(city.CST).Format(time.DateOnly); got != want {
					return fmt.Errorf("joined %s, truly %s", got, want)
				}
			default:
				return fmt.Errorf("record %T has no such time", rec)
			}
			return nil
		case "html":
			s, ok := textOf(rec, d.Field)
			if !ok {
				return fmt.Errorf("record %T has no field %s", rec, d.Field)
			}
			if strings.ContainsAny(s, "<>") || regexp.MustCompile(`&[a-z#0-9]+;`).MatchString(s) {
				return fmt.Errorf("markup left: %.80q", s)
			}
			return nil
		case "duplicate":
			if d.DuplicateOf == "" {
				return nil // delivered twice, read as one record
			}
			orig := all[truthKey{d.System, d.Entity, d.DuplicateOf}]
			if orig == nil || len(orig.records) == 0 {
				return fmt.Errorf("the original %s was not stored", d.DuplicateOf)
			}
			a, b := personOf(rec), personOf(orig.records[0])
			if a == nil || b == nil || !bytes.Equal(a.IDHash, b.IDHash) {
				return fmt.Errorf("double entry not linked to the same person as %s", d.DuplicateOf)
			}
			return nil
		}
		switch d.Kind {
		case "full_width", "chinese_numeral":
			// Every record keeps the address as reported. For a case the
			// repair is its standardised line (the address service's);
			// for households and members the building and unit it parses
			// to, which must be the true ones.
			var h *city.Household
			switch r := rec.(type) {
			case *canon.Case:
				if line := address.Parse(r.Address).Normalized; fullWidth.MatchString(line) || chineseNumeral.MatchString(line) {
					return fmt.Errorf("address %q standardised as %q", r.Address, line)
				}
				return nil
			case *canon.Household:
				n, _ := strconv.Atoi(d.ID)
				h = &c.Households[n-1]
				if want := strconv.Itoa(int(c.Buildings[h.Building].No)); r.BuildingNo != want || r.Unit != strconv.Itoa(int(h.Unit)) {
					return fmt.Errorf("building %q unit %q, truly %s-%d", r.BuildingNo, r.Unit, want, h.Unit)
				}
			case *canon.PartyMember:
				h = &c.Households[c.People[c.Members[members[d.ID]].Person].Household]
			default:
				return fmt.Errorf("record %T has no field %s", rec, d.Field)
			}
			raw, _ := textOf(rec, d.Field)
			a := address.Parse(raw)
			if want := strconv.Itoa(int(c.Buildings[h.Building].No)); a.Building != want || a.Unit != strconv.Itoa(int(h.Unit)) {
				return fmt.Errorf("%q reads as building %q unit %q, truly %s-%d", raw, a.Building, a.Unit, want, h.Unit)
			}
			return nil
		}
		return fmt.Errorf("no check for defect kind %s", d.Kind)
	}
}

// metres is the distance between two WGS-84 points (equirectangular, fine
// at these distances).
func metres(lng1, lat1, lng2, lat2 float64) float64 {
	const r = 6371000.0
	x := (lng2 - lng1) * math.Pi / 180 * math.Cos((lat1+lat2)/2*math.Pi/180)
	y := (lat2 - lat1) * math.Pi / 180
	return r * math.Hypot(x, y)
}
