package citymgmt_test

import (
	"context"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/sim/open311"
)

func TestPullsEveryRequestOnce(t *testing.T) {
	sys, err := sim.Start(context.Background(), sim.Options{Seed: 1, DataDir: t.TempDir(), LiveRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	layer, err := places.Load(sys.LayerPath)
	if err != nil {
		t.Fatal(err)
	}
	c := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Layer: layer,
		Times: normalize.DefaultTimes(), Now: time.Now})
	seen := map[string]bool{}
	cur := ""
	total, stored := 0, 0
	reasons := map[connectors.Reason]int{}
	inGrid := 0
	for {
		b, err := c.Pull(context.Background(), connectors.Request{Stream: "requests", Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Records)+len(b.Quarantine) != b.Fetched {
			t.Fatalf("fetched %d, accounted %d", b.Fetched, len(b.Records)+len(b.Quarantine))
		}
		for _, r := range b.Records {
			cs := r.(*canon.Case)
			// The system delivers some requests twice (a real defect the
			// store absorbs: same key, same payload, stored once).
			seen[cs.SourceID] = true
			if g, ok := layer.GridAt(cs.Location.Point); ok && g == cs.GridCode {
				inGrid++
			}
		}
		for _, q := range b.Quarantine {
			reasons[q.Reason]++
		}
		total += b.Fetched
		stored += len(b.Records)
		cur = b.Next
		if !b.More {
			break
		}
	}
	if want := len(sys.City.CityCases); total < want || len(seen) > want {
		t.Fatalf("fetched %d requests (%d distinct stored), the system has %d", total, len(seen), want)
	}
	if float64(inGrid) < 0.9*float64(stored) {
		t.Fatalf("%d of %d requests lie in their grid after GCJ-02 conversion", inGrid, stored)
	}
	t.Logf("requests: %d fetched, %d stored, quarantined by reason %v", total, stored, reasons)
	b, err := c.Pull(context.Background(), connectors.Request{Stream: "requests", Cursor: cur})
	if err != nil || b.Fetched != 0 {
		t.Fatalf("after the end: %d fetched, %v", b.Fetched, err)
	}
}

// TestJSONAndXMLGiveTheSameCases pulls the same endpoint in both formats:
// the canonical cases are identical but for the payload hash of the bytes.
func TestJSONAndXMLGiveTheSameCases(t *testing.T) {
	sys, err := sim.Start(context.Background(), sim.Options{Seed: 2, DataDir: t.TempDir(), LiveRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	layer, err := places.Load(sys.LayerPath)
	if err != nil {
		t.Fatal(err)
	}
	fetched := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fetchAll := func(format string) (map[string]canon.Case, map[string]connectors.Reason) {
		c := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Format: format, Layer: layer,
			Times: normalize.DefaultTimes(), Now: func() time.Time { return fetched }})
		cases, quarantined := map[string]canon.Case{}, map[string]connectors.Reason{}
		cur := ""
		for {
			b, err := c.Pull(context.Background(), connectors.Request{Stream: "requests", Cursor: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range b.Records {
				cs := *r.(*canon.Case)
				cs.PayloadHash = nil
				cases[cs.SourceID] = cs
			}
			for _, q := range b.Quarantine {
				quarantined[q.SourceID] = q.Reason
			}
			cur = b.Next
			if !b.More {
				return cases, quarantined
			}
		}
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

// pullEvery walks the stream from cur until the connector reports no more,
// and returns the cases by id, the quarantine by id and the last cursor.
func pullEvery(t *testing.T, c *citymgmt.Connector, cur string) (map[string]*canon.Case, map[string]connectors.Quarantine, string) {
	t.Helper()
	cases, quarantined := map[string]*canon.Case{}, map[string]connectors.Quarantine{}
	for range 10000 {
		b, err := c.Pull(context.Background(), connectors.Request{Stream: "requests", Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Records)+len(b.Quarantine) != b.Fetched {
			t.Fatalf("fetched %d, accounted %d", b.Fetched, len(b.Records)+len(b.Quarantine))
		}
		for _, r := range b.Records {
			cs := r.(*canon.Case)
			cases[cs.SourceID] = cs
		}
		for _, q := range b.Quarantine {
			quarantined[q.SourceID] = q
		}
		cur = b.Next
		if !b.More {
			return cases, quarantined, cur
		}
	}
	t.Fatal("the stream never ended")
	return nil, nil, ""
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
			sys, err := sim.Start(context.Background(), sim.Options{Seed: 3, DataDir: t.TempDir(), LiveRate: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer sys.Close()
			layer, err := places.Load(sys.LayerPath)
			if err != nil {
				t.Fatal(err)
			}
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
			cases, quarantined, cur := pullEvery(t, c, "")
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
			more, _, _ := pullEvery(t, c, cur)
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
	sys, err := sim.Start(context.Background(), sim.Options{Seed: 1, DataDir: t.TempDir(), LiveRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	layer, err := places.Load(sys.LayerPath)
	if err != nil {
		t.Fatal(err)
	}
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
