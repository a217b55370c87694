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
// after sync passes, beside the sync engine (resolve.ResolvePersons): one
// resolution at a time, of every record, so that the persons are the same
// whatever order the records landed in. A run is skipped when nothing it
// reads changed since the last (store.PersonLinksVersion).
type personResolver struct {
	afterPass
	st  *store.Store
	dir *address.Directory
	log *slog.Logger
	cfg resolve.Config
}

func newPersonResolver(st *store.Store, dir *address.Directory, log *slog.Logger) *personResolver {
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	return &personResolver{afterPass: newAfterPass(), st: st, dir: dir, log: log, cfg: cfg}
}

// run resolves when asked until ctx ends.
func (r *personResolver) run(ctx context.Context) {
	ctx = store.Unscoped(ctx)
	last := ""
	for r.wait(ctx) {
		t0 := time.Now()
		v, err := r.st.PersonLinksVersion(ctx)
		if err != nil {
			r.warn(ctx, err)
			continue
		}
		if v == last {
			continue
		}
		var g *address.Gazetteer
		if r.dir != nil {
			if g, err = r.dir.Gazetteer(ctx); err != nil {
				r.warn(ctx, err)
			}
		}
		res, err := resolve.ResolvePersons(ctx, r.st, g, r.cfg)
		if err != nil {
			r.warn(ctx, err)
			continue
		}
		last = v
		r.log.Info("persons resolved", "records", res.Records, "persons", res.Persons, "linked", res.Linked, "review", res.Review,
			"merged", res.Merged, "split", res.Split, "relinked", res.Relinked, "golden", res.Golden, "took", time.Since(t0))
	}
}

func (r *personResolver) warn(ctx context.Context, err error) {
	if ctx.Err() == nil {
		r.log.Warn("person resolution failed", "err", err)
	}
}
