package party

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/normalize"
)

// row holds the columns of every table; a table uses its own.
type row struct {
	Gxsj    string   `json:"gxsj"`
	Sfyx    *int     `json:"sfyx"`
	Dzzmc   string   `json:"dzzmc"`
	Dzzlb   string   `json:"dzzlb"`
	Sjdzzid string   `json:"sjdzzid"`
	Szsq    string   `json:"szsq"`
	Wgbm    string   `json:"wgbm"`
	Xm      string   `json:"xm"`
	Sfzh    string   `json:"sfzh"`
	Lxdh    string   `json:"lxdh"`
	Dzzid   string   `json:"dzzid"`
	Rdrq    string   `json:"rdrq"`
	Sfzxhz  int      `json:"sfzxhz"`
	Jzdz    string   `json:"jzdz"`
	Dyid    string   `json:"dyid"`
	Bdsq    string   `json:"bdsq"`
	Bdsqbm  string   `json:"bdsqbm"`
	Bddzzid string   `json:"bddzzid"`
	Gzdw    string   `json:"gzdw"`
	Bdrq    string   `json:"bdrq"`
	Zzmc    string   `json:"zzmc"`
	Zzlx    string   `json:"zzlx"`
	Dz      string   `json:"dz"`
	Jd      *float64 `json:"jd"`
	Wd      *float64 `json:"wd"`
	Fwxm    string   `json:"fwxm"`
	Kfsj    string   `json:"kfsj"`
	Sqbm    string   `json:"sqbm"`
	Hdmc    string   `json:"hdmc"`
	Zzid    string   `json:"zzid"`
	Hdrq    string   `json:"hdrq"`
	Fwsc    *float64 `json:"fwsc"`
	Jf      int      `json:"jf"`
}

var recordTypes = map[string]canon.RecordType{"t_dzz": canon.RecordPartyOrg, "t_dy": canon.RecordPartyMember,
	"t_sbd": canon.RecordDualReport, "t_hyzz": canon.RecordServiceStation, "t_fwhd": canon.RecordVolunteerActivity}

func (c *Connector) mapRow(table, id string, raw json.RawMessage, b *connectors.Batch) {
	b.Fetched++
	var r row
	if err := json.Unmarshal(raw, &r); err != nil {
		b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: table, SourceID: id, Reason: "MALFORMED", Message: err.Error(), Raw: raw})
		return
	}
	if r.Sfyx != nil && *r.Sfyx == 0 {
		b.Tombstones = append(b.Tombstones, connectors.Tombstone{Type: recordTypes[table], SourceID: id, Reason: "sfyx=0"})
		return
	}
	rec, err := c.record(table, id, raw, &r)
	if err != nil {
		b.Quarantine = append(b.Quarantine, connectors.QuarantineFor(table, id, raw, err))
		return
	}
	b.Records = append(b.Records, rec)
}

func (c *Connector) record(table, id string, raw json.RawMessage, r *row) (any, error) {
	updated, _, err := c.cfg.Times.ParseString("gxsj", r.Gxsj)
	if err != nil {
		return nil, err
	}
	p := canon.Provenance{Source: c.cfg.Name, SourceID: id, SourceUpdatedAt: updated, FetchedAt: c.cfg.Now(), PayloadHash: connectors.PayloadHash(raw)}
	switch table {
	case "t_dzz":
		kind, err := normalize.PartyOrgKind("dzzlb", r.Dzzlb)
		if err != nil {
			return nil, err
		}
		name, err := normalize.Text("dzzmc", r.Dzzmc, 200)
		if err != nil || name == "" {
			return nil, missing(err, "dzzmc")
		}
		grid := ""
		if c.cfg.Layer.IsGrid(r.Wgbm) {
			grid = r.Wgbm
		}
		return &canon.PartyOrg{Provenance: p, Name: name, Kind: kind, ParentSourceID: r.Sjdzzid, CommunityName: r.Szsq, GridCode: grid}, nil
	case "t_dy":
		person, defects, err := c.person(r.Xm, r.Sfzh, r.Lxdh)
		if err != nil {
			return nil, err
		}
		p.FieldDefects = append(p.FieldDefects, defects...)
		joined, err := c.date("rdrq", r.Rdrq)
		if err != nil {
			return nil, err
		}
		addr, err := normalize.Text("jzdz", r.Jzdz, 500)
		if err != nil {
			return nil, err
		}
		person.Address = addr
		return &canon.PartyMember{Provenance: p, Person: person, OrgSourceID: r.Dzzid, JoinedOn: joined, CentralHousehold: r.Sfzxhz == 1, AddressRaw: addr}, nil
	case "t_sbd":
		on, err := c.date("bdrq", r.Bdrq)
		if err != nil {
			return nil, err
		}
		if r.Dyid == "" {
			return nil, &normalize.Defect{Reason: normalize.MissingField, Field: "dyid", Message: "registration names no member"}
		}
		return &canon.DualReport{Provenance: p, MemberSourceID: r.Dyid, CommunityCode: r.Bdsqbm, CommunityName: r.Bdsq,
			BranchSourceID: r.Bddzzid, Employer: r.Gzdw, ReportedOn: on}, nil
	case "t_hyzz":
		kind, err := normalize.StationKind("zzlx", r.Zzlx)
		if err != nil {
			return nil, err
		}
		var loc *canon.Location
		if r.Wd != nil && r.Jd != nil {
			l, _, err := normalize.NormalizePoint("wd/jd", *r.Wd, *r.Jd, c.cfg.Datum)
			switch {
			case err == nil:
				loc = &l
			case strings.TrimSpace(r.Dz) != "": // optional beside an address: kept without it
				p.FieldDefects = append(p.FieldDefects, normalize.FieldDefect(err, fmt.Appendf(nil, "%v,%v", *r.Wd, *r.Jd)))
			default:
				return nil, err
			}
		}
		var services []string
		for _, s := range strings.Split(r.Fwxm, "、") {
			if s = strings.TrimSpace(s); s != "" {
				services = append(services, s)
			}
		}
		return &canon.ServiceStation{Provenance: p, Name: r.Zzmc, Kind: kind, Address: r.Dz, Location: loc, Services: services,
			OpeningHours: r.Kfsj, CommunityCode: r.Sqbm}, nil
	case "t_fwhd":
		if strings.TrimSpace(r.Dyid) == "" { // an activity is a member's service
			return nil, &normalize.Defect{Reason: normalize.MissingField, Field: "dyid", Message: "activity names no member"}
		}
		on, err := c.date("hdrq", r.Hdrq)
		if err != nil {
			return nil, err
		}
		hours := 0.0
		if r.Fwsc != nil {
			hours = *r.Fwsc
		}
		title, err := normalize.Text("hdmc", r.Hdmc, 200)
		if err != nil {
			return nil, err
		}
		return &canon.VolunteerActivity{Provenance: p, Title: title, MemberSourceID: r.Dyid, StationSourceID: r.Zzid, HeldOn: on, Hours: hours, Points: r.Jf}, nil
	}
	return nil, fmt.Errorf("unknown table %s", table)
}

func (c *Connector) date(field, s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, _, err := c.cfg.Times.ParseDate(field, s)
	return t, err
}

func (c *Connector) person(name, idCard, phone string) (canon.PersonRef, []canon.FieldDefect, error) {
	return normalize.Person(c.cfg.Keys, normalize.PersonFields{Name: "xm", IDCard: "sfzh", Phone: "lxdh", RequireID: true}, name, idCard, phone)
}

func missing(err error, field string) error {
	if err != nil {
		return err
	}
	return &normalize.Defect{Reason: normalize.MissingField, Field: field, Message: "empty"}
}
