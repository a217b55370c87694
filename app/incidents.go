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
	full := true // until a regrouping of everything succeeded
	// seen is the highest case id the last regrouping read, settled the
	// one before it, and between how many cases it read in between. A
	// transaction of another source still open when a regrouping read
	// commits cases with ids below seen later: the next regrouping counts
	// the range again and regroups from the earliest report in it when it
	// grew.
	var seen, settled int64
	var between int
	for r.wait(ctx) {
		n, maxID, earliest, err := r.st.NewCases(ctx, seen)
		if err != nil {
			r.warn(ctx, err)
			continue
		}
		late, lateEarliest := 0, time.Time{}
		if seen > settled {
			if late, lateEarliest, err = r.st.CasesBetween(ctx, settled, seen); err != nil {
				r.warn(ctx, err)
				continue
			}
		}
		grew := late > between
		if n == 0 && !grew && !full {
			continue
		}
		from := earliest
		if grew && (n == 0 || lateEarliest.Before(from)) {
			from = lateEarliest
		}
		if full {
			from = time.Time{}
		}
		t0 := time.Now()
		res, err := resolve.RegroupIncidents(ctx, r.st, r.cfg, from)
		if err != nil {
			r.warn(ctx, err)
			continue
		}
		full = false
		if n > 0 {
			settled, seen, between = seen, max(seen, maxID), n
		} else {
			between = late
		}
		r.log.Info("incidents regrouped", "new_cases", n, "read", res.Read, "incidents", res.Groups, "created", res.Created,
			"updated", res.Updated, "removed", res.Removed, "cases_relinked", res.CasesChanged, "took", time.Since(t0))
	}
}

func (r *incidentRegrouper) warn(ctx context.Context, err error) {
	if ctx.Err() == nil {
		r.log.Warn("incident regrouping failed", "err", err)
	}
}
