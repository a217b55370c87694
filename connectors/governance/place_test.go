package governance_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/governance"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store/storetest"
)

// An event whose grid code the reference layer lacks and whose position
// lies in no grid is placed by its address when that names a compound the
// hub knows; otherwise it is quarantined as UNKNOWN_GRID.
func TestEventsArePlacedByAddressAsTheLastResort(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st) // 幸福小区 building 3 in 420606001001001, 新华苑 building 1 in 420606001002001
	raw, err := places.MarshalRegions(storetest.Regions())
	if err != nil {
		t.Fatal(err)
	}
	layer, err := places.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	dir := address.NewDirectory(st, time.Minute, nil)
	if _, err := dir.Gazetteer(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := pii.NewKeys([]byte("governance test key of 32 bytes!"))
	m := &governance.Mapper{Source: "governance", Keys: keys, Layer: layer, Addresses: dir, Times: normalize.DefaultTimes(), Now: time.Now}

	// BD-09 of a point in 第一网格 of 长虹社区, and one in China outside the layer.
	const inGridLat, inGridLng = 31.9562, 112.0363
	const outLat, outLng = 30.6, 114.3
	event := func(id int, grid string, lat, lng float64, addr string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"id": id, "eventNo": "E1", "eventType": "01", "eventSubType": "0101", "title": "邻里纠纷",
			"content": "楼上漏水", "gridCode": grid, "address": addr, "lat": lat, "lng": lng, "status": 10, "level": 1,
			"reportTime": "2026-11-01 09:00:00", "updateTime": "2026-11-01 09:00:00"})
		return b
	}
	for _, tc := range []struct {
		name   string
		raw    json.RawMessage
		grid   string
		reason connectors.Reason
	}{
		{"grid code known", event(1, "420606001002002", outLat, outLng, "幸福小区3栋"), "420606001002002", ""},
		{"grid code unknown, position in a grid", event(2, "999", inGridLat, inGridLng, "新华苑1栋"), "420606001001001", ""},
		{"building of a known compound", event(3, "", outLat, outLng, "樊城区长虹社区幸福小区三栋2单元301"), "420606001001001", ""},
		{"known compound, unknown building", event(4, "999", outLat, outLng, "新华苑8栋"), "420606001002001", ""},
		{"unknown compound", event(5, "", outLat, outLng, "铁路新村1栋"), "", connectors.Reason(normalize.UnknownGrid)},
		{"no address", event(6, "", outLat, outLng, ""), "", connectors.Reason(normalize.UnknownGrid)},
	} {
		var b connectors.Batch
		m.Map("events", tc.raw, &b)
		switch {
		case tc.grid != "":
			if len(b.Records) != 1 {
				t.Errorf("%s: quarantined %+v, want grid %s", tc.name, b.Quarantine, tc.grid)
			} else if got := b.Records[0].(*canon.Case).GridCode; got != tc.grid {
				t.Errorf("%s: grid %s, want %s", tc.name, got, tc.grid)
			}
		case len(b.Quarantine) != 1 || b.Quarantine[0].Reason != tc.reason || b.Quarantine[0].Field != "gridCode":
			t.Errorf("%s: records %d, quarantine %+v, want %s on gridCode", tc.name, len(b.Records), b.Quarantine, tc.reason)
		}
	}
}
