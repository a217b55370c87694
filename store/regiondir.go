package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// RegionDirectory answers the region reads of the API (by id, by code,
// lists and children) from memory while the change notifications are
// followed and the reference tables have not changed since it last read
// the region table (Changes.ReferenceCurrent: the sync's writes to the
// data do not move it). Otherwise, and without notifications, each read
// runs its statement as the Store's does. A city's region layer is small
// (thousands of rows) and read by nearly every request: a grid of a case,
// the regions of a dashboard, the check whether regions are grids.
//
// The regions it holds carry no Boundary: polygons can be large, and
// few answers show them (Store.RegionBoundaries reads them).
//
// Reads apply the caller's Scope exactly as the Store's statements do (a
// region is visible when its path lies in the scope region's subtree; an
// unknown scope sees nothing), and refuse a context without an access
// value (ErrNoScope). Lists are in the database's order of codes: the
// directory keeps the rank of each region in the order the database gave
// it, so a cursor means the same on either path.
type RegionDirectory struct {
	st      *Store
	changes *Changes // nil: every read runs its statement

	mu   sync.Mutex
	gen  uint64
	snap *regionSnapshot // nil until read
}

// regionSnapshot is the region table as of one reference generation;
// immutable once built.
type regionSnapshot struct {
	byID   map[int64]*Region
	byCode map[string]*Region
	rank   map[int64]int // position in the database's (code, id) order
	// ordered holds every region in (code, id) order, and children each
	// parent's children in that order.
	ordered  []*Region
	children map[int64][]*Region
}

// NewRegionDirectory returns a directory over the store's regions that
// holds them while changes says they are current; nil changes makes every
// read a statement.
func (s *Store) NewRegionDirectory(changes *Changes) *RegionDirectory {
	return &RegionDirectory{st: s, changes: changes}
}

// snapshot returns the regions as of the current reference generation, or
// nil when the notifications are not followed (the caller runs its
// statement).
func (d *RegionDirectory) snapshot(ctx context.Context) (*regionSnapshot, error) {
	if d == nil || d.changes == nil {
		return nil, nil
	}
	gen, live := d.changes.ReferenceCurrent()
	if !live {
		return nil, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.snap != nil && d.gen == gen {
		return d.snap, nil
	}
	// One reader at a time builds the snapshot (under mu) while the others
	// wait for it: the table is read once per change, not once per
	// waiting request. gen was read before the table, so a change
	// committed meanwhile moves the generation on and the next read
	// builds again.
	snap, err := d.read(ctx)
	if err != nil {
		return nil, err
	}
	d.snap, d.gen = snap, gen
	return snap, nil
}

// read loads the region table, without boundaries, in code order.
func (d *RegionDirectory) read(ctx context.Context) (*regionSnapshot, error) {
	rows, err := d.st.pool.Query(Unscoped(ctx), `SELECT r.id, r.code, r.name, r.level, r.parent_id, r.path::text,
		r.centroid_lat, r.centroid_lng, r.updated_at FROM region r ORDER BY r.code, r.id`)
	if err != nil {
		return nil, fmt.Errorf("read the region directory: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Region, error) {
		r := &Region{}
		err := row.Scan(&r.ID, &r.Code, &r.Name, &r.Level, &r.ParentID, &r.Path, &r.CentroidLat, &r.CentroidLng, &r.UpdatedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the region directory: %w", err)
	}
	s := &regionSnapshot{
		byID: make(map[int64]*Region, len(list)), byCode: make(map[string]*Region, len(list)),
		rank: make(map[int64]int, len(list)), ordered: list, children: make(map[int64][]*Region),
	}
	for i, r := range list {
		s.byID[r.ID], s.byCode[r.Code], s.rank[r.ID] = r, r, i
		if r.ParentID != nil {
			s.children[*r.ParentID] = append(s.children[*r.ParentID], r)
		}
	}
	return s, nil
}

// visible returns the test of the context's scope: a region is visible
// when its path is the scope region's or lies under it.
func (s *regionSnapshot) visible(ctx context.Context) (func(*Region) bool, error) {
	if err := checkScope(ctx); err != nil {
		return nil, err
	}
	code, ok := scopeOf(ctx)
	if !ok {
		return func(*Region) bool { return true }, nil
	}
	root := s.byCode[code]
	if root == nil {
		return func(*Region) bool { return false }, nil
	}
	prefix := root.Path + "."
	return func(r *Region) bool { return r.Path == root.Path || strings.HasPrefix(r.Path, prefix) }, nil
}

// ByID returns the regions of ids in key order; an id unknown or out of
// scope yields nil (Store.RegionsByID).
func (d *RegionDirectory) ByID(ctx context.Context, ids []int64) ([]*Region, error) {
	return byKeys(ctx, d, ids, func(s *regionSnapshot) map[int64]*Region { return s.byID }, d.st.RegionsByID)
}

// ByCode returns the regions of codes in key order; a code unknown or out
// of scope yields nil (Store.RegionsByCode).
func (d *RegionDirectory) ByCode(ctx context.Context, codes []string) ([]*Region, error) {
	return byKeys(ctx, d, codes, func(s *regionSnapshot) map[string]*Region { return s.byCode }, d.st.RegionsByCode)
}

// byKeys looks keys up in the snapshot's index by, or runs the statement
// when the directory holds no current snapshot.
func byKeys[K comparable](ctx context.Context, d *RegionDirectory, keys []K, by func(*regionSnapshot) map[K]*Region,
	statement func(context.Context, []K) ([]*Region, error)) ([]*Region, error) {
	s, err := d.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return statement(ctx, keys)
	}
	return lookUp(ctx, s, keys, by(s))
}

func lookUp[K comparable](ctx context.Context, s *regionSnapshot, keys []K, by map[K]*Region) ([]*Region, error) {
	visible, err := s.visible(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Region, len(keys))
	for i, k := range keys {
		if r := by[k]; r != nil && visible(r) {
			out[i] = r
		}
	}
	return out, nil
}

// ByCodeOne finds a region by its code, NotFound when it is unknown or out
// of scope (Store.RegionByCode).
func (d *RegionDirectory) ByCodeOne(ctx context.Context, code string) (*Region, error) {
	s, err := d.snapshot(ctx)
	if err != nil || s == nil {
		if err != nil {
			return nil, err
		}
		return d.st.RegionByCode(ctx, code)
	}
	list, err := lookUp(ctx, s, []string{code}, s.byCode)
	if err != nil {
		return nil, err
	}
	if list[0] == nil {
		return nil, canon.Errorf(canon.NotFound, "region %s not found", code)
	}
	return list[0], nil
}

// errStale says a read cannot be answered from the snapshot (a cursor
// names a region it does not hold); the read runs its statement.
var errStale = errors.New("region directory: position not held")

// List lists the regions a query selects, ordered by code (Store.Regions).
func (d *RegionDirectory) List(ctx context.Context, q RegionQuery) (Page[*Region], error) {
	s, err := d.snapshot(ctx)
	if err != nil {
		return Page[*Region]{}, err
	}
	if s != nil {
		from := s.ordered
		if q.ParentID != nil {
			from = s.children[*q.ParentID]
		}
		page, err := s.page(ctx, from, q.Level, q.Page)
		if !errors.Is(err, errStale) {
			return page, err
		}
	}
	return d.st.Regions(ctx, q)
}

// Children lists one page of the children of each of a batch of regions,
// in key order (Store.RegionChildren).
func (d *RegionDirectory) Children(ctx context.Context, parentIDs []int64, p PageArgs) ([]Page[*Region], error) {
	s, err := d.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if s != nil {
		out := make([]Page[*Region], len(parentIDs))
		for i, id := range parentIDs {
			if out[i], err = s.page(ctx, s.children[id], nil, p); err != nil {
				break
			}
		}
		if !errors.Is(err, errStale) {
			return out, err
		}
	}
	return d.st.RegionChildren(ctx, parentIDs, p)
}

// Count counts the regions a query selects, ignoring paging
// (Store.CountRegions).
func (d *RegionDirectory) Count(ctx context.Context, q RegionQuery) (int, error) {
	s, err := d.snapshot(ctx)
	if err != nil || s == nil {
		if err != nil {
			return 0, err
		}
		return d.st.CountRegions(ctx, q)
	}
	visible, err := s.visible(ctx)
	if err != nil {
		return 0, err
	}
	from := s.ordered
	if q.ParentID != nil {
		from = s.children[*q.ParentID]
	}
	n := 0
	for _, r := range from {
		if visible(r) && (q.Level == nil || r.Level == *q.Level) {
			n++
		}
	}
	return n, nil
}

// page is one keyset page of the visible regions of from (in code order)
// at the level, if given.
func (s *regionSnapshot) page(ctx context.Context, from []*Region, level *canon.RegionLevel, p PageArgs) (Page[*Region], error) {
	limit, err := p.limit()
	if err != nil {
		return Page[*Region]{}, err
	}
	after, err := afterPosition(p.After, regionOrder)
	if err != nil {
		return Page[*Region]{}, err
	}
	visible, err := s.visible(ctx)
	if err != nil {
		return Page[*Region]{}, err
	}
	start := 0
	if after != nil {
		// The region the cursor names gives its place in the database's
		// order; one that is gone (or renamed) is left to the statement.
		at := s.byCode[after.Key]
		if at == nil {
			return Page[*Region]{}, errStale
		}
		rank, id := s.rank[at.ID], after.ID
		start, _ = slices.BinarySearchFunc(from, rank, func(r *Region, rank int) int { return s.rank[r.ID] - rank })
		// (code, id) > (after.Key, after.ID): the region of the cursor's
		// code comes next only when its id is greater.
		if start < len(from) && from[start].Code == after.Key && from[start].ID <= id {
			start++
		}
	}
	list := make([]*Region, 0, min(limit+1, len(from)-start))
	for _, r := range from[start:] {
		if len(list) > limit {
			break
		}
		if (level == nil || r.Level == *level) && visible(r) {
			list = append(list, r)
		}
	}
	return newPage(list, limit, func(r *Region) Position { return Position{Order: regionOrder, Key: r.Code, ID: r.ID} }), nil
}

// RegionBoundaries loads the boundaries of a batch of regions in key order;
// a region unknown, out of scope or without a boundary yields nil.
func (s *Store) RegionBoundaries(ctx context.Context, ids []int64) ([]json.RawMessage, error) {
	a := sqlArgs{ids}
	rows, err := s.pool.Query(ctx, "SELECT r.id, r.boundary FROM region r WHERE r.id = ANY($1) AND "+scopePath(ctx, "r.path", &a), a...)
	if err != nil {
		return nil, fmt.Errorf("load region boundaries: %w", err)
	}
	defer rows.Close()
	by := make(map[int64]json.RawMessage, len(ids))
	for rows.Next() {
		var id int64
		var b json.RawMessage
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("load region boundaries: %w", err)
		}
		by[id] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load region boundaries: %w", err)
	}
	out := make([]json.RawMessage, len(ids))
	for i, id := range ids {
		out[i] = by[id]
	}
	return out, nil
}
