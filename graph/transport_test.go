package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestResponsesEncodeLikeJSONMarshal checks that the POST transport, which
// copies the executor's data document instead of re-encoding it, writes
// what json.Marshal of the same response would: compact JSON, the same
// members in the same order, the same values.
func TestResponsesEncodeLikeJSONMarshal(t *testing.T) {
	srv, _ := newServer(t, 3)
	for _, tc := range []struct{ name, body string }{
		{"data", `{"query":"{ sources { name } cases(first: 3) { edges { cursor node { id title reportedAt location { lat lng } } } } }"}`},
		// Larger than net/http's buffers, which would otherwise chunk it.
		{"large data", `{"query":"{ __schema { types { name description fields { name description } } } }"}`},
		{"field error beside data", `{"query":"{ cases(first: 501) { totalCount } sources { name } }"}`},
		{"request error", `{"query":"{ nope }"}`},
		{"malformed body", `{"query":`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			// Every response goes out whole, with its length.
			if resp.ContentLength != int64(len(raw)) || len(resp.TransferEncoding) > 0 {
				t.Fatalf("Content-Length %d, Transfer-Encoding %v, for a body of %d bytes", resp.ContentLength, resp.TransferEncoding, len(raw))
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil || !bytes.Equal(compact.Bytes(), raw) {
				t.Fatalf("not compact JSON (%v): %s", err, raw)
			}
			var r graphql.Response
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(&r)
			if err != nil {
				t.Fatal(err)
			}
			var got, marshalled map[string]any
			json.Unmarshal(raw, &got)
			json.Unmarshal(want, &marshalled)
			wantKeys := keys(t, want)
			if _, ok := got["data"]; !ok { // a request error: the transport's "data" is dropped later
				delete(marshalled, "data")
				wantKeys = strings.Replace(wantKeys, ",data", "", 1)
			}
			if keys(t, raw) != wantKeys {
				t.Fatalf("members %s, json.Marshal gives %s", keys(t, raw), wantKeys)
			}
			if !reflect.DeepEqual(got, marshalled) {
				t.Fatalf("body %s\njson.Marshal %s", raw, want)
			}
		})
	}
}

// keys lists the top-level members of a JSON object in order.
func keys(t *testing.T, doc []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Join(out, ",")
}

// An operation that defers a fragment is answered whole (the HTTP
// transports deliver one response), and the executor's shortcut for
// operations that cannot defer changes nothing else.
func TestDeferredFragmentsAreAnsweredInline(t *testing.T) {
	srv, _ := newServer(t, 5)
	plain := srv.Do(t, `{ cases(first: 3) { edges { node { sourceId title } } } }`, nil)
	for _, q := range []string{
		`{ cases(first: 3) { edges { node { sourceId ... @defer { title } } } } }`,
		`{ cases(first: 3) { edges { node { sourceId ... @ defer(label: "t") { title } } } } }`,
		`{ cases(first: 3) { edges { node { sourceId ... on Case { title } } } } }`,
	} {
		r := srv.Do(t, q, nil)
		if len(r.Errors) > 0 || !bytes.Equal(r.Data, plain.Data) {
			t.Errorf("%s: %s, errors %+v; want %s", q, r.Data, r.Errors, plain.Data)
		}
	}
}

// Objects of operations that cannot defer are written by the executor's
// shortcut (graph/generated/deferred.go); they must be byte for byte what
// gqlgen's own writer makes, which a query naming defer (here in a
// comment) still gets.
func TestObjectsAreWrittenAsGqlgenWritesThem(t *testing.T) {
	srv, _ := newServer(t, 12)
	for _, q := range []string{
		`{ __typename cases(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
			__typename id title title t: title ... on Case { title sourceId } status grid { name code parent { name } }
			category { name parent { name } } location { lat lng } dueAt closedAt timeline { status at } } } } }`,
		`{ regions(level: COMMUNITY) { edges { node { code children { edges { node { code name
			caseStats(groupBy: [STATUS, CATEGORY]) { key { dimension value label } count open } } } } } } } }`,
	} {
		fast := srv.Do(t, q, nil)
		full := srv.Do(t, q+"\n# defer: gqlgen's own object writer", nil)
		if len(fast.Errors) > 0 || len(full.Errors) > 0 {
			t.Fatalf("errors: %+v / %+v", fast.Errors, full.Errors)
		}
		if !bytes.Equal(fast.Data, full.Data) {
			t.Errorf("the shortcut wrote\n%s\ngqlgen writes\n%s", fast.Data, full.Data)
		}
	}
}
