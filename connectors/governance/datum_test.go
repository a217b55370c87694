package governance

import (
	"math"
	"testing"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
)

// TestDatumSettingIsHonoured: the events' positions are read in the datum
// the source's settings name — BD-09 by default (converted to WGS-84,
// hundreds of metres away), as published when the setting says WGS84.
func TestDatumSettingIsHonoured(t *testing.T) {
	m, bodies := testMapper(t)
	_, p, err := decodeInTurn("events", bodies["events"][0])
	if err != nil || p == nil {
		t.Fatalf("events page: %v", err)
	}
	located := func(m *Mapper) map[string]canon.Location {
		var b connectors.Batch
		m.mapPage("events", p, nil, &b)
		out := map[string]canon.Location{}
		for _, r := range b.Records {
			if c, ok := r.(*canon.Case); ok && c.Location != nil {
				out[c.SourceID] = *c.Location
			}
		}
		return out
	}
	bd := located(m)
	w := *m
	w.Datum = canon.WGS84
	wgs := located(&w)
	if len(bd) < 10 || len(wgs) != len(bd) {
		t.Fatalf("%d located events by default, %d with WGS84", len(bd), len(wgs))
	}
	for id, l := range wgs {
		b := bd[id]
		if l.OrigDatum != canon.WGS84 || b.OrigDatum != canon.BD09 || l.Point != l.Orig || l.Orig != b.Orig {
			t.Fatalf("event %s: WGS84 %+v, default %+v", id, l, b)
		}
		if d := math.Hypot(l.Lat-b.Lat, l.Lng-b.Lng); d < 1e-3 {
			t.Fatalf("event %s: the BD-09 reading was not converted (%g° apart)", id, d)
		}
	}
}
