package jsonscan

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestElementsKeepEachValuesOwnBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // nil: refused
	}{
		{`[]`, []string{}},
		{` [ 1 , "a\"]" ,{"k":[1,{"x":"}"}]}, null,true ] `, []string{`1`, `"a\"]"`, `{"k":[1,{"x":"}"}]}`, `null`, `true`}},
		{`[1,]`, nil},
		{`[1 2]`, nil},
		{`["unterminated]`, nil},
		{`{"a":1}`, nil},
		{`[{"a":[}]`, nil},
	} {
		in := []byte(tc.in)
		els, end, ok := Elements(in, SkipSpace(in, 0))
		if tc.want == nil {
			if ok {
				t.Errorf("%s: accepted as %q", tc.in, els)
			}
			continue
		}
		if !ok || len(els) != len(tc.want) || strings.TrimSpace(tc.in[end:]) != "" {
			t.Fatalf("%s: %q, end %d, ok %v", tc.in, els, end, ok)
		}
		for i, e := range els {
			if string(e) != tc.want[i] || cap(e) != len(e) {
				t.Errorf("%s: element %d = %q (cap %d), want %q", tc.in, i, e, cap(e), tc.want[i])
			}
			if !json.Valid(e) {
				t.Errorf("%s: element %d %q is not a JSON value", tc.in, i, e)
			}
		}
	}
}

func TestMembersWalksNamesAndRefusesWhatItCannotCompare(t *testing.T) {
	in := []byte(`{ "code": 0, "data" : {"records": [1, 2]}, "msg":"好" }`)
	var names, values []string
	end, ok := Members(in, 0, func(name []byte, i int) (int, bool) {
		e, ok := SkipValue(in, i)
		names, values = append(names, string(name)), append(values, string(in[i:e]))
		return e, ok
	})
	if !ok || end != len(in) || strings.Join(names, ",") != "code,data,msg" || values[1] != `{"records": [1, 2]}` || values[2] != `"好"` {
		t.Fatalf("names %q values %q end %d ok %v", names, values, end, ok)
	}
	for _, bad := range []string{`{"d\u0061ta": 1}`, `{"数据": 1}`, `{"a" 1}`, `{"a":1,}`, `[1]`, `{"a":1`} {
		b := []byte(bad)
		if _, ok := Members(b, 0, func(_ []byte, i int) (int, bool) { return SkipValue(b, i) }); ok {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// explodes panics when it is decoded.
type explodes struct{}

func (*explodes) UnmarshalJSON([]byte) error { panic("boom") }

func TestDecodeReadsAsEncodingJSON(t *testing.T) {
	type rec struct {
		Name string  `json:"name"`
		N    float64 `json:"n"`
		Tags []string
	}
	for _, doc := range []string{`{"name":"王伟","n":1.5,"tags":["a"]}`, `{"NAME":"x","Name":"y"}`, `{"name":"\ud83d\ude00\u0000"}`,
		`{"name":1}`, `{"name":"x"} x`, `{"n":01}`, `[]`, `null`, `{"name":"` + "\x01" + `"}`, `{"name":"a` + "\xff" + `"}`} {
		var got, want rec
		gerr, werr := Decode([]byte(doc), &got), json.Unmarshal([]byte(doc), &want)
		// On an error the value is not read (goccy fills what it decoded
		// before it; encoding/json checks the document first).
		if (gerr == nil) != (werr == nil) || (werr == nil && !reflect.DeepEqual(got, want)) {
			t.Errorf("%q: Decode %+v, %v; encoding/json %+v, %v", doc, got, gerr, want, werr)
		}
	}
}

func TestDecodePanicIsAnError(t *testing.T) {
	var v struct {
		X explodes `json:"x"`
	}
	err := Decode([]byte(`{"x":1}`), &v)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Decode of a value whose decoding panics: %v, want the panic as an error", err)
	}
}
