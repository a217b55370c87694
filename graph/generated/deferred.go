package generated

import (
	"context"
	"io"
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

// objectValue is what the generated objects return (see execpatch). For an
// operation that cannot defer (an empty group from newDeferredGroup) it is
// the object's fields written in order, without the set of written names
// that gqlgen's FieldSet builds for every object to skip repeated ones:
// CollectFields has merged fields of one response name already, and only
// deferred fields can come twice. Otherwise it is the FieldSet itself.
func objectValue(fields []graphql.CollectedField, out *graphql.FieldSet, deferred *graphql.DeferredGroup) graphql.Marshaler {
	if deferred.Defers != nil {
		return out
	}
	return object{fields: fields, values: out.Values}
}

// object writes an object's fields, each value under its response name.
type object struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

func (o object) MarshalGQL(w io.Writer) {
	w.Write(openBrace)
	for i := range o.fields {
		if i > 0 {
			w.Write(comma)
		}
		// A response name is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*):
		// nothing in it needs escaping.
		w.Write(quote)
		io.WriteString(w, o.fields[i].Alias)
		w.Write(quoteColon)
		o.values[i].MarshalGQL(w)
	}
	w.Write(closeBrace)
}

var (
	openBrace  = []byte{'{'}
	closeBrace = []byte{'}'}
	comma      = []byte{','}
	quote      = []byte{'"'}
	quoteColon = []byte{'"', ':'}
)
