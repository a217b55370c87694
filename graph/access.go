package graph

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

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

// access makes authorize the field middleware of each operation, with the
// operation's principal looked up once. (Registered with AroundFields,
// gqlgen would wrap every field of every operation in closures of its
// extension chain, and each field would search the context for the
// principal; here it is one direct call per field.) It is the handler's
// only field middleware.
type access struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = access{}

func (access) ExtensionName() string                   { return "Access" }
func (access) Validate(graphql.ExecutableSchema) error { return nil }

func (access) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	p := auth.From(ctx)
	if p == nil {
		return nil // in-process callers are not checked
	}
	if p.Role == auth.None {
		return operationError(canon.Unauthenticated, "authentication required")
	}
	if err := auth.Validate(p); err != nil {
		return operationError(canon.Unauthenticated, "invalid credentials: "+err.Error())
	}
	opCtx.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) {
		if err := authorize(graphql.GetFieldContext(ctx), p); err != nil {
			return nil, err
		}
		return next(ctx)
	}
	return nil
}

// operationError refuses a whole operation with an error code.
func operationError(code canon.Code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Err: &canon.Error{Code: code, Message: msg},
		Extensions: map[string]any{"code": string(code)}}
}

// authorize refuses a field, with FORBIDDEN before the resolver runs, when
// the principal may not read the object it belongs to (the concrete type,
// whatever type the selection named: the fields of a Person reached through
// node(id) are the fields of a Person) or the type it returns. Only root
// fields and fields of or to a guarded type need a look; the scalars and
// plain objects of a page pass straight through.
func authorize(fc *graphql.FieldContext, p *auth.Principal) error {
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return nil
	}
	if fc.Object == "Query" && adminOnly[fc.Field.Name] && p.Role != auth.Admin {
		return canon.Errorf(canon.Forbidden, "%s is for administrators", fc.Field.Name)
	}
	if p.Role != auth.Partner {
		return nil
	}
	if err := mayRead(p, fc.Object); err != nil {
		return err
	}
	return mayRead(p, fc.Field.Definition.Type.Name())
}

// mayRead refuses a type the principal's scopes do not open.
func mayRead(p *auth.Principal, typ string) error {
	if p == nil || p.Role != auth.Partner {
		return nil
	}
	if need, scoped := typeScopes[typ]; scoped && !p.HasScope(need) {
		return canon.Errorf(canon.Forbidden, "this key lacks the scope %s to read %s", need, typ)
	}
	return nil
}
