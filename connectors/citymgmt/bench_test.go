package citymgmt

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/sim"
)

// BenchmarkMapPage decodes and maps one full JSON page (the endpoint's cap
// of 1000 requests, extended attributes included) as the extension paging
// does, from the response body to the batch; ns/record is per request.
func BenchmarkMapPage(b *testing.B) {
	ctx := context.Background()
	sys, layer := connectortest.StartSim(b, sim.Options{Seed: 1, LiveRate: -1})
	c := New(Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Layer: layer, Times: normalize.DefaultTimes(), Now: time.Now})
	q := url.Values{"updated_after": {"1970-01-01T08:00:00+08:00"}, "extensions": {"true"}}
	resp, err := c.http.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.Endpoint+"/requests.json?"+q.Encode(), nil)
	})
	if err != nil {
		b.Fatal(err)
	}
	body := resp.Body
	raws, err := decode("json", body)
	if err != nil {
		b.Fatal(err)
	}
	n := len(raws)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		raws, err := decode("json", body)
		if err != nil {
			b.Fatal(err)
		}
		var batch connectors.Batch
		for _, rr := range raws {
			c.add(&batch, "requests", rr)
		}
		if batch.Fetched != n {
			b.Fatalf("mapped %d of %d requests", batch.Fetched, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
