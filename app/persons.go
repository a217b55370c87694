package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
)

// personResolver resolves the person records of every source into persons
// after sync passes, beside the sync engine (resolve.PersonResolver): the
// first run resolves every record, later runs the records changed since
// (and the decisions taken), with the state held between runs.
type personResolver struct {
	afterPass
	res   *resolve.PersonResolver
	dir   *address.Directory
	lease *resolutionLease
	log   *slog.Logger
}

func newPersonResolver(st *store.Store, dir *address.Directory, lease *resolutionLease, log *slog.Logger) *personResolver {
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	return &personResolver{afterPass: newAfterPass(), res: resolve.NewPersonResolver(st, cfg), dir: dir, lease: lease, log: log}
}

// run resolves when asked until ctx ends.
func (r *personResolver) run(ctx context.Context) {
	ctx = store.Unscoped(ctx)
	for r.wait(ctx) {
		if !r.lease.held(ctx) {
			continue
		}
		t0 := time.Now()
		var g *address.Gazetteer
		if r.dir != nil {
			var err error
			if g, err = r.dir.Gazetteer(ctx); err != nil {
				r.warn(ctx, err)
			}
		}
		res, err := r.res.Run(ctx, g)
		if err != nil {
			r.warn(ctx, err)
			continue
		}
		if res.Full || res.Changed > 0 {
			r.log.Info("persons resolved", "full", res.Full, "changed", res.Changed, "records", res.Records, "persons", res.Persons,
				"linked", res.Linked, "review", res.Review, "made", res.Made, "merged", res.Merged, "split", res.Split,
				"relinked", res.Relinked, "golden", res.Golden, "unchanged", res.Unchanged, "overwritten", res.Overwritten, "analyzed", res.Analyzed, "read", res.Read, "resolved", res.Resolved, "written", res.Written,
				"took", time.Since(t0))
		}
	}
}

func (r *personResolver) warn(ctx context.Context, err error) {
	if ctx.Err() == nil {
		r.log.Warn("person resolution failed", "err", err)
	}
}
