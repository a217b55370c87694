package graph

import (
	"context"
	"strings"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
)

// decideMatch records an analyst's verdict on two cases: the principal must
// be an analyst or an administrator; the decision is audited before it is
// stored, and the incidents of the two cases are regrouped at once under
// it (resolve.RegroupIncidents reads every decision, so it also holds for
// every later regrouping and re-sync).
func (r *Resolver) decideMatch(ctx context.Context, a, b string, note *string, accept bool) (*store.MatchDecision, error) {
	p := auth.From(ctx)
	if p == nil || (p.Role != auth.Admin && p.Role != auth.Analyst) {
		return nil, canon.Errorf(canon.Forbidden, "only analysts and administrators decide matches")
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
	if note != nil {
		d.Note = *note
	}
	action := "rejectMatch"
	if accept {
		action = "acceptMatch"
	}
	if err := r.Store.AppendAudit(ctx, []store.AuditEntry{{Principal: p.ID, Action: action, Purpose: d.Note,
		Subjects: []string{d.A, d.B}, Fields: []string{"incident"}}}); err != nil {
		return nil, canon.Errorf(canon.Internal, "the decision could not be audited, so it is not made")
	}
	stored, err := r.Store.RecordMatchDecision(ctx, d)
	if err != nil {
		return nil, err
	}
	from := cases[0].ReportedAt
	if cases[1].ReportedAt.Before(from) {
		from = cases[1].ReportedAt
	}
	if _, err := resolve.RegroupIncidents(store.Unscoped(ctx), r.Store, resolve.DefaultIncidentConfig(), from); err != nil {
		return nil, err
	}
	return &stored, nil
}

// caseOfKey loads the case a decision names ("source/source_id").
func (r *Resolver) caseOfKey(ctx context.Context, key string) (*store.Case, error) {
	source, id, ok := strings.Cut(key, "/")
	if !ok {
		return nil, canon.Errorf(canon.NotFound, "no case %s", key)
	}
	return r.Store.CaseBySourceID(ctx, source, id)
}
