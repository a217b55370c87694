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

type claims struct {
	jwt.RegisteredClaims
	Role   string   `json:"role"`
	Region string   `json:"region"`
	Scope  string   `json:"scope"`
	Scopes []string `json:"scopes"`
	Name   string   `json:"name"`
}

// Verify checks a token and returns its principal.
func (v *JWTVerifier) Verify(token string) (*Principal, error) {
	var c claims
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
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
	role, err := ParseRole(c.Role)
	if err != nil || role == None {
		return nil, fmt.Errorf("jwt: claim role: %q is not a role", c.Role)
	}
	if c.Subject == "" {
		return nil, errors.New("jwt: no sub claim")
	}
	scopes := append([]string{}, c.Scopes...)
	scopes = append(scopes, strings.Fields(c.Scope)...)
	return &Principal{ID: "jwt:" + c.Subject, Name: c.Name, Role: role, RegionCode: c.Region, Scopes: scopes}, nil
}
