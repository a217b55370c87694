package generated

import (
	"bytes"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// dataBuffers hold the buffers query answers are written into (see
// marshalData).
var dataBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledData is the largest buffer kept for the next answer; a larger
// one is left to the collector, so that a rare huge answer does not pin
// its memory.
const maxPooledData = 1 << 20

// marshalData stands in for the bytes.Buffer the generated executor writes
// a query's data into (see graph/internal/execpatch): that buffer grows by
// doubling from 64 bytes, allocating about twice an answer's size (and
// clearing it) for every answer. marshalData writes into a pooled buffer
// and returns an exact copy.
func marshalData(data graphql.Marshaler) []byte {
	buf := dataBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	data.MarshalGQL(buf)
	out := bytes.Clone(buf.Bytes())
	if buf.Cap() <= maxPooledData {
		dataBuffers.Put(buf)
	}
	return out
}
