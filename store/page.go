package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/ywtg/hub/canon"
)

// Page sizes for every connection.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageArgs are the Relay arguments of a forward connection.
type PageArgs struct {
	First *int
	After *string
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

// cursor is a keyset position: the sort key of the last row seen and its id.
// Its text form is opaque to clients: base64url of "order|key|id".
type cursor struct {
	order string
	key   string
	id    int64
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.order + "|" + c.key + "|" + strconv.FormatInt(c.id, 10)))
}

// decodeCursor parses an after-cursor produced for the given order.
func decodeCursor(s *string, order string) (*cursor, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	bad := canon.Errorf(canon.BadUserInput, "invalid cursor %q: pass an endCursor from a previous page of the same query and order", *s)
	raw, err := base64.RawURLEncoding.DecodeString(*s)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != order {
		return nil, bad
	}
	id, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return nil, bad
	}
	return &cursor{order: order, key: parts[1], id: id}, nil
}

// Edge is a row with its cursor.
type Edge[T any] struct {
	Cursor string
	Node   T
}

// PageInfo is the Relay page information.
type PageInfo struct {
	HasNextPage bool
	EndCursor   *string
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
func newPage[T any](rows []T, limit int, cursorOf func(T) cursor) Page[T] {
	p := Page[T]{}
	if len(rows) > limit {
		rows = rows[:limit]
		p.PageInfo.HasNextPage = true
	}
	p.Edges = make([]Edge[T], len(rows))
	for i, r := range rows {
		p.Edges[i] = Edge[T]{Cursor: cursorOf(r).encode(), Node: r}
	}
	if n := len(p.Edges); n > 0 {
		end := p.Edges[n-1].Cursor
		p.PageInfo.EndCursor = &end
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
