package citymgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/jsonscan"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/sim"
)

// The one-pass JSON decode must read exactly what decoding the array, then
// each request, reads (decodeJSONInTurn, the decodes the connector has
// always made): the same requests, payloads and per-request errors, and
// the same error for the response, whatever the endpoint sends.

// simRequests returns a connector over the small simulated city and the
// first n requests of its extension paging, each as sent.
func simRequests(tb testing.TB, n int) (*Connector, []string) {
	tb.Helper()
	ctx := context.Background()
	sys, layer := connectortest.StartSim(tb, sim.Options{Seed: 1, LiveRate: -1})
	fetched := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := New(Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Layer: layer, Times: normalize.DefaultTimes(),
		Now: func() time.Time { return fetched }})
	q := url.Values{"updated_after": {"1970-01-01T08:00:00+08:00"}, "extensions": {"true"}}
	resp, err := c.http.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.Endpoint+"/requests.json?"+q.Encode(), nil)
	})
	if err != nil {
		tb.Fatal(err)
	}
	raws, err := decodeJSONInTurn(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, rr := range raws[:min(n, len(raws))] {
		out = append(out, string(rr.raw))
	}
	return c, out
}

// sameAsInTurn fails t unless body decodes, and its requests map, alike
// both ways.
func sameAsInTurn(t *testing.T, c *Connector, body []byte) {
	t.Helper()
	got, gerr := decode("json", body)
	want, werr := decodeJSONInTurn(body)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || len(got) != len(want) {
		t.Fatalf("%.300q:\none pass: %d requests, %v\nin turn:  %d requests, %v", body, len(got), gerr, len(want), werr)
	}
	if werr == nil && len(want) > 0 && decodeJSONOnce(body) == nil {
		decoded := true
		for _, w := range want {
			decoded = decoded && w.err == nil
		}
		if decoded {
			t.Fatalf("%.300q: every request decodes, yet not in one pass", body)
		}
	}
	for i := range got {
		g, w := got[i], want[i]
		if !bytes.Equal(g.raw, w.raw) || !reflect.DeepEqual(g.req, w.req) || fmt.Sprint(g.err) != fmt.Sprint(w.err) {
			t.Fatalf("%.300q: request %d:\none pass: %q %+v %v\nin turn:  %q %+v %v", body, i, g.raw, g.req, g.err, w.raw, w.req, w.err)
		}
	}
	var gb, wb connectors.Batch
	for i := range got {
		c.add(&gb, "requests", got[i])
		c.add(&wb, "requests", want[i])
	}
	if g, w := batchJSON(gb), batchJSON(wb); g != w {
		t.Fatalf("%.300q:\none pass: %.2000s\nin turn:  %.2000s", body, g, w)
	}
}

func batchJSON(b connectors.Batch) string {
	out, err := json.Marshal(b)
	if err != nil {
		return err.Error()
	}
	return string(out)
}

type member struct{ name, value string }

// objectMembers lists the members of a JSON object in order.
func objectMembers(t testing.TB, b []byte) []member {
	t.Helper()
	var out []member
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		t.Fatalf("not an object: %.200s", b)
	}
	for i = jsonscan.SkipSpace(b, i+1); i < len(b) && b[i] != '}'; {
		end, ok := jsonscan.SkipString(b, i)
		if !ok {
			t.Fatalf("bad name in %.200s", b)
		}
		name := string(b[i:end])
		i = jsonscan.SkipSpace(b, jsonscan.SkipSpace(b, end)+1) // past ':'
		vend, ok := jsonscan.SkipValue(b, i)
		if !ok {
			t.Fatalf("bad value in %.200s", b)
		}
		out = append(out, member{name, string(b[i:vend])})
		if i = jsonscan.SkipSpace(b, vend); i < len(b) && b[i] == ',' {
			i = jsonscan.SkipSpace(b, i+1)
		}
	}
	return out
}

func object(ms []member) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.name+":"+m.value)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

var oddValues = []string{`"x"`, `5`, `1.5`, `-3`, `null`, `true`, `[]`, `{}`, `[1,"a"]`, `"１２３"`, "\"\xff\xfe\xc4\xe3\"", `"\ud800"`,
	`"a\u0000b"`, `0`, `""`, `"  "`, `"<b>x</b>"`, `"2026-11-01T09:00:00+08:00"`, `1e400`, `{"history":[{"state":5}]}`,
	`{"workflow_state":"结案","history":null}`, `[{"state":"受理","at":"x"}]`, `"\"quoted\" \\ back\\"`, `"}],[{"`, `"\\"`, `"x\"}"`, `"\"]"`, `"\\\"{"`}

// requestVariants derives requests from req: each member with each odd
// value, duplicated, renamed in another case, dropped; and requests that
// are not objects.
func requestVariants(t testing.TB, req string) []string {
	ms := objectMembers(t, []byte(req))
	with := func(i int, m ...member) string {
		return object(append(append(append([]member{}, ms[:i]...), m...), ms[i+1:]...))
	}
	out := []string{req}
	for i, m := range ms {
		for _, v := range oddValues {
			out = append(out, with(i, member{m.name, v}), with(i, m, member{m.name, v}), with(i, member{m.name, v}, m))
		}
		name := strings.Trim(m.name, `"`)
		for _, n := range []string{strings.ToUpper(name), fmt.Sprintf(`\u%04x`, name[0]) + name[1:], strings.ReplaceAll(name, "s", "ſ")} {
			out = append(out, with(i, member{`"` + n + `"`, m.value}), with(i, m, member{`"` + n + `"`, `"other"`}))
		}
		out = append(out, with(i))
	}
	return append(out, `null`, `[]`, `5`, `"s"`, `{}`, `{"service_request_id":"1"}`, `{"service_request_id":1}`)
}

func bodyOf(reqs ...string) []byte { return []byte("[" + strings.Join(reqs, ",") + "]") }

func responseVariants(reqs ...string) [][]byte {
	all := strings.Join(reqs, ",")
	var out [][]byte
	for _, s := range []string{"[" + all + "]", " \n[ " + strings.Join(reqs, " ,\n") + " ]\t", "[]", "[ ]", "null", "{}", `""`, "",
		"[" + all + "]x", "[" + all, "[" + all + ",]", "[,]", "[" + all + "] []", "[null]", "[[]]", "[" + all + ",null]", `{"requests":[` + all + `]}`} {
		out = append(out, []byte(s))
	}
	var indented bytes.Buffer
	if json.Indent(&indented, bodyOf(reqs...), "", "  ") == nil {
		out = append(out, indented.Bytes())
	}
	return out
}

func TestOnePassDecodeReadsWhatDecodesInTurnRead(t *testing.T) {
	c, reqs := simRequests(t, 3)
	for _, body := range responseVariants(reqs...) {
		sameAsInTurn(t, c, body)
	}
	var variants []string
	for _, r := range reqs[:2] {
		variants = append(variants, requestVariants(t, r)...)
	}
	for i, v := range variants {
		sameAsInTurn(t, c, bodyOf(v))
		sameAsInTurn(t, c, bodyOf(reqs[0], v, reqs[1]))
		if i%20 == 0 {
			sameAsInTurn(t, c, bodyOf(variants[i:min(i+20, len(variants))]...))
		}
	}
	t.Logf("%d request variants", len(variants))
}

// FuzzDecodeJSON compares the two ways of decoding arbitrary responses.
func FuzzDecodeJSON(f *testing.F) {
	c, reqs := simRequests(f, 2)
	for _, body := range responseVariants(reqs...) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) { sameAsInTurn(t, c, body) })
}

// TestTextReadsStringsAsEncodingJSON holds text's own reading of a JSON
// string to what encoding/json reads: escapes, surrogate pairs, invalid
// UTF-8 (replaced) and Chinese, inside a document as the decoder hands
// them over.
func TestTextReadsStringsAsEncodingJSON(t *testing.T) {
	for _, s := range []string{`""`, `"井盖缺失"`, `"a\"b"`, `"line\nbreak"`, `"\u4e95\u76d6"`, `"\ud83d\ude00"`,
		`"tab\there"`, `"slash\/"`, "\"bad \xff byte\"", "\"cut \xe4\xb8\"", `"\\"`, `"中\\文"`, `" padded "`} {
		var want string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var got struct {
			V text `json:"v"`
		}
		if err := json.Unmarshal([]byte(`{"v": `+s+` }`), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(got.V) != want {
			t.Errorf("%q read as %q, encoding/json reads %q", s, got.V, want)
		}
	}
}
