package graph

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

// Limits bound what one operation may ask for; an operation over a limit
// is refused with QUERY_TOO_COMPLEX before anything runs. A zero limit is
// no limit.
//
// Depth, fields, root fields and aliases are measured on the parsed
// document before it is validated, so that a document whose validation
// alone would be costly (thousands of repeated fields) is refused first;
// cost needs the validated document and is measured after. Every measure
// takes time linear in the document: each fragment is measured once,
// however often it is spread, and the counts saturate instead of
// overflowing.
type Limits struct {
	MaxDepth int // selection nesting of data fields, fragments expanded
	// MaxIntrospectionDepth bounds the nesting under __schema and __type,
	// counted from them; their type references (ofType of ofType …) nest
	// deeper than any data query should.
	MaxIntrospectionDepth int
	MaxComplexity         int // estimated cost, see costedSchema
	MaxAliases            int // aliased fields in the operation, fragments expanded
	MaxRootFields         int // fields at the top of the operation, fragments expanded
	MaxFields             int // fields of the operation, fragments expanded; also of each fragment
}

// DefaultLimits admit ordinary dashboard queries — 100 grids × 10 cases with
// their category and location, a street's drill-down with statistics, a
// filtered page of 500 cases — and the standard introspection query of
// GraphiQL and code generators (15 levels under __schema, about 230 fields
// expanded), and refuse requests that would page through the city in one
// go.
var DefaultLimits = Limits{MaxDepth: 12, MaxIntrospectionDepth: 20, MaxComplexity: 100000, MaxAliases: 30, MaxRootFields: 30, MaxFields: 500}

// Input strings are bounded too (BAD_USER_INPUT beyond): a search filter is
// matched against every row it may select, and no argument of the schema
// needs a long text.
const (
	MaxSearchText  = 200  // characters of a search filter, see searchFields
	MaxInputString = 1000 // characters of any other string argument
)

// searchFields are the input fields matched as text against many rows.
var searchFields = map[string]bool{"CaseFilter.text": true, "PersonFilter.namePrefix": true}

// costedSchema estimates the cost of fields: one per field plus its
// selection, and for a list field with a page size (`first`, default 50) or
// an id list the selection's cost multiplied by the number of items. Fields
// that aggregate or count cost more.
type costedSchema struct{ graphql.ExecutableSchema }

// fieldCost is the extra cost of aggregate fields.
var fieldCost = map[string]int{
	"Query.caseStats": 10, "Region.caseStats": 10, "Region.stats": 5,
	"CaseConnection.totalCount": 5, "RegionConnection.totalCount": 2, "QuarantineConnection.totalCount": 2,
}

func (s costedSchema) Complexity(_ context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	items := 1
	if f, ok := args["first"]; ok {
		items = store.DefaultPageSize
		if n, ok := f.(int); ok {
			items = max(n, 0)
		} else if n, ok := f.(int64); ok {
			items = int(max(n, 0))
		}
	} else if ids, ok := args["ids"].([]any); ok {
		items = len(ids)
	} else if ids, ok := args["ids"].([]string); ok {
		items = len(ids)
	}
	cost := 1 + fieldCost[typeName+"."+field]
	return satMul(items, child) + cost, true
}

// saturation is where every count of the limiter stops growing.
const saturation = math.MaxInt32

func satAdd(a, b int) int { return min(max(a, 0)+max(b, 0), saturation) }

func satMul(a, b int) int {
	a, b = max(a, 0), max(b, 0)
	if a != 0 && b > saturation/a {
		return saturation
	}
	return min(a*b, saturation)
}

// limiter enforces Limits on each operation, and checks its string inputs.
type limiter struct {
	limits Limits
	es     graphql.ExecutableSchema
	// parsed is the handler's cache of validated documents: a document in
	// it has passed the checks before validation already.
	parsed graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*limiter)(nil)

func (l *limiter) ExtensionName() string { return "QueryLimits" }

func (l *limiter) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	return nil
}

// MutateOperationParameters measures the document before gqlgen validates
// it. It runs after the persisted-query extensions, which fill in the text
// of a document sent by its hash.
func (l *limiter) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if raw.Query == "" {
		return nil
	}
	if l.parsed != nil {
		if _, ok := l.parsed.Get(ctx, raw.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: raw.Query})
	if err != nil {
		return nil // gqlgen reports it
	}
	return l.checkShape(doc)
}

// checkShape applies the limits that need no schema to every operation and
// fragment of a document (validation walks them all, selected or not).
func (l *limiter) checkShape(doc *ast.QueryDocument) *gqlerror.Error {
	m := newMeasurer(doc.Fragments)
	for _, op := range doc.Operations {
		s := m.selectionSet(op.SelectionSet, false)
		switch lim := l.limits; {
		case lim.MaxDepth > 0 && s.depth > lim.MaxDepth:
			return tooComplex("operation is nested %d levels deep; the limit is %d", s.depth, lim.MaxDepth)
		case lim.MaxIntrospectionDepth > 0 && s.introDepth > lim.MaxIntrospectionDepth:
			return tooComplex("introspection is nested %d levels deep; the limit is %d", s.introDepth, lim.MaxIntrospectionDepth)
		case lim.MaxFields > 0 && s.fields > lim.MaxFields:
			return tooComplex("operation selects %s fields (fragments expanded); the limit is %d", count(s.fields), lim.MaxFields)
		case lim.MaxRootFields > 0 && s.top > lim.MaxRootFields:
			return tooComplex("operation selects %s root fields; the limit is %d", count(s.top), lim.MaxRootFields)
		case lim.MaxAliases > 0 && s.aliases > lim.MaxAliases:
			return tooComplex("operation uses %s aliases; the limit is %d", count(s.aliases), lim.MaxAliases)
		}
	}
	if l.limits.MaxFields > 0 {
		for _, f := range doc.Fragments {
			if s := m.fragment(f.Name, false); s.fields > l.limits.MaxFields {
				return tooComplex("fragment %s selects %s fields (fragments expanded); the limit is %d", f.Name, count(s.fields), l.limits.MaxFields)
			}
		}
	}
	return nil
}

func count(n int) string {
	if n >= saturation {
		return "more than " + fmt.Sprint(saturation)
	}
	return fmt.Sprint(n)
}

// MutateOperationContext estimates the cost of the validated operation
// and checks its string inputs.
func (l *limiter) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil {
		return nil
	}
	if l.limits.MaxComplexity > 0 {
		c := coster{es: l.es, schema: l.es.Schema(), vars: opCtx.Variables, memo: map[string]int{}}
		if cost := c.selectionSet(ctx, op.SelectionSet); cost > l.limits.MaxComplexity {
			return tooComplex("operation has an estimated cost of %s; the limit is %d (lower page sizes or split the query)", count(cost), l.limits.MaxComplexity)
		}
	}
	in := inputChecker{schema: l.es.Schema(), vars: opCtx.Variables, seen: map[string]bool{}}
	return in.selectionSet(op.SelectionSet)
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": string(canon.QueryTooComplex)}}
}

func badInput(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": string(canon.BadUserInput)}}
}

// shape is what the limits measure of a selection set, fragments expanded.
type shape struct {
	depth      int // nesting of data fields (a leaf is 1)
	introDepth int // nesting under __schema and __type, counted from them
	fields     int // fields
	top        int // fields at the set's own level
	aliases    int // aliased fields
}

func (s *shape) add(o shape) {
	s.depth = max(s.depth, o.depth)
	s.introDepth = max(s.introDepth, o.introDepth)
	s.fields = satAdd(s.fields, o.fields)
	s.top = satAdd(s.top, o.top)
	s.aliases = satAdd(s.aliases, o.aliases)
}

// measurer measures selection sets of one document without the schema,
// each fragment once per context (data or introspection). The document
// is not validated yet: a spread of an unknown fragment or one that closes
// a cycle counts nothing (validation refuses both).
type measurer struct {
	fragments map[string]*ast.FragmentDefinition
	memo      [2]map[string]shape
	open      [2]map[string]bool
}

func newMeasurer(defs ast.FragmentDefinitionList) *measurer {
	m := &measurer{fragments: make(map[string]*ast.FragmentDefinition, len(defs))}
	for _, d := range defs {
		if _, dup := m.fragments[d.Name]; !dup {
			m.fragments[d.Name] = d
		}
	}
	for i := range m.memo {
		m.memo[i] = map[string]shape{}
		m.open[i] = map[string]bool{}
	}
	return m
}

func ctxIndex(intro bool) int {
	if intro {
		return 1
	}
	return 0
}

func (m *measurer) fragment(name string, intro bool) shape {
	i := ctxIndex(intro)
	if s, ok := m.memo[i][name]; ok {
		return s
	}
	def := m.fragments[name]
	if def == nil || m.open[i][name] {
		return shape{}
	}
	m.open[i][name] = true
	s := m.selectionSet(def.SelectionSet, intro)
	delete(m.open[i], name)
	m.memo[i][name] = s
	return s
}

// selectionSet measures a set; in the introspection context (under
// __schema or __type) depth is introspection depth.
func (m *measurer) selectionSet(set ast.SelectionSet, intro bool) shape {
	var s shape
	for _, sel := range set {
		switch f := sel.(type) {
		case *ast.Field:
			fs := shape{fields: 1, top: 1}
			if f.Alias != "" && f.Alias != f.Name {
				fs.aliases = 1
			}
			if !intro && (f.Name == "__schema" || f.Name == "__type") {
				c := m.selectionSet(f.SelectionSet, true)
				fs.depth = 1
				fs.introDepth = 1 + c.depth
				fs.fields = satAdd(fs.fields, c.fields)
				fs.aliases = satAdd(fs.aliases, c.aliases)
			} else {
				c := m.selectionSet(f.SelectionSet, intro)
				fs.depth = 1 + c.depth
				fs.introDepth = c.introDepth
				fs.fields = satAdd(fs.fields, c.fields)
				fs.aliases = satAdd(fs.aliases, c.aliases)
			}
			s.add(fs)
		case *ast.InlineFragment:
			s.add(m.selectionSet(f.SelectionSet, intro))
		case *ast.FragmentSpread:
			s.add(m.fragment(f.Name, intro))
		}
	}
	return s
}

// coster estimates the cost of a validated operation as gqlgen's
// complexity package does (fields of type __Schema are free; a field of an
// interface costs what its dearest implementation does), but measures each
// fragment once.
type coster struct {
	es     graphql.ExecutableSchema
	schema *ast.Schema
	vars   map[string]any
	memo   map[string]int
}

func (c *coster) selectionSet(ctx context.Context, set ast.SelectionSet) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition == nil || s.ObjectDefinition == nil {
				continue
			}
			def := c.schema.Types[s.Definition.Type.Name()]
			if def == nil || def.Name == "__Schema" {
				continue
			}
			child := 0
			switch def.Kind {
			case ast.Object, ast.Interface, ast.Union:
				child = c.selectionSet(ctx, s.SelectionSet)
			}
			args := s.ArgumentMap(c.vars)
			cost := 0
			if s.ObjectDefinition.Kind == ast.Interface {
				for _, t := range c.schema.GetPossibleTypes(s.ObjectDefinition) {
					cost = max(cost, c.field(ctx, t, s.Name, child, args))
				}
			} else {
				cost = c.field(ctx, s.ObjectDefinition, s.Name, child, args)
			}
			total = satAdd(total, cost)
		case *ast.InlineFragment:
			total = satAdd(total, c.selectionSet(ctx, s.SelectionSet))
		case *ast.FragmentSpread:
			cost, ok := c.memo[s.Name]
			if !ok && s.Definition != nil {
				c.memo[s.Name] = 0 // validation refused cycles; this only guards
				cost = c.selectionSet(ctx, s.Definition.SelectionSet)
				c.memo[s.Name] = cost
			}
			total = satAdd(total, cost)
		}
	}
	return total
}

func (c *coster) field(ctx context.Context, def *ast.Definition, field string, child int, args map[string]any) int {
	if cost, ok := c.es.Complexity(ctx, def.Name, field, child, args); ok && cost >= 1 {
		return min(cost, saturation)
	}
	return satAdd(1, child)
}

// inputChecker refuses string arguments with a NUL character (PostgreSQL
// stores none) or longer than their bound, in one place for every field
// and every way of giving an argument (literal or variable), before any
// resolver runs.
type inputChecker struct {
	schema *ast.Schema
	vars   map[string]any
	seen   map[string]bool // fragments checked
}

func (in *inputChecker) selectionSet(set ast.SelectionSet) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition != nil && len(s.Arguments) > 0 {
				args := s.ArgumentMap(in.vars)
				for _, a := range s.Definition.Arguments {
					if v, ok := args[a.Name]; ok {
						if err := in.value(v, a.Type, s.Name+"("+a.Name, ""); err != nil {
							return err
						}
					}
				}
			}
			if err := in.selectionSet(s.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := in.selectionSet(s.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if in.seen[s.Name] || s.Definition == nil {
				continue
			}
			in.seen[s.Name] = true
			if err := in.selectionSet(s.Definition.SelectionSet); err != nil {
				return err
			}
		}
	}
	return nil
}

// value checks an argument value of type t; path names it for the error,
// and field is the input field it fills ("CaseFilter.text"), if any.
func (in *inputChecker) value(v any, t *ast.Type, path, field string) *gqlerror.Error {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			return badInput("argument %s) contains a NUL character (U+0000), which no text may hold", path)
		}
		limit := MaxInputString
		if searchFields[field] {
			limit = MaxSearchText
		}
		if n := utf8.RuneCountInString(v); n > limit {
			return badInput("argument %s) is %d characters long; the limit is %d", path, n, limit)
		}
	case []any:
		elem := t
		if t != nil && t.Elem != nil {
			elem = t.Elem
		}
		for _, e := range v {
			if err := in.value(e, elem, path, field); err != nil {
				return err
			}
		}
	case map[string]any:
		var def *ast.Definition
		if t != nil {
			def = in.schema.Types[t.Name()]
		}
		for k, e := range v {
			var ft *ast.Type
			name := k
			if def != nil {
				if fd := def.Fields.ForName(k); fd != nil {
					ft = fd.Type
				}
				name = def.Name + "." + k
			}
			if err := in.value(e, ft, path+"."+k, name); err != nil {
				return err
			}
		}
	}
	return nil
}
