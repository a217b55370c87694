package generated

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestInlineLists checks which lists marshalSlice marshals in place: the
// decision of a list is read as the executor reaches it, under the field
// contexts of the fields above it.
func TestInlineLists(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	const pagesOfCases = `{ regions(level: GRID, first: 100) { edges { node { code name cases(first: 10) { edges { node {
		id title status reportedAt category { name } location { lat lng } } } } } } } }`
	const filteredPage = `{ cases(first: 50, filter: {status: [DISPATCHED]}) { edges { cursor node { id sourceId title status dueAt
		grid { name } category { name } provenance { source { name } } timeline { at status } } } pageInfo { hasNextPage } } }`
	for _, tc := range []struct {
		name, query string
		path        []string
		want        bool
	}{
		{"the cases of a page of regions", pagesOfCases, []string{"regions", "edges", "node", "cases", "edges"}, true},
		// Query.regions loads its page's cases, and the cases' relations.
		{"the page of regions", pagesOfCases, []string{"regions", "edges"}, true},
		{"a page of regions with their children", `{ regions(first: 5) { edges { node { code children(first: 5) { edges { node { code } } } } } } }`,
			[]string{"regions", "edges"}, false},
		{"the cases of a case's grid", `{ cases(first: 5) { edges { node { grid { cases(first: 5) { edges { node { id } } } } } } } }`,
			[]string{"cases", "edges"}, false},
		{"the grids of a page of cases", `{ cases(first: 5) { edges { node { grid { name } } } } }`,
			[]string{"cases", "edges"}, true},
		{"a page of regions with what its resolver loads", `{ regions(first: 5) { edges { node { code parent { name } stats { population } caseStats(groupBy: [STATUS]) { count } } } } }`,
			[]string{"regions", "edges"}, true},
		{"a relation of a region its resolver does not load", `{ regions(first: 5) { edges { node { code ancestors { name } } } } }`,
			[]string{"regions", "edges"}, false},
		{"a page of cases with the relations its resolver loads", filteredPage, []string{"cases", "edges"}, true},
		{"a relation the page's resolver does not load", `{ cases(first: 5) { edges { node { id reporter { id } } } } }`,
			[]string{"cases", "edges"}, false},
		// The page loads its grids' parents too (prefetchCases).
		{"the parents of the cases' grids", `{ cases(first: 5) { edges { node { grid { parent { name } } } } } }`,
			[]string{"cases", "edges"}, true},
		{"a relation of the grids' parents", `{ cases(first: 5) { edges { node { grid { parent { parent { name } } } } } } }`,
			[]string{"cases", "edges"}, false},
		{"a relation of a case's grid the page does not load", `{ cases(first: 5) { edges { node { grid { ancestors { name } } } } } }`,
			[]string{"cases", "edges"}, false},
		{"the categories of cases of a connection that loads no relations", `{ people(first: 1) { edges { node { reportedCases(first: 5) { edges { node { category { name parent { name } } } } } } } } }`,
			[]string{"people", "edges", "node", "reportedCases", "edges"}, true},
		{"a relation under a fragment", `{ cases(first: 5) { edges { node { ...c } } } } fragment c on Case { reporter { id } }`,
			[]string{"cases", "edges"}, false},
		{"cases of a connection that loads no relations", `{ people(first: 1) { edges { node { reportedCases(first: 5) { edges { node { grid { name } } } } } } } }`,
			[]string{"people", "edges", "node", "reportedCases", "edges"}, false},
		{"the same without relations", `{ people(first: 1) { edges { node { reportedCases(first: 5) { edges { node { id title } } } } } } }`,
			[]string{"people", "edges", "node", "reportedCases", "edges"}, true},
		{"an operation that may defer", filteredPage + " # defer", []string{"cases", "edges"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tc.query)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			oc := &graphql.OperationContext{RawQuery: tc.query, Doc: doc, Operation: doc.Operations[0]}
			ctx := graphql.WithOperationContext(context.Background(), oc)
			sel := doc.Operations[0].SelectionSet
			for _, name := range tc.path {
				f := fieldNamed(sel, name)
				if f == nil {
					t.Fatalf("no field %s on the path", name)
				}
				ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: f.ObjectDefinition.Name, Field: graphql.CollectedField{Field: f}})
				sel = f.SelectionSet
			}
			if got := inline(ctx, sel); got != tc.want {
				t.Errorf("inline = %t, want %t", got, tc.want)
			}
		})
	}
}

func fieldNamed(sel ast.SelectionSet, name string) *ast.Field {
	for _, s := range sel {
		if f, ok := s.(*ast.Field); ok && f.Name == name {
			return f
		}
	}
	return nil
}

// TestInlineTablesNameFields checks that the hand-kept tables of inline.go
// name fields of the schema, and withoutIO fields with resolvers.
func TestInlineTablesNameFields(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	exists := func(key string) bool {
		typ, field, ok := strings.Cut(key, ".")
		def := schema.Types[typ]
		return ok && def != nil && def.Fields.ForName(field) != nil
	}
	for _, table := range []map[string]bool{withoutIO, oncePerRequest} {
		for key := range table {
			if _, ok := concurrentFields[key]; !ok {
				t.Errorf("%s has no resolver", key)
			}
		}
	}
	for _, fields := range primed {
		for key := range fields {
			if !exists(key) {
				t.Errorf("primed names %s, which is not a field of the schema", key)
			}
		}
	}
}

// TestLeafInline checks when a leaf field takes the fast path past
// graphql.ResolveField: under a list marshalled in place, and only for a
// field without directives of its own (an access directive on a field is
// checked by the field middleware, which the fast path skips).
func TestLeafInline(t *testing.T) {
	plain := graphql.CollectedField{Field: &ast.Field{Name: "title", Definition: &ast.FieldDefinition{Name: "title"}}}
	guarded := graphql.CollectedField{Field: &ast.Field{Name: "secret", Definition: &ast.FieldDefinition{Name: "secret",
		Directives: ast.DirectiveList{{Name: "admin"}}}}}
	inList := context.WithValue(context.Background(), inlineKey{}, true)
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		field graphql.CollectedField
		want  bool
	}{
		{"under a list marshalled in place", inList, plain, true},
		{"elsewhere", context.Background(), plain, false},
		{"with a directive of its own", inList, guarded, false},
		{"without a definition", inList, graphql.CollectedField{Field: &ast.Field{Name: "x"}}, false},
	} {
		if got := leafInline(tc.ctx, tc.field); got != tc.want {
			t.Errorf("%s: leafInline = %t, want %t", tc.name, got, tc.want)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if finite(v) {
			t.Errorf("finite(%v)", v)
		}
	}
	if !finite(32.5) {
		t.Error("32.5 is not finite")
	}
}

// TestFloatLeafWritesAsGqlgen holds the fast path's Float marshaller to
// gqlgen's bytes.
func TestFloatLeafWritesAsGqlgen(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -2.5, 32.0123456789, 112.02, 1e20, 1e21, 1.5e-5, 1e-4,
		123456789012345678, math.MaxFloat64, math.SmallestNonzeroFloat64, 1.0 / 3} {
		var ours, theirs bytes.Buffer
		(&floatLeaf{v}).MarshalGQL(&ours)
		if err := graphql.MarshalFloatContext(v).MarshalGQLContext(context.Background(), &theirs); err != nil {
			t.Fatal(err)
		}
		if ours.String() != theirs.String() {
			t.Errorf("%v: wrote %s, gqlgen writes %s", v, ours.String(), theirs.String())
		}
	}
}

// TestObjectInlineKeepsAccess checks which fields to an object take the
// fast path without the access middleware: those whose type asks no more
// than the type they are on (@public, or the same directives), under a
// list marshalled in place.
func TestObjectInlineKeepsAccess(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	inlined := context.WithValue(context.Background(), inlineKey{}, true)
	for _, tc := range []struct {
		object, field string
		want          bool
	}{
		{"Case", "location", true},            // LatLng is @public
		{"Case", "provenance", true},          // Provenance is @public
		{"CaseEdge", "node", true},            // both @scope(name: "cases:read")
		{"IncidentEvidence", "a", true},       // both @scope(name: "cases:read")
		{"StandardAddress", "district", true}, // both @scope(name: "regions:read")
		{"PersonMatch", "a", true},            // both @scope(name: "people:read")
		{"Case", "grid", false},               // @scope(name: "cases:read") to @scope(name: "regions:read")
		{"Case", "reporter", false},           // @scope(name: "cases:read") to @scope(name: "people:read")
	} {
		def := schema.Types[tc.object]
		f := def.Fields.ForName(tc.field)
		if f == nil {
			t.Fatalf("no field %s.%s", tc.object, tc.field)
		}
		field := graphql.CollectedField{Field: &ast.Field{Name: tc.field, Definition: f, ObjectDefinition: def}}
		if got := objectInline(inlined, field, noGate); got != tc.want {
			t.Errorf("%s.%s: objectInline = %t, want %t", tc.object, tc.field, got, tc.want)
		}
		// A gate settles only what the directives leave open, and only
		// for the field it is asked about.
		var asked []string
		for _, answer := range []bool{false, true} {
			gate := func() FieldGate {
				return func(object, field string) bool {
					asked = append(asked, object+"."+field)
					return answer
				}
			}
			if got := objectInline(inlined, field, gate); got != (tc.want || answer) {
				t.Errorf("%s.%s: objectInline with a gate answering %t = %t", tc.object, tc.field, answer, got)
			}
			if objectInline(context.Background(), field, gate) {
				t.Errorf("%s.%s takes the fast path outside a list marshalled in place", tc.object, tc.field)
			}
		}
		if want := tc.object + "." + tc.field; !tc.want && (len(asked) != 2 || asked[0] != want || asked[1] != want) {
			t.Errorf("%s.%s: the gate was asked about %v", tc.object, tc.field, asked)
		}
	}
}

func noGate() FieldGate { return nil }

// TestInlineResolvedLeavesFailuresToResolveField: the fast path of a
// batch field answers only what resolved; an error, a panic or a value of
// another type leaves the field to graphql.ResolveField, which reports it.
func TestInlineResolvedLeavesFailuresToResolveField(t *testing.T) {
	// Taken from an operation's slab, as every generated field's is (and
	// inlineResolved requires).
	ec := &executionContext{}
	fieldContext := func(_ context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
		return ec.fieldContext(graphql.FieldContext{Object: "Case", Field: field}), nil
	}
	marshal := func(ctx context.Context, _ ast.SelectionSet, v *string) graphql.Marshaler {
		if fc := graphql.GetFieldContext(ctx); fc == nil || fc.Object != "Case" || fc.Parent == nil || fc.Parent.Object != "CaseEdge" {
			t.Errorf("marshalled outside the field's context: %+v", fc)
		}
		return graphql.MarshalString(*v)
	}
	field := graphql.CollectedField{Field: &ast.Field{Name: "category"}}
	value := "街面秩序"
	for name, tc := range map[string]struct {
		resolve func(context.Context) (any, error)
		ok      bool
	}{
		"resolved":     {func(context.Context) (any, error) { return &value, nil }, true},
		"failed":       {func(context.Context) (any, error) { return nil, context.Canceled }, false},
		"panicked":     {func(context.Context) (any, error) { panic("resolver") }, false},
		"another type": {func(context.Context) (any, error) { return value, nil }, false},
		"untyped nil":  {func(context.Context) (any, error) { return nil, nil }, false},
	} {
		parent := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Object: "CaseEdge"})
		m, ok := inlineResolved(parent, field, fieldContext, tc.resolve, marshal)
		if ok != tc.ok {
			t.Errorf("%s: ok = %t, want %t", name, ok, tc.ok)
			continue
		}
		if ok {
			var b bytes.Buffer
			m.MarshalGQL(&b)
			if b.String() != `"街面秩序"` {
				t.Errorf("%s: marshalled %s", name, b.String())
			}
		}
	}
}

// TestFieldContextChild: a field context's Child, made once per operation
// and type, gives the contexts of the fields under it as gqlgen's closure
// did.
func TestFieldContextChild(t *testing.T) {
	ec := &executionContext{}
	fc := ec.fieldContextChild(graphql.FieldContext{Object: "Case"}, "LatLng", (*executionContext).childFields_LatLng)
	child, err := fc.Child(context.Background(), graphql.CollectedField{Field: &ast.Field{Name: "lat"}})
	if err != nil || child.Object != "LatLng" || child.Field.Name != "lat" {
		t.Fatalf("child = %+v, %v", child, err)
	}
	if _, err := fc.Child(context.Background(), graphql.CollectedField{Field: &ast.Field{Name: "altitude"}}); err == nil {
		t.Error("a field LatLng does not have gave a context")
	}
	again := ec.fieldContextChild(graphql.FieldContext{Object: "Incident"}, "LatLng", (*executionContext).childFields_LatLng)
	if reflect.ValueOf(again.Child).Pointer() != reflect.ValueOf(fc.Child).Pointer() || again == fc {
		t.Error("a second field context of the type got a Child of its own, or the same context")
	}
	other := ec.fieldContextChild(graphql.FieldContext{Object: "Case"}, "Category", (*executionContext).childFields_Category)
	if c, err := other.Child(context.Background(), graphql.CollectedField{Field: &ast.Field{Name: "name"}}); err != nil || c.Object != "Category" {
		t.Fatalf("Category's child = %+v, %v", c, err)
	}
}
