package auth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ywtg/hub/auth"
)

// TestJWTClaimsOverHTTP sends tokens with missing, empty and odd claims,
// all correctly signed, through the middleware on a real server: only the
// well-formed principals get through, whatever their role.
func TestJWTClaimsOverHTTP(t *testing.T) {
	secret := []byte("a shared secret of at least 32 bytes!!")
	v, err := auth.NewJWTVerifier(auth.JWTOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	s, seen := serve(t, auth.Options{JWT: v, Anonymous: auth.None})
	exp := time.Now().Add(time.Hour).Unix()
	base := jwt.MapClaims{"sub": "u1", "role": "staff", "region": "420606001001", "scope": "cases:read pii:read", "exp": exp}
	with := func(changes map[string]any, drop ...string) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range base {
			c[k] = v
		}
		for k, v := range changes {
			c[k] = v
		}
		for _, k := range drop {
			delete(c, k)
		}
		return c
	}
	cases := []struct {
		name   string
		claims jwt.MapClaims
		ok     bool
	}{
		{"staff with region", base, true},
		{"staff without region", with(nil, "region"), false},
		{"staff with empty region", with(map[string]any{"region": ""}), false},
		{"staff with blank region", with(map[string]any{"region": "   "}), false},
		{"staff with padded region", with(map[string]any{"region": " 420606001001"}), false},
		{"staff with non-numeric region", with(map[string]any{"region": "changhong"}), false},
		{"staff with numeric region claim", with(map[string]any{"region": 420606001001}), false},
		{"staff with pii:read, no region", with(map[string]any{"scope": "pii:read"}, "region"), false},
		{"role ADMIN", with(map[string]any{"role": "ADMIN"}, "region"), false},
		{"role Admin", with(map[string]any{"role": "Admin"}, "region"), false},
		{"role with space", with(map[string]any{"role": " admin"}, "region"), false},
		{"role none", with(map[string]any{"role": "none"}), false},
		{"role unknown", with(map[string]any{"role": "root"}), false},
		{"role missing", with(nil, "role"), false},
		{"role empty", with(map[string]any{"role": ""}), false},
		{"role a number", with(map[string]any{"role": 1}), false},
		{"role a list", with(map[string]any{"role": []string{"admin"}}), false},
		{"exp a string", with(map[string]any{"exp": "9999999999"}), false},
		{"exp a date string", with(map[string]any{"exp": time.Now().Add(time.Hour).Format(time.RFC3339)}), false},
		{"exp missing", with(nil, "exp"), false},
		{"exp null", with(map[string]any{"exp": nil}), false},
		{"nbf a string", with(map[string]any{"nbf": "0"}), false},
		{"iat a string", with(map[string]any{"iat": "0"}), false},
		{"sub missing", with(nil, "sub"), false},
		{"sub empty", with(map[string]any{"sub": ""}), false},
		{"sub a number", with(map[string]any{"sub": 42}), false},
		{"unknown scope", with(map[string]any{"scope": "cases:read cases:write"}), false},
		{"scope a list", with(map[string]any{"scope": []string{"cases:read"}}), false},
		{"scopes not strings", with(map[string]any{"scopes": []any{"cases:read", 1}}), false},
		{"scopes a string", with(map[string]any{"scopes": "cases:read"}), false},
		{"scopes array", with(map[string]any{"scopes": []string{"cases:read"}}, "scope"), true},
		{"name a number", with(map[string]any{"name": 7}), false},
		{"admin city-wide", with(map[string]any{"role": "admin"}, "region"), true},
		{"analyst", with(map[string]any{"role": "analyst", "scope": ""}, "region"), true},
		{"partner city-wide", with(map[string]any{"role": "partner", "scope": "cases:read"}, "region"), true},
		{"partner with empty region", with(map[string]any{"role": "partner", "region": ""}), true},
		{"partner with odd region", with(map[string]any{"role": "partner", "region": "all"}), false},
		{"viewer", with(map[string]any{"role": "viewer", "scope": ""}, "region"), true},
	}
	for _, c := range cases {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c.claims).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		before := len(*seen)
		r := call(t, s.URL, "Bearer "+tok)
		if c.ok != (r.StatusCode == http.StatusOK) {
			t.Errorf("%s: status %d", c.name, r.StatusCode)
			continue
		}
		if !c.ok {
			if len(*seen) != before {
				t.Errorf("%s: the handler ran", c.name)
			}
			continue
		}
		if p := (*seen)[len(*seen)-1]; auth.Validate(p) != nil || p.ID != "jwt:u1" {
			t.Errorf("%s: principal %+v", c.name, p)
		}
	}
}

// TestStoredKeysAreValidated: the key path holds what the store returns to
// the same rules, so a key row edited by hand or left from older rules
// (staff without region, a role in capitals, an unknown scope) is refused.
func TestStoredKeysAreValidated(t *testing.T) {
	keys := map[string]*auth.Principal{}
	lookup := func(_ context.Context, h []byte) (*auth.Principal, error) {
		if p, ok := keys[string(h)]; ok {
			return p, nil
		}
		return nil, errors.New("unknown")
	}
	s, _ := serve(t, auth.Options{Keys: lookup, Anonymous: auth.None})
	for _, c := range []struct {
		p  auth.Principal
		ok bool
	}{
		{auth.Principal{ID: "key:1", Role: auth.Staff, RegionCode: "420606001001"}, true},
		{auth.Principal{ID: "key:2", Role: auth.Staff}, false},
		{auth.Principal{ID: "key:3", Role: "ADMIN"}, false},
		{auth.Principal{ID: "key:4", Role: auth.Partner, Scopes: []string{"everything"}}, false},
		{auth.Principal{ID: "key:5", Role: auth.None}, false},
		{auth.Principal{ID: "", Role: auth.Admin}, false},
	} {
		key, hash, err := auth.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		p := c.p
		keys[string(hash)] = &p
		if r := call(t, s.URL, "Bearer "+key); c.ok != (r.StatusCode == http.StatusOK) {
			t.Errorf("%+v: status %d", c.p, r.StatusCode)
		}
	}
	// The anonymous role passes the same check: an anonymous staff has
	// no region, so it is refused.
	s, _ = serve(t, auth.Options{Keys: lookup, Anonymous: auth.Staff})
	if r := call(t, s.URL, ""); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous staff: status %d", r.StatusCode)
	}
}
