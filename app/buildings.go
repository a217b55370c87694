package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
)

// buildingLinker resolves the addresses of party members' homes, service
// stations and cases to buildings after sync passes, beside the sync
// engine (resolve.LinkBuildings). Members and stations are looked at in
// full every time (a changed address is linked again), cases from the
// store's queue of cases inserted or changed; a full run — the first
// after start, and every run after the known buildings changed — also
// retries addresses that name a compound but found no building.
//
// Person resolution reads the links of members' homes (a member's
// dwelling): the homes are linked first in every run, and homesLinked is
// told then, before the stations and cases are linked, or as soon as the
// run ends without them (failed, or this replica does not resolve).
type buildingLinker struct {
	afterPass
	st          *store.Store
	dir         *address.Directory
	lease       *resolutionLease
	log         *slog.Logger
	homesLinked func()
}

func newBuildingLinker(st *store.Store, dir *address.Directory, lease *resolutionLease, log *slog.Logger, homesLinked func()) *buildingLinker {
	return &buildingLinker{afterPass: newAfterPass(), st: st, dir: dir, lease: lease, log: log, homesLinked: homesLinked}
}

// linkerState is what a linker keeps between its runs.
type linkerState struct {
	last *address.Gazetteer // the gazetteer of the last full run
}

// run links when asked until ctx ends.
func (l *buildingLinker) run(ctx context.Context) {
	ctx = store.Unscoped(ctx)
	var s linkerState
	for l.wait(ctx) {
		l.link(ctx, &s)
	}
}

// link is one run.
func (l *buildingLinker) link(ctx context.Context, s *linkerState) {
	homesLinked := sync.OnceFunc(l.homesLinked)
	defer homesLinked()
	// The replica that resolves links (its persons need the links);
	// one that takes the lease over starts with a full run.
	if !l.lease.held(ctx) {
		return
	}
	g, err := l.dir.Gazetteer(ctx)
	if err != nil {
		l.warn(ctx, err)
		return
	}
	full := g != s.last
	t0 := time.Now()
	res, err := resolve.LinkBuildings(ctx, l.st, g, []string{store.LinkPartyMember}, full)
	if err != nil {
		l.warn(ctx, err)
		return
	}
	if res.Read > 0 {
		l.log.Info("members' homes linked", "full", full, "addresses", res.Read, "to_building", res.ToBuilding,
			"took", time.Since(t0))
	}
	homesLinked()
	others, err := resolve.LinkBuildings(ctx, l.st, g, []string{store.LinkServiceStation, store.LinkCase}, full)
	if err != nil {
		l.warn(ctx, err)
		return
	}
	if full {
		s.last = g
	}
	if res = res.Plus(others); res.Read > 0 {
		l.log.Info("building links updated", "full", full, "all_cases", res.AllCases, "addresses", res.Read,
			"to_building", res.ToBuilding, "to_compound", res.ToCompound, "took", time.Since(t0))
	}
}

func (l *buildingLinker) warn(ctx context.Context, err error) {
	if ctx.Err() == nil {
		l.log.Warn("building linking failed", "err", err)
	}
}
