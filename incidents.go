package main

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
// reads every case; later ones the reports from a day before the latest
// report the previous one saw, so late reports of the last day are caught
// too. `sync` regroups every case after its pass.
type incidentRegrouper struct {
	st   *store.Store
	log  *slog.Logger
	cfg  resolve.IncidentConfig
	kick chan struct{}
}

func newIncidentRegrouper(st *store.Store, log *slog.Logger) *incidentRegrouper {
	return &incidentRegrouper{st: st, log: log, cfg: resolve.DefaultIncidentConfig(), kick: make(chan struct{}, 1)}
}

// passed asks for a regrouping; passes that end while one runs share the
// next.
func (r *incidentRegrouper) passed() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// run regroups when asked until ctx ends.
func (r *incidentRegrouper) run(ctx context.Context) {
	var latest time.Time // zero until a regrouping succeeded: read everything
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		}
		from := time.Time{}
		if !latest.IsZero() {
			from = latest.Add(-24 * time.Hour)
		}
		t0 := time.Now()
		res, err := resolve.RegroupIncidents(store.Unscoped(ctx), r.st, r.cfg, from)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("incident regrouping failed", "err", err)
			}
			continue
		}
		if res.Latest.After(latest) {
			latest = res.Latest
		}
		r.log.Info("incidents regrouped", "read", res.Read, "incidents", res.Groups, "created", res.Created,
			"updated", res.Updated, "removed", res.Removed, "cases_relinked", res.CasesChanged, "took", time.Since(t0))
	}
}
