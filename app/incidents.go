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
// batches (resolve.IncidentRegrouper): the first regrouping after start
// reads every case, later ones only the cases written since the previous
// one, and regroup from the earliest report among them (a source's
// history arriving late is regrouped with everything it can join).
// `sync` regroups every case after its pass.
type incidentRegrouper struct {
	afterPass
	res   *resolve.IncidentRegrouper
	lease *resolutionLease
	log   *slog.Logger
}

func newIncidentRegrouper(st *store.Store, lease *resolutionLease, log *slog.Logger) *incidentRegrouper {
	return &incidentRegrouper{afterPass: newAfterPass(), res: resolve.NewIncidentRegrouper(st, resolve.DefaultIncidentConfig()), lease: lease, log: log}
}

// run regroups when asked until ctx ends.
func (r *incidentRegrouper) run(ctx context.Context) {
	ctx = store.Unscoped(ctx)
	for r.wait(ctx) {
		if !r.lease.held(ctx) {
			continue
		}
		t0 := time.Now()
		res, err := r.res.Run(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("incident regrouping failed", "err", err)
			}
			continue
		}
		if res.Full || res.Changed > 0 {
			r.log.Info("incidents regrouped", "full", res.Full, "changed", res.Changed, "compared", res.Read, "incidents", res.Groups,
				"created", res.Created, "updated", res.Updated, "removed", res.Removed, "cases_relinked", res.CasesChanged, "took", time.Since(t0))
		}
	}
}
