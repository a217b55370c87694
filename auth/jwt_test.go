package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ywtg/hub/auth"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestJWT(t *testing.T) {
	secret := []byte("a shared secret of at least 32 bytes!!")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]any{
		{"kty": "RSA", "kid": "r1", "alg": "RS256", "use": "sig", "n": b64(rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(rsaKey.E)).Bytes())},
		{"kty": "EC", "kid": "e1", "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(ecKey.X.FillBytes(make([]byte, 32))), "y": b64(ecKey.Y.FillBytes(make([]byte, 32)))},
	}})
	v, err := auth.NewJWTVerifier(auth.JWTOptions{Secret: secret, JWKS: jwks})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := jwt.MapClaims{"sub": "u42", "role": "staff", "region": "420606001001", "scope": "cases:read pii:read", "exp": now.Add(time.Hour).Unix()}
	sign := func(m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(m, c)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	with := func(k string, val any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for a, b := range good {
			c[a] = b
		}
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	p, err := v.Verify(sign(jwt.SigningMethodHS256, "", secret, good))
	if err != nil || p.ID != "jwt:u42" || p.Role != auth.Staff || p.RegionCode != "420606001001" || !p.HasScope("pii:read") {
		t.Fatalf("HS256: %+v, %v", p, err)
	}
	if _, err := v.Verify(sign(jwt.SigningMethodRS256, "r1", rsaKey, good)); err != nil {
		t.Fatalf("RS256: %v", err)
	}
	if _, err := v.Verify(sign(jwt.SigningMethodES256, "e1", ecKey, good)); err != nil {
		t.Fatalf("ES256: %v", err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	none := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64([]byte(`{"sub":"u42","role":"admin","exp":9999999999}`)) + "."
	otherSecret := []byte("another secret of at least 32 bytes!!!")
	bad := map[string]string{
		"expired":           sign(jwt.SigningMethodHS256, "", secret, with("exp", now.Add(-time.Hour).Unix())),
		"no expiry":         sign(jwt.SigningMethodHS256, "", secret, with("exp", nil)),
		"not yet valid":     sign(jwt.SigningMethodHS256, "", secret, with("nbf", now.Add(time.Hour).Unix())),
		"wrong secret":      sign(jwt.SigningMethodHS256, "", otherSecret, good),
		"alg none":          none,
		"alg confusion":     sign(jwt.SigningMethodHS256, "r1", pubDER, good),
		"unknown role":      sign(jwt.SigningMethodHS256, "", secret, with("role", "root")),
		"no subject":        sign(jwt.SigningMethodHS256, "", secret, with("sub", nil)),
		"HS512 not allowed": sign(jwt.SigningMethodHS512, "", secret, good),
		"garbage":           "a.b.c",
	}
	for name, tok := range bad {
		if p, err := v.Verify(tok); err == nil {
			t.Errorf("%s: accepted as %+v", name, p)
		}
	}
	// Without a secret, HS256 is refused even with a valid signature.
	rsOnly, _ := auth.NewJWTVerifier(auth.JWTOptions{JWKS: jwks})
	if _, err := rsOnly.Verify(sign(jwt.SigningMethodHS256, "", secret, good)); err == nil || !strings.Contains(err.Error(), "jwt") {
		t.Fatalf("HS256 without a secret: %v", err)
	}
	if _, err := auth.NewJWTVerifier(auth.JWTOptions{Secret: []byte("short")}); err == nil {
		t.Fatal("short secret accepted")
	}
}
