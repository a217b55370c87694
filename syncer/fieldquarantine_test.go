package syncer_test

import (
	"context"
	"testing"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestFieldDefectsKeepTheRecord: a record with a refused optional value is
// stored without it, the value is kept as a field-level quarantine entry
// (record_stored) with its reason, counted apart from fetched = stored +
// quarantined, and a re-pull keeps one entry per record, field and value.
func TestFieldDefectsKeepTheRecord(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	src := &listSource{name: "citymgmt"}
	cs := casesFor("citymgmt", 10, 0)
	cs[3].c.Location = nil
	cs[3].c.FieldDefects = []canon.FieldDefect{{Field: "lat/long", Reason: "BAD_COORDINATES", Message: "no usable position (0, 0)", Raw: []byte("0,0")}}
	cs[7].c.FieldDefects = []canon.FieldDefect{
		{Field: "reporterMobile", Reason: "BAD_PHONE", Message: "letters", Raw: []byte("sealed-1"), Sealed: true, Key: []byte("k1")},
		{Field: "lat/long", Reason: "OUT_OF_CHINA", Message: "outside", Raw: []byte("48.8,2.3")},
	}
	src.add(cs...)
	src.add(change{bad: "BAD1"})
	e := newEngine(t, st, 100, src)

	res, err := e.SyncOnce(ctx, "citymgmt", false)
	if err != nil {
		t.Fatal(err)
	}
	c := res["citymgmt"].Counts
	if c.Fetched != 11 || c.Stored != 10 || c.Quarantined != 1 || c.FieldDefects != 3 || c.RecordsWithFieldDefects != 2 {
		t.Fatalf("pass = %+v", c)
	}
	if n := scalar(t, st, `SELECT count(*) FROM "case"`); n != 10 {
		t.Fatalf("%d cases stored, want all 10", n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM quarantine WHERE record_stored AND source_id = $1 AND field = 'lat/long' AND reason = 'BAD_COORDINATES'`, cs[3].c.SourceID); n != 1 {
		t.Fatalf("%d field entries of %s", n, cs[3].c.SourceID)
	}
	if n := scalar(t, st, `SELECT count(*) FROM quarantine WHERE record_stored`); n != 3 {
		t.Fatalf("%d field-level entries", n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM quarantine WHERE NOT record_stored`); n != 1 {
		t.Fatalf("%d record entries", n)
	}
	if n := scalar(t, st, `SELECT count(*) FROM sync_run WHERE field_defects = 3 AND records_with_field_defects = 2`); n != 1 {
		t.Fatal("the run does not count its field defects")
	}
	checkLedger(t, st)

	// A full re-pull sees the same values again: kept once.
	if _, err := e.SyncOnce(ctx, "citymgmt", true); err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, st, `SELECT count(*) FROM quarantine WHERE record_stored`); n != 3 {
		t.Fatalf("%d field-level entries after a re-pull", n)
	}
	if n := scalar(t, st, `SELECT field_defects FROM source WHERE name = 'citymgmt'`); n != 6 {
		t.Fatalf("source counts %d field defects over two passes", n)
	}
	checkLedger(t, st)

	// The quarantine view shows them, marked as stored.
	first := 10
	page, err := st.QuarantineEntries(store.Unscoped(ctx), store.QuarantineQuery{Source: "citymgmt", Page: store.PageArgs{First: &first}})
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, q := range page.Edges {
		if q.Node.RecordStored {
			stored++
		}
	}
	if stored != 3 {
		t.Fatalf("quarantine view: %d field-level entries of %d", stored, len(page.Edges))
	}
}
