package generated

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// operationState is what the generated objects of one operation share
// (execpatch adds it to executionContext, which gqlgen makes once per
// operation): whether the operation may defer, worked out once instead of
// for every object; the fields collected per selection and type; and the
// slabs its objects, their field sets and values and its fields' contexts
// are taken from. An answer of a thousand cases resolves some four
// thousand objects, and each paid for these anew.
type operationState struct {
	defers atomic.Int32 // 0 not known yet, cannotDefer or mayDeferOp
	// fields are the fields collected for each selection and type
	// (collectFields), settled objectInline's answer of each field's
	// access: a few an operation, read for every object.
	fields  answers[fieldsKey, []graphql.CollectedField]
	settled answers[*ast.Field, bool]
	mu      sync.Mutex // guards the rest: objects may resolve on several goroutines
	slab    slab[object]
	sets    slab[graphql.FieldSet]
	// spare are sets whose objects are written (objectValue): taken
	// again before the slab, so that an operation holds about as many
	// sets as its answer is deep, not one for each of its objects.
	spare  []*graphql.FieldSet
	values slab[graphql.Marshaler]
	fcs    slab[fieldCtx]
	// children are the field contexts' Child functions, one per type
	// (fieldContextChild).
	children map[string]childFunc
	// The values of leaves (leaves.go).
	strings slab[stringLeaf]
	ints    slab[intLeaf]
	times   slab[timeLeaf]
	floats  slab[floatLeaf]
	// gate is the operation's FieldGate, once gateRead (fieldGate).
	gate     FieldGate
	gateRead bool
}

// childFunc is a field context's Child: the context of a field selected
// under it.
type childFunc = func(context.Context, graphql.CollectedField) (*graphql.FieldContext, error)

// state is the operation's state: the field execpatch adds to
// executionContext, with a method to reach it. gqlgen type-checks the
// package it generated before execpatch runs, so this file must compile
// without them, and finds the method through an interface; an executor
// left unpatched would get a fresh state at each call, and the answers
// of the unpatched path.
func (ec *executionContext) state() *operationState {
	if p, ok := any(ec).(interface{ operationState() *operationState }); ok {
		return p.operationState()
	}
	return new(operationState)
}

// answers are what an operation worked out once for each of a few keys
// and reads for every object: a list replaced whole when a key is added
// (under the operation's lock), and read without it, keys compared by
// identity.
type answers[K comparable, V any] struct {
	list atomic.Pointer[[]answer[K, V]]
}

type answer[K comparable, V any] struct {
	key K
	v   V
}

// get finds the answer for a key.
func (a *answers[K, V]) get(k K) (V, bool) {
	if list := a.list.Load(); list != nil {
		for i := range *list {
			if (*list)[i].key == k {
				return (*list)[i].v, true
			}
		}
	}
	var zero V
	return zero, false
}

// add keeps the answer for a key, or returns the one another goroutine
// kept first (the caller holds the operation's lock).
func (a *answers[K, V]) add(k K, v V) V {
	if old, ok := a.get(k); ok {
		return old
	}
	// A copy with the new key: readers of the list it replaces keep
	// theirs.
	var next []answer[K, V]
	if list := a.list.Load(); list != nil {
		next = make([]answer[K, V], len(*list), len(*list)+1)
		copy(next, *list)
	}
	next = append(next, answer[K, V]{k, v})
	a.list.Store(&next)
	return v
}

// fieldsKey names a selection set and the types a collection satisfies by
// identity, as gqlgen's own cache of CollectFields does; the implementor
// lists are the generated package's variables, so their identity names
// the type.
type fieldsKey struct {
	sel       *ast.Selection
	n         int
	satisfies *string
}

const (
	cannotDefer int32 = 1
	mayDeferOp  int32 = 2
)

// newDeferredGroup stands in for graphql.NewDeferredGroup in the generated
// objects (see graph/internal/execpatch): an operation that cannot defer
// anything gets an empty group, which the generated code only reads when a
// field is deferred, instead of one with the object's response path built
// anew for every object of the response. An operation may defer when its
// text names "defer" anywhere (mayDefer), which is looked at once.
func (ec *executionContext) newDeferredGroup(ctx context.Context) graphql.DeferredGroup {
	if ec.operationMayDefer() {
		return graphql.NewDeferredGroup(ctx)
	}
	return graphql.DeferredGroup{}
}

func (ec *executionContext) operationMayDefer() bool {
	switch ec.state().defers.Load() {
	case cannotDefer:
		return false
	case mayDeferOp:
		return true
	}
	oc := ec.OperationContext
	may := oc == nil || oc.RawQuery == "" || mayDefer(oc)
	if may {
		ec.state().defers.Store(mayDeferOp)
	} else {
		ec.state().defers.Store(cannotDefer)
	}
	return may
}

// collectFields stands in for graphql.CollectFields in the generated
// objects: the same fields, looked up by the selection's and the type
// list's identity in the operation's own map. gqlgen's cache hashes the
// type names into its key for every object. What CollectFields returns
// depends on the operation (its variables, for @skip and @include) and
// the arguments only, so one answer serves the whole operation.
func (ec *executionContext) collectFields(sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if len(sel) == 0 || len(satisfies) == 0 {
		return graphql.CollectFields(ec.OperationContext, sel, satisfies)
	}
	k := fieldsKey{sel: unsafe.SliceData(sel), n: len(sel), satisfies: unsafe.SliceData(satisfies)}
	s := ec.state()
	if f, ok := s.fields.get(k); ok {
		return f
	}
	f := graphql.CollectFields(ec.OperationContext, sel, satisfies)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fields.add(k, f)
}

// objectValue is what the generated objects return (see execpatch). For an
// operation that cannot defer (an empty group from newDeferredGroup) it is
// the object's fields written in order, without the set of written names
// that gqlgen's FieldSet builds for every object to skip repeated ones:
// CollectFields has merged fields of one response name already, and only
// deferred fields can come twice. Otherwise it is the FieldSet itself.
//
// The set itself is done with then: Dispatch has run every field it
// scheduled, and the object keeps only its values. A set of an operation
// that cannot defer goes back to the operation for the next object.
func (ec *executionContext) objectValue(fields []graphql.CollectedField, out *graphql.FieldSet, deferred *graphql.DeferredGroup) graphql.Marshaler {
	if deferred.Defers != nil {
		return out
	}
	return ec.state().newObject(fields, out, !ec.operationMayDefer())
}

// Each chunk of a slab holds twice as many as the one before, from minSlab
// to maxSlab (values: from 4×minSlab to 8×maxSlab): a small answer takes
// little, a large one allocates once per maxSlab objects (or once per list
// marshalled in place: reserveLike). A chunk lives as long as anything
// taken from it, which is until the answer is written.
const (
	minSlab = 8
	maxSlab = 256
)

// slab is where an operation takes values of one kind from, in chunks
// (take), counting what it took (for reserve).
type slab[T any] struct {
	chunk []T
	// last is the size of the last chunk take started (not reserve's).
	last  int
	taken int
}

// take returns the next n zero elements of a slab (the caller holds the
// lock), starting a new chunk, twice the size of the last within lo and
// hi (and at least n), when the chunk has no room left.
func (b *slab[T]) take(n, lo, hi int) []T {
	if len(b.chunk)+n > cap(b.chunk) {
		b.last = min(max(2*b.last, lo), hi)
		b.chunk = make([]T, 0, max(n, b.last))
	}
	at := len(b.chunk)
	b.chunk = b.chunk[:at+n]
	b.taken += n
	return b.chunk[at : at+n : at+n]
}

// reserve makes room for n more elements (at most maxReserve) in the
// current chunk or a new one of that size (the caller holds the lock); the
// chunk after it is sized as if it had not been.
func (b *slab[T]) reserve(n int) {
	n = min(n, maxReserve)
	if cap(b.chunk)-len(b.chunk) < n {
		b.chunk = make([]T, 0, n)
	}
}

// maxReserve bounds a chunk reserve makes: a long list's elements beyond
// it take chunks as they come.
const maxReserve = 4096

// slabCounts are how many elements an operation took from each of the
// slabs a list's elements take from (the sets are given back, and taken
// again).
type slabCounts [7]int

// taken counts what the operation took so far.
func (s *operationState) taken() slabCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts()
}

// counts is taken for a caller that holds the lock.
func (s *operationState) counts() slabCounts {
	return slabCounts{s.slab.taken, s.values.taken, s.fcs.taken, s.strings.taken, s.ints.taken, s.times.taken, s.floats.taken}
}

// reserveLike makes room, in each slab, for n more of what the operation
// took since before: a list marshalled in place reserves for its other
// elements what its first took, in one chunk each, instead of chunks
// doubling from the last (whose unused tail, up to half a chunk, is
// allocated and cleared for nothing).
func (s *operationState) reserveLike(before slabCounts, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.counts()
	reserve := func(k int, f func(int)) {
		if d := now[k] - before[k]; d > 0 {
			f(d * n)
		}
	}
	reserve(0, s.slab.reserve)
	reserve(1, s.values.reserve)
	reserve(2, s.fcs.reserve)
	reserve(3, s.strings.reserve)
	reserve(4, s.ints.reserve)
	reserve(5, s.times.reserve)
	reserve(6, s.floats.reserve)
}

// newObject takes an object from the operation's slab for the values of a
// set; with release, the set is one of the operation's (newFieldSet), done
// with, and is given back, cleared, for newFieldSet to take again; under
// one lock.
func (s *operationState) newObject(fields []graphql.CollectedField, out *graphql.FieldSet, release bool) *object {
	values := out.Values
	if release {
		*out = graphql.FieldSet{}
	}
	s.mu.Lock()
	o := &s.slab.take(1, minSlab, maxSlab)[0]
	if release {
		s.spare = append(s.spare, out)
	}
	s.mu.Unlock()
	o.fields, o.values = fields, values
	return o
}

// newFieldSet stands in for graphql.NewFieldSet in the generated objects
// (see execpatch). An operation that cannot defer takes the set and its
// values from the operation's slabs, and leaves out the list of collected
// fields that a FieldSet keeps: only the set's own MarshalGQL and its
// deferred views read it, and every object of such an operation is
// written through objectValue, which is given the fields.
func (ec *executionContext) newFieldSet(fields []graphql.CollectedField) *graphql.FieldSet {
	if ec.operationMayDefer() {
		return graphql.NewFieldSet(fields)
	}
	return ec.state().newFieldSet(len(fields))
}

// newFieldSet takes a set of n values from the operation's slabs: a set
// given back (newObject) if there is one, its values always new.
func (s *operationState) newFieldSet(n int) *graphql.FieldSet {
	s.mu.Lock()
	var fs *graphql.FieldSet
	if k := len(s.spare); k > 0 {
		fs, s.spare = s.spare[k-1], s.spare[:k-1]
	} else {
		fs = &s.sets.take(1, minSlab, maxSlab)[0]
	}
	values := s.values.take(n, 4*minSlab, 8*maxSlab)
	s.mu.Unlock()
	fs.Values = values
	return fs
}

// fieldContext stands in for the allocation of a generated field's
// context (see execpatch): it is taken from the operation's slab.
func (ec *executionContext) fieldContext(fc graphql.FieldContext) *graphql.FieldContext {
	s := ec.state()
	s.mu.Lock()
	p := &s.fcs.take(1, minSlab, maxSlab)[0].fc
	s.mu.Unlock()
	*p = fc
	return p
}

// fieldContextChild is fieldContext for a field to an object, interface
// or union, whose context says how to make the contexts of the fields
// selected under it (graphql.FieldContext.Child: gqlgen's hook for field
// middleware; nothing in the hub calls it). gqlgen gives each such context
// a closure of its own; here the function is made once per operation and
// type, from the method expression of the type's childFields (a static
// value, which costs nothing to pass).
func (ec *executionContext) fieldContextChild(fc graphql.FieldContext, typ string,
	child func(*executionContext, context.Context, graphql.CollectedField) (*graphql.FieldContext, error)) *graphql.FieldContext {
	s := ec.state()
	s.mu.Lock()
	f, ok := s.children[typ]
	if !ok {
		if s.children == nil {
			s.children = map[string]childFunc{}
		}
		f = func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return child(ec, ctx, field)
		}
		s.children[typ] = f
	}
	p := &s.fcs.take(1, minSlab, maxSlab)[0].fc
	s.mu.Unlock()
	*p = fc
	p.Child = f
	return p
}

// fieldCtx is an element of the operation's slab of field contexts: the
// field context, and the context that holds it for the fields under it
// (withFieldContext), in one allocation where graphql.WithFieldContext
// makes a context of its own (a context.WithValue) for every field.
type fieldCtx struct {
	fc graphql.FieldContext // first: a *graphql.FieldContext of the slab points at its fieldCtx
	context.Context
}

// Value is the field context under gqlgen's key (what GetFieldContext
// reads), and the parent's value of any other.
func (c *fieldCtx) Value(key any) any {
	if key == fieldContextKey {
		return &c.fc
	}
	return c.Context.Value(key)
}

// withFieldContext is graphql.WithFieldContext for a field context that is
// the fc of a fieldCtx (the operation's slab: fieldContext,
// fieldContextChild, every field context execpatch's fast paths make; the
// elements of a list marshalled in place): the context returned is that
// fieldCtx, over ctx. A field context made anywhere else must go through
// graphql.WithFieldContext.
func withFieldContext(ctx context.Context, fc *graphql.FieldContext) context.Context {
	fc.Parent = graphql.GetFieldContext(ctx)
	c := (*fieldCtx)(unsafe.Pointer(fc))
	c.Context = ctx
	return c
}

// fieldContextKey is the key gqlgen holds a field context under in a
// context, as GetFieldContext asks a context for it (the key's type is
// gqlgen's own).
var fieldContextKey = func() any {
	var p keyProbe
	graphql.GetFieldContext(&p)
	if p.key == nil {
		panic("graphql.GetFieldContext asked its context for no value")
	}
	return p.key
}()

// keyProbe is a context that records the key it is asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// object writes an object's fields, each value under its response name.
type object struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

func (o *object) MarshalGQL(w io.Writer) {
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

// mayDefer is newDeferredGroup's test: the operation's text names "defer".
// A directive's name cannot be escaped or split, so the test errs only
// towards building the group.
func mayDefer(oc *graphql.OperationContext) bool {
	return strings.Contains(oc.RawQuery, "defer")
}
