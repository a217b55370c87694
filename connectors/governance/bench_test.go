package governance

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
)

// simPages starts the small simulated city and returns a mapper over its
// layer and, per stream, the response bodies of its first pages of size
// records, as the platform sends them.
func simPages(tb testing.TB, size, pages int) (*Mapper, map[string][][]byte) {
	tb.Helper()
	ctx := context.Background()
	sys, layer := connectortest.StartSim(tb, sim.Options{Seed: 1, LiveRate: -1})
	keys, err := pii.NewKeys([]byte("governance test key of 32 bytes!"))
	if err != nil {
		tb.Fatal(err)
	}
	m := &Mapper{Source: "governance", Keys: keys, Layer: layer, Times: normalize.DefaultTimes(), Now: time.Now}
	c := New(Config{Name: "governance", Endpoint: sys.GovURL, ClientID: sys.ClientID, ClientSecret: sys.ClientSecret, Mapper: m})
	tok, err := c.client.getToken(ctx, false)
	if err != nil {
		tb.Fatal(err)
	}
	bodies := map[string][][]byte{}
	for _, stream := range streams {
		for n := 1; n <= pages; n++ {
			q := url.Values{"pageSize": {strconv.Itoa(size)}, "pageNum": {strconv.Itoa(n)}}
			resp, err := c.client.http.Do(ctx, func(ctx context.Context) (*http.Request, error) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.client.base+"/api/v1/"+stream+"?"+q.Encode(), nil)
				if err == nil {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				return req, err
			})
			if err != nil {
				tb.Fatal(err)
			}
			bodies[stream] = append(bodies[stream], resp.Body)
		}
	}
	return m, bodies
}

// BenchmarkMapPage decodes and maps one full page (500 records) of each
// stream as Pull does, from the response body to the batch; ns/record,
// B/record and allocs/record are per source record.
func BenchmarkMapPage(b *testing.B) {
	m, bodies := simPages(b, 500, 1)
	for _, stream := range streams {
		body := bodies[stream][0]
		b.Run(stream, func(b *testing.B) {
			_, p, err := decodeList(stream, body)
			if err != nil {
				b.Fatal(err)
			}
			n := len(p.Records)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_, p, err := decodeList(stream, body)
				if err != nil {
					b.Fatal(err)
				}
				var batch connectors.Batch
				m.mapPage(stream, p, nil, &batch)
				if batch.Fetched != n {
					b.Fatalf("mapped %d of %d records", batch.Fetched, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
