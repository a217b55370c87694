package graph

import (
	"context"
	"fmt"
	"math"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

// Limits bound what one operation may ask for; an operation over a limit
// is refused with QUERY_TOO_COMPLEX before anything runs.
type Limits struct {
	MaxDepth      int // selection nesting, fragments expanded
	MaxComplexity int // estimated cost, see costedSchema
	MaxAliases    int // aliased fields in the operation
}

// DefaultLimits admit ordinary dashboard queries — 100 grids × 10 cases with
// their category and location, a street's drill-down with statistics, a
// filtered page of 500 cases — and refuse requests that would page through
// the city in one go.
var DefaultLimits = Limits{MaxDepth: 12, MaxComplexity: 100000, MaxAliases: 30}

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
	total := int64(cost) + int64(items)*int64(child)
	if total > math.MaxInt32 {
		total = math.MaxInt32
	}
	return int(total), true
}

// limiter enforces Limits on each operation.
type limiter struct {
	limits Limits
	es     graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*limiter)(nil)

func (l *limiter) ExtensionName() string { return "QueryLimits" }

func (l *limiter) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	return nil
}

func (l *limiter) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil {
		return nil
	}
	w := walker{fragments: opCtx.Doc.Fragments}
	depth := w.depth(op.SelectionSet, 0)
	if l.limits.MaxDepth > 0 && depth > l.limits.MaxDepth {
		return tooComplex("operation is nested %d levels deep; the limit is %d", depth, l.limits.MaxDepth)
	}
	if l.limits.MaxAliases > 0 && w.aliases > l.limits.MaxAliases {
		return tooComplex("operation uses %d aliases; the limit is %d", w.aliases, l.limits.MaxAliases)
	}
	if l.limits.MaxComplexity > 0 {
		if c := complexity.Calculate(ctx, l.es, op, opCtx.Variables); c > l.limits.MaxComplexity {
			return tooComplex("operation has an estimated cost of %d; the limit is %d (lower page sizes or split the query)", c, l.limits.MaxComplexity)
		}
	}
	return nil
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": string(canon.QueryTooComplex)}}
}

// walker measures nesting depth and counts aliases, expanding fragments
// (validation has already rejected fragment cycles).
type walker struct {
	fragments ast.FragmentDefinitionList
	aliases   int
}

func (w *walker) depth(set ast.SelectionSet, d int) int {
	deepest := d
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			if len(s.SelectionSet) > 0 {
				deepest = max(deepest, w.depth(s.SelectionSet, d+1))
			} else {
				deepest = max(deepest, d+1)
			}
		case *ast.InlineFragment:
			deepest = max(deepest, w.depth(s.SelectionSet, d))
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil {
				deepest = max(deepest, w.depth(f.SelectionSet, d))
			}
		}
	}
	return deepest
}
