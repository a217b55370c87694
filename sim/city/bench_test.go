package city_test

import (
	"io"
	"testing"

	"github.com/ywtg/hub/sim/city"
)

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func benchGenerate(b *testing.B, scale city.Scale) {
	cfg := city.DefaultConfig()
	cfg.Scale = scale
	b.ReportAllocs()
	var c *city.City
	for b.Loop() {
		var err error
		if c, err = city.Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var layer, truth countWriter
	if err := c.WriteGeoJSON(&layer); err != nil {
		b.Fatal(err)
	}
	if err := c.WriteTruth(&truth); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(c.GovEvents)+len(c.CityCases)), "cases")
	b.ReportMetric(float64(len(c.People)), "residents")
	b.ReportMetric(float64(layer.n)/1e6, "layer-MB")
	b.ReportMetric(float64(truth.n)/1e6, "truth-MB")
}

// BenchmarkGenerate measures generation at the small and medium scales.
func BenchmarkGenerate(b *testing.B) {
	for _, s := range []city.Scale{city.Small, city.Medium} {
		b.Run(string(s), func(b *testing.B) { benchGenerate(b, s) })
	}
}

// BenchmarkGenerateCity measures the city scale (≥1M cases); it runs only
// when selected: go test -run '^$' -bench GenerateCity ./sim/city.
func BenchmarkGenerateCity(b *testing.B) { benchGenerate(b, city.Large) }

var _ io.Writer = (*countWriter)(nil)
