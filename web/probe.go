package web

import (
	"context"
	"time"
)

// WatchReadiness runs check every interval, each run bounded by timeout,
// until ctx ends: while it fails, component blocks readiness with reason,
// and the next success clears it. /readyz itself never waits on the check;
// its answer is at most one interval old.
func WatchReadiness(ctx context.Context, r *Readiness, component, reason string, interval, timeout time.Duration, check func(context.Context) error) {
	run := func() {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := check(cctx); err != nil {
			if ctx.Err() == nil {
				r.Block(component, reason)
			}
			return
		}
		r.Clear(component)
	}
	run()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run()
		}
	}
}
