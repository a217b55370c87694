package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// listByID pages any query in id order. base is "SELECT … FROM … WHERE
// <conds>" with the row alias x; the keyset condition and order are added.
// The page counts the whole list on demand (Page.Count).
func listByID[T any](ctx context.Context, s *Store, what, base string, a sqlArgs, p PageArgs,
	scan func(pgx.CollectableRow) (T, error), idOf func(T) int64) (Page[T], error) {
	limit, err := p.limit()
	if err != nil {
		return Page[T]{}, err
	}
	order := what + "_ID"
	after, err := afterPosition(p.After, order)
	if err != nil {
		return Page[T]{}, err
	}
	count := countOf(s, what, base, a)
	sql := base
	if after != nil {
		sql += " AND x.id > " + a.add(after.ID)
	}
	sql += " ORDER BY x.id LIMIT " + a.add(limit+1)
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return Page[T]{}, fmt.Errorf("list %s: %w", what, err)
	}
	list, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return Page[T]{}, fmt.Errorf("list %s: %w", what, err)
	}
	page := newPage(list, limit, func(v T) Position {
		id := idOf(v)
		return Position{Order: order, Key: strconv.FormatInt(id, 10), ID: id}
	})
	page.Count = count
	return page, nil
}

// byIDs loads rows for a batch of ids in key order.
func byIDs[T any](ctx context.Context, s *Store, what, base string, ids []int64, scope func(*sqlArgs) string,
	scan func(pgx.CollectableRow) (T, error), idOf func(T) int64) ([]T, error) {
	a := sqlArgs{ids}
	rows, err := s.pool.Query(ctx, base+" WHERE x.id = ANY($1) AND "+scope(&a), a...)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	list, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	return inKeyOrder(ids, list, idOf), nil
}

// groupedBy loads rows for a batch of parent keys ($1) and groups them in
// key order; sql selects the parent key first; extra are arguments $2….
func groupedBy[T any](ctx context.Context, s *Store, what, sql string, keys []int64, extra sqlArgs,
	scan func(pgx.CollectableRow) (int64, T, error)) ([][]T, error) {
	rows, err := s.pool.Query(ctx, sql, append(sqlArgs{keys}, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	defer rows.Close()
	by := make(map[int64][]T, len(keys))
	for rows.Next() {
		k, v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", what, err)
		}
		by[k] = append(by[k], v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	out := make([][]T, len(keys))
	for i, k := range keys {
		out[i] = by[k]
	}
	return out, nil
}

// subtree is the SQL condition "region column lies in the subtree of the
// region given by the placeholder".
func subtree(column, placeholder string) string {
	return column + " IN (SELECT id FROM region WHERE path <@ (SELECT path FROM region WHERE id = " + placeholder + "))"
}

// regionRef is the SQL of the id of a region given by row id or by code
// ("" when neither is given); an unknown code names no region.
func regionRef(id *int64, code *string, a *sqlArgs) string {
	switch {
	case id != nil:
		return a.add(*id)
	case code != nil:
		return "(SELECT id FROM region WHERE code = " + a.add(*code) + ")"
	}
	return ""
}
