package party_test

import (
	"context"
	"testing"
	"time"

	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/party"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestPullsEveryTableOnce(t *testing.T) {
	dsn := dbtest.EmptyDB(t)
	_, layer := connectortest.StartSim(t, sim.Options{Seed: 1, LiveRate: -1, PartyDSN: dsn})
	keys, _ := pii.NewKeys([]byte("party connector test key 32 byte"))
	c := party.New(party.Config{Name: "party", Pool: dbtest.Pool(t, dsn), Keys: keys, Layer: layer, Times: normalize.DefaultTimes(), Now: time.Now})
	for _, table := range c.Describe().Streams {
		seen := map[string]bool{}
		cur := ""
		stored, quarantined, deleted := 0, 0, 0
		for {
			b, err := c.Pull(context.Background(), connectors.Request{Stream: table, Cursor: cur, Limit: 97})
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Records)+len(b.Tombstones)+len(b.Quarantine) != b.Fetched {
				t.Fatalf("%s: fetched %d, accounted otherwise", table, b.Fetched)
			}
			stored, quarantined, deleted = stored+len(b.Records), quarantined+len(b.Quarantine), deleted+len(b.Tombstones)
			for _, q := range b.Quarantine {
				if seen[q.SourceID] {
					t.Fatalf("%s: row %s twice", table, q.SourceID)
				}
				seen[q.SourceID] = true
			}
			cur = b.Next
			if !b.More {
				break
			}
		}
		if stored == 0 {
			t.Fatalf("%s: nothing stored", table)
		}
		t.Logf("%s: %d stored, %d quarantined, %d soft-deleted", table, stored, quarantined, deleted)
	}
}
