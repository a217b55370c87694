package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
)

// buildingLinker resolves the addresses of party members' homes, service
// stations and cases to buildings after sync passes, beside the sync
// engine (resolve.LinkBuildings). Members and stations are looked at in
// full every time (a changed address is linked again); cases only when
// new, except in a full run — the first after start, and every run after
// the known buildings changed, which also retries addresses that name a
// compound but found no building.
type buildingLinker struct {
	afterPass
	st    *store.Store
	dir   *address.Directory
	lease *resolutionLease
	log   *slog.Logger
}

func newBuildingLinker(st *store.Store, dir *address.Directory, lease *resolutionLease, log *slog.Logger) *buildingLinker {
	return &buildingLinker{afterPass: newAfterPass(), st: st, dir: dir, lease: lease, log: log}
}

// run links when asked until ctx ends.
func (l *buildingLinker) run(ctx context.Context) {
	ctx = store.Unscoped(ctx)
	var last *address.Gazetteer // the gazetteer of the last full run
	var casesSeen int64
	for l.wait(ctx) {
		// The replica that resolves links (its persons need the links);
		// one that takes the lease over starts with a full run.
		if !l.lease.held(ctx) {
			continue
		}
		g, err := l.dir.Gazetteer(ctx)
		if err != nil {
			l.warn(ctx, err)
			continue
		}
		full := g != last
		since := map[string]int64{}
		if !full {
			since[store.LinkCase] = casesSeen
		}
		t0 := time.Now()
		res, seen, err := resolve.LinkBuildings(ctx, l.st, g, resolve.LinkKinds(), since, full)
		casesSeen = max(casesSeen, seen[store.LinkCase])
		if err != nil {
			l.warn(ctx, err)
			continue
		}
		if full {
			last = g
		}
		if res.Read > 0 || res.Pruned > 0 {
			l.log.Info("building links updated", "full", full, "addresses", res.Read, "to_building", res.ToBuilding,
				"to_compound", res.ToCompound, "pruned", res.Pruned, "took", time.Since(t0))
		}
	}
}

func (l *buildingLinker) warn(ctx context.Context, err error) {
	if ctx.Err() == nil {
		l.log.Warn("building linking failed", "err", err)
	}
}
