package generated

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ywtg/hub/graph/model"
)

// Leaves. gqlgen's marshallers of scalars and enums (graphql.MarshalString,
// MarshalID, MarshalInt, MarshalInt64, MarshalBoolean and the hub's
// model.MarshalTime) return a closure over the value: one allocation per
// leaf of an answer, seven for a case of a page. The generated marshallers
// call these instead (execpatch): the value is kept in an element of the
// operation's slabs, and written as gqlgen writes it when the answer is.
// A slab lives as long as anything taken from it (see take).

// leafString stands in for graphql.MarshalString.
func (ec *executionContext) leafString(s string) graphql.Marshaler {
	st := ec.state()
	v := takeOne(st, &st.strings, 4*minSlab, 8*maxSlab)
	v.s = s
	return v
}

// stringField is a String, an ID or an enum a field of an object holds,
// written as leafString writes it: the generated leaf of such a field
// (execpatch) points at the object's own string, which lives as long as
// the answer and is not written to once read from the store, so that the
// leaf takes neither a slab element nor the operation's lock.
type stringField string

func (v *stringField) MarshalGQL(w io.Writer) { writeQuotedString(w, string(*v)) }

// leafID stands in for graphql.MarshalID, which is MarshalString.
func (ec *executionContext) leafID(s string) graphql.Marshaler { return ec.leafString(s) }

// leafInt stands in for graphql.MarshalInt.
func (ec *executionContext) leafInt(i int) graphql.Marshaler { return ec.leafInt64(int64(i)) }

// leafInt64 stands in for graphql.MarshalInt64.
func (ec *executionContext) leafInt64(i int64) graphql.Marshaler {
	st := ec.state()
	v := takeOne(st, &st.ints, minSlab, 4*maxSlab)
	v.i = i
	return v
}

// leafTime stands in for model.MarshalTime.
func (ec *executionContext) leafTime(t time.Time) graphql.Marshaler {
	st := ec.state()
	v := takeOne(st, &st.times, minSlab, 4*maxSlab)
	v.t = t
	return v
}

// leafFloat is a finite Float of a leaf's fast path (execpatch).
func (ec *executionContext) leafFloat(f float64) graphql.Marshaler {
	st := ec.state()
	v := takeOne(st, &st.floats, minSlab, 4*maxSlab)
	v.f = f
	return v
}

// takeOne takes one element of one of the operation's slabs, under its
// lock.
func takeOne[T any](st *operationState, b *slab[T], lo, hi int) *T {
	st.mu.Lock()
	defer st.mu.Unlock()
	return &b.take(1, lo, hi)[0]
}

// leafBoolean stands in for graphql.MarshalBoolean: the two values are
// shared.
func (ec *executionContext) leafBoolean(b bool) graphql.Marshaler {
	if b {
		return trueLeaf
	}
	return falseLeaf
}

// stringLeaf is a String or an enum value, written as
// graphql.MarshalString writes it.
type stringLeaf struct{ s string }

func (v *stringLeaf) MarshalGQL(w io.Writer) { writeQuotedString(w, v.s) }

// intLeaf is an Int, written as graphql.MarshalInt and MarshalInt64 write
// it.
type intLeaf struct{ i int64 }

func (v *intLeaf) MarshalGQL(w io.Writer) { w.Write(strconv.AppendInt(spare(w, 20), v.i, 10)) }

// timeLeaf is a Time, written as model.MarshalTime writes it.
type timeLeaf struct{ t time.Time }

func (v *timeLeaf) MarshalGQL(w io.Writer) { model.WriteTime(w, v.t) }

// floatLeaf is a finite Float of a leaf's fast path, as gqlgen writes it
// (fmt's %g, which is strconv's shortest 'g'), without its context
// marshaller and closures.
type floatLeaf struct{ f float64 }

func (v *floatLeaf) MarshalGQL(w io.Writer) {
	w.Write(strconv.AppendFloat(spare(w, 24), v.f, 'g', -1, 64))
}

// boolLeaf is a Boolean's text.
type boolLeaf []byte

func (v boolLeaf) MarshalGQL(w io.Writer) { w.Write(v) }

var (
	trueLeaf  graphql.Marshaler = boolLeaf("true")
	falseLeaf graphql.Marshaler = boolLeaf("false")
)

// spare is room to append n bytes or so to before writing them to w: the
// writer's own spare room when it offers it (bytes.Buffer, bufio.Writer;
// appending beyond it reallocates, which is still right), else a new
// buffer.
func spare(w io.Writer, n int) []byte {
	if aw, ok := w.(interface{ AvailableBuffer() []byte }); ok {
		return aw.AvailableBuffer()
	}
	return make([]byte, 0, n)
}

// writeQuotedString writes a string as a JSON string exactly as gqlgen's
// MarshalString does: quotes, backslashes and control characters escaped
// (\t, \r, \n, else \u00XX), everything else as it is, invalid UTF-8
// included. Runs that need no escaping are written whole.
func writeQuotedString(w io.Writer, s string) {
	const hex = "0123456789ABCDEF"
	b := append(spare(w, len(s)+2), '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	w.Write(append(b, '"'))
}
