package generated

import (
	"bytes"

	"github.com/99designs/gqlgen/graphql"
)

// dataBuffers hold the buffers query answers are written into (see
// marshalData): a bounded free list rather than a sync.Pool, which the
// collector empties every other cycle. Under load a cycle comes every few
// large answers, and an emptied pool meant a fresh buffer grown by
// doubling, about twice the answer allocated again, for most answers.
var dataBuffers = make(chan *bytes.Buffer, pooledBuffers)

const (
	// pooledBuffers is how many buffers are kept: as many answers as a
	// hub admits at once by default on a machine of a few cores.
	pooledBuffers = 8
	// maxPooledData is the largest buffer kept for the next answer; a
	// larger one is left to the collector, so that a rare huge answer does
	// not pin its memory (the free list holds at most pooledBuffers ×
	// maxPooledData).
	maxPooledData = 1 << 20
)

// marshalData stands in for the bytes.Buffer the generated executor writes
// a query's data into (see graph/internal/execpatch): that buffer grows by
// doubling from 64 bytes, allocating about twice an answer's size (and
// clearing it) for every answer. marshalData writes into a buffer from the
// free list and returns an exact copy.
func marshalData(data graphql.Marshaler) []byte {
	var buf *bytes.Buffer
	select {
	case buf = <-dataBuffers:
		buf.Reset()
	default:
		buf = new(bytes.Buffer)
	}
	data.MarshalGQL(buf)
	out := bytes.Clone(buf.Bytes())
	if buf.Cap() <= maxPooledData {
		select {
		case dataBuffers <- buf:
		default:
		}
	}
	return out
}
