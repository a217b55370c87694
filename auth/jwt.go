package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// JWTOptions configure bearer JWTs. HS256 tokens are accepted only with a
// secret, RS256 and ES256 only with a JWKS; a token must expire, and its
// not-before is enforced. The algorithm is never taken from the token alone:
// "none" and algorithm confusion (an RS256 key used as an HMAC secret) fail.
type JWTOptions struct {
	Secret []byte // HS256; at least 32 bytes
	JWKS   []byte // a JSON Web Key Set, for RS256 and ES256
	Leeway time.Duration
}

// JWTVerifier turns verified tokens into principals. Claims: sub (the
// principal), role, region (a region code), scope (space-separated) or
// scopes (array), name.
type JWTVerifier struct {
	parser *jwt.Parser
	secret []byte
	jwks   keyfunc.Keyfunc
}

// NewJWTVerifier checks the options and builds a verifier.
func NewJWTVerifier(o JWTOptions) (*JWTVerifier, error) {
	v := &JWTVerifier{}
	var methods []string
	if len(o.Secret) > 0 {
		if len(o.Secret) < 32 {
			return nil, errors.New("jwt: the HS256 secret must have at least 32 bytes")
		}
		v.secret = o.Secret
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if len(o.JWKS) > 0 {
		kf, err := keyfunc.NewJWKSetJSON(o.JWKS)
		if err != nil {
			return nil, fmt.Errorf("jwt: JWKS: %w", err)
		}
		v.jwks = kf
		methods = append(methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}
	if len(methods) == 0 {
		return nil, errors.New("jwt: configure a secret or a JWKS")
	}
	v.parser = jwt.NewParser(jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(o.Leeway))
	return v, nil
}

// Verify checks a token and returns its principal, held to Validate like
// every other principal. Claims are read strictly: exp, nbf and iat must be
// JSON numbers (a string "exp" is refused, not read as a date), role must
// be exactly a role's name, and every claim the hub reads must be a string
// (scopes an array of strings).
func (v *JWTVerifier) Verify(token string) (*Principal, error) {
	c := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(token, c, func(t *jwt.Token) (any, error) {
		switch t.Method.(type) {
		case *jwt.SigningMethodHMAC:
			if v.secret == nil {
				return nil, errors.New("HS256 not accepted")
			}
			return v.secret, nil
		case *jwt.SigningMethodRSA, *jwt.SigningMethodECDSA:
			if v.jwks == nil {
				return nil, errors.New("no JWKS configured")
			}
			return v.jwks.Keyfunc(t)
		}
		return nil, fmt.Errorf("algorithm %v not accepted", t.Header["alg"])
	})
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	// The parser reads exp and nbf only as numbers; iat it does not check.
	if _, err := c.GetIssuedAt(); err != nil {
		return nil, fmt.Errorf("jwt: claim iat: %w", err)
	}
	sub, err := stringClaim(c, "sub", true)
	if err != nil {
		return nil, err
	}
	role, err := stringClaim(c, "role", true)
	if err != nil {
		return nil, err
	}
	region, err := stringClaim(c, "region", false)
	if err != nil {
		return nil, err
	}
	name, err := stringClaim(c, "name", false)
	if err != nil {
		return nil, err
	}
	scope, err := stringClaim(c, "scope", false)
	if err != nil {
		return nil, err
	}
	var scopes []string
	if raw, ok := c["scopes"]; ok {
		list, ok := raw.([]any)
		if !ok {
			return nil, errors.New("jwt: claim scopes: not an array of strings")
		}
		for _, e := range list {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("jwt: claim scopes: not an array of strings")
			}
			scopes = append(scopes, s)
		}
	}
	scopes = append(scopes, strings.Fields(scope)...)
	p := &Principal{ID: "jwt:" + sub, Name: name, Role: Role(role), RegionCode: region, Scopes: scopes}
	if err := Validate(p); err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	return p, nil
}

// stringClaim returns a claim that must be a string when present, and
// present and not empty when required.
func stringClaim(c jwt.MapClaims, name string, required bool) (string, error) {
	raw, ok := c[name]
	if !ok {
		if required {
			return "", fmt.Errorf("jwt: no %s claim", name)
		}
		return "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", fmt.Errorf("jwt: claim %s: not a string", name)
	}
	if required && s == "" {
		return "", fmt.Errorf("jwt: claim %s is empty", name)
	}
	return s, nil
}
