package generated

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestSlabReserveLike holds a list's reservation to what its first element
// took: the other elements take from one chunk each, and a slab's next
// chunk after a reservation is sized from the chunks take made before it.
func TestSlabReserveLike(t *testing.T) {
	var s operationState
	// Before the list: a few of each, as the fields above it take.
	s.fcs.take(1, minSlab, maxSlab)
	s.values.take(3, 4*minSlab, 8*maxSlab)
	before := s.taken()
	// The first element: 3 field contexts, 11 values, 2 strings.
	for range 3 {
		s.fcs.take(1, minSlab, maxSlab)
	}
	s.values.take(11, 4*minSlab, 8*maxSlab)
	s.strings.take(1, 4*minSlab, 8*maxSlab)
	s.strings.take(1, 4*minSlab, 8*maxSlab)
	const others = 99
	s.reserveLike(before, others)
	if got := cap(s.fcs.chunk) - len(s.fcs.chunk); got != 3*others {
		t.Fatalf("room for %d field contexts, want %d", got, 3*others)
	}
	fcs, values, strs := &s.fcs.chunk[:cap(s.fcs.chunk)][cap(s.fcs.chunk)-1], &s.values.chunk[:cap(s.values.chunk)][cap(s.values.chunk)-1], &s.strings.chunk[:cap(s.strings.chunk)][cap(s.strings.chunk)-1]
	var lastFC *fieldCtx
	var lastValue *graphql.Marshaler
	var lastString *stringLeaf
	for range others {
		for range 3 {
			lastFC = &s.fcs.take(1, minSlab, maxSlab)[0]
		}
		v := s.values.take(11, 4*minSlab, 8*maxSlab)
		lastValue = &v[10]
		s.strings.take(1, 4*minSlab, 8*maxSlab)
		lastString = &s.strings.take(1, 4*minSlab, 8*maxSlab)[0]
	}
	if lastFC != fcs || lastValue != values || lastString != strs {
		t.Fatal("the other elements did not fill the reserved chunks exactly")
	}
	// What follows the list starts a chunk as take would have without the
	// reservation: twice its last, not twice the reservation.
	last := s.fcs.last
	s.fcs.take(1, minSlab, maxSlab)
	if got, want := cap(s.fcs.chunk), min(2*last, maxSlab); got != want {
		t.Fatalf("the chunk after the reservation holds %d, want %d", got, want)
	}
	// A list of elements taking nothing reserves nothing.
	before = s.taken()
	chunk := &s.ints.chunk
	s.reserveLike(before, others)
	if *chunk != nil {
		t.Fatalf("reserved %d integers for elements that take none", cap(*chunk))
	}
}

// TestWithFieldContext holds the slab's contexts to graphql.WithFieldContext:
// the field context under gqlgen's key with its parent set, every other
// value, the deadline and the cancellation of the context under it.
func TestWithFieldContext(t *testing.T) {
	type otherKey struct{}
	base, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "上级"))
	parent := graphql.WithFieldContext(base, &graphql.FieldContext{Object: "CaseEdge"})
	ec := &executionContext{}
	fc := ec.fieldContext(graphql.FieldContext{Object: "Case"})
	ctx := withFieldContext(parent, fc)
	if got := graphql.GetFieldContext(ctx); got != fc || got.Parent == nil || got.Parent.Object != "CaseEdge" {
		t.Fatalf("field context %+v, want the slab's with the edge as parent", got)
	}
	if got := ctx.Value(otherKey{}); got != "上级" {
		t.Fatalf("another value: %v", got)
	}
	// gqlgen's own contexts stack over it as over any context.
	child := graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Region"})
	if got := graphql.GetFieldContext(child); got.Parent != fc {
		t.Fatalf("a field under it has the parent %+v", got.Parent)
	}
	cancel()
	select {
	case <-ctx.Done():
	default:
		t.Fatal("not cancelled with the context under it")
	}
	if ctx.Err() != context.Canceled {
		t.Fatalf("err %v", ctx.Err())
	}
}
