package store

import (
	"context"
	"errors"
)

// Scope restricts what the reads of one request may see: the region
// subtree of a jurisdiction. Every read that can return rows of a place
// applies it, so no caller can forget to.
//
// Reads fail closed: every statement the store runs through its pool's
// Query and QueryRow (every read) is refused with ErrNoScope when its
// context carries no access value (neither WithScope nor Unscoped), so a
// path that forgot to say who reads never sees everything by default. The
// HTTP layer sets the request's scope; synchronisation, commands and other
// in-process work say Unscoped, and so do the store's own reads that are
// not the hub's data (credentials, sync bookkeeping, the gazetteer's
// reference), each where it runs.
type Scope struct {
	// RegionCode is the root of the visible subtree; empty for city-wide.
	RegionCode string
}

type scopeKey struct{}

// WithScope returns a context whose reads are restricted to s.
func WithScope(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// Unscoped returns a context whose reads see everything: internal work
// (synchronisation, commands, reference data for the address service,
// tests), never a caller's request.
func Unscoped(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, Scope{})
}

// ErrNoScope refuses a read whose context says neither WithScope nor
// Unscoped.
var ErrNoScope = errors.New("store: read without an access scope: the context needs store.WithScope or store.Unscoped")

// checkScope returns ErrNoScope unless the context carries an access value.
func checkScope(ctx context.Context) error {
	if _, ok := ctx.Value(scopeKey{}).(Scope); !ok {
		return ErrNoScope
	}
	return nil
}

// errRow is a row that failed before it was read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// scopeOf returns the region code reads are restricted to, if any.
func scopeOf(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(scopeKey{}).(Scope)
	if !ok || s.RegionCode == "" {
		return "", false
	}
	return s.RegionCode, true
}

// scopePath is a SQL condition that an ltree path lies in the scope's
// subtree, or "TRUE" when unrestricted.
func scopePath(ctx context.Context, column string, a *sqlArgs) string {
	code, ok := scopeOf(ctx)
	if !ok {
		return "TRUE"
	}
	return column + " <@ (SELECT path FROM region WHERE code = " + a.add(code) + ")"
}

// scopeRegion is a SQL condition that a region-id column lies in the
// scope's subtree (NULL is outside), or "TRUE" when unrestricted.
func scopeRegion(ctx context.Context, column string, a *sqlArgs) string {
	code, ok := scopeOf(ctx)
	if !ok {
		return "TRUE"
	}
	return column + " IN (SELECT id FROM region WHERE path <@ (SELECT path FROM region WHERE code = " + a.add(code) + "))"
}

// Visibility of each kind of row under the request's scope (x is the row).

func personVisible(ctx context.Context, a *sqlArgs) string { return personIDVisible(ctx, a, "x.id") }

// personIDVisible is personVisible for the person an expression names.
func personIDVisible(ctx context.Context, a *sqlArgs, id string) string {
	if _, ok := scopeOf(ctx); !ok {
		return "TRUE"
	}
	return `(` + id + ` IN (SELECT person_id FROM resident WHERE ` + scopeRegion(ctx, "grid_id", a) + `)
		OR ` + id + ` IN (SELECT person_id FROM party_member WHERE ` + scopeRegion(ctx, "region_id", a) + `)
		OR ` + id + ` IN (SELECT w.person_id FROM grid_worker w JOIN grid_worker_grid g ON g.worker_id = w.id WHERE ` + scopeRegion(ctx, "g.grid_id", a) + `)
		OR EXISTS (SELECT 1 FROM person_link l JOIN "case" c ON c.source = l.source AND c.source_id = l.source_id
			WHERE l.person_id = ` + id + ` AND l.role = 'REPORTER' AND ` + scopePath(ctx, "c.region_path", a) + `))`
}

func gridWorkerVisible(ctx context.Context, a *sqlArgs) string {
	if _, ok := scopeOf(ctx); !ok {
		return "TRUE"
	}
	return "x.id IN (SELECT worker_id FROM grid_worker_grid WHERE " + scopeRegion(ctx, "grid_id", a) + ")"
}

func incidentVisible(ctx context.Context, a *sqlArgs) string {
	if _, ok := scopeOf(ctx); !ok {
		return "TRUE"
	}
	return `x.id IN (SELECT c.incident_id FROM "case" c WHERE ` + scopePath(ctx, "c.region_path", a) + `)`
}

// inScope returns a byIDs scope function for a region-id column of x.
func inScope(ctx context.Context, column string) func(*sqlArgs) string {
	return func(a *sqlArgs) string { return scopeRegion(ctx, column, a) }
}

// scopeArgs are the arguments of a scope condition built after one leading
// placeholder ($1, the batch keys): the region code, once per use of it in
// the condition. It pairs with a condition built on sqlArgs{nil}.
func scopeArgs(ctx context.Context) sqlArgs {
	code, ok := scopeOf(ctx)
	if !ok {
		return nil
	}
	return sqlArgs{code}
}
