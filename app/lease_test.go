package app

import (
	"context"
	"log/slog"
	"testing"

	"github.com/ywtg/hub/dbtest"
)

// TestOneReplicaResolves: of two replicas on one store, the first to look
// takes the resolution lease and keeps it; the other leaves the passes to
// it until it gives the lease up, and then takes it.
func TestOneReplicaResolves(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	log := slog.New(slog.DiscardHandler)
	a, b := newResolutionLease(st, log), newResolutionLease(st, log)
	for step, want := range []struct{ a, b bool }{{true, false}, {true, false}} {
		if got := (struct{ a, b bool }{a.held(ctx), b.held(ctx)}); got != want {
			t.Fatalf("look %d: held %+v, want %+v", step, got, want)
		}
	}
	a.release()
	if !b.held(ctx) || a.held(ctx) {
		t.Fatal("after the first replica gave the lease up, the second does not hold it alone")
	}
	b.release()
}
