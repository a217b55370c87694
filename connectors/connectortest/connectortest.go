// Package connectortest is test support for the connectors and the sync
// engine: it starts the simulated source systems a connector is tested
// against (stopped when the test ends) and loads the region layer they
// publish. Like every test-support package it may import sim; the
// connectors themselves never do.
package connectortest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/sim"
)

// StartSim starts the simulated systems with o, closes them at the end of the
// test, and loads their region layer. An empty o.DataDir is a directory of
// the test's own; a nil o.Logger discards the simulators' logs.
func StartSim(tb testing.TB, o sim.Options) (*sim.Systems, *places.Layer) {
	tb.Helper()
	if o.DataDir == "" {
		o.DataDir = tb.TempDir()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sys, err := sim.Start(context.Background(), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sys.Close() })
	layer, err := places.Load(sys.LayerPath)
	if err != nil {
		tb.Fatal(err)
	}
	return sys, layer
}
