package model

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

// PageInfo is the Relay page information of a connection.
type PageInfo struct {
	HasNextPage bool
	EndCursor   *string
}

// Cursor is the Relay cursor of a keyset position, opaque to clients:
// base64url of "order|key|id".
func Cursor(p store.Position) string {
	// Built and encoded in buffers on the stack: the string is the one
	// allocation (a page writes a cursor for every edge).
	var raw [96]byte
	b := append(raw[:0], p.Order...)
	b = append(b, '|')
	b = append(b, p.Key...)
	b = append(b, '|')
	b = strconv.AppendInt(b, p.ID, 10)
	var enc [128]byte
	return string(base64.RawURLEncoding.AppendEncode(enc[:0], b))
}

// ParseCursor decodes an after-cursor (nil or empty: none). Whether it
// belongs to the list it is given to is the store's to check.
func ParseCursor(s *string) (*store.Position, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	bad := canon.Errorf(canon.BadUserInput, "invalid cursor %q: pass an endCursor from a previous page of the same query and order", *s)
	raw, err := base64.RawURLEncoding.DecodeString(*s)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 {
		return nil, bad
	}
	id, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return nil, bad
	}
	return &store.Position{Order: parts[0], Key: parts[1], ID: id}, nil
}

// PageArgs are a connection's first and after as a store page.
func PageArgs(first *int, after *string) (store.PageArgs, error) {
	p, err := ParseCursor(after)
	if err != nil {
		return store.PageArgs{}, err
	}
	return store.PageArgs{First: first, After: p}, nil
}

// At is an edge's keyset position in its list: the edge's cursor is
// written from it when a query asks for it (most ask only for the page's
// endCursor).
type At struct{ Position store.Position }

// Cursor is the edge's Relay cursor.
func (a At) Cursor() string { return Cursor(a.Position) }

// edges builds a connection's edges, allocated together, and page
// information from a store page.
func edges[T, E any](p store.Page[T], edge func(at store.Position, node T) E) ([]*E, *PageInfo) {
	all := make([]E, len(p.Edges))
	out := make([]*E, len(p.Edges))
	info := &PageInfo{HasNextPage: p.PageInfo.HasNextPage}
	for i, e := range p.Edges {
		all[i] = edge(e.Position, e.Node)
		out[i] = &all[i]
	}
	if n := len(p.Edges); n > 0 {
		c := Cursor(p.Edges[n-1].Position)
		info.EndCursor = &c
	}
	return out, info
}
