package app

import (
	"context"
	"log/slog"
	"sync"

	"github.com/ywtg/hub/store"
)

// resolutionLease decides which of the hub's replicas links addresses to
// buildings, resolves persons and regroups incidents after sync passes
// (store.ResolutionLease): each resolver holds its state between runs, and
// two replicas resolving side by side would each find the other's writes
// (the store's resolution epochs) and resolve everything again on every
// pass; the building links would be written twice. The process that holds the
// lease resolves; the others leave their passes to it. A lease lost (its
// connection broke) or given up by a replica that stopped is taken by the
// next replica to look, whose first run resolves everything.
type resolutionLease struct {
	st  *store.Store
	log *slog.Logger

	mu     sync.Mutex
	lease  *store.ResolutionLease
	others bool // another process held the lease when last looked
}

func newResolutionLease(st *store.Store, log *slog.Logger) *resolutionLease {
	return &resolutionLease{st: st, log: log}
}

// held tells whether this process resolves now: it holds the lease still,
// or it takes it.
func (x *resolutionLease) held(ctx context.Context) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.lease != nil {
		if x.lease.Held(ctx) {
			return true
		}
		x.lease = nil
		if ctx.Err() == nil {
			x.log.Warn("resolution lease lost: its connection broke; taken again when free")
		}
	}
	l, err := x.st.TryResolutionLease(ctx)
	if err != nil {
		if ctx.Err() == nil {
			x.log.Warn("resolution lease", "err", err)
		}
		return false
	}
	if l == nil {
		if !x.others {
			x.log.Info("another replica links buildings and resolves persons and incidents")
		}
		x.others = true
		return false
	}
	x.lease, x.others = l, false
	x.log.Info("resolution lease taken: this process links buildings and resolves persons and incidents")
	return true
}

// release gives the lease up, for another replica to take.
func (x *resolutionLease) release() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.lease != nil {
		x.lease.Release()
		x.lease = nil
	}
}
