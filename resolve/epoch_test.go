package resolve_test

import (
	"context"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// overtaken runs run while another writer of kind (a `hub sync` beside a
// server) holds an advance of the epoch uncommitted, and commits it once
// run waits for it: run read its queue before that writer committed, and
// writes after.
func overtaken[T any](t *testing.T, st *store.Store, kind store.ResolutionKind, run func() (T, error)) (T, error) {
	t.Helper()
	ctx := context.Background()
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE resolution_epoch SET epoch = epoch + 1 WHERE kind = $1`, string(kind)); err != nil {
		t.Fatal(err)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := run()
		done <- result{v, err}
	}()
	for deadline := time.Now().Add(20 * time.Second); ; {
		var waiting bool
		if err := st.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("the run ended without waiting for the other writer: %+v, %v", r.v, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never waited for the other writer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	return r.v, r.err
}

// TestPersonResolverStartsAgainAfterAnotherWriter: a person resolver's
// state is the store's only while it is the one resolving. After another
// resolver's write it resolves everything again, and a run whose write
// another writer overtook (it read its queue before that writer committed)
// writes nothing of its plan and resolves everything instead; the persons
// are then those a resolution from scratch gives.
func TestPersonResolverStartsAgainAfterAnotherWriter(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedHotlineZhang(t, st)
	cs := storetest.ZhangReports(2)
	storetest.SeedCases(t, st, cs)
	cfg := resolve.DefaultConfig()
	cfg.Trust = resolve.PersonTrust
	retime := func(c canon.Case, by time.Duration) canon.Case {
		c.UpdatedAt, c.SourceUpdatedAt = c.UpdatedAt.Add(by), c.SourceUpdatedAt.Add(by)
		c.PayloadHash = append([]byte{byte(by / time.Hour)}, c.PayloadHash...)
		return c
	}
	server := resolve.NewPersonResolver(st, cfg)
	if res, err := server.Run(ctx, nil); err != nil || !res.Full {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	storetest.SeedCases(t, st, []canon.Case{retime(cs[0], time.Hour)})
	// Another process resolves everything (hub sync) and takes the queue.
	if res, err := resolve.NewPersonResolver(st, cfg).Run(ctx, nil); err != nil || !res.Full || res.Changed != 1 {
		t.Fatalf("the other process's run: %+v, %v", res, err)
	}
	if res, err := server.Run(ctx, nil); err != nil || !res.Full {
		t.Fatalf("the server's run after another process resolved: %+v, %v; want everything resolved again", res, err)
	}
	if res, err := server.Run(ctx, nil); err != nil || res.Full || res.Changed != 0 {
		t.Fatalf("the server's next run: %+v, %v; want nothing to do", res, err)
	}

	storetest.SeedCases(t, st, []canon.Case{retime(cs[1], 2*time.Hour)})
	res, err := overtaken(t, st, store.PersonResolutionKind, func() (resolve.PersonsResolved, error) { return server.Run(ctx, nil) })
	if err != nil || !res.Full || res.Changed != 1 {
		t.Fatalf("a run whose write was overtaken: %+v, %v; want everything resolved again", res, err)
	}
	if q, err := st.PersonResolveQueue(ctx); err != nil || len(q.Keys) != 0 {
		t.Fatalf("queue after the run: %+v, %v", q, err)
	}
	if res, err := server.Run(ctx, nil); err != nil || res.Full || res.Changed != 0 {
		t.Fatalf("the server's run after: %+v, %v; want nothing to do", res, err)
	}
	scratch, err := resolve.ResolvePersons(ctx, st, nil, cfg)
	if err != nil || scratch.PersonsApplied != (store.PersonsApplied{}) {
		t.Fatalf("a resolution from scratch afterwards wrote %+v, %v; want nothing", scratch.PersonsApplied, err)
	}
}

// TestIncidentRegrouperStartsAgainAfterAnotherWriter is
// TestPersonResolverStartsAgainAfterAnotherWriter for incidents.
func TestIncidentRegrouperStartsAgainAfterAnotherWriter(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := cityStore(t)
	t0 := storetest.Base
	storetest.SeedCases(t, st, []canon.Case{
		storeCase("citymgmt", "a", "SJ01", "长虹路12号垃圾堆积", t0, 0),
		storeCase("citymgmt", "b", "SJ01", "长虹路12号垃圾堆积", t0.Add(time.Hour), 10),
	})
	cfg := resolve.DefaultIncidentConfig()
	server := resolve.NewIncidentRegrouper(st, cfg)
	if res, err := server.Run(ctx); err != nil || !res.Full || res.Created != 1 {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	storetest.SeedCases(t, st, []canon.Case{storeCase("citymgmt", "c", "SJ01", "长虹路12号垃圾堆积", t0.Add(2*time.Hour), 5)})
	if res, err := resolve.NewIncidentRegrouper(st, cfg).Run(ctx); err != nil || !res.Full || res.Changed != 1 {
		t.Fatalf("the other process's run: %+v, %v", res, err)
	}
	if res, err := server.Run(ctx); err != nil || !res.Full {
		t.Fatalf("the server's run after another process regrouped: %+v, %v; want everything regrouped again", res, err)
	}
	if res, err := server.Run(ctx); err != nil || res.Full || res.Changed != 0 {
		t.Fatalf("the server's next run: %+v, %v; want nothing to do", res, err)
	}

	storetest.SeedCases(t, st, []canon.Case{storeCase("citymgmt", "d", "SJ01", "长虹路12号垃圾堆积", t0.Add(3*time.Hour), 8)})
	res, err := overtaken(t, st, store.IncidentResolutionKind, func() (resolve.Regrouped, error) { return server.Run(ctx) })
	if err != nil || !res.Full || res.Groups != 1 || res.Read != 4 {
		t.Fatalf("a run whose write was overtaken: %+v, %v; want every case regrouped into one incident", res, err)
	}
	if res, err := server.Run(ctx); err != nil || res.Full || res.Changed != 0 {
		t.Fatalf("the server's run after: %+v, %v; want nothing to do", res, err)
	}
	scratch, err := resolve.RegroupIncidents(ctx, st, cfg, time.Time{})
	if err != nil || scratch.IncidentWrite != (store.IncidentWrite{}) {
		t.Fatalf("a regrouping from scratch afterwards wrote %+v, %v; want nothing", scratch.IncidentWrite, err)
	}
}
