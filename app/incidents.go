package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
)

// incidentRegrouper groups case reports into incidents after sync passes,
// one regrouping at a time and beside the sync engine, never inside its
// batches (resolve.RegroupIncidents). The first regrouping after start
// reads every case; later ones only when cases were stored since the
// previous one, from the earliest report among them (a source's history
// arriving late is regrouped with everything it can join). `sync` regroups
// every case after its pass.
type incidentRegrouper struct {
	afterPass
	st  *store.Store
	log *slog.Logger
	cfg resolve.IncidentConfig
}

func newIncidentRegrouper(st *store.Store, log *slog.Logger) *incidentRegrouper {
	return &incidentRegrouper{afterPass: newAfterPass(), st: st, log: log, cfg: resolve.DefaultIncidentConfig()}
}

// run regroups when asked until ctx ends.
func (r *incidentRegrouper) run(ctx context.Context) {
	ctx = store.Unscoped(ctx)
	full := true   // until a regrouping of everything succeeded
	var seen int64 // the highest case id regrouped
	for r.wait(ctx) {
		n, maxID, earliest, err := r.st.NewCases(ctx, seen)
		if err != nil {
			r.warn(ctx, err)
			continue
		}
		if n == 0 && !full {
			continue
		}
		from := earliest
		if full {
			from = time.Time{}
		}
		t0 := time.Now()
		res, err := resolve.RegroupIncidents(ctx, r.st, r.cfg, from)
		if err != nil {
			r.warn(ctx, err)
			continue
		}
		full, seen = false, max(seen, maxID)
		r.log.Info("incidents regrouped", "new_cases", n, "read", res.Read, "incidents", res.Groups, "created", res.Created,
			"updated", res.Updated, "removed", res.Removed, "cases_relinked", res.CasesChanged, "took", time.Since(t0))
	}
}

func (r *incidentRegrouper) warn(ctx context.Context, err error) {
	if ctx.Err() == nil {
		r.log.Warn("incident regrouping failed", "err", err)
	}
}
