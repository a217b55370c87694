package connectors_test

import (
	"context"
	"testing"
	"time"

	"github.com/ywtg/hub/app/demo"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fixedNow is the fetch time written into provenance, so that mapped
// records compare byte for byte between runs.
var fixedNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// pulled is everything one connector read from a simulated system.
type pulled struct {
	source  string
	streams []string
	batches map[string]connectors.Batch // by stream, all pages joined
}

// simCity starts the small simulated city (no live changes) with its
// party database, and the four connectors over it, as the demo hub
// configures them (app/demo), with a fixed provenance clock. dirty is the generator's defect rate (0: its default).
func simCity(t *testing.T, seed uint64, dirty float64) (*sim.Systems, *pii.Keys, []connectors.Connector) {
	t.Helper()
	dsn := dbtest.EmptyDB(t)
	sys, layer := connectortest.StartSim(t, sim.Options{Seed: seed, DirtyRate: dirty, LiveRate: -1, PartyDSN: dsn})
	keys, err := pii.NewKeys([]byte("ground truth test key, 32 bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := demo.Sources(sys, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	list, closeConnectors, err := connectors.NewAll(context.Background(), set, connectors.Deps{Keys: keys, Layer: layer,
		Times: normalize.DefaultTimes(), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeConnectors)
	return sys, keys, list
}

// pullAll reads every stream of c from the start to its end.
func pullAll(t *testing.T, c connectors.Connector) pulled {
	t.Helper()
	d := c.Describe()
	p := pulled{source: d.Name, streams: d.Streams, batches: map[string]connectors.Batch{}}
	for _, stream := range d.Streams {
		var all connectors.Batch
		cur := ""
		for range 100000 {
			b, err := c.Pull(context.Background(), connectors.Request{Stream: stream, Cursor: cur, Limit: 500})
			if err != nil {
				t.Fatalf("%s/%s: %v", d.Name, stream, err)
			}
			if n := len(b.Records) + len(b.Tombstones) + len(b.Quarantine); n != b.Fetched {
				t.Fatalf("%s/%s: fetched %d, accounted %d", d.Name, stream, b.Fetched, n)
			}
			all.Fetched += b.Fetched
			all.Records = append(all.Records, b.Records...)
			all.Tombstones = append(all.Tombstones, b.Tombstones...)
			all.Quarantine = append(all.Quarantine, b.Quarantine...)
			cur = b.Next
			if !b.More {
				break
			}
		}
		p.batches[stream] = all
	}
	return p
}
