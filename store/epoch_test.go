package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestStaleQueuesAreNotTaken: taking a queue advances its kind's epoch
// from the one read with it (when it took or wrote anything); a second
// take of a queue read before the first fails with ErrStaleResolution and
// rolls back, leaving the entries it named queued; the two kinds keep
// epochs of their own.
func TestStaleQueuesAreNotTaken(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	// As resolvers holding their state have it: changes are queued, each
	// kind at epoch 1.
	for _, kind := range []store.ResolutionKind{store.PersonResolutionKind, store.IncidentResolutionKind} {
		if _, err := st.BeginResolution(ctx, kind); err != nil {
			t.Fatal(err)
		}
	}
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(2))

	persons := func() store.PersonQueue {
		t.Helper()
		q, err := st.PersonResolveQueue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	incidents := func() store.IncidentQueue {
		t.Helper()
		q, err := st.IncidentRegroupQueue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	takePersons := func(q store.PersonQueue) error {
		return st.InDerivedTx(ctx, func(w *store.Writer) error { _, err := w.TakePersonQueue(ctx, q, false); return err })
	}
	takeIncidents := func(q store.IncidentQueue) error {
		return st.InDerivedTx(ctx, func(w *store.Writer) error { _, err := w.TakeIncidentQueue(ctx, q, false); return err })
	}

	p1, p2 := persons(), persons()
	if len(p1.Keys) == 0 || p1.Epoch != p2.Epoch {
		t.Fatalf("person queue read twice: %d keys, epochs %d and %d", len(p1.Keys), p1.Epoch, p2.Epoch)
	}
	if err := takePersons(p1); err != nil {
		t.Fatal(err)
	}
	// The second reader's entries: queued again after the first's take.
	if _, err := st.Pool().Exec(ctx, `INSERT INTO person_resolve_queue (record_key) VALUES ('governance/REPORTER/late')`); err != nil {
		t.Fatal(err)
	}
	p3 := persons()
	if p3.Epoch != p1.Epoch+1 || len(p3.Keys) != 1 {
		t.Fatalf("after a take: epoch %d (read at %d), keys %v", p3.Epoch, p1.Epoch, p3.Keys)
	}
	p2.Keys, p2.Seqs = append(p2.Keys, p3.Keys...), append(p2.Seqs, p3.Seqs...)
	if err := takePersons(p2); !errors.Is(err, store.ErrStaleResolution) {
		t.Fatalf("a take of a queue read before another take: %v, want ErrStaleResolution", err)
	}
	if q := persons(); q.Epoch != p3.Epoch || len(q.Keys) != 1 {
		t.Fatalf("a stale take changed the queue: epoch %d, keys %v", q.Epoch, q.Keys)
	}

	// Incidents: their own epoch, untouched by the persons' takes.
	i1, i1b := incidents(), incidents()
	if len(i1.Seqs) == 0 || i1.Epoch != 1 {
		t.Fatalf("incident queue: %d entries at epoch %d", len(i1.Seqs), i1.Epoch)
	}
	if err := takeIncidents(i1); err != nil {
		t.Fatal(err)
	}
	if err := takeIncidents(i1b); !errors.Is(err, store.ErrStaleResolution) {
		t.Fatalf("a take of an incident queue read before another take: %v, want ErrStaleResolution", err)
	}
	i2 := incidents()
	if len(i2.Seqs) != 0 || i2.Epoch != 2 {
		t.Fatalf("after a take and a stale take: %d entries at epoch %d", len(i2.Seqs), i2.Epoch)
	}
	// An empty queue's take checks the epoch and advances it only when
	// the write it answers changed something.
	if err := takeIncidents(i2); err != nil {
		t.Fatal(err)
	}
	i3 := incidents()
	for _, wrote := range []bool{false, true} {
		var epoch int64
		err := st.InDerivedTx(ctx, func(w *store.Writer) error {
			var err error
			epoch, err = w.TakeIncidentQueue(ctx, i3, wrote)
			return err
		})
		if want := i3.Epoch + map[bool]int64{false: 0, true: 1}[wrote]; err != nil || len(i3.Seqs) != 0 || epoch != want {
			t.Fatalf("an empty queue's take (wrote %v): epoch %d, %v (%d entries); want epoch %d", wrote, epoch, err, len(i3.Seqs), want)
		}
	}
	if q := incidents(); q.Epoch != 3 {
		t.Fatalf("incident epoch after two writes: %d", q.Epoch)
	}
	if q := persons(); q.Epoch != p3.Epoch {
		t.Fatalf("person epoch moved with the incidents': %d, want %d", q.Epoch, p3.Epoch)
	}
}

// TestOneProcessHoldsTheResolutionLease: while one holds the lease no
// other takes it; it is free again once released, and when its holder's
// session ends without a release.
func TestOneProcessHoldsTheResolutionLease(t *testing.T) {
	ctx := context.Background()
	st := dbtest.NewStore(t)
	first, err := st.TryResolutionLease(ctx)
	if err != nil || first == nil {
		t.Fatalf("first lease: %v, %v", first, err)
	}
	if !first.Held(ctx) {
		t.Fatal("the lease just taken is not held")
	}
	if second, err := st.TryResolutionLease(ctx); err != nil || second != nil {
		t.Fatalf("a second lease while the first is held: %v, %v", second, err)
	}
	first.Release()
	second, err := st.TryResolutionLease(ctx)
	if err != nil || second == nil {
		t.Fatalf("a lease after the first was released: %v, %v", second, err)
	}
	// The holder's session ends (a replica died): the lease is free and
	// the holder knows it has lost it.
	if _, err := st.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND objid = 74210021 AND pid <> pg_backend_pid()
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	if second.Held(ctx) {
		t.Fatal("a lease whose session was terminated is still held")
	}
	// pg_terminate_backend only signals the session: its lock goes when
	// the backend has exited, which the next replica to look sees.
	var third *store.ResolutionLease
	for deadline := time.Now().Add(10 * time.Second); third == nil && time.Now().Before(deadline); {
		if third, err = st.TryResolutionLease(ctx); err != nil {
			t.Fatal(err)
		}
		if third == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if third == nil {
		t.Fatal("no lease within 10 s of its holder's session being terminated")
	}
	third.Release()
}

// TestQueuesWaitForTheFirstResolution: before a kind's first resolution
// begins, its queue names no change (the first run resolves everything);
// beginning waits for a transaction that left a change unqueued to
// commit, moves the epoch to 1 once, and every change after it is queued.
func TestQueuesWaitForTheFirstResolution(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	cs := storetest.MakeCases(3)
	storetest.SeedCases(t, st, cs[:1])
	var queued, dirty, cases int
	counts := func() {
		t.Helper()
		if err := st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM person_resolve_queue), (SELECT count(*) FROM person_golden_dirty),
			(SELECT count(*) FROM incident_regroup_queue)`).Scan(&queued, &dirty, &cases); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE person SET name = name || '明'`); err != nil {
		t.Fatal(err)
	}
	if counts(); queued != 0 || dirty != 0 || cases != 0 {
		t.Fatalf("before the first resolution: %d person records, %d golden records, %d cases queued; want none", queued, dirty, cases)
	}

	// A batch left its case unqueued and is still open: beginning waits.
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE "case" SET title = title || '（更正）' WHERE source_id = $1`, cs[0].SourceID); err != nil {
		t.Fatal(err)
	}
	begun := make(chan error, 1)
	go func() {
		first, err := st.BeginResolution(ctx, store.IncidentResolutionKind)
		if err == nil && !first {
			err = errors.New("the first beginning did not say so")
		}
		begun <- err
	}()
	select {
	case err := <-begun:
		t.Fatalf("the regrouping began while a batch that left its change unqueued was open: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-begun; err != nil {
		t.Fatal(err)
	}
	epochs := func() (person, incident int64) {
		t.Helper()
		if err := st.Pool().QueryRow(ctx, `SELECT (SELECT epoch FROM resolution_epoch WHERE kind = 'PERSON'),
			(SELECT epoch FROM resolution_epoch WHERE kind = 'INCIDENT')`).Scan(&person, &incident); err != nil {
			t.Fatal(err)
		}
		return person, incident
	}
	if p, i := epochs(); p != 0 || i != 1 {
		t.Fatalf("epochs after the regrouping began: persons %d, incidents %d; want 0 and 1", p, i)
	}
	// Cases are queued from now on; person records not yet.
	storetest.SeedCases(t, st, cs[1:])
	if _, err := st.Pool().Exec(ctx, `UPDATE person SET name = name || '明'`); err != nil {
		t.Fatal(err)
	}
	if counts(); queued != 0 || dirty != 0 || cases != 2 {
		t.Fatalf("after the regrouping began: %d person records, %d golden records, %d cases queued; want 0, 0, 2", queued, dirty, cases)
	}
	if _, err := st.BeginResolution(ctx, store.PersonResolutionKind); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE person SET name = name || '明'`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE person_link SET name = name || '明' WHERE source_id = 'R1'`); err != nil {
		t.Fatal(err)
	}
	if counts(); queued != 1 || dirty == 0 {
		t.Fatalf("after the resolution began: %d person records, %d golden records queued; want 1 and some", queued, dirty)
	}
	// Beginning again reads the epoch and leaves it.
	if first, err := st.BeginResolution(ctx, store.IncidentResolutionKind); err != nil || first {
		t.Fatalf("beginning again: first %v, %v", first, err)
	}
	if p, i := epochs(); p != 1 || i != 1 {
		t.Fatalf("epochs after both began: persons %d, incidents %d; want 1 and 1", p, i)
	}
}
