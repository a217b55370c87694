package resolve

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
)

// PersonTrust ranks the roles of person records for survivorship: the
// population register (residents) first, then the party's and the grid's
// records of their own people, then what a reporter said on the phone.
var PersonTrust = map[string]int{"RESIDENT": 3, "PARTY_MEMBER": 2, "GRID_WORKER": 2, "REPORTER": 1}

// PersonsResolved is what ResolvePersons read and wrote.
type PersonsResolved struct {
	store.PersonsApplied
	Records  int // person records read
	Persons  int // persons they make
	Linked   int // probabilistic and accepted links
	Review   int // pairs waiting for a decision
	Resolved time.Duration
}

// ResolvePersons resolves every person record of the store (store.PersonLinks)
// under the analysts' decisions (match_decision, kind PERSON) and writes the
// result (store.Writer.ApplyPersonResolution): deterministic links by valid
// ID hash first, then Resolve. Record keys are "source/ROLE/source_id"; a
// record's source for survivorship is its role (PersonTrust). The dwelling
// compared is a building: a resident's household's, a party member's linked
// home, else the building the address service finds for the address the
// record states (g; nil: only the store's). A cluster's person is the
// person of its valid ID hash, else the oldest person of its records; the
// others are merged into it (their IDs keep naming it), and a person that
// was merged and leads a cluster again is split off with a history entry.
// The result is a function of the records and decisions, so a full
// re-resolution (after `hub sync --full`) gives the same persons. The
// context decides the access: internal work, so store.Unscoped.
func ResolvePersons(ctx context.Context, st *store.Store, g *address.Gazetteer, cfg Config) (PersonsResolved, error) {
	var out PersonsResolved
	links, err := st.PersonLinks(ctx)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	out.Records = len(links)
	byKey := make(map[string]*store.PersonLink, len(links))
	recs := make([]Record, len(links))
	places := map[string]string{}
	for i := range links {
		l := &links[i]
		byKey[l.Key] = l
		r := Record{Key: l.Key, Source: l.Role, Name: l.Name, Updated: l.Updated}
		if len(l.IDHash) > 0 {
			r.IDHash = hex.EncodeToString(l.IDHash)
		}
		if len(l.PhoneHash) > 0 {
			r.PhoneHash = hex.EncodeToString(l.PhoneHash)
		}
		if l.Birth != nil {
			r.Birth = l.Birth.Format("20060102")
		}
		switch l.Gender {
		case "MALE":
			r.Gender = "M"
		case "FEMALE":
			r.Gender = "F"
		}
		switch {
		case l.BuildingID != nil:
			r.Place = "b" + strconv.FormatInt(*l.BuildingID, 10)
		case l.Address != "" && g != nil:
			p, ok := places[l.Address]
			if !ok {
				if m := Building(g, l.Address, address.Address{}); m.BuildingID != "" {
					p = "b" + m.BuildingID
				}
				places[l.Address] = p
			}
			r.Place = p
		}
		recs[i] = r
	}
	stored, err := st.MatchDecisions(ctx, store.MatchPerson)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	decisions := make([]Decision, len(stored))
	for i, d := range stored {
		decisions[i] = Decision{A: d.A, B: d.B, Accept: d.Accept}
	}
	t0 := time.Now()
	res, err := Resolve(recs, decisions, cfg)
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	out.Resolved = time.Since(t0)
	plan := PersonPlan(res, byKey, cfg)
	out.Persons, out.Linked, out.Review = len(plan.Persons), len(res.Links), len(res.Review)
	err = st.InTx(ctx, func(w *store.Writer) error {
		var err error
		out.PersonsApplied, err = w.ApplyPersonResolution(ctx, plan)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("resolve persons: %w", err)
	}
	return out, nil
}

// PersonPlan turns a resolution of the store's person records into what
// the store writes: each cluster's survivor (the person of its valid ID
// hash, else the smallest person of its records), the persons merged into
// it, its golden record with provenance, each record's person and match,
// and the evidence of the links and of the review queue.
func PersonPlan(res *Result, byKey map[string]*store.PersonLink, cfg Config) store.PersonResolution {
	var plan store.PersonResolution
	accepted := map[string]bool{}
	for _, p := range res.Links {
		if p.Outcome == Accepted {
			accepted[p.A], accepted[p.B] = true, true
		}
	}
	for c, members := range res.Clusters {
		var survivor int64
		own := map[int64]bool{}
		for _, i := range members {
			l := byKey[res.Records[i].Key]
			own[l.OwnID] = true
			if len(l.IDHash) > 0 {
				survivor = l.OwnID
			}
		}
		ids := make([]int64, 0, len(own))
		for id := range own {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if survivor == 0 {
			survivor = ids[0]
		}
		p := store.ResolvedPerson{ID: survivor, Provenance: map[string]string{}}
		for _, id := range ids {
			if id != survivor {
				p.Merged = append(p.Merged, id)
			}
		}
		gold := res.Golden(c, cfg.Trust)
		p.Name, p.NameMasked = gold.Name.Value, pii.MaskName(gold.Name.Value)
		switch gold.Gender.Value {
		case "M":
			p.Gender = "MALE"
		case "F":
			p.Gender = "FEMALE"
		}
		if b, err := time.Parse("20060102", gold.Birth.Value); err == nil {
			p.Birth = &b
		}
		if h, err := hex.DecodeString(gold.Phone.Value); err == nil && len(h) > 0 {
			p.PhoneHash, p.PhoneFrom = h, byKey[gold.Phone.Record].OwnID
		}
		for field, v := range map[string]Value{"name": gold.Name, "gender": gold.Gender, "birthDate": gold.Birth,
			"phone": gold.Phone, "address": gold.Place, "idNumber": gold.IDHash} {
			if v.Record != "" {
				p.Provenance[field] = v.Record
			}
		}
		plan.Persons = append(plan.Persons, p)
		for _, i := range members {
			r := &res.Records[i]
			m := "PROBABILISTIC"
			switch {
			case r.IDHash != "":
				m = "ID_HASH"
			case len(members) == 1:
				m = "NONE"
			case accepted[r.Key]:
				m = "DECISION"
			}
			plan.Records = append(plan.Records, store.ResolvedRecord{Key: r.Key, PersonID: survivor, MatchedBy: m})
		}
	}
	seen := map[[2]string]bool{}
	for _, set := range [][]Pair{res.Links, res.Review} {
		for _, p := range set {
			if seen[[2]string{p.A, p.B}] {
				continue
			}
			seen[[2]string{p.A, p.B}] = true
			outcome := string(p.Outcome)
			if p.Outcome != Linked && p.Outcome != Accepted {
				outcome = string(Review)
			}
			plan.Pairs = append(plan.Pairs, store.PersonPair{A: p.A, B: p.B, Outcome: outcome, Total: p.Total, Fields: fieldsJSON(p.Fields)})
		}
	}
	return plan
}

// fieldsJSON is the evidence of a pair as the store keeps it.
func fieldsJSON(fs []FieldWeight) json.RawMessage {
	type fw struct {
		Field  string  `json:"field"`
		Level  string  `json:"level"`
		Weight float64 `json:"weight"`
	}
	out := make([]fw, len(fs))
	for i, f := range fs {
		out[i] = fw{f.Field, f.Level, f.Weight}
	}
	js, _ := json.Marshal(out)
	return js
}
