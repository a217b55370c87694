package generated

import (
	"context"
	"math"
	"strings"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// gqlgen marshals every list of objects with one goroutine per element
// (graphql.MarshalSliceConcurrently) and every field with a resolver on a
// goroutine of its own (FieldSet.ResolveConcurrently), so that elements
// waiting on I/O overlap. A list whose selection waits on nothing gains
// nothing from them and pays for each: the goroutine, its stack growth
// and the scheduling. execpatch routes both calls through this file:
// marshalSlice marshals a list in order, on the caller's goroutine, when
// no field selected anywhere under its elements can block (noWait), and
// then every object under it resolves its fields in place (resolveFieldOf).
// A field can block when it runs a resolver that is neither a batch
// resolver (which runs once for all the list's elements, on the first
// element's call), nor one of the resolvers without I/O (withoutIO) or
// with I/O once per request (oncePerRequest), nor a relation the
// connection of its page loaded for the page (primed). An
// operation that may defer keeps gqlgen's own path throughout.

// inlineKey marks a context whose list is being marshalled in place.
type inlineKey struct{}

// marshalSlice stands in for graphql.MarshalSliceConcurrently in the
// generated list marshallers; sel is the selection of each element. A list
// marshalled in place reserves, once its first element is written, room in
// the operation's slabs for its other elements (reserveLike).
func (ec *executionContext) marshalSlice(ctx context.Context, sel ast.SelectionSet, length int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if length <= 1 || !inline(ctx, sel) {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	if ctx.Value(inlineKey{}) == nil {
		ctx = context.WithValue(ctx, inlineKey{}, true)
	}
	ret := make(graphql.Array, length)
	// The elements' field contexts (each with its context) and indices,
	// allocated together.
	fcs := make([]fieldCtx, length)
	index := make([]int, length)
	s := ec.state()
	var before slabCounts
	for i := range length {
		index[i] = i
		fc := &fcs[i].fc
		fc.Index = &index[i]
		childCtx := withFieldContext(ctx, fc)
		if i == 0 && length > 2 {
			before = s.taken()
		}
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
		} else {
			ret[i] = marshalRecovered(childCtx, i, marshalElement)
		}
		if i == 0 && length > 2 {
			s.reserveLike(before, length-1)
		}
	}
	return ret
}

// marshalRecovered marshals one element, reporting a panic as the
// concurrent path does: an error on the element's path and a null.
func marshalRecovered(ctx context.Context, i int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (res graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			res = graphql.Null
		}
	}()
	return marshalElement(ctx, i)
}

// inline tells whether a list with the element selection sel is marshalled
// in place: under a list that is, or when nothing selected can block.
func inline(ctx context.Context, sel ast.SelectionSet) bool {
	if ctx.Value(inlineKey{}) != nil {
		return true
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.RawQuery == "" || mayDefer(oc) {
		return false
	}
	return noWait(oc, sel, 0, true, pageOf(ctx))
}

// A page names what a selection is on when a connection's resolver has
// loaded relations of its whole page before returning it (graph's
// prefetchCases, regionCases, prefetchRegions): the edges or the nodes of
// such a page, or what lies between them. Those relations then wait on
// nothing: their resolvers find them in the request's loaders.
type page uint8

const (
	notPrimed    page = iota
	caseEdges         // the edges of Query.cases or of Region.cases
	pageCase          // a case of such a page
	caseGrid          // the grid of such a case
	caseSource        // the provenance of such a case
	regionEdges       // the edges of Query.regions
	pageRegion        // a region of its page
	regionsCases      // a Region.cases connection of such a region
)

// primed are, for each page, the fields whose resolvers the page's
// connection has loaded for it, each with what its own selection is on.
var primed = map[page]map[string]page{
	caseEdges:    {"CaseEdge.node": pageCase},
	pageCase:     {"Case.grid": caseGrid, "Case.source": notPrimed, "Case.timeline": notPrimed, "Case.provenance": caseSource},
	caseGrid:     {"Region.parent": notPrimed},
	caseSource:   {"Provenance.source": notPrimed},
	regionEdges:  {"RegionEdge.node": pageRegion},
	pageRegion:   {"Region.cases": regionsCases, "Region.caseStats": notPrimed, "Region.stats": notPrimed, "Region.parent": notPrimed},
	regionsCases: {"CaseConnection.edges": caseEdges},
}

// pageOf tells whether the list is the edges of a connection that loads
// relations for its page: a case connection (Query.cases, Region.cases:
// the cases' relations) or Query.regions (the regions' cases and
// statistics).
func pageOf(ctx context.Context) page {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Name != "edges" || fc.Parent == nil || fc.Parent.Field.Field == nil {
		return notPrimed
	}
	switch conn := fc.Parent.Object + "." + fc.Parent.Field.Name; {
	case fc.Object == "CaseConnection" && (conn == "Query.cases" || conn == "Region.cases"):
		return caseEdges
	case fc.Object == "RegionConnection" && conn == "Query.regions":
		return regionEdges
	}
	return notPrimed
}

// maxFragmentDepth bounds the walk through nested fragment spreads (the
// validator has refused cycles already; this is a guard, not a limit).
const maxFragmentDepth = 32

// noWait tells whether no field of a selection, at any depth, can block.
// top is the selection of the list's elements, whose batch resolvers run
// once for the list; on is the page the selection is on, if any.
func noWait(oc *graphql.OperationContext, sel ast.SelectionSet, depth int, top bool, on page) bool {
	if depth > maxFragmentDepth {
		return false
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			var next page
			if s.ObjectDefinition != nil {
				var loaded bool
				next, loaded = primed[on][s.ObjectDefinition.Name+"."+s.Name]
				if !loaded && mayBlock(s.ObjectDefinition, s.Name, top) {
					return false
				}
			}
			if !noWait(oc, s.SelectionSet, depth, false, next) {
				return false
			}
		case *ast.InlineFragment:
			if !noWait(oc, s.SelectionSet, depth, top, on) {
				return false
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || !noWait(oc, s.Definition.SelectionSet, depth+1, top, on) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// mayBlock tells whether the field field of the type def runs a resolver
// that can wait on I/O; on an interface or a union, whether it does on any
// object type.
func mayBlock(def *ast.Definition, field string, top bool) bool {
	if def.Kind == ast.Object {
		return blocks(def.Name+"."+field, top)
	}
	for key := range concurrentFields {
		if strings.HasSuffix(key, "."+field) && blocks(key, top) {
			return true
		}
	}
	return false
}

// blocks tells whether the field "Type.field" runs a resolver that can wait
// on I/O. A batch resolver does not on a list's elements: the list's
// marshaller gives it all of them (graphql.WithBatchParents), and the first
// element's call loads them all. Elsewhere it resolves one object through
// the request's loaders, and waits unless its page loaded it (primed).
func blocks(key string, top bool) bool {
	batch, resolver := concurrentFields[key]
	switch {
	case !resolver || withoutIO[key] || oncePerRequest[key]:
		return false
	case batch && top:
		return false
	}
	return true
}

// withoutIO are the fields with a resolver in graph that does no I/O and
// never waits (global IDs, values computed from the object itself).
var withoutIO = map[string]bool{
	"Region.id": true, "Region.centroid": true,
	"RegionStats.dualReportMembers": true, "RegionStats.serviceStations": true,
	"Incident.id": true, "Person.id": true, "Household.id": true, "GridWorker.id": true,
	"PartyOrg.id": true, "PartyMember.id": true, "PartyMember.joinedOn": true,
	"ServiceStation.id": true, "ServiceStation.location": true, "ServiceStation.distanceMeters": true,
	"Building.location": true, "DualReport.reportedOn": true, "VolunteerActivity.heldOn": true,
	"Provenance.payloadHash": true, "SyncRun.id": true,
	"Case.standardAddress": true, "Case.addressComponents": true,
}

// oncePerRequest are the fields with a resolver in graph that reads a
// reference table the request holds (graph's categories): the first one
// reads it, at most once per request, and every other finds it in memory.
var oncePerRequest = map[string]bool{"Case.category": true, "Incident.category": true, "Category.parent": true}

// resolveFieldOf stands in for FieldSet.ResolveConcurrently in the
// generated objects: under a list marshalled in place it resolves the
// field now, counting its result as Dispatch would; otherwise it schedules
// it. The field is given as the generated field's method expression with
// the field and its object, not as a closure over them: one is made only
// for a field scheduled, not for every field of every object marshalled in
// place.
func resolveFieldOf[T any](ctx context.Context, ec *executionContext, out *graphql.FieldSet, deferred *graphql.DeferredGroup,
	i int, recoverFromPanic, nonNull bool,
	resolve func(*executionContext, context.Context, graphql.CollectedField, T) graphql.Marshaler, field graphql.CollectedField, obj T) {
	invalid := graphql.RequiredNull
	if nonNull {
		invalid = graphql.Null
	}
	oc := ec.OperationContext
	if deferred.Defers == nil && ctx.Value(inlineKey{}) != nil {
		v := resolveRecovered(ctx, ec, oc, recoverFromPanic, resolve, field, obj)
		out.Values[i] = v
		if v == invalid {
			atomic.AddUint32(&out.Invalids, 1)
		}
		return
	}
	// Declared here, so that only a field scheduled moves them to the heap.
	f, o := field, obj
	if deferred.Defers != nil {
		out.ResolveConcurrently(oc, deferred, i, recoverFromPanic, nonNull, func(ctx context.Context) graphql.Marshaler {
			return resolve(ec, ctx, f, o)
		})
		return
	}
	// What ResolveConcurrently does for a field that is not deferred,
	// without the field list it reads to tell (a set of an operation that
	// cannot defer has none: see newFieldSet).
	out.Concurrently(i, func(ctx context.Context) graphql.Marshaler {
		v := resolveRecovered(ctx, ec, oc, recoverFromPanic, resolve, f, o)
		if v == invalid {
			atomic.AddUint32(&out.Invalids, 1)
		}
		return v
	})
}

// resolveRecovered resolves a field; with recoverFromPanic a panic is
// reported through oc and resolves to null, as gqlgen's concurrent path
// does.
func resolveRecovered[T any](ctx context.Context, ec *executionContext, oc *graphql.OperationContext, recoverFromPanic bool,
	resolve func(*executionContext, context.Context, graphql.CollectedField, T) graphql.Marshaler, field graphql.CollectedField, obj T) (res graphql.Marshaler) {
	if recoverFromPanic {
		defer func() {
			if r := recover(); r != nil {
				oc.Error(ctx, oc.Recover(ctx, r))
				res = graphql.Null
			}
		}()
	}
	return resolve(ec, ctx, field, obj)
}

// leafInline tells whether a leaf field (a scalar or an enum) read from its
// object alone is marshalled directly, without graphql.ResolveField
// (execpatch gives those fields the fast path): under a list marshalled in
// place (so never in an operation that may defer, which keeps gqlgen's path
// throughout) and when the field has no directives of its own. Its value
// cannot fail and its marshaller reports no error, so what ResolveField
// would add is a field context for paths of errors there are none of, and
// the field middleware: graph's access check, whose rule for a field
// without directives of its own is its object type's, checked already on
// the field that returned the object (a field to an object type carries
// that type's rule; an abstract one checks what it resolved to).
func leafInline(ctx context.Context, field graphql.CollectedField) bool {
	return field.Field != nil && field.Definition != nil && len(field.Definition.Directives) == 0 && ctx.Value(inlineKey{}) != nil
}

// objectInline tells whether a field to one object read from its object
// alone (CaseEdge.node, Case.location, Case.provenance) or through a
// resolver without arguments (Case.grid, Case.category) is marshalled
// under its own field context without the rest of graphql.ResolveField
// (execpatch gives those fields the fast path): where leafInline allows
// it, and when the field's access is settled. It is when the field's type
// asks no more than the type the field is on (it is @public, or carries
// the same access directives): the field's rule is then its object
// type's, checked already, as a leaf's is (graph's access: a field to an
// object type carries that type's rule and the field's own, of which it
// has none). Otherwise the operation's gate answers for its caller (see
// FieldGate); without a gate the field takes ResolveField. Reading the
// object cannot fail, a resolver's failure leaves the field to
// ResolveField (inlineResolved), and the field context keeps the paths of
// errors below it.
func objectInline(ctx context.Context, field graphql.CollectedField, gate func() FieldGate) bool {
	return leafInline(ctx, field) && field.ObjectDefinition != nil && accessSettled(field, gate)
}

// accessSettled is objectInline's question of the field's access.
func accessSettled(field graphql.CollectedField, gate func() FieldGate) bool {
	def := parsedSchema.Types[field.Definition.Type.Name()]
	if def == nil || def.Kind != ast.Object {
		return false
	}
	if def.Directives.ForName("public") != nil || sameAccess(field.ObjectDefinition.Directives, def.Directives) {
		return true
	}
	g := gate()
	return g != nil && g(field.ObjectDefinition.Name, field.Name)
}

// objectInline is objectInline with the operation's gate, the answer of
// its access kept for the operation: a field selected under a list is
// asked about for every object of the list.
func (ec *executionContext) objectInline(ctx context.Context, field graphql.CollectedField) bool {
	if !leafInline(ctx, field) || field.ObjectDefinition == nil {
		return false
	}
	s := ec.state()
	if ok, found := s.settled.get(field.Field); found {
		return ok
	}
	ok := accessSettled(field, ec.fieldGate)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settled.add(field.Field, ok)
}

// FieldGate tells whether the field middleware of an operation hands
// object.field straight to its resolver for the operation's caller (graph's
// access check: the field needs no look, or its rule admits the caller
// and does not check what the field resolves to). The middleware leaves
// it among the operation's extension data (graphql.Stats) under
// FieldGateExtension, when it is set for the operation; a field whose
// type asks more than the type the field is on takes a fast path only
// where the gate says so.
type FieldGate func(object, field string) bool

// FieldGateExtension names the operation's FieldGate among its extension
// data.
const FieldGateExtension = "hub.fieldGate"

// fieldGate is the operation's FieldGate, read once; nil when the
// operation has none.
func (ec *executionContext) fieldGate() FieldGate {
	s := ec.state()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gateRead {
		s.gate, _ = ec.OperationContext.Stats.GetExtension(FieldGateExtension).(FieldGate)
		s.gateRead = true
	}
	return s.gate
}

// inlineResolved is the fast path of a field to one object with a
// resolver (execpatch gives it those where objectInline allows): resolve
// under the field's own context, then marshal. ok is false when the
// resolver fails, returns what the marshaller does not take, or either
// panics: the field then takes graphql.ResolveField, which reports it at
// the field's path.
func inlineResolved[T any](ctx context.Context, field graphql.CollectedField,
	fieldContext func(context.Context, graphql.CollectedField) (*graphql.FieldContext, error),
	resolve func(context.Context) (any, error),
	marshal func(context.Context, ast.SelectionSet, T) graphql.Marshaler) (m graphql.Marshaler, ok bool) {
	fc, err := fieldContext(ctx, field)
	if err != nil {
		return nil, false
	}
	ctx = withFieldContext(ctx, fc)
	defer func() {
		if recover() != nil {
			m, ok = nil, false
		}
	}()
	res, err := resolve(ctx)
	if err != nil {
		return nil, false
	}
	v, isT := res.(T)
	if !isT {
		return nil, false
	}
	return marshal(ctx, field.Selections, v), true
}

// accessDirectives are the schema's access directives (graph's access).
var accessDirectives = []string{"public", "admin", "scope"}

// sameAccess tells whether two types carry the same access directives,
// with the same arguments.
func sameAccess(a, b ast.DirectiveList) bool {
	for _, name := range accessDirectives {
		x, y := a.ForName(name), b.ForName(name)
		if (x == nil) != (y == nil) {
			return false
		}
		if x == nil {
			continue
		}
		if len(x.Arguments) != len(y.Arguments) {
			return false
		}
		for i, arg := range x.Arguments {
			other := y.Arguments[i]
			if arg.Name != other.Name || arg.Value == nil || other.Value == nil ||
				arg.Value.Kind != other.Value.Kind || arg.Value.Raw != other.Value.Raw || len(arg.Value.Children) > 0 || len(other.Value.Children) > 0 {
				return false
			}
		}
	}
	return true
}

// finite tells whether a Float marshals without an error (NaN and the
// infinities are refused, with the field's path).
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
