package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ywtg/hub/canon"
)

// Page sizes for every connection.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageArgs are the arguments of a forward keyset page: its size and the
// position it continues after (nil: from the start).
type PageArgs struct {
	First *int
	After *Position
}

// limit validates First.
func (p PageArgs) limit() (int, error) {
	if p.First == nil {
		return DefaultPageSize, nil
	}
	n := *p.First
	if n < 0 {
		return 0, canon.Errorf(canon.BadUserInput, "first must not be negative")
	}
	if n > MaxPageSize {
		return 0, canon.Errorf(canon.BadUserInput, "first must be at most %d, got %d", MaxPageSize, n)
	}
	return n, nil
}

// Position is a keyset position in a list: the list's order, the sort key
// of the last row seen and its id. Clients see it only as an opaque cursor
// (graph encodes it); the store checks that it belongs to the order it is
// given back with.
type Position struct {
	Order string
	Key   string
	ID    int64
}

// errInvalidPosition is the error of a position that does not belong to
// the list it is given to.
var errInvalidPosition = canon.Errorf(canon.BadUserInput, "invalid cursor: pass an endCursor from a previous page of the same query and order")

// afterPosition checks an after-position given for the given order.
func afterPosition(p *Position, order string) (*Position, error) {
	if p == nil {
		return nil, nil
	}
	if p.Order != order {
		return nil, errInvalidPosition
	}
	return p, nil
}

// Edge is a row with its position.
type Edge[T any] struct {
	Position Position
	Node     T
}

// PageInfo tells whether more rows follow a page.
type PageInfo struct {
	HasNextPage bool
	End         *Position // of the page's last row; nil for an empty page
}

// Page is one page of a keyset-paginated list.
type Page[T any] struct {
	Edges    []Edge[T]
	PageInfo PageInfo
	// Count, when set, counts the rows of the whole list (every page) with
	// the same conditions and access scope; it runs only when called.
	Count func(context.Context) (int, error)
}

// countOf returns the Count of a list whose rows base selects (without
// its keyset condition, order and limit) with arguments a.
func countOf(s *Store, what, base string, a sqlArgs) func(context.Context) (int, error) {
	args := append(sqlArgs(nil), a...)
	return func(ctx context.Context) (int, error) {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM ("+base+") counted", args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %s: %w", what, err)
		}
		return n, nil
	}
}

// Nodes returns the rows of the page.
func (p Page[T]) Nodes() []T {
	out := make([]T, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node
	}
	return out
}

// newPage trims the extra row fetched to learn whether more follow.
func newPage[T any](rows []T, limit int, positionOf func(T) Position) Page[T] {
	p := Page[T]{}
	if len(rows) > limit {
		rows = rows[:limit]
		p.PageInfo.HasNextPage = true
	}
	p.Edges = make([]Edge[T], len(rows))
	for i, r := range rows {
		p.Edges[i] = Edge[T]{Position: positionOf(r), Node: r}
	}
	if n := len(p.Edges); n > 0 {
		end := p.Edges[n-1].Position
		p.PageInfo.End = &end
	}
	return p
}

// sqlArgs accumulates positional parameters for a dynamically built query.
type sqlArgs []any

// add appends v and returns its placeholder.
func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}
