package graph

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/generated"
	"github.com/ywtg/hub/store"
)

// withScope turns the request's principal into the store scope that every
// read applies: staff and partners with a region see its subtree only,
// everyone else the whole city. A request without a principal gets no
// scope, so any store read it reached would fail; the access extension
// refuses it before that.
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

// The access directives of the schema (schema/schema.graphqls). Every
// object type carries exactly one; every root field one of its own.
const (
	dirScope  = "scope"  // @scope(name:): partners need the scope
	dirAdmin  = "admin"  // administrators only
	dirPublic = "public" // any authenticated caller
)

// rule is what reading one field (or any field of one type) takes.
type rule struct {
	admin    bool
	scopes   []string // a partner needs all of them
	abstract bool     // the field returns an interface or union: check what it resolves to
}

func (r rule) empty() bool { return !r.admin && len(r.scopes) == 0 && !r.abstract }

func (r rule) and(o rule) rule {
	out := rule{admin: r.admin || o.admin, abstract: r.abstract || o.abstract, scopes: slices.Clone(r.scopes)}
	for _, s := range o.scopes {
		if !slices.Contains(out.scopes, s) {
			out.scopes = append(out.scopes, s)
		}
	}
	return out
}

// check refuses a principal the rule does not admit, with FORBIDDEN; what
// names the type or field (object.field) in the message.
func (r rule) check(p *auth.Principal, object, field string) error {
	if r.admin && p.Role != auth.Admin {
		return canon.Errorf(canon.Forbidden, "%s is for administrators", name(object, field))
	}
	if p.Role == auth.Partner {
		for _, s := range r.scopes {
			if !p.HasScope(s) {
				return canon.Errorf(canon.Forbidden, "this key lacks the scope %s to read %s", s, name(object, field))
			}
		}
	}
	return nil
}

func name(object, field string) string {
	if field == "" {
		return object
	}
	return object + "." + field
}

type fieldKey struct{ object, field string }

// access is the authorisation the schema declares, read once from the
// parsed schema, and the handler's one field middleware. Per field it is
// one map lookup: only fields that need a look are in the map.
type access struct {
	types  map[string]rule   // each object type's own rule
	fields map[fieldKey]rule // fields of or to a guarded type, root fields, abstract fields
	goType map[reflect.Type]string
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*access)(nil)

// newAccess reads the access directives of a schema. It fails on an object
// type or a root field without one, on two on the same place, and on a
// scope auth does not know, so a schema that forgets a policy never serves.
func newAccess(s *ast.Schema) (*access, error) {
	a := &access{types: map[string]rule{}, fields: map[fieldKey]rule{}, goType: nodeGoTypes()}
	var problems []string
	for _, def := range s.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		r, n, err := directiveRule(def.Directives)
		if err != nil {
			problems = append(problems, fmt.Sprintf("type %s: %v", def.Name, err))
		}
		if n == 0 {
			problems = append(problems, fmt.Sprintf("type %s has no access directive (@scope, @admin or @public)", def.Name))
		}
		a.types[def.Name] = r
	}
	roots := map[string]bool{}
	for _, d := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if d != nil {
			roots[d.Name] = true
		}
	}
	for _, def := range s.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			own, n, err := directiveRule(f.Directives)
			if err != nil {
				problems = append(problems, fmt.Sprintf("field %s.%s: %v", def.Name, f.Name, err))
			}
			if roots[def.Name] && n == 0 {
				problems = append(problems, fmt.Sprintf("root field %s.%s has no access directive", def.Name, f.Name))
			}
			r := a.types[def.Name].and(own)
			if t := s.Types[f.Type.Name()]; t != nil {
				switch t.Kind {
				case ast.Object:
					r = r.and(a.types[t.Name])
				case ast.Interface, ast.Union:
					r.abstract = true
				}
			}
			if !r.empty() || roots[def.Name] {
				a.fields[fieldKey{def.Name, f.Name}] = r
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("schema access: %s", strings.Join(problems, "; "))
	}
	return a, nil
}

// directiveRule reads the access directives of a type or field: the rule
// and how many there are.
func directiveRule(list ast.DirectiveList) (rule, int, error) {
	var r rule
	n := 0
	for _, d := range list {
		switch d.Name {
		case dirPublic:
		case dirAdmin:
			r.admin = true
		case dirScope:
			arg := d.Arguments.ForName("name")
			if arg == nil || arg.Value == nil || !slices.Contains(auth.Scopes, arg.Value.Raw) {
				return r, n + 1, fmt.Errorf("@scope needs the name of a known scope (%s)", strings.Join(auth.Scopes, ", "))
			}
			r.scopes = append(r.scopes, arg.Value.Raw)
		default:
			continue
		}
		n++
	}
	if n > 1 {
		return r, n, fmt.Errorf("%d access directives, want one", n)
	}
	return r, n, nil
}

func (*access) ExtensionName() string                   { return "Access" }
func (*access) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an operation without a principal (every
// transport sets one: HTTP and websocket through auth; in-process callers
// must say who they are), or with one that fails auth.Validate, and makes
// authorize the field middleware with the principal looked up once.
// (Registered with AroundFields, gqlgen would wrap every field of every
// operation in closures of its extension chain, and each field would
// search the context for the principal; here it is one direct call per
// field.)
func (a *access) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	p := auth.From(ctx)
	if p == nil || p.Role == auth.None {
		return operationError(canon.Unauthenticated, "authentication required")
	}
	if err := auth.Validate(p); err != nil {
		return operationError(canon.Unauthenticated, "invalid credentials: "+err.Error())
	}
	// The executor asks before a field to an object skips the middleware
	// (generated.FieldGate): the same rule, for the same principal.
	opCtx.Stats.SetExtension(generated.FieldGateExtension, generated.FieldGate(func(object, field string) bool {
		return a.passes(p, object, field)
	}))
	opCtx.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Field.Field == nil {
			return nil, canon.Errorf(canon.Internal, "field without context")
		}
		r, ok := a.fields[fieldKey{fc.Object, fc.Field.Name}]
		if !ok {
			return next(ctx)
		}
		if err := r.check(p, fc.Object, fc.Field.Name); err != nil {
			return nil, err
		}
		if !r.abstract {
			return next(ctx)
		}
		res, err := next(ctx)
		if err != nil {
			return res, err
		}
		if err := a.checkResolved(p, res); err != nil {
			return nil, err
		}
		return res, nil
	}
	return nil
}

// passes tells whether the field middleware hands object.field straight
// to its resolver for p: the field needs no look, or its rule admits p and
// does not check what the field resolves to.
func (a *access) passes(p *auth.Principal, object, field string) bool {
	r, ok := a.fields[fieldKey{object, field}]
	return !ok || (!r.abstract && r.check(p, object, field) == nil)
}

// operationError refuses a whole operation with an error code.
func operationError(code canon.Code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Err: &canon.Error{Code: code, Message: msg},
		Extensions: map[string]any{"code": string(code)}}
}

// mayRead refuses a type the principal may not read (FORBIDDEN). A name
// that is not an object type of the schema is refused too.
func (a *access) mayRead(p *auth.Principal, typ string) error {
	r, ok := a.types[typ]
	if !ok {
		return canon.Errorf(canon.Forbidden, "no access rule for %s", typ)
	}
	return r.check(p, typ, "")
}

// checkResolved checks what an abstract field resolved to (one object or a
// list) against the types the objects really are. A value whose type it
// cannot name is refused.
func (a *access) checkResolved(p *auth.Principal, res any) error {
	v := reflect.ValueOf(res)
	if !v.IsValid() {
		return nil
	}
	if v.Kind() == reflect.Slice {
		for i := range v.Len() {
			if err := a.checkObject(p, v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	}
	return a.checkObject(p, v)
}

func (a *access) checkObject(p *auth.Principal, v reflect.Value) error {
	for v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	typ, ok := a.goType[v.Type()]
	if !ok {
		return canon.Errorf(canon.Forbidden, "no access rule for %s", v.Type())
	}
	return a.mayRead(p, typ)
}
