package model

import (
	"encoding/json"
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ywtg/hub/canon"
)

// cst is China Standard Time; China has had no daylight saving since 1991,
// so a fixed zone is exact and needs no tzdata.
var cst = time.FixedZone("CST", 8*3600)

// MarshalTime writes RFC 3339 with the +08:00 offset (a JSON string whose
// characters need no escaping), formatted in place.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { WriteTime(w, t) })
}

// WriteTime writes a Time as MarshalTime does, into the writer's own
// spare room when it offers it (bytes.Buffer, bufio.Writer), so that the
// text is not copied through a buffer of its own on the heap.
func WriteTime(w io.Writer, t time.Time) {
	if aw, ok := w.(interface{ AvailableBuffer() []byte }); ok {
		w.Write(AppendTime(aw.AvailableBuffer(), t))
		return
	}
	w.Write(AppendTime(make([]byte, 0, 48), t))
}

// AppendTime appends a Time as MarshalTime writes it: quoted RFC 3339 with
// the +08:00 offset.
func AppendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.In(cst).AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// UnmarshalTime reads RFC 3339 and insists on an explicit offset.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, canon.Errorf(canon.BadUserInput, "Time must be an RFC 3339 string, got %T", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, canon.Errorf(canon.BadUserInput, "Time %q is not RFC 3339 with an offset (e.g. 2026-10-01T09:00:00+08:00)", s)
	}
	return t, nil
}

// MarshalGeoJSON writes a stored GeoJSON geometry as is.
func MarshalGeoJSON(g json.RawMessage) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(g) == 0 {
			io.WriteString(w, "null")
			return
		}
		w.Write(g)
	})
}

// UnmarshalGeoJSON accepts a geometry object as input.
func UnmarshalGeoJSON(v any) (json.RawMessage, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, canon.Errorf(canon.BadUserInput, "GeoJSON must be a geometry object, got %T", v)
	}
	if _, ok := m["type"].(string); !ok {
		return nil, canon.Errorf(canon.BadUserInput, "GeoJSON geometry needs a type")
	}
	return json.Marshal(m)
}
