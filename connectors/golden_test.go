package connectors_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/pii"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenPerStream is how many records, and quarantine entries per reason,
// of each stream the golden files hold: the ones with the smallest source
// ids, so the set is fixed by the seed.
const goldenPerStream = 3

// TestCanonicalGolden maps a fixed set of native records of the small city
// (seed 1) per source and compares the canonical records and quarantine
// entries, as JSON, with testdata/<source>.golden (refresh with -update
// and review the diff).
func TestCanonicalGolden(t *testing.T) {
	_, keys, conns := simCity(t, 1, 0)
	for _, c := range conns {
		p := pullAll(t, c)
		t.Run(p.source, func(t *testing.T) {
			var out bytes.Buffer
			for _, stream := range p.streams {
				b := p.batches[stream]
				recs := slices.Clone(b.Records)
				slices.SortStableFunc(recs, func(x, y any) int { return strings.Compare(provenanceOf(x).SourceID, provenanceOf(y).SourceID) })
				fmt.Fprintf(&out, "## %s: %d fetched, %d records, %d tombstones, %d quarantined\n", stream, b.Fetched, len(b.Records), len(b.Tombstones), len(b.Quarantine))
				for _, r := range recs[:min(goldenPerStream, len(recs))] {
					writeGolden(t, &out, fmt.Sprintf("%T", r), sealedMarked(t, keys, r))
				}
				q := slices.Clone(b.Quarantine)
				slices.SortStableFunc(q, func(x, y connectors.Quarantine) int {
					return strings.Compare(string(x.Reason)+"\x00"+x.SourceID, string(y.Reason)+"\x00"+y.SourceID)
				})
				perReason := map[connectors.Reason]int{}
				for _, e := range q {
					if perReason[e.Reason]++; perReason[e.Reason] <= goldenPerStream {
						writeGolden(t, &out, "quarantine", goldenQuarantine(e))
					}
				}
			}
			path := filepath.Join("testdata", p.source+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("canonical output of %s differs from %s (run with -update and review the diff):\n%s", p.source, path, firstDiff(string(want), out.String()))
			}
		})
	}
}

func writeGolden(t *testing.T, out *bytes.Buffer, kind string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(out, "# %s\n%s\n", kind, b)
}

// sealedMarked replaces sealed personal data, which carries a random
// nonce, by a marker once it opens with the key.
func sealedMarked(t *testing.T, keys *pii.Keys, r any) any {
	t.Helper()
	mark := func(p *canon.PersonRef) {
		if p == nil {
			return
		}
		for _, s := range []*[]byte{&p.IDSealed, &p.PhoneSealed} {
			if *s == nil {
				continue
			}
			if _, err := keys.Open(*s); err != nil {
				t.Errorf("sealed value does not open: %v", err)
			}
			*s = []byte("sealed")
		}
	}
	switch r := r.(type) {
	case *canon.Resident:
		c := *r
		mark(&c.Person)
		return c
	case *canon.GridWorker:
		c := *r
		mark(&c.Person)
		return c
	case *canon.PartyMember:
		c := *r
		mark(&c.Person)
		return c
	case *canon.Case:
		c := *r
		if c.Reporter != nil {
			p := *c.Reporter
			mark(&p)
			c.Reporter = &p
		}
		return c
	}
	return r
}

// goldenQuarantine shows the raw payload as text when it is UTF-8.
func goldenQuarantine(q connectors.Quarantine) any {
	v := struct {
		Stream, SourceID, Reason, Field, Message string
		Raw                                      any
	}{q.Stream, q.SourceID, string(q.Reason), q.Field, q.Message, q.Raw}
	if utf8.Valid(q.Raw) {
		raw := string(q.Raw)
		if len(raw) > 600 {
			raw = raw[:600] // oversized text: the start is enough
			for !utf8.ValidString(raw) {
				raw = raw[:len(raw)-1]
			}
			raw += "…"
		}
		v.Raw = raw
	}
	return v
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %s\ngot  %s", i+1, a, b)
		}
	}
	return ""
}
