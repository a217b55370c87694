package syncer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/app/demo"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/syncer"
)

// houseNumeral is a Chinese numeral left in the house part of an address.
var houseNumeral = regexp.MustCompile(`[〇零一二三四五六七八九十百千两]+(栋|幢|单元|号楼|号|室|层|楼)`)

// TestDemoSourcesSyncIntoTheStore syncs the four demo sources — party
// database, governance API, Open311 and the CSV export — as demo mode
// configures them (app/demo), into PostgreSQL, and checks what the store holds:
// every governance case lies inside its own grid's reference boundary
// (WGS-84, after the BD-09 conversion), every case keeps its source's own
// category code, the quarantine holds exactly the records the ground truth
// marks for quarantine, under several distinct reasons, repaired cases are
// stored with the repaired values, and every source's ledger balances.
func TestDemoSourcesSyncIntoTheStore(t *testing.T) {
	ctx := context.Background()
	partyDSN := dbtest.EmptyDB(t)
	sys, layer := startSystems(t, sim.Options{Seed: 1, PartyDSN: partyDSN})
	st := referenceStore(t, layer)
	keys, _ := pii.NewKeys([]byte("demo sources sync test key 32 by"))
	set, err := demo.Sources(sys, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conns, closeConnectors, err := connectors.NewAll(ctx, set, connectors.Deps{Keys: keys, Layer: layer, Times: normalize.DefaultTimes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeConnectors)
	var sources []syncer.Source
	for i, c := range conns {
		sources = append(sources, syncer.Source{Connector: c, Interval: time.Duration(set.Sources[i].Interval)})
	}
	e, err := syncer.New(st, sources, syncer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.SyncOnce(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range res {
		if r.Status != store.SourceOK || r.Counts.Fetched == 0 {
			t.Fatalf("source %s after the first pass: %+v", name, r)
		}
	}
	list, err := st.Sources(store.Unscoped(ctx))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.RecordsFetched != s.RecordsStored+s.RecordsQuarantined {
			t.Errorf("source %s: fetched %d ≠ stored %d + quarantined %d", s.Name, s.RecordsFetched, s.RecordsStored, s.RecordsQuarantined)
		}
	}

	// Governance cases inside their own grid.
	rows, err := st.Pool().Query(ctx, `SELECT c.source_id, c.lat, c.lng, g.code FROM "case" c JOIN region g ON g.id = c.grid_id WHERE c.source = 'governance'`)
	if err != nil {
		t.Fatal(err)
	}
	govCases, outside := 0, 0
	for rows.Next() {
		var id, grid string
		var lat, lng float64
		if err := rows.Scan(&id, &lat, &lng, &grid); err != nil {
			t.Fatal(err)
		}
		govCases++
		if g, ok := layer.GridAt(canon.Point{Lat: lat, Lng: lng}); !ok || g != grid {
			outside++
			if outside <= 5 {
				t.Errorf("governance case %s at %.6f,%.6f lies in grid %q, not in its own %s", id, lat, lng, g, grid)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if govCases < 1000 || outside > 0 {
		t.Fatalf("%d of %d governance cases outside their grid", outside, govCases)
	}
	if n := scalar(t, st, `SELECT count(*) FROM "case" WHERE grid_id IS NULL`); n > 0 {
		t.Errorf("%d cases without a grid", n)
	}

	// Every case keeps its source's own code, mapped onto the taxonomy.
	if n := scalar(t, st, `SELECT count(*) FROM "case" WHERE source_category_code = '' OR category_code IS NULL`); n > 0 {
		t.Errorf("%d cases lost their source code or category", n)
	}
	for _, src := range []string{"governance", "citymgmt"} {
		if n := scalar(t, st, `SELECT count(*) FROM "case" WHERE source = $1 AND source_status <> ''`, src); n == 0 {
			t.Errorf("no case of %s keeps its source status", src)
		}
	}
	// The export fills in the Open311 source's history: each case once,
	// as Open311 delivered it where it did.
	if n := scalar(t, st, `SELECT count(*) FROM "case" WHERE source = 'citymgmt-archive'`); n != 0 {
		t.Errorf("%d cases stored under the export's own name; it backfills citymgmt", n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM sync_run WHERE source = 'citymgmt-archive' AND fetched > 0`); n == 0 {
		t.Error("the export was not read")
	}

	// The quarantine holds what the ground truth marks, no more, no less.
	raw, err := os.ReadFile(sys.TruthPath)
	if err != nil {
		t.Fatal(err)
	}
	var truth city.Truth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	sourceOf := map[string]string{"party": "party", "gov": "governance", "city": "citymgmt"}
	for _, d := range truth.Defects {
		if d.Action == "QUARANTINE" {
			want[sourceOf[d.System]]++
		}
	}
	for src, n := range want {
		// A record kept without a refused optional value (its position
		// beside an address) is there as a field-level entry.
		if got := scalar(t, st, `SELECT count(DISTINCT (stream, source_id)) FROM quarantine WHERE source = $1`, src); got != n {
			t.Errorf("source %s: %d records quarantined, the ground truth marks %d", src, got, n)
		}
	}
	reasons := scalar(t, st, `SELECT count(DISTINCT reason) FROM quarantine`)
	if reasons < 5 {
		t.Errorf("quarantine shows %d distinct reasons", reasons)
	}
	q, err := st.Pool().Query(ctx, `SELECT source, reason || CASE WHEN record_stored THEN ' (field ' || field || ')' ELSE '' END, count(*)
		FROM quarantine GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var src, reason string
		var n int
		if err := q.Scan(&src, &reason, &n); err != nil {
			t.Fatal(err)
		}
		t.Logf("quarantine %-17s %-16s %d", src, reason, n)
	}
	if err := q.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d governance cases, all in their grid; %d distinct quarantine reasons", govCases, reasons)

	// Repaired cases are stored with the repaired values.
	checked := 0
	for _, d := range truth.Defects {
		if d.Action != "REPAIR" || (d.Entity != "events" && d.Entity != "requests") {
			continue
		}
		src := sourceOf[d.System]
		var lat, lng float64
		var reported time.Time
		var desc, addr string
		var n int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) OVER (), lat, lng, reported_at, description, address FROM "case" WHERE source = $1 AND source_id = $2`,
			src, d.ID).Scan(&n, &lat, &lng, &reported, &desc, &addr); err != nil {
			t.Errorf("%s %s (%s): not stored: %v", src, d.ID, d.Kind, err)
			continue
		}
		sys.City.RLock()
		var truthCase city.Case
		if d.Entity == "events" {
			var i int
			fmt.Sscan(d.ID, &i)
			truthCase = sys.City.GovEvents[i-1]
		} else {
			truthCase = sys.City.CityCases[sys.City.CityIndex(d.ID)]
		}
		sys.City.RUnlock()
		var bad string
		switch d.Kind {
		case "coord_swapped":
			if dlat, dlng := math.Abs(lat-truthCase.Lat), math.Abs(lng-truthCase.Lng); dlat > 1e-5 || dlng > 1e-5 {
				bad = fmt.Sprintf("stored at %.6f,%.6f, truly %.6f,%.6f", lat, lng, truthCase.Lat, truthCase.Lng)
			}
		case "time_no_zone", "time_epoch_ms":
			if reported.Unix() != truthCase.Reported {
				bad = fmt.Sprintf("reported %s, truly %s", reported, time.Unix(truthCase.Reported, 0))
			}
		case "html":
			if strings.ContainsAny(desc, "<>") {
				bad = fmt.Sprintf("markup stored: %.60q", desc)
			}
		case "full_width", "chinese_numeral":
			// The address is stored as reported; its standardised line
			// (the address service's) has the repairs.
			if line := address.Parse(addr).Normalized; strings.ContainsAny(line, "０１２３４５６７８９") || houseNumeral.MatchString(line) {
				bad = fmt.Sprintf("address %q standardised as %q", addr, line)
			}
		case "duplicate":
			if n != 1 {
				bad = fmt.Sprintf("%d rows", n)
			}
		default:
			continue
		}
		checked++
		if bad != "" {
			t.Errorf("%s %s %s (%s): %s", src, d.ID, d.Kind, d.Field, bad)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d repaired cases checked in the store", checked)
	}
	t.Logf("%d repaired cases checked in the store", checked)
}
