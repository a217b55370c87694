package graph

import (
	"context"

	"github.com/ywtg/hub/store"
)

// linkedBuilding is the building a record's address was resolved to (nil
// when it names none the hub knows, or a building outside the caller's
// jurisdiction).
func (r *Resolver) linkedBuilding(ctx context.Context, links *lazyLoader[int64, *store.BuildingLink], id int64) (*store.Building, error) {
	b, err := r.linkedBuildings(ctx, links, []int64{id})
	if err != nil {
		return nil, err
	}
	return b[0], nil
}

// linkedBuildings resolves a batch of records' building links, then their
// buildings, each through its loader.
func (r *Resolver) linkedBuildings(ctx context.Context, links *lazyLoader[int64, *store.BuildingLink], ids []int64) ([]*store.Building, error) {
	got, err := loadAll(ctx, links, ids)
	if err != nil {
		return nil, err
	}
	bids := make([]*int64, len(got))
	for i, l := range got {
		if l != nil {
			bids[i] = l.BuildingID
		}
	}
	return loadOpts(ctx, &r.loaders(ctx).Building, bids)
}
