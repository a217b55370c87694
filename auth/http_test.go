package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/auth"
)

func serve(t *testing.T, o auth.Options) (*httptest.Server, *[]*auth.Principal) {
	t.Helper()
	var seen []*auth.Principal
	h := auth.New(o).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, auth.From(r.Context()))
	}))
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s, &seen
}

func call(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestAuthentication(t *testing.T) {
	key, hash, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	lookups := 0
	lookup := func(_ context.Context, h []byte) (*auth.Principal, error) {
		lookups++
		if string(h) == string(hash) {
			return &auth.Principal{ID: "key:1", Role: auth.Staff, RegionCode: "420606001001"}, nil
		}
		return nil, errors.New("unknown")
	}
	s, seen := serve(t, auth.Options{Keys: lookup, Anonymous: auth.None})
	if r := call(t, s.URL, ""); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous with role none: %d", r.StatusCode)
	}
	for _, bad := range []string{"Bearer hub_nope", "Basic abc", "Bearer", key} {
		if r := call(t, s.URL, bad); r.StatusCode != 401 {
			t.Fatalf("%q: %d", bad, r.StatusCode)
		}
	}
	for i := 0; i < 3; i++ {
		if r := call(t, s.URL, "Bearer "+key); r.StatusCode != 200 {
			t.Fatalf("valid key: %d", r.StatusCode)
		}
	}
	last := (*seen)[len(*seen)-1]
	if last.Role != auth.Staff || last.RegionCode != "420606001001" {
		t.Fatalf("principal = %+v", last)
	}
	if lookups != 2 { // the bad hub_ key and one cached lookup of the good key
		t.Fatalf("%d key lookups, want 2 (cached)", lookups)
	}

	s, seen = serve(t, auth.Options{Keys: lookup, Anonymous: auth.Viewer})
	if r := call(t, s.URL, ""); r.StatusCode != 200 || (*seen)[0].Role != auth.Viewer {
		t.Fatalf("anonymous viewer: %d", r.StatusCode)
	}
}

func TestRateLimitPerPrincipal(t *testing.T) {
	key, hash, _ := auth.NewKey()
	lookup := func(_ context.Context, h []byte) (*auth.Principal, error) {
		if string(h) == string(hash) {
			return &auth.Principal{ID: "key:1", Role: auth.Analyst}, nil
		}
		return nil, errors.New("unknown")
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s, _ := serve(t, auth.Options{Keys: lookup, Anonymous: auth.Viewer, Rate: 5, Burst: 5, Now: func() time.Time { return now }})
	limited := 0
	var retry string
	for i := 0; i < 8; i++ {
		if r := call(t, s.URL, "Bearer "+key); r.StatusCode == 429 {
			limited++
			retry = r.Header.Get("Retry-After")
		}
	}
	if limited != 3 || retry != "1" {
		t.Fatalf("%d of 8 limited (Retry-After %q), want 3 with 1", limited, retry)
	}
	// Another principal has its own bucket.
	if r := call(t, s.URL, ""); r.StatusCode != 200 {
		t.Fatalf("anonymous after key burst: %d", r.StatusCode)
	}
	now = now.Add(time.Second)
	if r := call(t, s.URL, "Bearer "+key); r.StatusCode != 200 {
		t.Fatalf("after refill: %d", r.StatusCode)
	}
}
