package graph

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

// withScope turns the request's principal into the store scope that every
// read applies: staff and partners with a region see its subtree only,
// everyone else the whole city. Requests without a principal (in-process
// callers) are not scoped.
func withScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := auth.From(r.Context()); p != nil {
			s := store.Scope{}
			if p.Role == auth.Staff || p.Role == auth.Partner {
				s.RegionCode = p.RegionCode
			}
			r = r.WithContext(store.WithScope(r.Context(), s))
		}
		next.ServeHTTP(w, r)
	})
}

// typeScopes names the scope a partner needs to read each type.
var typeScopes = map[string]string{
	"Case": "cases:read", "CaseConnection": "cases:read", "CaseBucket": "cases:read", "TimelineEvent": "cases:read", "Incident": "cases:read",
	"Region": "regions:read", "RegionConnection": "regions:read", "RegionStats": "regions:read", "StandardAddress": "regions:read",
	"Person": "people:read", "PersonConnection": "people:read", "Household": "people:read", "Building": "people:read",
	"BuildingConnection": "people:read", "GridWorker": "people:read", "GridWorkerConnection": "people:read",
	"PartyOrg": "party:read", "PartyOrgConnection": "party:read", "PartyMember": "party:read", "PartyMemberConnection": "party:read",
	"DualReport": "party:read", "ServiceStation": "party:read", "ServiceStationConnection": "party:read", "VolunteerActivity": "party:read",
}

// adminOnly names root fields only admins may use.
var adminOnly = map[string]bool{"quarantine": true, "auditLog": true}

// authorize is a field middleware: it refuses a field whose type the
// principal's role or scopes do not allow, with FORBIDDEN, before the
// resolver runs.
//
// It runs around every field of every object, so it decides cheaply which
// fields need a look at the principal: root fields (where an anonymous
// caller is refused, so nothing beneath them runs) and fields whose type a
// scope guards. Every other field — the scalars and plain objects of a
// page — passes straight through.
func authorize(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return next(ctx)
	}
	root := fc.Object == "Query" || fc.Object == "Mutation" || fc.Object == "Subscription"
	need, scoped := typeScopes[fc.Field.Definition.Type.Name()]
	if !root && !scoped {
		return next(ctx)
	}
	p := auth.From(ctx)
	if p == nil {
		return next(ctx)
	}
	if p.Role == auth.None {
		return nil, canon.Errorf(canon.Unauthenticated, "authentication required")
	}
	if fc.Object == "Query" && adminOnly[fc.Field.Name] && p.Role != auth.Admin {
		return nil, canon.Errorf(canon.Forbidden, "%s is for administrators", fc.Field.Name)
	}
	if p.Role == auth.Partner && scoped && !p.HasScope(need) {
		return nil, canon.Errorf(canon.Forbidden, "this key lacks the scope %s", need)
	}
	return next(ctx)
}
