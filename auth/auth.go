// Package auth identifies who is calling and what they may see: principals
// from API keys, JWTs and the configured anonymous role, all held to one
// Validate, with their role, the region subtree their jurisdiction covers
// and their scopes, carried in the request context for the store to
// enforce.
//
// auth imports canon only; the store persists keys through its own types.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Role is what a principal is allowed to do.
type Role string

// Roles.
const (
	Admin   Role = "admin"   // everything
	Analyst Role = "analyst" // city-wide read, masked
	Staff   Role = "staff"   // read within its region subtree
	Partner Role = "partner" // read of the types its scopes name
	Viewer  Role = "viewer"  // masked read (demo)
	None    Role = "none"    // no access: anonymous requests are refused
)

// Roles lists the roles a key may have.
var Roles = []Role{Admin, Analyst, Staff, Partner, Viewer}

// Scopes lists the scopes a principal may hold: the read scopes that open
// the types of the schema to partners, and pii:read, which lets a caller
// unmask personal data (audited).
var Scopes = []string{"cases:read", "regions:read", "people:read", "party:read", "pii:read"}

// ParseRole reads a role name as an operator types it (in flags and
// variables): case and surrounding space do not matter. Credentials are
// held to the exact name by Validate.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Roles, r) || r == None {
		return r, nil
	}
	return "", fmt.Errorf("role %q is not one of admin, analyst, staff, partner, viewer, none", s)
}

// Principal is the caller of a request.
type Principal struct {
	ID         string // "key:12", "anonymous"
	Name       string
	Role       Role
	RegionCode string // jurisdiction: empty for city-wide
	Scopes     []string
}

// Validate is the one check every principal passes, however it
// authenticated (API key, JWT, the anonymous role, an in-process caller):
// an ID; a role that is exactly one of Roles (lower case); staff bound to a
// region; a region, when present, that is a region code; and only known
// scopes. What it refuses never reaches a handler.
func Validate(p *Principal) error {
	if p == nil {
		return errors.New("no principal")
	}
	if strings.TrimSpace(p.ID) == "" {
		return errors.New("principal without an ID")
	}
	if !slices.Contains(Roles, p.Role) {
		return fmt.Errorf("role %q is not one of admin, analyst, staff, partner, viewer", p.Role)
	}
	if p.Role == Staff && p.RegionCode == "" {
		return errors.New("a staff principal needs a region")
	}
	if p.RegionCode != "" && !validRegionCode(p.RegionCode) {
		return fmt.Errorf("region %q is not a region code (6 to 15 digits)", p.RegionCode)
	}
	for _, s := range p.Scopes {
		if !slices.Contains(Scopes, s) {
			return fmt.Errorf("scope %q is not one of %s", s, strings.Join(Scopes, ", "))
		}
	}
	return nil
}

// validRegionCode reports whether s looks like a code of the region tree:
// GB/T 2260 administrative codes and their street, community and grid
// extensions, 6 to 15 digits.
func validRegionCode(s string) bool {
	if len(s) < 6 || len(s) > 15 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// HasScope reports whether the principal holds a scope.
func (p *Principal) HasScope(s string) bool { return p != nil && slices.Contains(p.Scopes, s) }

type principalKey struct{}

// With returns a context carrying the principal.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the principal of a context, or nil (internal work such as
// synchronisation, which is not scoped).
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// KeyPrefix starts every API key, so keys are recognisable in config files
// and secret scanners.
const KeyPrefix = "hub_"

// NewKey returns a fresh random API key and its hash.
func NewKey() (key string, hash []byte, err error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("generate key: %w", err)
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, HashKey(key), nil
}

// HashKey is the stored form of a key. Keys carry 192 random bits, so a
// plain SHA-256 cannot be searched.
func HashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}
