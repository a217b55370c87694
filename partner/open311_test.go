package partner_test

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/governance"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/partner"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/syncer"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func referenceStore(t *testing.T, layer *places.Layer) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := dbtest.NewStore(t)
	if err := st.InTx(ctx, func(w *store.Writer) error {
		if err := w.UpsertRegions(ctx, layer.Regions()); err != nil {
			return err
		}
		return w.UpsertTaxonomy(ctx, normalize.Categories(), normalize.Mappings())
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// caseRow is what both hubs must agree on for a case.
type caseRow struct {
	Status, Tier, Grid, Category string
	Reported, Due                time.Time
	Steps                        int
}

func cases(t *testing.T, st *store.Store, where string) map[string]caseRow {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT `+where+`, c.status, c.tier, coalesce(g.code, ''),
			coalesce(c.category_code, ''), c.reported_at, coalesce(c.due_at, 'epoch'),
			jsonb_array_length(c.timeline)
		FROM "case" c LEFT JOIN region g ON g.id = c.grid_id`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]caseRow{}
	for rows.Next() {
		var k string
		var r caseRow
		if err := rows.Scan(&k, &r.Status, &r.Tier, &r.Grid, &r.Category, &r.Reported, &r.Due, &r.Steps); err != nil {
			t.Fatal(err)
		}
		r.Reported, r.Due = r.Reported.Truncate(time.Second).UTC(), r.Due.Truncate(time.Second).UTC()
		out[k] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The hub's own Open311 connector, pointed at another hub's outbound
// endpoint (XML, paging discovered, the extension), syncs every unified
// case of it — of
// the city-management and the grid-governance systems alike — completely:
// nothing quarantined, each case with its status, tier, grid, category,
// times and timeline; the plain spec path (JSON, date windows) loses none;
// and a staff key's endpoint serves its jurisdiction only.
func TestOpen311RoundTrip(t *testing.T) {
	ctx := context.Background()
	sys, layer := connectortest.StartSim(t, sim.Options{Seed: 1, LiveRate: -1, DataDir: t.TempDir()})
	keys, _ := pii.NewKeys([]byte("open311 round trip test key 32 b"))
	times := normalize.DefaultTimes()

	// Hub A syncs the source systems.
	a := referenceStore(t, layer)
	ea, err := syncer.New(a, []syncer.Source{
		{Connector: governance.New(governance.Config{Name: "governance", Endpoint: sys.GovURL, ClientID: sys.ClientID, ClientSecret: sys.ClientSecret,
			RateLimit: 100, Mapper: &governance.Mapper{Source: "governance", Keys: keys, Layer: layer, Times: times, Now: time.Now}}), Interval: time.Hour},
		{Connector: citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: sys.Open311URL + "/open311/v2", Format: "json",
			Datum: canon.GCJ02, RateLimit: 100, Layer: layer, Times: times}), Interval: time.Hour},
	}, syncer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ea.SyncOnce(ctx, "", false); err != nil {
		t.Fatal(err)
	}

	// A's outbound endpoint, for an administrator's key.
	var who *auth.Principal = &auth.Principal{ID: "key:1", Role: auth.Admin}
	out := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		partner.NewOpen311(a, nil).ServeHTTP(w, r.WithContext(auth.With(r.Context(), who)))
	}))
	defer out.Close()

	// Hub B syncs A.
	b := referenceStore(t, layer)
	eb, err := syncer.New(b, []syncer.Source{{Connector: citymgmt.New(citymgmt.Config{Name: "hub-a", Endpoint: out.URL + "/open311/v2",
		Format: "xml", Datum: canon.WGS84, Layer: layer, Times: times}), Interval: time.Hour}}, syncer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eb.SyncOnce(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	r := res["hub-a"]
	want := cases(t, a, "c.id::text")
	got := cases(t, b, "c.source_id")
	if r.Counts.Quarantined != 0 {
		rows, _ := b.Pool().Query(ctx, `SELECT reason, field, min(message), count(*) FROM quarantine GROUP BY 1, 2`)
		for rows.Next() {
			var reason, field, msg string
			var n int
			_ = rows.Scan(&reason, &field, &msg, &n)
			t.Logf("quarantined: %s %s ×%d (%s)", reason, field, n, msg)
		}
		rows.Close()
	}
	if r.Counts.Quarantined != 0 || r.Counts.Fetched != len(want) || len(got) != len(want) || len(want) < 1000 {
		t.Fatalf("B synced %+v; A has %d cases, B %d", r.Counts, len(want), len(got))
	}
	bad := 0
	for id, w := range want {
		if g := got[id]; g != w {
			if bad++; bad <= 5 {
				t.Errorf("case %s: A %+v, B %+v", id, w, g)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d cases differ", bad, len(want))
	}

	// The portable path too: JSON, start_date/end_date windows.
	c := referenceStore(t, layer)
	ec, err := syncer.New(c, []syncer.Source{{Connector: citymgmt.New(citymgmt.Config{Name: "hub-a", Endpoint: out.URL + "/open311/v2",
		Format: "json", Paging: citymgmt.PagingWindow, Datum: canon.WGS84, Layer: layer, Times: times}), Interval: time.Hour}}, syncer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec.SyncOnce(ctx, "", false); err != nil {
		t.Fatal(err)
	}
	// Without the extension a request carries no grid code: the few
	// without a position or a placeable address are quarantined, the rest
	// are stored, none is lost.
	var placed, unplaced, other int
	if err := c.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM "case"),
			(SELECT count(DISTINCT source_id) FROM quarantine WHERE reason = 'UNKNOWN_GRID'),
			(SELECT count(*) FROM quarantine WHERE reason <> 'UNKNOWN_GRID')`).Scan(&placed, &unplaced, &other); err != nil {
		t.Fatal(err)
	}
	if placed+unplaced != len(want) || other != 0 || unplaced > len(want)/100 {
		t.Fatalf("window paging: %d stored, %d unplaced, %d quarantined otherwise, of %d", placed, unplaced, other, len(want))
	}

	// A second pass finds nothing new.
	res, err = eb.SyncOnce(ctx, "", false)
	if c := res["hub-a"].Counts; err != nil || c.Unchanged != c.Fetched {
		t.Fatalf("second pass: %+v, %v", res["hub-a"], err)
	}

	// The spec's XML, windows and single requests; a staff key sees its
	// jurisdiction only.
	get := func(path string) (int, string) {
		resp, err := http.Get(out.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, body := get("/open311/v2/services.xml")
	var services struct {
		Services []partner.Service `xml:"service"`
	}
	if err := xml.Unmarshal([]byte(body), &services); code != 200 || err != nil || len(services.Services) < 20 {
		t.Fatalf("services.xml: %d %v %.200s", code, err, body)
	}
	var some string
	for id := range want {
		some = id
		break
	}
	if code, body := get("/open311/v2/requests/" + some + ".json"); code != 200 || !strings.Contains(body, `"service_request_id":"`+some+`"`) {
		t.Fatalf("requests/%s.json: %d %.300s", some, code, body)
	}
	if code, _ := get("/open311/v2/requests.json?status=pending"); code != 400 {
		t.Fatalf("a bad status answered %d", code)
	}
	if code, _ := get("/open311/v2/requests.json?updated_after=2020-01-01T00:00:00Z&after_id=999999999"); code != 400 {
		t.Fatalf("an unknown after_id answered %d", code)
	}
	var district string
	if err := a.Pool().QueryRow(ctx, `SELECT code FROM region WHERE level = 'DISTRICT' ORDER BY code LIMIT 1`).Scan(&district); err != nil {
		t.Fatal(err)
	}
	var inside int
	if err := a.Pool().QueryRow(ctx, `SELECT count(*) FROM "case" WHERE region_path <@ (SELECT path FROM region WHERE code = $1)
		AND reported_at >= '2000-01-01'`, district).Scan(&inside); err != nil {
		t.Fatal(err)
	}
	who = &auth.Principal{ID: "key:2", Role: auth.Staff, RegionCode: district}
	seen := 0
	for page := 1; ; page++ {
		code, body := get("/open311/v2/requests.xml?start_date=2000-01-01&page_size=500&page=" + strconv.Itoa(page))
		var list struct {
			Requests []partner.Request `xml:"request"`
		}
		if err := xml.Unmarshal([]byte(body), &list); code != 200 || err != nil {
			t.Fatalf("page %d: %d %v", page, code, err)
		}
		for _, q := range list.Requests {
			if _, ok := want[q.ServiceRequestID]; !ok {
				t.Fatalf("unknown request %s", q.ServiceRequestID)
			}
		}
		seen += len(list.Requests)
		if len(list.Requests) < 500 {
			break
		}
	}
	if seen != inside || inside == 0 || inside == len(want) {
		t.Fatalf("staff of %s saw %d requests; %d of %d cases lie there", district, seen, inside, len(want))
	}
}
