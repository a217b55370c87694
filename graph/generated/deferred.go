package generated

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// newDeferredGroup stands in for graphql.NewDeferredGroup in the generated
// objects (see graph/internal/execpatch): an operation that cannot defer
// anything gets an empty group, which the generated code only reads when a
// field is deferred, instead of one with the object's response path built
// anew for every object of the response. An operation may defer when its
// text names "defer" anywhere: a directive's name cannot be escaped or
// split, so the test errs only towards building the group.
func newDeferredGroup(ctx context.Context) graphql.DeferredGroup {
	if oc := graphql.GetOperationContext(ctx); oc.RawQuery == "" || strings.Contains(oc.RawQuery, "defer") {
		return graphql.NewDeferredGroup(ctx)
	}
	return graphql.DeferredGroup{}
}
