package city

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// TruthFormat is the value of the ground truth's "format" member.
const TruthFormat = "ywtg-sim-truth/1"

// SourceID returns the source identifier of record i of entity e as the
// source system publishes it (a decimal id for the governance API, the
// service_request_id for city management, the primary key for party
// tables).
func (c *City) SourceID(e Entity, i int) string {
	switch e {
	case GovGrids, GovWorkers, GovHouses, GovResidents, GovEvents:
		return strconv.Itoa(i + 1)
	case CityRequests:
		return unix(c.CityCases[i].Reported).Format("20060102") + fmt.Sprintf("%07d", i+1)
	case PartyOrgs:
		return c.Orgs[i].ID
	case PartyMembers:
		return c.Members[i].ID
	case PartyDualReports:
		return c.DualReports[i].ID
	case PartyStations:
		return c.Stations[i].ID
	case PartyActivities:
		return c.Activities[i].ID
	}
	return ""
}

// TruthRecord names one source record.
type TruthRecord struct {
	System string `json:"system"`
	Entity string `json:"entity"`
	ID     string `json:"id"`
	Role   string `json:"role,omitempty"`
}

// TruthPerson is a real person and every source record that refers to them.
type TruthPerson struct {
	Key     string        `json:"key"`
	IDCard  string        `json:"idCard"`
	Name    string        `json:"name"`
	Records []TruthRecord `json:"records"`
}

// TruthIncident is a set of cases from different systems that are the same
// real-world problem.
type TruthIncident struct {
	Key     string        `json:"key"`
	Records []TruthRecord `json:"records"`
}

// TruthDefect is one injected defect.
type TruthDefect struct {
	System      string `json:"system"`
	Entity      string `json:"entity"`
	ID          string `json:"id"`
	Field       string `json:"field"`
	Kind        string `json:"kind"`
	Action      string `json:"action"`
	DuplicateOf string `json:"duplicateOf,omitempty"`
}

// TruthCount is the number of records of one entity at generation time.
type TruthCount struct {
	System     string `json:"system"`
	Entity     string `json:"entity"`
	Records    int    `json:"records"`
	Deleted    int    `json:"deleted"`
	Duplicates int    `json:"duplicates"`
	Quarantine int    `json:"quarantine"`
}

// Truth is the whole ground truth as decoded from the JSON file (see the
// package documentation for the format).
type Truth struct {
	Format    string          `json:"format"`
	Seed      uint64          `json:"seed"`
	Scale     string          `json:"scale"`
	DirtyRate float64         `json:"dirtyRate"`
	Reference string          `json:"reference"`
	Counts    []TruthCount    `json:"counts"`
	Persons   []TruthPerson   `json:"persons"`
	Incidents []TruthIncident `json:"incidents"`
	Defects   []TruthDefect   `json:"defects"`
}

// Defects returns every injected defect in a fixed order (entity, then
// record index).
func (c *City) Defects() []TruthDefect {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []TruthDefect
	add := func(e Entity, i int, k Kind) {
		if k == KNone {
			return
		}
		d := TruthDefect{System: e.System(), Entity: e.Name(), ID: c.SourceID(e, i), Field: DefectField(e, k), Kind: k.String(), Action: k.Action()}
		if e == PartyMembers && k == KDuplicate {
			d.DuplicateOf, d.ID = d.ID, c.Members[i].DupID
		}
		out = append(out, d)
	}
	for i := range c.Workers {
		add(GovWorkers, i, c.Workers[i].Def)
	}
	for i := range c.Households {
		add(GovHouses, i, c.Households[i].Def)
	}
	for i := range c.People {
		add(GovResidents, i, c.People[i].Def)
	}
	for i := range c.GovEvents {
		add(GovEvents, i, c.GovEvents[i].Def)
	}
	for i := range c.CityCases {
		add(CityRequests, i, c.CityCases[i].Def)
	}
	for i := range c.Members {
		add(PartyMembers, i, c.Members[i].Def)
	}
	for i := range c.Stations {
		add(PartyStations, i, c.Stations[i].Def)
	}
	for i := range c.Activities {
		add(PartyActivities, i, c.Activities[i].Def)
	}
	return out
}

// WriteTruth writes the ground truth as JSON (one person, incident or
// defect per line, so large files stay greppable). The output is
// byte-identical for the same configuration and the same live changes.
func (c *City) WriteTruth(w io.Writer) error {
	defects := c.Defects()
	counts := c.Counts()
	c.mu.RLock()
	defer c.mu.RUnlock()
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // plain structs of strings cannot fail
		}
		bw.Write(b)
	}
	fmt.Fprintf(bw, "{\"format\":%q,\"seed\":%d,\"scale\":%q,\"dirtyRate\":%s,\"reference\":%q,\n\"counts\":[",
		TruthFormat, c.cfg.Seed, c.cfg.Scale, strconv.FormatFloat(c.cfg.DirtyRate, 'f', -1, 64), c.cfg.Reference.Format(time.RFC3339))
	for i, n := range counts {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		enc(TruthCount{System: n.Entity.System(), Entity: n.Entity.Name(), Records: n.Records, Deleted: n.Deleted, Duplicates: n.Duplicates, Quarantine: n.Quarantine})
	}
	bw.WriteString("],\n\"persons\":[")
	// Links from people to the records naming them, sorted by person.
	type link struct {
		person int32
		e      Entity
		i      int32
		role   string
	}
	var links []link
	for i, w := range c.Workers {
		links = append(links, link{w.Person, GovWorkers, int32(i), "gridWorker"})
	}
	for i, ev := range c.GovEvents {
		if ev.Person >= 0 {
			links = append(links, link{ev.Person, GovEvents, int32(i), "reporter"})
		}
	}
	for i, m := range c.Members {
		links = append(links, link{m.Person, PartyMembers, int32(i), "member"})
	}
	slices.SortStableFunc(links, func(a, b link) int { return cmp.Compare(a.person, b.person) })
	k := 0
	recs := make([]TruthRecord, 0, 8)
	for pi := range c.People {
		p := &c.People[pi]
		recs = append(recs[:0], TruthRecord{"gov", "residents", strconv.Itoa(pi + 1), "resident"})
		for ; k < len(links) && links[k].person == int32(pi); k++ {
			l := links[k]
			recs = append(recs, TruthRecord{l.e.System(), l.e.Name(), c.SourceID(l.e, int(l.i)), l.role})
			if l.e == PartyMembers && c.Members[l.i].Def == KDuplicate {
				recs = append(recs, TruthRecord{"party", "t_dy", c.Members[l.i].DupID, "member"})
			}
		}
		if pi > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		enc(TruthPerson{Key: fmt.Sprintf("P%07d", pi+1), IDCard: p.ID, Name: p.Name, Records: recs})
	}
	bw.WriteString("],\n\"incidents\":[")
	for ii, inc := range c.Incidents {
		if ii > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		ti := TruthIncident{Key: fmt.Sprintf("I%06d", ii+1)}
		for _, i := range inc.Gov {
			ti.Records = append(ti.Records, TruthRecord{System: "gov", Entity: "events", ID: c.SourceID(GovEvents, int(i))})
		}
		for _, i := range inc.City {
			ti.Records = append(ti.Records, TruthRecord{System: "city", Entity: "requests", ID: c.SourceID(CityRequests, int(i))})
		}
		enc(ti)
	}
	bw.WriteString("],\n\"defects\":[")
	for i, d := range defects {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		enc(d)
	}
	bw.WriteString("]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write ground truth: %w", err)
	}
	return nil
}
