package citymgmt_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/sim/open311"
)

func TestPullsEveryRequestOnce(t *testing.T) {
	sys, layer := startSystems(t, 1)
	c := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Layer: layer,
		Times: normalize.DefaultTimes(), Now: time.Now})
	got := pullEvery(t, c, "")
	reasons := map[connectors.Reason]int{}
	for _, q := range got.quarantine {
		reasons[q.Reason]++
	}
	inGrid := 0
	for _, cs := range got.cases {
		// A case stored without its position (a field defect) is placed
		// by its address.
		if cs.Location == nil {
			continue
		}
		if g, ok := layer.GridAt(cs.Location.Point); ok && g == cs.GridCode {
			inGrid++
		}
	}
	// The system delivers some requests twice (a real defect the store
	// absorbs: same key, same payload, stored once).
	if want := len(sys.City.CityCases); got.fetched < want || len(got.cases) > want {
		t.Fatalf("fetched %d requests (%d distinct stored), the system has %d", got.fetched, len(got.cases), want)
	}
	if float64(inGrid) < 0.9*float64(len(got.cases)) {
		t.Fatalf("%d of %d requests lie in their grid after GCJ-02 conversion", inGrid, len(got.cases))
	}
	t.Logf("requests: %d fetched, %d stored, quarantined by reason %v", got.fetched, len(got.cases), reasons)
	// From the end, only the requests of the cursor's second are read
	// again (on purpose: one updated later in that second is not missed).
	cur := got.cursor
	b, err := c.Pull(context.Background(), connectors.Request{Stream: "requests", Cursor: cur})
	if err != nil || b.Fetched == 0 || b.Fetched > 20 {
		t.Fatalf("after the end: %d fetched, %v", b.Fetched, err)
	}
	var k struct {
		U string `json:"u"`
	}
	json.Unmarshal([]byte(cur), &k)
	last, _ := time.Parse(time.RFC3339, k.U)
	for _, r := range b.Records {
		if u := r.(*canon.Case).SourceUpdatedAt; !u.Equal(last) {
			t.Fatalf("after the end: request updated %v read again, the cursor is at %v", u, last)
		}
	}
}

// TestJSONAndXMLGiveTheSameCases pulls the same endpoint in both formats:
// the canonical cases are identical but for the payload hash of the bytes.
func TestJSONAndXMLGiveTheSameCases(t *testing.T) {
	sys, layer := startSystems(t, 2)
	fetched := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fetchAll := func(format string) (map[string]canon.Case, map[string]connectors.Reason) {
		c := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Format: format, Layer: layer,
			Times: normalize.DefaultTimes(), Now: func() time.Time { return fetched }})
		got := pullEvery(t, c, "")
		cases, quarantined := map[string]canon.Case{}, map[string]connectors.Reason{}
		for id, cs := range got.cases {
			v := *cs
			v.PayloadHash = nil
			cases[id] = v
		}
		for id, q := range got.quarantine {
			quarantined[id] = q.Reason
		}
		return cases, quarantined
	}
	jc, jq := fetchAll("json")
	xc, xq := fetchAll("xml")
	if len(jc) == 0 || len(jc) != len(xc) {
		t.Fatalf("json %d cases, xml %d", len(jc), len(xc))
	}
	for id, j := range jc {
		x, ok := xc[id]
		if !ok || !reflect.DeepEqual(j, x) {
			t.Fatalf("request %s differs:\njson %+v\nxml  %+v", id, j, x)
		}
	}
	if !reflect.DeepEqual(jq, xq) {
		t.Fatalf("quarantine differs: json %v, xml %v", jq, xq)
	}
}

// pulled is what pullEvery read.
type pulled struct {
	cases      map[string]*canon.Case
	quarantine map[string]connectors.Quarantine
	cursor     string // after the last page
	fetched    int    // native records read, repeated deliveries included
}

// pullEvery reads the requests stream from cur to its end, checking the
// accounting of every page.
func pullEvery(t *testing.T, c *citymgmt.Connector, cur string) pulled {
	t.Helper()
	out := pulled{cases: map[string]*canon.Case{}, quarantine: map[string]connectors.Quarantine{}}
	for range 10000 {
		b, err := c.Pull(context.Background(), connectors.Request{Stream: "requests", Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Records)+len(b.Quarantine) != b.Fetched {
			t.Fatalf("fetched %d, accounted %d", b.Fetched, len(b.Records)+len(b.Quarantine))
		}
		out.fetched += b.Fetched
		for _, r := range b.Records {
			cs := r.(*canon.Case)
			out.cases[cs.SourceID] = cs
		}
		for _, q := range b.Quarantine {
			out.quarantine[q.SourceID] = q
		}
		cur = b.Next
		if !b.More {
			out.cursor = cur
			return out
		}
	}
	t.Fatal("the stream never ended")
	return out
}

// startSystems runs the simulated source systems of a small city and loads
// its region layer.
func startSystems(t *testing.T, seed uint64) (*sim.Systems, *places.Layer) {
	t.Helper()
	sys, layer := connectortest.StartSim(t, sim.Options{Seed: seed, LiveRate: -1})
	return sys, layer
}

// TestWindowPagingOnAPlainEndpoint reads an endpoint without the
// updated_after extension: the connector discovers that, pages by
// start_date/end_date windows split under the cap, sees every request
// once with plain open/closed status, and picks up new requests from its
// cursor.
func TestWindowPagingOnAPlainEndpoint(t *testing.T) {
	const capN = 40
	for _, tc := range []struct {
		name   string
		cap    int
		paging string
		format string
	}{
		{"discovered on the simulator's plain mode", 0, citymgmt.PagingAuto, "auto"},
		{"configured, cap 40", capN, citymgmt.PagingWindow, "json"},
		{"configured, cap 40, XML", capN, citymgmt.PagingWindow, "xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys, layer := startSystems(t, 3)
			sys.Open311.SetPlain(true)
			endpoint := sys.Open311URL + "/open311/v2"
			if tc.cap > 0 { // a plain endpoint with a small cap, so that windows split often
				plain := open311.New(sys.City, open311.Options{Clock: sys.Clock, Max: tc.cap})
				plain.SetPlain(true)
				srv := httptest.NewServer(plain)
				defer srv.Close()
				endpoint = srv.URL + "/open311/v2"
			}
			c := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: endpoint, Format: tc.format, Paging: tc.paging, Cap: tc.cap,
				Layer: layer, Times: normalize.DefaultTimes(), Now: time.Now})
			got := pullEvery(t, c, "")
			cases, quarantined, cur := got.cases, got.quarantine, got.cursor
			if !strings.Contains(cur, `"m":"window"`) {
				t.Fatalf("cursor %s is not a window cursor", cur)
			}
			sys.City.RLock()
			n := len(sys.City.CityCases)
			for i := range n {
				id := sys.City.SourceID(city.CityRequests, i)
				_, ok := cases[id]
				_, bad := quarantined[id]
				if ok == bad {
					t.Fatalf("request %s: stored %v, quarantined %v", id, ok, bad)
				}
			}
			sys.City.RUnlock()
			if len(cases)+len(quarantined) != n {
				t.Fatalf("%d cases + %d quarantined, the system has %d", len(cases), len(quarantined), n)
			}
			for id, cs := range cases {
				if cs.SourceStatus != "" || (cs.Status != canon.StatusAccepted && cs.Status != canon.StatusClosed) || len(cs.Timeline) != 0 {
					t.Fatalf("request %s without the extension: status %s (%q), %d history steps", id, cs.Status, cs.SourceStatus, len(cs.Timeline))
				}
			}
			// New requests appear after the cursor: live changes on the
			// simulator clock, then one more pass from the cursor.
			if _, err := sys.Step(context.Background(), 100); err != nil {
				t.Fatal(err)
			}
			more := pullEvery(t, c, cur).cases
			sys.City.RLock()
			added := sys.City.CityCases[n:]
			var missing []string
			for i := range added {
				id := sys.City.SourceID(city.CityRequests, n+i)
				if more[id] == nil {
					missing = append(missing, id)
				}
			}
			sys.City.RUnlock()
			if len(added) == 0 || len(missing) > 0 {
				t.Fatalf("%d requests created live, not read from the cursor: %v", len(added), missing)
			}
			t.Logf("%d requests read by windows (%d quarantined), %d created live read from the cursor", len(cases)+len(quarantined), len(quarantined), len(added))
		})
	}
}

// TestPagingDiscoveryPrefersTheExtension: an endpoint that honours
// updated_after is read by update time, with the workflow steps.
func TestPagingDiscoveryPrefersTheExtension(t *testing.T) {
	sys, layer := startSystems(t, 1)
	c := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Format: "auto",
		Layer: layer, Times: normalize.DefaultTimes(), Now: time.Now})
	b, err := c.Pull(context.Background(), connectors.Request{Stream: "requests"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.Next, `"u":`) || strings.Contains(b.Next, `"m":`) || len(b.Records) == 0 {
		t.Fatalf("cursor %s after %d records: not the updated_after extension", b.Next, len(b.Records))
	}
	if cs := b.Records[0].(*canon.Case); cs.SourceStatus == "" || len(cs.Timeline) == 0 {
		t.Fatalf("case %s has no workflow step or history", cs.SourceID)
	}
}

// TestUnknownAfterIDIsACursorRejection: an endpoint that no longer knows
// the request the cursor names (restored, renumbered) answers 400, which
// the connector reports as connectors.ErrCursorRejected; an unknown
// request id without a cursor is an ordinary error.
func TestUnknownAfterIDIsACursorRejection(t *testing.T) {
	sys, layer := startSystems(t, 1)
	c := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Format: "json", Paging: citymgmt.PagingExtension,
		Layer: layer, Times: normalize.DefaultTimes(), Now: time.Now})
	ctx := context.Background()
	b, err := c.Pull(ctx, connectors.Request{Stream: "requests", Limit: 100})
	if err != nil || b.Next == "" {
		t.Fatalf("first page: %v", err)
	}
	if _, err := c.Pull(ctx, connectors.Request{Stream: "requests", Cursor: b.Next}); err != nil {
		t.Fatalf("a known cursor is refused: %v", err)
	}
	gone := strings.Replace(b.Next, `"id":"`, `"id":"9`, 1)
	_, err = c.Pull(ctx, connectors.Request{Stream: "requests", Cursor: gone})
	if !errors.Is(err, connectors.ErrCursorRejected) || !strings.Contains(err.Error(), "after_id") {
		t.Fatalf("cursor %s naming no request: %v", gone, err)
	}
}
