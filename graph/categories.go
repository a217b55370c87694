package graph

import (
	"context"
	"sync"

	"github.com/ywtg/hub/store"
)

// categoryTable is the unified category code table (a few dozen rows),
// held for every request while the change notifications are followed and
// read again once a reference table has changed since (the reference
// generation moved: the sync's writes to the data leave it). Without
// notifications, or while they are lost, each request that needs it reads
// it once.
type categoryTable struct {
	changes *store.Changes // nil: no notifications

	mu   sync.Mutex
	gen  uint64
	byID map[string]*store.Category // nil until read; immutable once read
}

// read returns the table as of the current generation.
func (t *categoryTable) read(ctx context.Context, st *store.Store) (map[string]*store.Category, error) {
	var gen uint64
	var live bool
	if t != nil && t.changes != nil {
		gen, live = t.changes.ReferenceCurrent()
	}
	if live {
		t.mu.Lock()
		m, ok := t.byID, t.gen == gen
		t.mu.Unlock()
		if m != nil && ok {
			return m, nil
		}
	}
	list, err := st.Categories(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*store.Category, len(list))
	for _, c := range list {
		m[c.Code] = c
	}
	if live {
		// gen was read before the table: a change committed meanwhile
		// moved the generation on, and the next request reads again.
		t.mu.Lock()
		if t.byID == nil || t.gen < gen {
			t.byID, t.gen = m, gen
		}
		t.mu.Unlock()
	}
	return m, nil
}

// categories is the request's category table: read once per request (from
// the shared table when it is current), so that every category field of
// the request, however many, looks its category up in memory.
func (r *Resolver) categories(ctx context.Context) (map[string]*store.Category, error) {
	return r.loaders(ctx).categories(ctx)
}

// categoryOf looks up an optional category code.
func (r *Resolver) categoryOf(ctx context.Context, code *string) (*store.Category, error) {
	if code == nil {
		return nil, nil
	}
	m, err := r.categories(ctx)
	if err != nil {
		return nil, err
	}
	return m[*code], nil
}

// categoriesOf looks up optional category codes.
func (r *Resolver) categoriesOf(ctx context.Context, codes []*string) ([]*store.Category, error) {
	m, err := r.categories(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Category, len(codes))
	for i, c := range codes {
		if c != nil {
			out[i] = m[*c]
		}
	}
	return out, nil
}
