package governance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/jsonscan"
)

// The one-pass decode (decodeList, mapPage) must read exactly what the
// envelope, the page and each record decoded in turn read (decodeInTurn,
// Mapper.key, Mapper.mapRaw: the decodes the connector has always made):
// the same records, tombstones and quarantine entries, with the same
// reasons, messages and payloads, the same cursor and the same errors,
// whatever the platform sends.

// referencePage maps a page decoded in turn as Pull did before the one
// pass: each record's cursor key and mapping from its own decodes.
func referencePage(m *Mapper, stream string, p *page, cur *cursor, b *connectors.Batch) *cursor {
	last := cur
	for _, raw := range p.Records {
		key, ok := m.key(raw)
		if ok && cur != nil && !cur.before(key.T, key.ID) {
			continue
		}
		m.mapRaw(stream, raw, b)
		if ok {
			last = &key
		}
	}
	return last
}

// sameAsInTurn fails t unless body decodes and maps alike both ways.
func sameAsInTurn(t *testing.T, m *Mapper, stream string, body []byte, cur *cursor) {
	t.Helper()
	fe, fp, ferr := decodeList(stream, body)
	re, rp, rerr := decodeInTurn(stream, body)
	if fmt.Sprint(ferr) != fmt.Sprint(rerr) || fe.Code != re.Code || fe.Code != codeOK && fe.Msg != re.Msg || (fp == nil) != (rp == nil) {
		t.Fatalf("%s %.300q:\none pass: %+v %v %v\nin turn:  %+v %v %v", stream, body, fe, fp != nil, ferr, re, rp != nil, rerr)
	}
	if fp == nil {
		return
	}
	if fp.Total != rp.Total || len(fp.Records) != len(rp.Records) {
		t.Fatalf("%s %.300q: one pass reads %d of %d records, in turn %d of %d", stream, body, len(fp.Records), fp.Total, len(rp.Records), rp.Total)
	}
	var fb, rb connectors.Batch
	fl := m.mapPage(stream, fp, cur, &fb)
	rl := referencePage(m, stream, rp, cur, &rb)
	if got, want := batchText(t, m, fb, fl), batchText(t, m, rb, rl); got != want {
		t.Fatalf("%s %.300q (cursor %v):\none pass: %.2000s\nin turn:  %.2000s", stream, body, cur, got, want)
	}
}

// batchText renders a batch and cursor for comparison, sealed values
// opened (they carry a random nonce).
func batchText(t *testing.T, m *Mapper, b connectors.Batch, last *cursor) string {
	t.Helper()
	open := func(p *canon.PersonRef) {
		for _, s := range []*[]byte{&p.IDSealed, &p.PhoneSealed} {
			if *s != nil {
				v, err := m.Keys.Open(*s)
				if err != nil {
					t.Fatalf("sealed value does not open: %v", err)
				}
				*s = []byte(v)
			}
		}
	}
	var recs []string
	for _, r := range b.Records {
		if p, ok := r.(interface{ Prov() *canon.Provenance }); ok {
			ds := append([]canon.FieldDefect(nil), p.Prov().FieldDefects...)
			for i := range ds {
				if ds[i].Sealed {
					v, err := m.Keys.Open(ds[i].Raw)
					if err != nil {
						t.Fatalf("sealed value does not open: %v", err)
					}
					ds[i].Raw = []byte(v)
				}
			}
			p.Prov().FieldDefects = ds
		}
		switch r := r.(type) {
		case *canon.Resident:
			c := *r
			open(&c.Person)
			recs = append(recs, jsonText(c))
		case *canon.GridWorker:
			c := *r
			open(&c.Person)
			recs = append(recs, jsonText(c))
		case *canon.Case:
			c := *r
			if c.Reporter != nil {
				rep := *c.Reporter
				open(&rep)
				c.Reporter = &rep
			}
			recs = append(recs, jsonText(c))
		default:
			recs = append(recs, fmt.Sprintf("%T %s", r, jsonText(r)))
		}
	}
	return fmt.Sprintf("fetched %d next %v\nrecords %s\ntombstones %s\nquarantine %s", b.Fetched, jsonText(last),
		strings.Join(recs, "\n"), jsonText(b.Tombstones), jsonText(b.Quarantine))
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unmarshalable: " + err.Error()
	}
	return string(b)
}

// member is a name and value of a JSON object, as written.
type member struct{ name, value string }

// objectMembers lists the members of a JSON object in order.
func objectMembers(t testing.TB, obj []byte) []member {
	t.Helper()
	var out []member
	if _, ok := jsonscan.Members(obj, 0, func(name []byte, i int) (int, bool) {
		end, ok := jsonscan.SkipValue(obj, i)
		if ok {
			out = append(out, member{`"` + string(name) + `"`, string(obj[i:end])})
		}
		return end, ok
	}); !ok {
		t.Fatalf("not an object: %.200s", obj)
	}
	return out
}

func object(ms []member) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.name + ":" + m.value)
	}
	b.WriteByte('}')
	return b.String()
}

// odd values: wrong types, edge numbers, odd strings, broken encodings.
var oddValues = []string{`"x"`, `5`, `1.5`, `-3`, `null`, `true`, `[]`, `{}`, `[1,"a"]`, `{"a":[1]}`, `"１２３"`, "\"\xff\xfe\xc4\xe3\"",
	`"\ud800"`, `"a\u0000b"`, `0`, `-0`, `"123"`, `"-7"`, `" 12"`, `1e2`, `12345678901234567890`, `""`, `"  "`, `"<b>x</b>"`,
	`"2026-11-01 09:00:00"`, `1762000000000`, `"2026/11/01"`, `"null"`, `"\"quoted\""`, `"x\"}"`, `"\"]"`, `"\\\"{"`, `[{"status":10,"time":"x"}]`, `["420606001001001"]`}

// recordVariants derives records from rec: each member with each odd
// value, duplicated, renamed in another case or with an escape, dropped;
// deleted flags of every type; and records that are not objects.
func recordVariants(t testing.TB, rec []byte) []string {
	ms := objectMembers(t, rec)
	with := func(i int, m ...member) string {
		out := append(append(append([]member{}, ms[:i]...), m...), ms[i+1:]...)
		return object(out)
	}
	out := []string{string(rec)}
	for i, m := range ms {
		name := strings.Trim(m.name, `"`)
		for _, v := range oddValues {
			out = append(out, with(i, member{m.name, v}), with(i, m, member{m.name, v}), with(i, member{m.name, v}, m))
		}
		for _, n := range []string{strings.ToUpper(name), strings.ToLower(name), strings.ToUpper(name[:1]) + name[1:],
			fmt.Sprintf(`\u%04x`, name[0]) + name[1:], strings.ReplaceAll(name, "s", "ſ"), strings.ReplaceAll(name, "k", "\u212a")} {
			out = append(out, with(i, member{`"` + n + `"`, m.value}), with(i, m, member{`"` + n + `"`, `"other"`}))
		}
		out = append(out, with(i))
	}
	for _, d := range []string{`1`, `0`, `"1"`, `1.0`, `true`, `null`, `2`, `-1`} {
		out = append(out, object(append(append([]member{}, ms...), member{`"deleted"`, d})),
			object(append(append([]member{}, ms...), member{`"Deleted"`, d})),
			object(append(append([]member{}, ms...), member{`"deleted"`, `1`}, member{`"deleted"`, d})))
	}
	return append(out, `null`, `[]`, `5`, `"s"`, `{}`, `{"id":1}`, `{"id":"7"}`, `{"id":1.5}`, `{"id":null}`, `{"id":-1,"deleted":1}`)
}

func pageBody(records ...string) []byte {
	return []byte(`{"code":0,"msg":"success","data":{"total":` + fmt.Sprint(len(records)) + `,"pageNum":1,"pageSize":500,"records":[` +
		strings.Join(records, ",") + `]}}`)
}

// envelopeVariants wraps records in responses of every shape the
// envelope and page decodes tell apart.
func envelopeVariants(records ...string) [][]byte {
	recs := "[" + strings.Join(records, ",") + "]"
	data := `{"total":3,"records":` + recs + `}`
	// others has as many records as recs: a second records member of that
	// length merges into the records of the first.
	var other []string
	for i := range records {
		other = append(other, fmt.Sprintf(`{"id":%d}`, 9000+i))
	}
	others := "[" + strings.Join(other, ",") + "]"
	var out [][]byte
	for _, s := range []string{
		`{"code":0,"msg":"success","data":` + data + `}`,
		`{"code":401,"msg":"token expired"}`, `{"code":500,"msg":"busy","data":` + data + `}`, `{"code":429,"msg":"x","data":"y"}`,
		`{"code":"0","msg":"success","data":` + data + `}`, `{"code":0.0,"data":` + data + `}`, `{"code":null,"data":` + data + `}`,
		`{"code":-0,"data":` + data + `}`, `{"code":1e0,"data":` + data + `}`, `{"msg":5,"data":` + data + `}`, `{"data":` + data + `}`,
		`{"Data":` + data + `}`, `{"DATA":` + data + `}`, `{"d\u0061ta":` + data + `}`, `{"dat\u0061":` + data + `}`,
		`{"data":` + data + `,"data":` + data + `}`, `{"data":` + data + `,"data":{"total":1}}`, `{"data":` + data + `,"Data":null}`,
		`{"data":` + data + `,"data":{}}`, `{"data":` + data + `,"d\u0061ta":{}}`, `{"data":` + data + `,"dat\u0061":{"records":` + others + `}}`,
		`{"data":{"records":` + recs + `,"r\u0065cords":` + others + `}}`, `{"data":{"records":` + recs + `,"recordſ":` + others + `}}`,
		`{"data":{"records":` + recs + `,"records":` + others + `}}`, `{"data":{"records":` + recs + `,"RECORDS":` + others + `}}`,
		`{"data":` + data + `,"DATA":{"records":` + others + `}}`, `{"data":null}`, `{"code":0}`, `{"data":[]}`, `{"data":"x"}`, `{"data":5}`,
		`{"data":{"total":3}}`, `{"data":{"records":null}}`, `{"data":{"records":{}}}`, `{"data":{"records":[]}}`,
		`{"data":{"records":` + recs + `,"records":` + recs + `}}`, `{"data":{"records":` + recs + `,"records":[]}}`,
		`{"data":{"records":[1],"records":` + recs + `}}`, `{"data":{"Records":` + recs + `}}`, `{"data":{"recordſ":` + recs + `}}`,
		`{"data":{"records":` + recs + `,"recordS":null}}`, `{"data":{"records":[1]}}`, `{"data":{"records":[null]}}`,
		`{"data":{"records":["x"]}}`, `{"data":{"records":[[]]}}`, `{"data":{"records":[{}]}}`,
		`{"data":{"total":"3","records":` + recs + `}}`, `{"data":{"total":1.5,"records":` + recs + `}}`,
		`{"data":{"total":null,"records":` + recs + `}}`, `{"data":{"total":3,"total":4,"records":` + recs + `}}`,
		`{"note":"}{\"data\":[","x":[{"data":1},"]"],"data":` + data + `,"y":{"records":[]}}`,
		" \t\r\n" + `{ "code" : 0 , "data" : { "records" : ` + recs + ` } }` + " \n",
		`{"code":0,"data":` + data + `}x`, `{"code":0,"data":` + data + `} {}`, `{"code":0,"data":` + data, ``, `null`, `[]`, `"x"`,
		`{"code":0,"data":{"records":[` + strings.Join(records, " , ") + `]}}`, `{"code":0,"data":{"records":[,]}}`,
	} {
		out = append(out, []byte(s))
	}
	var indented bytes.Buffer
	if json.Indent(&indented, []byte(`{"code":0,"msg":"success","data":`+data+`}`), "", "\t") == nil {
		out = append(out, indented.Bytes())
	}
	return out
}

func testMapper(t testing.TB) (*Mapper, map[string][][]byte) {
	m, bodies := simPages(t, 100, 2)
	fetched := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	m.Now = func() time.Time { return fetched }
	return m, bodies
}

// simRecords returns the first n records of a stream's first page.
func simRecords(t testing.TB, body []byte, n int) []string {
	t.Helper()
	_, p, err := decodeInTurn("", body)
	if err != nil || p == nil {
		t.Fatalf("simulator page: %v", err)
	}
	var out []string
	for _, r := range p.Records[:min(n, len(p.Records))] {
		out = append(out, string(r))
	}
	return out
}

func TestOnePassDecodeReadsWhatDecodesInTurnRead(t *testing.T) {
	m, bodies := testMapper(t)
	for _, stream := range append(streams, "grids") {
		src := stream
		if stream == "grids" { // a stream the mapper does not know
			src = "houses"
		}
		recs := simRecords(t, bodies[src][0], 3)
		keyOf := func(raw string) *cursor {
			k, ok := m.key(json.RawMessage(raw))
			if !ok {
				t.Fatalf("%s: simulator record has no key", stream)
			}
			return &k
		}
		cursors := []*cursor{nil, keyOf(recs[0]), keyOf(recs[1]), {T: time.Unix(0, 0), ID: "x"}}
		// Whole simulator pages, from the start and from a cursor.
		for _, body := range bodies[src] {
			onePass(t, body, true)
			for _, cur := range cursors {
				sameAsInTurn(t, m, stream, body, cur)
			}
		}
		// Every envelope shape.
		for _, body := range envelopeVariants(recs...) {
			for _, cur := range cursors {
				sameAsInTurn(t, m, stream, body, cur)
			}
		}
		// Every record variant: alone on a page (the one-pass page when it
		// decodes), and pages of them (most fall back to decodes in turn,
		// each record decoded as a wireRecord or, failing that, in turn).
		var variants []string
		for _, r := range recs[:2] {
			variants = append(variants, recordVariants(t, []byte(r))...)
		}
		for i, v := range variants {
			decodes := decodeWire(json.RawMessage(v)) != nil
			onePass(t, pageBody(v), decodes)
			onePass(t, pageBody(recs[0], v, recs[1]), decodes)
			sameAsInTurn(t, m, stream, pageBody(v), nil)
			sameAsInTurn(t, m, stream, pageBody(recs[0], v, recs[1]), cursors[1])
			if i%20 == 0 {
				sameAsInTurn(t, m, stream, pageBody(variants[i:min(i+20, len(variants))]...), cursors[i%len(cursors)])
			}
		}
		t.Logf("%s: %d record variants", stream, len(variants))
	}
}

// onePass fails t unless the page of body is decoded in one pass when
// want is, and not when it is not.
func onePass(t *testing.T, body []byte, want bool) {
	t.Helper()
	if got := decodePage(body) != nil; got != want {
		t.Fatalf("%.300q: decoded in one pass %v, want %v", body, got, want)
	}
}

// TestMapDecodesOnce checks that Map, on a record alone, maps what the
// decodes in turn map.
func TestMapDecodesOnce(t *testing.T) {
	m, bodies := testMapper(t)
	for _, stream := range streams {
		for _, v := range recordVariants(t, []byte(simRecords(t, bodies[stream][0], 1)[0])) {
			var got, want connectors.Batch
			m.Map(stream, json.RawMessage(v), &got)
			m.mapRaw(stream, json.RawMessage(v), &want)
			if g, w := batchText(t, m, got, nil), batchText(t, m, want, nil); g != w {
				t.Fatalf("%s %.300s:\nMap:     %s\nin turn: %s", stream, v, g, w)
			}
		}
	}
}

func TestPlainInt(t *testing.T) {
	for _, s := range []string{`0`, `-0`, `7`, `-7`, `123456789012345678`, `-123456789012345678`, `1234567890123456789`, `9223372036854775807`,
		`9223372036854775808`, `-9223372036854775808`, `01`, `-01`, `-`, ``, `1.0`, `1e2`, `"12"`, `"-0"`, `"01"`, `" 1"`, `null`, `true`, `1-`, `--1`} {
		got, gok := parseInt([]byte(s))
		want, wok := decodeInt([]byte(s))
		if got != want || gok != wok {
			t.Errorf("parseInt(%s) = %d, %v; decoded %d, %v", s, got, gok, want, wok)
		}
	}
}

// FuzzDecodeList compares the two ways of decoding arbitrary responses.
func FuzzDecodeList(f *testing.F) {
	m, bodies := testMapper(f)
	for _, stream := range streams {
		recs := simRecords(f, bodies[stream][0], 2)
		for _, body := range envelopeVariants(recs...) {
			f.Add(body, uint8(len(stream)))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, s uint8) {
		stream := streams[int(s)%len(streams)]
		sameAsInTurn(t, m, stream, body, nil)
	})
}
