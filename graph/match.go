package graph

import (
	"context"
	"strings"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
)

// mayDecide refuses principals other than analysts and administrators:
// only they review matches.
func mayDecide(ctx context.Context) error {
	p := auth.From(ctx)
	if p == nil || (p.Role != auth.Admin && p.Role != auth.Analyst) {
		return canon.Errorf(canon.Forbidden, "only analysts and administrators review matches")
	}
	return nil
}

// decideMatch records an analyst's verdict on two cases or two person
// records: the principal must be an analyst or an administrator; the
// decision is audited before it is stored and applied at once — the
// incidents of the two cases regrouped (the hub's resolve.IncidentRegrouper),
// or the persons resolved again (the hub's resolve.PersonResolver) — under it. Both read
// every decision, so it also holds for every later run and re-sync. On a
// replica that does not resolve (Config.Resolving), the incidents are
// regrouped without the regrouper, which holds nothing current there (the
// decision also queues both cases for the replica that resolves), and
// the persons are left to the replica that resolves, after its next pass.
func (r *Resolver) decideMatch(ctx context.Context, a, b string, note *string, accept bool) (*store.MatchDecision, error) {
	if err := mayDecide(ctx); err != nil {
		return nil, err
	}
	p := auth.From(ctx)
	typ, _, err := parseGlobalID(a)
	if err != nil {
		return nil, err
	}
	if typ == typePersonRecord {
		return r.decidePersons(ctx, p, a, b, note, accept)
	}
	ia, err := idOf(a, typeCase)
	if err != nil {
		return nil, err
	}
	ib, err := idOf(b, typeCase)
	if err != nil {
		return nil, err
	}
	if ia == ib {
		return nil, canon.Errorf(canon.BadUserInput, "a and b name the same case")
	}
	cases, err := r.Store.CasesByID(ctx, []int64{ia, ib})
	if err != nil {
		return nil, err
	}
	for i, c := range cases {
		if c == nil {
			return nil, canon.Errorf(canon.NotFound, "no case %s", []string{a, b}[i])
		}
	}
	key := func(c *store.Case) string { return c.Provenance.Source + "/" + c.Provenance.SourceID }
	d := store.MatchDecision{Kind: store.MatchIncident, A: key(cases[0]), B: key(cases[1]), Accept: accept, DecidedBy: p.ID}
	stored, err := r.recordDecision(ctx, d, note, "incident")
	if err != nil {
		return nil, err
	}
	from := cases[0].ReportedAt
	if cases[1].ReportedAt.Before(from) {
		from = cases[1].ReportedAt
	}
	if r.incidents != nil && r.resolves(ctx) {
		_, err = r.incidents.RunFrom(store.Unscoped(ctx), from)
	} else {
		_, err = resolve.RegroupIncidents(store.Unscoped(ctx), r.Store, resolve.DefaultIncidentConfig(), from)
	}
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// decidePersons is decideMatch on two person records (global IDs of
// PersonSourceRecord): the principal must see both (its jurisdiction).
func (r *Resolver) decidePersons(ctx context.Context, p *auth.Principal, a, b string, note *string, accept bool) (*store.MatchDecision, error) {
	ia, err := idOf(a, typePersonRecord)
	if err != nil {
		return nil, err
	}
	ib, err := idOf(b, typePersonRecord)
	if err != nil {
		return nil, err
	}
	if ia == ib {
		return nil, canon.Errorf(canon.BadUserInput, "a and b name the same person record")
	}
	recs, err := r.Store.PersonRecordsByID(ctx, []int64{ia, ib})
	if err != nil {
		return nil, err
	}
	for i, x := range recs {
		if x == nil {
			return nil, canon.Errorf(canon.NotFound, "no person record %s", []string{a, b}[i])
		}
	}
	d := store.MatchDecision{Kind: store.MatchPerson, A: recs[0].Key, B: recs[1].Key, Accept: accept, DecidedBy: p.ID}
	stored, err := r.recordDecision(ctx, d, note, "person")
	if err != nil {
		return nil, err
	}
	var g *address.Gazetteer
	if r.Addresses != nil {
		if g, err = r.Addresses.Gazetteer(ctx); err != nil {
			return nil, err
		}
	}
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	switch {
	case r.persons == nil:
		_, err = resolve.ResolvePersons(store.Unscoped(ctx), r.Store, g, cfg)
	case r.resolves(ctx):
		_, err = r.persons.Run(store.Unscoped(ctx), g)
	default:
		// The replica that resolves reads every decision after its next
		// pass: resolving everything here would hold up the analyst and
		// make that replica resolve everything again too.
	}
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// resolves tells whether this process resolves now (Config.Resolving).
func (r *Resolver) resolves(ctx context.Context) bool {
	return r.resolving == nil || r.resolving(ctx)
}

// recordDecision audits a decision, then stores it.
func (r *Resolver) recordDecision(ctx context.Context, d store.MatchDecision, note *string, field string) (*store.MatchDecision, error) {
	if note != nil {
		d.Note = *note
	}
	action := "rejectMatch"
	if d.Accept {
		action = "acceptMatch"
	}
	if err := r.Store.AppendAudit(ctx, []store.AuditEntry{{Principal: d.DecidedBy, Action: action, Purpose: d.Note,
		Subjects: []string{d.A, d.B}, Fields: []string{field}}}); err != nil {
		return nil, canon.Errorf(canon.Internal, "the decision could not be audited, so it is not made")
	}
	stored, err := r.Store.RecordMatchDecision(ctx, d)
	if err != nil {
		return nil, err
	}
	return &stored, nil
}

// personRecordOfDecision loads the person record a PERSON decision names
// (nil for an INCIDENT decision, or one the principal may not see).
func (r *Resolver) personRecordOfDecision(ctx context.Context, d *store.MatchDecision, key string) (*store.PersonRecord, error) {
	if d.Kind != store.MatchPerson {
		return nil, nil
	}
	return r.Store.PersonRecordByKey(ctx, key)
}

// caseOfKey loads the case a decision names ("source/source_id").
func (r *Resolver) caseOfKey(ctx context.Context, key string) (*store.Case, error) {
	source, id, ok := strings.Cut(key, "/")
	if !ok {
		return nil, canon.Errorf(canon.NotFound, "no case %s", key)
	}
	return r.Store.CaseBySourceID(ctx, source, id)
}
