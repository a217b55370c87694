package generated

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ywtg/hub/graph/model"
)

// writeAll writes a leaf into the kinds of writer it meets: the answer's
// buffer, a buffered writer, and one offering no room of its own.
func writeAll(t *testing.T, m graphql.Marshaler) []string {
	t.Helper()
	var plain bytes.Buffer
	m.MarshalGQL(&plain)
	var viaBufio bytes.Buffer
	bw := bufio.NewWriterSize(&viaBufio, 16)
	m.MarshalGQL(bw)
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	var bare bytes.Buffer
	m.MarshalGQL(struct{ io.Writer }{&bare})
	return []string{plain.String(), viaBufio.String(), bare.String()}
}

func sameAs(t *testing.T, what string, got, want graphql.Marshaler) {
	t.Helper()
	w := writeAll(t, want)[0]
	for i, g := range writeAll(t, got) {
		if g != w {
			t.Fatalf("%s, writer %d: %q, gqlgen writes %q", what, i, g, w)
		}
	}
}

// TestLeavesWriteAsGqlgen: every leaf taken from the operation's slabs is
// written byte for byte as gqlgen's marshaller (or the hub's) writes it:
// strings with every escape, invalid UTF-8 and long runs, IDs, the ends
// of the integers, times in any zone, and both Booleans.
func TestLeavesWriteAsGqlgen(t *testing.T) {
	ec := &executionContext{}
	strs := []string{"", "街面秩序", `a"b\c`, "tab\there\r\n", "\x00\x01\x1f\x7f", "\xff\xfe bad utf-8 \xe4\xb8", "</script>&'",
		string(bytes.Repeat([]byte("武汉市江岸区"), 400))}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		strs = append(strs, string(b))
	}
	for _, s := range strs {
		sameAs(t, "String "+s, ec.leafString(s), graphql.MarshalString(s))
		sameAs(t, "ID "+s, ec.leafID(s), graphql.MarshalID(s))
	}
	for _, i := range []int64{0, 1, -1, 42, math.MaxInt64, math.MinInt64, 1 << 53} {
		sameAs(t, "Int64", ec.leafInt64(i), graphql.MarshalInt64(i))
		sameAs(t, "Int", ec.leafInt(int(i)), graphql.MarshalInt(int(i)))
	}
	for _, tm := range []time.Time{{}, time.Date(2026, 12, 6, 9, 30, 0, 123456789, time.UTC),
		time.Date(1991, 4, 14, 2, 0, 0, 0, time.FixedZone("X", -5*3600)), time.Unix(1<<40, 0)} {
		sameAs(t, "Time "+tm.String(), ec.leafTime(tm), model.MarshalTime(tm))
	}
	for _, b := range []bool{true, false} {
		sameAs(t, "Boolean", ec.leafBoolean(b), graphql.MarshalBoolean(b))
	}
}

// TestLeavesKeepTheirValues: leaves taken one after another, across new
// slabs, each keep their own value until written.
func TestLeavesKeepTheirValues(t *testing.T) {
	ec := &executionContext{}
	var ms []graphql.Marshaler
	for i := range 5000 {
		ms = append(ms, ec.leafInt(i))
	}
	for i, m := range ms {
		if got := writeAll(t, m)[0]; got != strconv.Itoa(i) {
			t.Fatalf("leaf %d writes %s", i, got)
		}
	}
}

func FuzzLeafString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "街", "\xff"} {
		f.Add(s)
	}
	ec := &executionContext{}
	f.Fuzz(func(t *testing.T, s string) {
		sameAs(t, "String", ec.leafString(s), graphql.MarshalString(s))
		sameAs(t, "ID", ec.leafID(s), graphql.MarshalID(s))
	})
}
