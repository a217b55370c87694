package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/graph/generated"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

const accessSDL = `
directive @scope(name: String!) on OBJECT | FIELD_DEFINITION
directive @admin on OBJECT | FIELD_DEFINITION
directive @public on OBJECT | FIELD_DEFINITION
interface Node { id: ID! }
type Person implements Node @scope(name: "people:read") { id: ID! name: String! }
type Case implements Node @scope(name: "cases:read") { id: ID! reporter: Person }
type Log @admin { line: String! }
type Page @public { size: Int! }
`

func parse(t *testing.T, sdl string) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "test.graphqls", Input: sdl})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newAccess refuses a schema that leaves a type or a root field without a
// policy, or names an unknown scope, so such a schema never serves.
func TestNewAccessRefusesMissingPolicies(t *testing.T) {
	good := accessSDL + `type Query @public {
		node(id: ID!): Node @public
		cases: [Case!]! @scope(name: "cases:read")
		log: [Log!]! @admin
	}`
	if _, err := newAccess(parse(t, good)); err != nil {
		t.Fatalf("complete schema refused: %v", err)
	}
	for name, sdl := range map[string]string{
		"type without policy":  accessSDL + `type Stray { x: Int } type Query @public { node(id: ID!): Node @public }`,
		"root without policy":  accessSDL + `type Query @public { node(id: ID!): Node }`,
		"unknown scope":        accessSDL + `type Query @public { node(id: ID!): Node @scope(name: "cases:write") }`,
		"two policies":         accessSDL + `type Query @public { node(id: ID!): Node @public @admin }`,
		"query without policy": accessSDL + `type Query { node(id: ID!): Node @public }`,
	} {
		if _, err := newAccess(parse(t, sdl)); err == nil || !strings.Contains(err.Error(), "schema access") {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

// The rules: a field takes its type's rule, its own and that of the type
// it returns; a field returning an interface is checked on what it
// resolves to, and a value of an unknown Go type is refused.
func TestAccessRules(t *testing.T) {
	a, err := newAccess(parse(t, accessSDL+`type Query @public {
		node(id: ID!): Node @public
		cases: [Case!]! @scope(name: "cases:read")
		log: [Log!]! @admin
	}`))
	if err != nil {
		t.Fatal(err)
	}
	partner := func(scopes ...string) *auth.Principal {
		return &auth.Principal{ID: "p", Role: auth.Partner, Scopes: scopes}
	}
	check := func(obj, field string, p *auth.Principal) error {
		r, ok := a.fields[fieldKey{obj, field}]
		if !ok {
			return nil
		}
		return r.check(p, obj, field)
	}
	for _, c := range []struct {
		obj, field string
		p          *auth.Principal
		ok         bool
	}{
		{"Case", "reporter", partner("cases:read"), false}, // returns a Person
		{"Case", "reporter", partner("cases:read", "people:read"), true},
		{"Case", "id", partner("people:read"), false}, // a field of a Case
		{"Person", "name", partner("people:read"), true},
		{"Query", "log", &auth.Principal{ID: "a", Role: auth.Analyst}, false},
		{"Query", "log", &auth.Principal{ID: "a", Role: auth.Admin}, true},
		{"Log", "line", &auth.Principal{ID: "a", Role: auth.Staff, RegionCode: "420606001001"}, false},
		{"Page", "size", partner(), true},
		{"Person", "name", &auth.Principal{ID: "v", Role: auth.Viewer}, true}, // scopes bind partners only
	} {
		if err := check(c.obj, c.field, c.p); (err == nil) != c.ok {
			t.Errorf("%s.%s as %+v: %v", c.obj, c.field, c.p, err)
		}
	}
	if _, ok := a.fields[fieldKey{"Page", "size"}]; ok {
		t.Error("a public field of a public type is looked at")
	}
	if r := a.fields[fieldKey{"Query", "node"}]; !r.abstract {
		t.Error("Query.node is not checked on what it resolves to")
	}
	var person model.Node = &store.Person{}
	if err := a.checkResolved(partner("cases:read"), person); err == nil {
		t.Error("a Person resolved through Node passed a cases:read partner")
	}
	if err := a.checkResolved(partner("people:read"), []model.Node{person, nil}); err != nil {
		t.Errorf("people:read partner: %v", err)
	}
	if err := a.checkResolved(partner("people:read"), struct{}{}); err == nil {
		t.Error("a value of an unknown type passed")
	}
}

// BenchmarkAccessField is the cost the access middleware adds to one field
// of a page: a field of a guarded type (one map lookup and the scope
// check) and a field of a public type (one map lookup that misses).
func BenchmarkAccessField(b *testing.B) {
	a, err := newAccess(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}).Schema())
	if err != nil {
		b.Fatal(err)
	}
	p := &auth.Principal{ID: "p", Role: auth.Partner, Scopes: []string{"cases:read"}}
	oc := &graphql.OperationContext{}
	if err := a.MutateOperationContext(auth.With(context.Background(), p), oc); err != nil {
		b.Fatal(err)
	}
	next := func(context.Context) (any, error) { return nil, nil }
	for _, f := range []struct{ object, field string }{{"Case", "title"}, {"PageInfo", "hasNextPage"}} {
		ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Object: f.object,
			Field: graphql.CollectedField{Field: &ast.Field{Name: f.field}}})
		b.Run(f.object+"."+f.field, func(b *testing.B) {
			for b.Loop() {
				if _, err := oc.ResolverMiddleware(ctx, next); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFieldGateIsTheMiddleware: the gate the access check leaves for the
// executor (generated.FieldGate) lets a field skip the middleware only
// where the middleware would hand it to its resolver untouched, for every
// field of the schema and every kind of caller.
func TestFieldGateIsTheMiddleware(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}).Schema()
	a, err := newAccess(schema)
	if err != nil {
		t.Fatal(err)
	}
	principals := []*auth.Principal{
		{ID: "key:1", Role: auth.Partner, Scopes: []string{"cases:read"}},
		{ID: "key:2", Role: auth.Partner, Scopes: []string{"cases:read", "regions:read", "people:read"}},
		{ID: "staff", Role: auth.Staff, RegionCode: "420606001001"},
		{ID: "analyst", Role: auth.Analyst},
		{ID: "admin", Role: auth.Admin},
	}
	type result struct{}
	passed, refused := 0, 0
	for _, p := range principals {
		oc := &graphql.OperationContext{}
		if err := a.MutateOperationContext(auth.With(context.Background(), p), oc); err != nil {
			t.Fatal(err)
		}
		gate, ok := oc.Stats.GetExtension(generated.FieldGateExtension).(generated.FieldGate)
		if !ok {
			t.Fatal("the access check leaves the operation no field gate")
		}
		for _, def := range schema.Types {
			if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
				continue
			}
			for _, f := range def.Fields {
				if strings.HasPrefix(f.Name, "__") {
					continue
				}
				ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Object: def.Name,
					Field: graphql.CollectedField{Field: &ast.Field{Name: f.Name, Definition: f}}})
				called := false
				res, err := oc.ResolverMiddleware(ctx, func(context.Context) (any, error) {
					called = true
					return result{}, nil
				})
				untouched := called && err == nil && res == (result{})
				if gate(def.Name, f.Name) {
					passed++
					if !untouched {
						t.Errorf("%s.%s as %s: the gate passes what the middleware does not (%v)", def.Name, f.Name, p.ID, err)
					}
				} else {
					refused++
					if untouched && !a.fields[fieldKey{def.Name, f.Name}].abstract {
						t.Errorf("%s.%s as %s: the gate refuses what the middleware passes", def.Name, f.Name, p.ID)
					}
				}
			}
		}
		if want := p.Role != auth.Partner || p.HasScope("regions:read"); gate("Case", "grid") != want {
			t.Errorf("Case.grid as %s: gate %t, want %t", p.ID, !want, want)
		}
	}
	if passed == 0 || refused == 0 {
		t.Errorf("the gate passed %d and refused %d fields: the test reaches no rule", passed, refused)
	}
}
