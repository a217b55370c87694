package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/embedpg"
	"github.com/ywtg/hub/store"
)

// runRow is a sync_run row as the replica test reads it.
type runRow struct {
	id                 int64
	source, holder     string
	status             string
	started            time.Time
	finished           *time.Time
	fetched, stored, q int64
}

func syncRuns(t *testing.T, ctx context.Context, conn *pgx.Conn) []runRow {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT id, source, holder, status, started_at, finished_at, fetched, stored, quarantined
		FROM sync_run ORDER BY source, started_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (runRow, error) {
		var x runRow
		err := r.Scan(&x.id, &x.source, &x.holder, &x.status, &x.started, &x.finished, &x.fetched, &x.stored, &x.q)
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestReplicasShareSources runs two hub processes against one database.
// The test holds the governance source's lock while both start, then lets
// go: one of them takes the initial governance sync and is killed -9 a
// moment into it; the other must take over and finish. Throughout, no two
// runs of one source ever overlap, whoever holds them, and afterwards the
// ledger holds and a full re-pull of governance writes nothing.
func TestReplicasShareSources(t *testing.T) {
	ctx := context.Background()
	bin := buildHub(t)
	dataDir := serverDataDir(t, "replicas")
	// The test owns the embedded cluster; both hubs join it, so killing
	// either leaves the database up, as a shared server would be.
	cluster, err := embedpg.Start(ctx, embedpg.Options{Dir: filepath.Join(dataDir, "pg")})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop(context.Background())
	st, err := store.Open(ctx, cluster.DSN(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, cluster.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	held, err := st.TryLockSourceAs(ctx, "governance", "test")
	if err != nil || held == nil {
		t.Fatalf("take the governance lock before the hubs start: %v", err)
	}

	env := []string{"HUB_DEMO_LIVE_RATE=0", "HUB_SYNC_INTERVAL=1s", "HUB_DEMO_SCALE=small",
		"HUB_PII_KEY=" + strings.Repeat("5a", 32)}
	// One after the other: each loads the demo party database on start.
	a := startHubEnv(t, bin, dataDir, env)
	b := startHubEnv(t, bin, dataDir, env)
	hubs := map[string]*hubProc{}
	for _, h := range []*hubProc{a, b} {
		hubs[strconv.Itoa(h.cmd.Process.Pid)] = h
	}
	pidOf := func(holder string) string { return holder[strings.LastIndexByte(holder, ':')+1:] }
	held.Release()

	// Kill whichever hub runs the governance sync once it committed a batch.
	var victim, survivor *hubProc
	var victimRun runRow
	deadline := time.Now().Add(30 * time.Second)
	for victim == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no hub started the governance sync; logs:\n%s\n%s", a.logs, b.logs)
		}
		for _, r := range syncRuns(t, ctx, conn) {
			if r.source == "governance" && r.status == "RUNNING" && r.fetched > 0 {
				h, ok := hubs[pidOf(r.holder)]
				if !ok {
					t.Fatalf("run %d held by %q, neither hub (%v)", r.id, r.holder, hubs)
				}
				victim, victimRun = h, r
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = victim.cmd.Wait()
	survivor = a
	if victim == a {
		survivor = b
	}
	t.Logf("killed hub %d during governance run %d", victim.cmd.Process.Pid, victimRun.id)

	// The survivor takes over: a later governance run of its own finishes OK.
	survivorPid := strconv.Itoa(survivor.cmd.Process.Pid)
	var takeover *runRow
	for deadline := time.Now().Add(60 * time.Second); takeover == nil; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the survivor did not finish the governance sync; runs: %+v\nlogs:\n%s", syncRuns(t, ctx, conn), survivor.logs)
		}
		for _, r := range syncRuns(t, ctx, conn) {
			if r.source == "governance" && r.id > victimRun.id && r.status == "OK" && pidOf(r.holder) == survivorPid && r.fetched > 0 {
				takeover = &r
				break
			}
		}
	}
	waitReady(t, survivor)
	d := graphql(t, survivor, `{ sources { name status recordsFetched recordsStored recordsQuarantined } }`)
	for _, s := range d["data"].(map[string]any)["sources"].([]any) {
		src := s.(map[string]any)
		if src["recordsFetched"].(float64) != src["recordsStored"].(float64)+src["recordsQuarantined"].(float64) {
			t.Fatalf("ledger broken after failover: %v", src)
		}
	}
	stopHub(t, survivor)

	runs := syncRuns(t, ctx, conn)
	holders := map[string]bool{}
	for i, r := range runs {
		holders[r.holder] = true
		if r.status == "RUNNING" || r.finished == nil {
			t.Fatalf("run %d of %s by %s still RUNNING after both hubs stopped", r.id, r.source, r.holder)
		}
		if r.fetched != r.stored+r.q {
			t.Fatalf("run %d of %s breaks the ledger: %+v", r.id, r.source, r)
		}
		if i > 0 && runs[i-1].source == r.source && runs[i-1].finished.After(r.started) {
			p := runs[i-1]
			t.Fatalf("%s: run %d by %s (%s–%s) overlaps run %d by %s started %s", r.source, p.id, p.holder,
				p.started.Format(time.RFC3339Nano), p.finished.Format(time.RFC3339Nano), r.id, r.holder, r.started.Format(time.RFC3339Nano))
		}
		if r.id == victimRun.id {
			if r.status != "ABORTED" {
				t.Fatalf("the killed hub's run %d is %s, want ABORTED", r.id, r.status)
			}
			victimRun = r
		}
	}
	if len(holders) < 2 {
		t.Fatalf("runs by %d holder(s) only: %v", len(holders), holders)
	}
	t.Logf("%d runs by %d holders, none overlapping; takeover run %d fetched %d", len(runs), len(holders), takeover.id, takeover.fetched)

	// Nothing was lost or duplicated across the failover.
	cmd := exec.Command(bin, "sync", "--source", "governance", "--full")
	cmd.Env = append(filteredEnv(), append(env, "HUB_DATA_DIR="+dataDir, "HUB_LOG_LEVEL=warn")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sync --full: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`governance: OK, fetched (\d+), stored (\d+) \(unchanged (\d+), deleted (\d+)\), quarantined (\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("sync output: %s", out)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	if n(1) == 0 || n(2) != n(3)+n(4) {
		t.Fatalf("a full re-pull after the failover still wrote records: %s", m[0])
	}
	// The survivor went on from the killed hub's last committed cursor:
	// together they read every record, and again only the few of the last
	// second of a stream the killed hub had caught up with (re-read on
	// purpose), not the killed run's records.
	if got := victimRun.fetched + takeover.fetched; got < int64(n(1)) || got > int64(n(1))+20 {
		t.Fatalf("killed run fetched %d and the takeover %d, together %d, but the source has %d records",
			victimRun.fetched, takeover.fetched, got, n(1))
	}
	t.Logf("full re-pull: %s", m[0])
}
