package generated

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

// The functions below parse a field's arguments with the executor's own
// code (field_X_args: variables, defaults, enums and input objects coerced
// into their Go types), for resolvers that look ahead at the arguments of
// a field below them (graph's prefetching of a page of regions). What they
// return is what the executor passes to the field's resolver.

// argsContext is an execution context of the operation, enough to parse
// arguments.
func argsContext(ctx context.Context) *executionContext {
	return newExecutionContext(graphql.GetOperationContext(ctx), &executableSchema{}, nil)
}

// RegionCasesArgs are the arguments of a Region.cases field.
func RegionCasesArgs(ctx context.Context, f graphql.CollectedField) (filter *model.CaseFilter, orderBy *model.CaseOrder, first *int, after *string, err error) {
	ec := argsContext(ctx)
	args, err := ec.field_Region_cases_args(ctx, f.ArgumentMap(ec.Variables))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return args["filter"].(*model.CaseFilter), args["orderBy"].(*model.CaseOrder), args["first"].(*int), args["after"].(*string), nil
}

// RegionCaseStatsArgs are the arguments of a Region.caseStats field.
func RegionCaseStatsArgs(ctx context.Context, f graphql.CollectedField) (filter *model.CaseFilter, groupBy []store.Dimension, err error) {
	ec := argsContext(ctx)
	args, err := ec.field_Region_caseStats_args(ctx, f.ArgumentMap(ec.Variables))
	if err != nil {
		return nil, nil, err
	}
	return args["filter"].(*model.CaseFilter), args["groupBy"].([]store.Dimension), nil
}

// RegionChildrenArgs are the arguments of a Region.children field.
func RegionChildrenArgs(ctx context.Context, f graphql.CollectedField) (first *int, after *string, err error) {
	ec := argsContext(ctx)
	args, err := ec.field_Region_children_args(ctx, f.ArgumentMap(ec.Variables))
	if err != nil {
		return nil, nil, err
	}
	return args["first"].(*int), args["after"].(*string), nil
}
