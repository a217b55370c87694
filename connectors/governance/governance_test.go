package governance_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/governance"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
)

func start(t *testing.T) (*sim.Systems, *governance.Connector) {
	t.Helper()
	sys, layer := connectortest.StartSim(t, sim.Options{Seed: 1, LiveRate: -1})
	keys, _ := pii.NewKeys([]byte("governance test key of 32 bytes!"))
	m := &governance.Mapper{Source: "governance", Keys: keys, Layer: layer, Times: normalize.DefaultTimes(), Now: time.Now}
	c := governance.New(governance.Config{Name: "governance", Endpoint: sys.GovURL, ClientID: sys.ClientID, ClientSecret: sys.ClientSecret, Mapper: m})
	return sys, c
}

// pullAll walks a stream from a cursor to its end.
func pullAll(t *testing.T, c *governance.Connector, stream, cur string) (connectors.Batch, string) {
	t.Helper()
	var all connectors.Batch
	for {
		b, err := c.Pull(context.Background(), connectors.Request{Stream: stream, Cursor: cur, Limit: 200})
		if err != nil {
			t.Fatalf("%s: %v", stream, err)
		}
		if n := len(b.Records) + len(b.Tombstones) + len(b.Quarantine); n != b.Fetched {
			t.Fatalf("%s: fetched %d, accounted %d", stream, b.Fetched, n)
		}
		all.Fetched += b.Fetched
		all.Records = append(all.Records, b.Records...)
		all.Tombstones = append(all.Tombstones, b.Tombstones...)
		all.Quarantine = append(all.Quarantine, b.Quarantine...)
		cur = b.Next
		if !b.More {
			return all, cur
		}
	}
}

func TestPullsEveryStreamOnceAndMapsEvents(t *testing.T) {
	sys, c := start(t)
	counts := map[string]int{}
	var cursors = map[string]string{}
	for _, s := range c.Describe().Streams {
		b, cur := pullAll(t, c, s, "")
		counts[s] = b.Fetched
		cursors[s] = cur
		if b.Fetched == 0 {
			t.Fatalf("stream %s is empty", s)
		}
		if s == "events" {
			reasons := map[connectors.Reason]int{}
			for _, q := range b.Quarantine {
				reasons[q.Reason]++
			}
			inGrid := 0
			layer, _ := places.Load(sys.LayerPath)
			for _, r := range b.Records {
				ev := r.(*canon.Case)
				if ev.Location == nil { // stored without its position, placed by its address
				} else if g, ok := layer.GridAt(ev.Location.Point); ok && g == ev.GridCode {
					inGrid++
				}
				if ev.CategoryCode == "" || ev.Status == "" || ev.Tier == "" || len(ev.Timeline) == 0 {
					t.Fatalf("event %s incompletely mapped: %+v", ev.SourceID, ev)
				}
			}
			if len(b.Records) == 0 || float64(inGrid) < 0.9*float64(len(b.Records)) {
				t.Fatalf("%d of %d events lie in their own grid after BD-09 conversion", inGrid, len(b.Records))
			}
			t.Logf("events: %d stored, %d quarantined by reason %v", len(b.Records), len(b.Quarantine), reasons)
		}
	}
	// Nothing changed: an incremental pull from the end reads again only
	// the records of the cursor's second (on purpose: a record updated
	// later in that second must not be missed).
	for s, cur := range cursors {
		b, _ := pullAll(t, c, s, cur)
		onlyLastSecond(t, s, cur, b.Records)
	}
	t.Logf("fetched per stream: %v", counts)
}

func TestSurvivesFaults(t *testing.T) {
	sys, c := start(t)
	sys.Gov.Faults().SetRateLimit(0.3, time.Second)
	sys.Gov.Faults().SetServerErrors(0.2)
	sys.Gov.ExpireTokens()
	b, _ := pullAll(t, c, "gridWorkers", "")
	sys.Gov.Faults().Reset()
	clean, _ := pullAll(t, c, "gridWorkers", "")
	if b.Fetched != clean.Fetched {
		t.Fatalf("with faults %d records, without %d", b.Fetched, clean.Fetched)
	}
	sys.Gov.Faults().SetDown(true)
	_, err := c.Pull(context.Background(), connectors.Request{Stream: "events", Limit: 100})
	if canon.ErrorCode(err) != canon.SourceUnavailable {
		t.Fatalf("down: %v", err)
	}
}

// TestCursorBeyondTheDataIsRejected: a platform restored to an older state
// holds nothing at or after the cursor — not even the record the cursor
// names, which every request re-reads — and the connector reports
// connectors.ErrCursorRejected instead of an empty page.
func TestCursorBeyondTheDataIsRejected(t *testing.T) {
	_, c := start(t)
	_, cur := pullAll(t, c, "residents", "")
	b, _ := pullAll(t, c, "residents", cur)
	onlyLastSecond(t, "residents", cur, b.Records)
	var k map[string]any
	if err := json.Unmarshal([]byte(cur), &k); err != nil {
		t.Fatal(err)
	}
	at, _ := time.Parse(time.RFC3339, k["t"].(string))
	k["t"] = at.AddDate(0, 1, 0).Format(time.RFC3339)
	ahead, _ := json.Marshal(k)
	_, err := c.Pull(context.Background(), connectors.Request{Stream: "residents", Cursor: string(ahead), Limit: 200})
	if !errors.Is(err, connectors.ErrCursorRejected) {
		t.Fatalf("cursor a month beyond the newest resident: %v", err)
	}
}

// onlyLastSecond asserts that records read again from a caught-up cursor
// all carry the cursor's update second.
func onlyLastSecond(t *testing.T, stream, cur string, records []any) {
	t.Helper()
	var k struct {
		T time.Time `json:"t"`
	}
	if err := json.Unmarshal([]byte(cur), &k); err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		u := reflect.ValueOf(r).Elem().FieldByName("SourceUpdatedAt").Interface().(time.Time)
		if !u.Truncate(time.Second).Equal(k.T.Truncate(time.Second)) {
			t.Fatalf("stream %s: record updated %v read again after the cursor at %v", stream, u, k.T)
		}
	}
	if len(records) > 50 {
		t.Fatalf("stream %s: %d records read again after the end", stream, len(records))
	}
}
