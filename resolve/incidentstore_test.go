package resolve_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// storeCase is a located case of source src reported at at, dx metres east
// of a fixed point.
func storeCase(src, id, cat, title string, at time.Time, dx float64) canon.Case {
	lat, lng := 31.95, 112.02+dx/(111_000*math.Cos(31.95*math.Pi/180))
	c := canon.Case{
		Provenance: canon.Provenance{Source: src, SourceID: id, SourceUpdatedAt: at, FetchedAt: at},
		Kind:       canon.KindEvent, CategoryCode: cat, Title: title, Description: title,
		Status: canon.StatusDispatched, Tier: canon.TierStreet, GridCode: "420606001001001",
		Location:   &canon.Location{Point: canon.Point{Lat: lat, Lng: lng}, Orig: canon.Point{Lat: lat, Lng: lng}, OrigDatum: canon.WGS84},
		ReportedAt: at, UpdatedAt: at,
	}
	sum := sha256.Sum256([]byte(src + id + title))
	c.PayloadHash = sum[:]
	return c
}

// TestRegroupIncidentsInStore groups cases of two sources in PostgreSQL:
// the twins become one incident, the look-alikes stay apart, the cases keep
// their own status, a second pass writes nothing, and a new report joins
// the incident under its ID.
func TestRegroupIncidentsInStore(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	if err := st.InTx(ctx, func(w *store.Writer) error {
		for _, s := range []canon.Source{{Name: "citymgmt", Kind: canon.SourceREST, Description: "数字城管"},
			{Name: "governance", Kind: canon.SourceREST, Description: "综治"}} {
			if err := w.UpsertSource(ctx, s); err != nil {
				return err
			}
		}
		return w.UpsertCategories(ctx, []canon.Category{{Code: "SJ01", Name: "市容环境", Kind: canon.KindEvent, Level: 1},
			{Code: "SJ0102", Name: "暴露垃圾", ParentCode: "SJ01", Kind: canon.KindEvent, Level: 2}})
	}); err != nil {
		t.Fatal(err)
	}
	t0 := storetest.Base
	gov := storeCase("governance", "1", "SJ01", "小区垃圾清运不及时，垃圾堆积", t0.Add(time.Hour), 40)
	gov.Status = canon.StatusResolved
	storetest.SeedCases(t, st, []canon.Case{
		storeCase("citymgmt", "c1", "SJ0102", "暴露垃圾 长虹路12号垃圾堆积", t0, 0),
		gov,
		storeCase("citymgmt", "c2", "SJ0102", "暴露垃圾 长虹路40号垃圾堆积", t0.Add(2*time.Hour), 220),   // the neighbouring building
		storeCase("citymgmt", "c3", "SJ0102", "暴露垃圾 长虹路12号垃圾堆积", t0.Add(30*24*time.Hour), 5), // a month later
	})
	w, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Created != 1 || w.CasesChanged != 2 || w.Read != 4 || w.Groups != 1 || !w.Latest.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("first pass %+v, want one incident of two cases", w)
	}
	inc := func() map[string]store.IncidentCase {
		rows, err := st.IncidentCases(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]store.IncidentCase{}
		for _, r := range rows {
			m[r.SourceID] = r
		}
		return m
	}
	got := inc()
	id := got["c1"].IncidentID
	if id == 0 || got["1"].IncidentID != id || got["c2"].IncidentID != 0 || got["c3"].IncidentID != 0 {
		t.Fatalf("incidents %+v", got)
	}
	cs, err := st.CasesByID(ctx, []int64{got["1"].ID})
	if err != nil || len(cs) != 1 || cs[0].Status != canon.StatusResolved {
		t.Fatalf("the governance case lost its own status: %+v %v", cs, err)
	}
	if w, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), time.Time{}); err != nil || w.IncidentWrite != (store.IncidentWrite{}) {
		t.Fatalf("second pass wrote %+v, %v; want nothing", w, err)
	}
	storetest.SeedCases(t, st, []canon.Case{storeCase("citymgmt", "h1", "SJ0102", "市民来电反映：长虹路12号垃圾堆积", t0.Add(26*time.Hour), 10)})
	if _, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	got = inc()
	if got["h1"].IncidentID != id || got["c1"].IncidentID != id {
		t.Fatalf("the new report did not join incident %d: %+v", id, got)
	}
	// A regrouping of recent reports only (as after an incremental pass)
	// leaves the links of older cases alone.
	if _, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), t0.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got = inc()
	if got["c1"].IncidentID != id || got["1"].IncidentID != id || got["h1"].IncidentID != id {
		t.Fatalf("a windowed regrouping changed older links: %+v", got)
	}
	// Review decisions hold across regroupings: a rejected pair is split,
	// an accepted one joined although its evidence is short.
	for _, d := range []store.MatchDecision{{Kind: store.MatchIncident, A: "governance/1", B: "citymgmt/c1", DecidedBy: "key:1"},
		{Kind: store.MatchIncident, A: "citymgmt/c1", B: "citymgmt/c2", Accept: true, DecidedBy: "key:1"}} {
		if _, err := st.RecordMatchDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), time.Time{}); err != nil {
			t.Fatal(err)
		}
		got = inc()
		if got["c1"].IncidentID == 0 || got["c1"].IncidentID != got["c2"].IncidentID || got["1"].IncidentID == got["c1"].IncidentID {
			t.Fatalf("decisions not kept: %+v", got)
		}
	}
	// A grouping that finds nothing unlinks every case and removes the
	// incident.
	strict := resolve.DefaultIncidentConfig()
	strict.Threshold = 1000
	if _, err := st.Pool().Exec(ctx, "DELETE FROM match_decision"); err != nil {
		t.Fatal(err)
	}
	if w, err := resolve.RegroupIncidents(ctx, st, strict, time.Time{}); err != nil || w.Removed == 0 || w.CasesChanged != 3 {
		t.Fatalf("empty regrouping wrote %+v, %v; want 3 cases unlinked and their incidents removed", w, err)
	}
}

// cityStore is a store with the regions, the city-management source and
// category SJ01.
func cityStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	if err := st.InTx(ctx, func(w *store.Writer) error {
		if err := w.UpsertSource(ctx, canon.Source{Name: "citymgmt", Kind: canon.SourceREST, Description: "数字城管"}); err != nil {
			return err
		}
		return w.UpsertCategories(ctx, []canon.Category{{Code: "SJ01", Name: "市容环境", Kind: canon.KindEvent, Level: 1}})
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestEmptyIncidentsAreRemoved: an incident whose cases their source
// deleted goes when it is left with one, and a regrouping of recent
// reports removes the incidents its own cases left.
func TestEmptyIncidentsAreRemoved(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := cityStore(t)
	t0 := storetest.Base
	later := t0.Add(20 * 24 * time.Hour)
	storetest.SeedCases(t, st, []canon.Case{
		storeCase("citymgmt", "a", "SJ01", "长虹路12号垃圾堆积", t0, 0),
		storeCase("citymgmt", "b", "SJ01", "长虹路12号垃圾堆积", t0.Add(time.Hour), 10),
		storeCase("citymgmt", "c", "SJ01", "长虹路12号垃圾堆积", later, 0),
		storeCase("citymgmt", "d", "SJ01", "长虹路12号垃圾堆积", later.Add(time.Hour), 10),
	})
	if w, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), time.Time{}); err != nil || w.Created != 2 {
		t.Fatalf("first regrouping: %+v, %v; want two incidents", w, err)
	}
	incidents := func() int {
		t.Helper()
		var n int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM incident`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	remove := func(id string) {
		t.Helper()
		if err := st.InTx(ctx, func(w *store.Writer) error {
			n, err := w.Delete(ctx, canon.RecordCase, "citymgmt", []string{id})
			if err == nil && n != 1 {
				err = fmt.Errorf("%d cases deleted", n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	remove("d")
	if n := incidents(); n != 1 {
		t.Fatalf("%d incidents after d was deleted, want 1: c alone is no incident", n)
	}
	var linked bool
	if err := st.Pool().QueryRow(ctx, `SELECT incident_id IS NOT NULL FROM "case" WHERE source_id = 'c'`).Scan(&linked); err != nil || linked {
		t.Fatalf("c still linked (%v) after d was deleted", err)
	}
	remove("c")
	if n := incidents(); n != 1 {
		t.Fatalf("%d incidents after c and d were deleted, want 1", n)
	}
	strict := resolve.DefaultIncidentConfig()
	strict.Threshold = 1000
	w, err := resolve.RegroupIncidents(ctx, st, strict, t0)
	if err != nil || w.Removed != 1 || w.CasesChanged != 2 {
		t.Fatalf("a regrouping of recent reports that groups nothing: %+v, %v; want a and b unlinked and their incident removed", w, err)
	}
	if n := incidents(); n != 0 {
		t.Fatalf("%d incidents left", n)
	}
}

// TestIncidentRegrouperFollowsTheQueue regroups after each change with the
// cases held between runs, reading only those written since: a new report
// joins its incident, a report moved away leaves it, a deleted report
// takes its incident with it, a late report older than what is held is
// regrouped from the store; an analyst's decision is applied from the
// reports it names. After each run a full regrouping of the store writes
// nothing: the held cases gave the same grouping.
func TestIncidentRegrouperFollowsTheQueue(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := cityStore(t)
	t0 := storetest.Base
	later := t0.Add(60 * 24 * time.Hour)
	storetest.SeedCases(t, st, []canon.Case{
		storeCase("citymgmt", "a", "SJ01", "长虹路12号垃圾堆积", t0, 0),
		storeCase("citymgmt", "b", "SJ01", "长虹路12号垃圾堆积", t0.Add(time.Hour), 10),
		storeCase("citymgmt", "c", "SJ01", "长虹路12号垃圾堆积", later, 0),
	})
	r := resolve.NewIncidentRegrouper(st, resolve.DefaultIncidentConfig())
	links := func() map[string]int64 {
		t.Helper()
		rows, err := st.IncidentCases(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for _, c := range rows {
			m[c.SourceID] = c.IncidentID
		}
		return m
	}
	runFrom := func(step string, at time.Time) resolve.Regrouped {
		t.Helper()
		res, err := r.RunFrom(ctx, at)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if w, err := resolve.RegroupIncidents(ctx, st, resolve.DefaultIncidentConfig(), time.Time{}); err != nil || w.IncidentWrite != (store.IncidentWrite{}) {
			t.Fatalf("%s: a full regrouping afterwards wrote %+v, %v; want nothing", step, w.IncidentWrite, err)
		}
		return res
	}
	run := func(step string) resolve.Regrouped {
		t.Helper()
		return runFrom(step, time.Time{})
	}
	if res := run("first run"); !res.Full || res.Created != 1 || res.Read != 3 {
		t.Fatalf("first run %+v, want every case read and one incident", res)
	}
	if res := run("nothing written"); res.Changed != 0 || res.Read != 0 || res.Full {
		t.Fatalf("a run with nothing written: %+v, want nothing read", res)
	}
	// A new report beside c: only the reports of its week are compared.
	storetest.SeedCases(t, st, []canon.Case{storeCase("citymgmt", "d", "SJ01", "长虹路12号垃圾堆积", later.Add(2*time.Hour), 5)})
	res := run("new report")
	got := links()
	if res.Changed != 1 || res.Read != 2 || res.Created != 1 || got["c"] == 0 || got["c"] != got["d"] {
		t.Fatalf("new report: %+v, links %v; want c and d compared and grouped", res, got)
	}
	// An analyst rejects c and d as one problem: the decision queues both
	// (no case was written), and regrouped from c's report they part;
	// accepted, they are one again.
	for _, accept := range []bool{false, true} {
		if _, err := st.RecordMatchDecision(ctx, store.MatchDecision{Kind: store.MatchIncident, A: "citymgmt/c", B: "citymgmt/d",
			Accept: accept, DecidedBy: "key:1"}); err != nil {
			t.Fatal(err)
		}
		res = runFrom("decision", later)
		got := links()
		together := got["c"] != 0 && got["c"] == got["d"]
		if res.Changed != 2 || together != accept {
			t.Fatalf("decision accept=%v: %+v, links %v", accept, res, got)
		}
	}
	if _, err := st.Pool().Exec(ctx, "DELETE FROM match_decision"); err != nil {
		t.Fatal(err)
	}
	// d is moved a kilometre away: it leaves, and c's incident goes.
	moved := storeCase("citymgmt", "d", "SJ01", "长虹路12号垃圾堆积", later.Add(2*time.Hour), 1000)
	moved.PayloadHash = append([]byte{1}, moved.PayloadHash...)
	storetest.SeedCases(t, st, []canon.Case{moved})
	res = run("moved report")
	if got := links(); res.Changed != 1 || res.Removed != 1 || got["c"] != 0 || got["d"] != 0 {
		t.Fatalf("moved report: %+v, links %v; want c's incident removed", res, got)
	}
	// A late report of the first week, long before what is held: that
	// part of the store is read again, and the report joins a and b.
	storetest.SeedCases(t, st, []canon.Case{storeCase("citymgmt", "e", "SJ01", "长虹路12号垃圾堆积", t0.Add(3*time.Hour), 5)})
	res = run("late report")
	if got := links(); res.Changed != 1 || got["e"] == 0 || got["e"] != got["a"] || got["a"] != got["b"] {
		t.Fatalf("late report: %+v, links %v; want e with a and b", res, got)
	}
	// Two more reports beside c make an incident of three; one of them is
	// deleted: the other two stay one incident, located as they are.
	storetest.SeedCases(t, st, []canon.Case{
		storeCase("citymgmt", "f", "SJ01", "长虹路12号垃圾堆积", later.Add(3*time.Hour), 5),
		storeCase("citymgmt", "g", "SJ01", "长虹路12号垃圾堆积", later.Add(4*time.Hour), 20),
	})
	if res := run("two more reports"); res.Changed != 2 || res.Created != 1 {
		t.Fatalf("two more reports: %+v, want one incident made", res)
	}
	if err := st.InTx(ctx, func(w *store.Writer) error {
		_, err := w.Delete(ctx, canon.RecordCase, "citymgmt", []string{"g"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res = run("deleted report")
	if got := links(); res.Changed != 1 || res.Updated != 1 || got["c"] == 0 || got["c"] != got["f"] {
		t.Fatalf("deleted report: %+v, links %v; want c and f kept together, their incident moved", res, got)
	}
	// b, e and c are deleted: a and f alone are unlinked and their
	// incidents go with the deletion.
	if err := st.InTx(ctx, func(w *store.Writer) error {
		_, err := w.Delete(ctx, canon.RecordCase, "citymgmt", []string{"b", "e", "c"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res = run("deleted reports")
	if got := links(); res.Changed != 3 || got["a"] != 0 || got["f"] != 0 {
		t.Fatalf("deleted reports: %+v, links %v; want a unlinked", res, got)
	}
	var n int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM incident`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d incidents left (%v), want none", n, err)
	}
}
