package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
)

// A key that cannot be looked up because the store is down is answered
// 503 STORE_UNAVAILABLE with Retry-After, never 401 (a client would drop a
// valid key), and the failure is not remembered: the key works as soon as
// the store answers again.
func TestKeyLookupFailureIsNotBadCredentials(t *testing.T) {
	key, hash, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	lookup := func(_ context.Context, h []byte) (*auth.Principal, error) {
		if down.Load() {
			return nil, fmt.Errorf("look up key: %w", &canon.Error{Code: canon.StoreUnavailable, Message: "the data store is unavailable"})
		}
		if string(h) == string(hash) {
			return &auth.Principal{ID: "key:1", Role: auth.Analyst}, nil
		}
		return nil, errors.New("unknown")
	}
	h := auth.New(auth.Options{Keys: lookup, Anonymous: auth.None}).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	s := httptest.NewServer(h)
	defer s.Close()
	do := func(token string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.URL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Errors []struct {
				Extensions struct{ Code string }
			}
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		code := ""
		if len(body.Errors) > 0 {
			code = body.Errors[0].Extensions.Code
		}
		return resp.StatusCode, code, resp.Header.Get("Retry-After")
	}
	if st, code, retry := do(key); st != http.StatusServiceUnavailable || code != string(canon.StoreUnavailable) || retry == "" {
		t.Fatalf("valid key, store down: %d %s Retry-After %q; want 503 STORE_UNAVAILABLE with Retry-After", st, code, retry)
	}
	if st, code, _ := do("hub_unknownkey"); st != http.StatusServiceUnavailable || code != string(canon.StoreUnavailable) {
		t.Fatalf("unknown key, store down: %d %s; want 503 (it cannot be told from a valid one)", st, code)
	}
	down.Store(false)
	if st, _, _ := do(key); st != http.StatusOK {
		t.Fatalf("valid key, store back: %d", st)
	}
	if st, code, _ := do("hub_unknownkey"); st != http.StatusUnauthorized || code != string(canon.Unauthenticated) {
		t.Fatalf("unknown key, store up: %d %s; want 401 UNAUTHENTICATED", st, code)
	}
}
