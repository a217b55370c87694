package store_test

import (
	"context"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

func readAll(t *testing.T, st *store.Store, after int64) []store.Change {
	t.Helper()
	ctx := store.Unscoped(context.Background())
	if _, err := st.SequenceChanges(ctx); err != nil {
		t.Fatal(err)
	}
	cs, err := st.ChangesAfter(ctx, after, 10000, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// The sync engine's upserts log CREATE, UPDATE with the changed columns and
// DELETE, with the region path and the run, positioned in order.
func TestChangeLogRecordsWrites(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(3)
	storetest.SeedCases(t, st, cases)
	cs := readAll(t, st, 0)
	if len(cs) != 3 {
		t.Fatalf("%d changes after creating 3 cases: %+v", len(cs), cs)
	}
	for i, c := range cs {
		if c.Type != store.ChangeCase || c.Op != "CREATE" || c.RegionPath == "" || c.RunID != nil || (i > 0 && c.Position <= cs[i-1].Position) {
			t.Fatalf("change %d: %+v", i, c)
		}
	}
	head := cs[len(cs)-1].Position

	// A changed status in a batch committed with its run's counters.
	var run int64
	if err := st.Pool().QueryRow(ctx, `INSERT INTO sync_run (source) VALUES ('citymgmt') RETURNING id`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	cases[1].Status = canon.StatusInProgress
	cases[1].ClosedAt = nil
	sum := sha256.Sum256([]byte("changed"))
	cases[1].PayloadHash = sum[:]
	if err := st.InTx(ctx, func(w *store.Writer) error {
		if err := w.ForRun(ctx, run); err != nil {
			return err
		}
		if _, err := w.UpsertCases(ctx, cases[1:2]); err != nil {
			return err
		}
		return w.CommitBatch(ctx, run, "citymgmt", "requests", "c1", store.BatchCounts{})
	}); err != nil {
		t.Fatal(err)
	}
	cs = readAll(t, st, head)
	if len(cs) != 1 || cs[0].Op != "UPDATE" || cs[0].RecordID == 0 || cs[0].RunID == nil || *cs[0].RunID != run {
		t.Fatalf("after an update: %+v", cs)
	}
	if !slices.Contains(cs[0].Fields, "status") || slices.Contains(cs[0].Fields, "payload_hash") || slices.Contains(cs[0].Fields, "title") {
		t.Fatalf("changed fields %v, want status and not payload_hash or title", cs[0].Fields)
	}
	head = cs[0].Position

	// The same payload again changes nothing and logs nothing.
	storetest.SeedCases(t, st, cases[1:2])
	if cs = readAll(t, st, head); len(cs) != 0 {
		t.Fatalf("an unchanged upsert logged %+v", cs)
	}

	if _, err := st.Pool().Exec(ctx, `DELETE FROM "case" WHERE id = $1`, cs0(t, st).RecordID); err != nil {
		t.Fatal(err)
	}
	cs = readAll(t, st, head)
	// The run was the setting of its transaction only: a write outside
	// any run names none.
	if len(cs) != 1 || cs[0].Op != "DELETE" || cs[0].RegionPath == "" || cs[0].RunID != nil {
		t.Fatalf("after a delete: %+v", cs)
	}
}

func cs0(t *testing.T, st *store.Store) store.Change {
	cs := readAll(t, st, 0)
	return cs[0]
}

// Two writers commit in the opposite order of their writes: the one that
// committed first is positioned first, the other is positioned after it
// once it commits, and a reader that followed the first never misses the
// second (no position is ever handed out below one already visible).
func TestChangeLogPositionsFollowCommitOrder(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	head := readAll(t, st, 0)
	var after int64
	if len(head) > 0 {
		after = head[len(head)-1].Position
	}

	first, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)
	if _, err := first.Exec(ctx, `INSERT INTO incident (title) VALUES ('先写后提交')`); err != nil {
		t.Fatal(err)
	}
	second, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.Exec(ctx, `INSERT INTO incident (title) VALUES ('后写先提交')`); err != nil {
		t.Fatal(err)
	}
	if err := second.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// A reader now sees only the committed writer's change.
	cs := readAll(t, st, after)
	if len(cs) != 1 || cs[0].Type != store.ChangeIncident {
		t.Fatalf("while the first writer is in flight: %+v", cs)
	}
	after = cs[0].Position
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	cs = readAll(t, st, after)
	if len(cs) != 1 || cs[0].Position <= after {
		t.Fatalf("the writer that committed last is lost or placed behind the cursor: %+v (cursor %d)", cs, after)
	}
	after = cs[0].Position

	// Many writers at once, sequenced concurrently from two callers: every
	// change positioned once, positions strictly increasing.
	const writers = 20
	errs := make(chan error, writers+2)
	stop := make(chan struct{})
	for range 2 {
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if _, err := st.SequenceChanges(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range writers {
		go func() {
			_, err := st.Pool().Exec(ctx, `INSERT INTO incident (title) SELECT 'w' || $1::int || '-' || g FROM generate_series(1, 10) g`, i)
			errs <- err
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	cs = readAll(t, st, after)
	if len(cs) != writers*10 {
		t.Fatalf("%d changes of %d writes", len(cs), writers*10)
	}
	seen := map[int64]bool{}
	for i, c := range cs {
		if seen[c.RecordID] || (i > 0 && c.Position <= cs[i-1].Position) {
			t.Fatalf("change %d repeated or out of order: %+v", i, c)
		}
		seen[c.RecordID] = true
	}
}

// Retention prunes old entries; a cursor behind what was pruned is refused
// with CURSOR_EXPIRED, never answered with a gap, and a reader without a
// cursor starts at the oldest entry kept.
func TestChangeLogRetention(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	if _, err := st.Pool().Exec(ctx, `INSERT INTO incident (title) SELECT 'i' || g FROM generate_series(1, 5) g`); err != nil {
		t.Fatal(err)
	}
	cs := readAll(t, st, 0)
	if len(cs) != 5 {
		t.Fatalf("%d changes", len(cs))
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE change_log SET committed_at = now() - interval '40 days' WHERE position <= $1`, cs[2].Position); err != nil {
		t.Fatal(err)
	}
	n, err := st.PruneChanges(ctx, time.Now().Add(-30*24*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("pruned %d, %v; want 3", n, err)
	}
	if _, err := st.ChangesAfter(ctx, cs[0].Position, 10, nil); canon.ErrorCode(err) != canon.CursorExpired {
		t.Fatalf("a pruned cursor: %v, want CURSOR_EXPIRED", err)
	}
	if _, err := st.ChangesAfter(ctx, 0, 10, nil); canon.ErrorCode(err) != canon.CursorExpired {
		t.Fatalf("cursor 0 after pruning: %v, want CURSOR_EXPIRED", err)
	}
	got, err := st.ChangesAfter(ctx, cs[2].Position, 10, nil)
	if err != nil || len(got) != 2 || got[0].Position != cs[3].Position {
		t.Fatalf("from the horizon: %+v, %v", got, err)
	}
	got, err = st.ChangesAfter(ctx, -1, 10, nil)
	if err != nil || len(got) != 2 {
		t.Fatalf("without a cursor: %+v, %v", got, err)
	}
	head, pruned, err := st.ChangeHead(ctx)
	if err != nil || head != cs[4].Position || pruned != cs[2].Position {
		t.Fatalf("head %d pruned %d, %v", head, pruned, err)
	}
}

// A TRUNCATE of logged tables, its CASCADE among them, logs the deletion
// of every row it removed, with the row's region: a follower is never left
// holding records the hub no longer has.
func TestChangeLogRecordsTruncate(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(5))
	if _, err := st.Pool().Exec(ctx, `WITH i AS (INSERT INTO incident (title) VALUES ('一起') RETURNING id)
		UPDATE "case" SET incident_id = (SELECT id FROM i) WHERE id = (SELECT min(id) FROM "case")`); err != nil {
		t.Fatal(err)
	}
	before := readAll(t, st, 0)
	head := before[len(before)-1].Position
	var cases, incidents []int64
	if err := st.Pool().QueryRow(ctx, `SELECT array(SELECT id FROM "case" ORDER BY id), array(SELECT id FROM incident ORDER BY id)`).Scan(&cases, &incidents); err != nil {
		t.Fatal(err)
	}
	// incident is referenced by case: its TRUNCATE empties case too.
	if _, err := st.Pool().Exec(ctx, `TRUNCATE incident CASCADE`); err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for _, c := range readAll(t, st, head) {
		if c.Op != "DELETE" {
			t.Fatalf("after a TRUNCATE: %+v", c)
		}
		if c.Type == store.ChangeCase && c.RegionPath == "" {
			t.Fatalf("a truncated case without its region: %+v", c)
		}
		if c.Type == store.ChangeIncident && len(c.Regions) == 0 {
			t.Fatalf("a truncated incident without the places of its cases: %+v", c)
		}
		got[c.Type] = append(got[c.Type], c.RecordID)
	}
	slices.Sort(got[store.ChangeCase])
	if !slices.Equal(got[store.ChangeCase], cases) || !slices.Equal(got[store.ChangeIncident], incidents) || len(got) != 2 {
		t.Fatalf("a TRUNCATE logged the deletions %v, want cases %v and incidents %v", got, cases, incidents)
	}
}

// VacuumChangeQueue leaves the queue of writes waiting for a position
// without the dead rows of those already positioned: its pages, all empty
// once sequenced, are given back.
func TestVacuumChangeQueue(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	if _, err := st.Pool().Exec(ctx, `INSERT INTO incident (title) SELECT 'i' || g FROM generate_series(1, 2000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SequenceChanges(ctx); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		t.Helper()
		var n int64
		if err := st.Pool().QueryRow(ctx, `SELECT pg_relation_size('change_pending')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if size() == 0 {
		t.Fatal("the queue holds no pages after 2,000 writes")
	}
	if err := st.VacuumChangeQueue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := size(); n != 0 {
		t.Fatalf("the queue holds %d bytes after its vacuum", n)
	}
}

// A case's timeline is not a logged field, nor is its summary (the
// progress_ columns written with it): a case whose timeline alone changed
// logs nothing; one whose status changed with it logs the status only.
func TestChangeLogLeavesTimelinesOut(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(2)
	storetest.SeedCases(t, st, cases)
	head := readAll(t, st, 0)[1].Position
	c := cases[1]
	c.Timeline = append(slices.Clone(c.Timeline), canon.CaseEvent{At: storetest.Base.Add(3 * time.Hour),
		Status: canon.StatusResolved, Tier: canon.TierStreet, SourceStatus: "处置完成"})
	c.PayloadHash = []byte("timeline")
	if res := storetest.SeedCases(t, st, []canon.Case{c}); res.Written != 1 {
		t.Fatalf("timeline change: %+v, want 1 written", res)
	}
	if cs := readAll(t, st, head); len(cs) != 0 {
		t.Fatalf("a timeline change logged %+v", cs)
	}
	c.Status, c.PayloadHash = canon.StatusResolved, []byte("status")
	c.Timeline = append(c.Timeline, canon.CaseEvent{At: storetest.Base.Add(4 * time.Hour),
		Status: canon.StatusClosed, Tier: canon.TierStreet, SourceStatus: "结案"})
	storetest.SeedCases(t, st, []canon.Case{c})
	if cs := readAll(t, st, head); len(cs) != 1 || !slices.Equal(cs[0].Fields, []string{"status"}) {
		t.Fatalf("a status and timeline change logged %+v, want the status only", cs)
	}
}
