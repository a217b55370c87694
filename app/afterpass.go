package app

import "context"

// afterPass asks work that runs beside the sync engine (incident
// regrouping, building links) to run after sync passes: one run at a time,
// and passes that end while one runs share the next.
type afterPass chan struct{}

func newAfterPass() afterPass { return make(afterPass, 1) }

// passed asks for a run.
func (p afterPass) passed() {
	select {
	case p <- struct{}{}:
	default:
	}
}

// wait blocks until a run is asked for (true) or ctx ends (false).
func (p afterPass) wait(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-p:
		return true
	}
}
