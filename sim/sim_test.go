package sim_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clock := city.NewManualClock(city.DefaultReference)
	dir := t.TempDir()
	dsn := dbtest.EmptyDB(t)
	s, err := sim.Start(ctx, sim.Options{Seed: 1, DataDir: dir, PartyDSN: dsn, LiveRate: -1, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	desc := s.Describe()
	for _, want := range []string{s.GovURL, s.Open311URL, s.ClientID, s.ClientSecret, s.LayerPath, s.TruthPath} {
		if !strings.Contains(desc, want) {
			t.Errorf("Describe lacks %q:\n%s", want, desc)
		}
	}
	for _, p := range []string{s.LayerPath, s.TruthPath} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(s.CSVDir, "cases_*.csv")); len(files) == 0 {
		t.Error("no CSV export")
	}
	var truth city.Truth
	raw, _ := os.ReadFile(s.TruthPath)
	if err := json.Unmarshal(raw, &truth); err != nil || len(truth.Persons) == 0 {
		t.Fatalf("truth: %v", err)
	}

	// The servers answer on loopback.
	for _, u := range []string{s.GovURL, s.Open311URL} {
		host := strings.TrimPrefix(u, "http://")
		if h, _, _ := net.SplitHostPort(host); h != "127.0.0.1" {
			t.Errorf("%s not on loopback", u)
		}
	}
	resp, err := http.Get(s.Open311URL + "/open311/v2/requests.json")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("open311: %v", err)
	}
	resp.Body.Close()
	resp, err = http.Post(s.GovURL+"/api/auth/token", "application/json",
		strings.NewReader(`{"clientId":"`+s.ClientID+`","clientSecret":"`+s.ClientSecret+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "accessToken") {
		t.Fatalf("token: %s", b)
	}

	// Live changes reach the party database.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var before int
	conn.QueryRow(ctx, `SELECT count(*) FROM t_fwhd`).Scan(&before)
	created := 0
	for range 20 {
		clock.Advance(time.Second)
		chs, err := s.Step(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range chs {
			if ch.Entity == city.PartyActivities && ch.Op == city.OpCreate {
				created++
			}
		}
	}
	var after int
	conn.QueryRow(ctx, `SELECT count(*) FROM t_fwhd`).Scan(&after)
	if after-before != created || created == 0 {
		t.Errorf("t_fwhd grew by %d, %d activities created", after-before, created)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(s.GovURL + "/api/v1/grids"); err == nil {
		t.Error("governance API still answers after Close")
	}
}

func TestLiveLoop(t *testing.T) {
	ctx := context.Background()
	s, err := sim.Start(ctx, sim.Options{Seed: 3, LiveRate: 200})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.DataDir
	deadline := time.Now().Add(10 * time.Second)
	for s.City.Changes() < 20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.City.Changes(); n < 20 {
		t.Errorf("%d live changes in the loop", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary data dir %s left behind", dir)
	}
}

// TestRestartContinuesLiveHistory restarts the simulators on their data
// directory and checks that they continue where they were: the same
// records, change count and party database as before the restart, and the
// same next changes as simulators that never stopped.
func TestRestartContinuesLiveHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, ref := t.TempDir(), t.TempDir()
	dsn := dbtest.EmptyDB(t)
	start := func(dir, dsn string) (*sim.Systems, *city.ManualClock) {
		clock := city.NewManualClock(city.DefaultReference)
		s, err := sim.Start(ctx, sim.Options{Seed: 5, DataDir: dir, PartyDSN: dsn, LiveRate: -1, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, clock
	}
	steps := func(s *sim.Systems, clock *city.ManualClock, from, to int) {
		for i := from; i < to; i++ {
			clock.Set(city.DefaultReference.Add(time.Duration(i) * time.Minute))
			if _, err := s.Step(ctx, 7); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Every row of the party database, as the connector reads it.
	partyRows := func(dsn string) map[string]bool {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		out := map[string]bool{}
		for _, table := range []string{"t_dzz", "t_hyzz", "t_dy", "t_sbd", "t_fwhd"} {
			rows, err := conn.Query(ctx, "SELECT row_to_json(t)::text FROM "+table+" t")
			if err != nil {
				t.Fatal(err)
			}
			list, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range list {
				out[table+" "+r] = true
			}
		}
		return out
	}

	s, clock := start(dir, dsn)
	steps(s, clock, 1, 130)
	counts, changes, party := s.City.Counts(), s.City.Changes(), partyRows(dsn)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A step whose line was cut short by a kill is not replayed.
	f, err := os.OpenFile(filepath.Join(dir, sim.LiveLogName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("1798000000 4")
	f.Close()

	s, clock = start(dir, dsn)
	if got := s.City.Changes(); got != changes {
		t.Fatalf("restarted simulators hold %d live changes, want %d", got, changes)
	}
	if got := s.City.Counts(); !slicesEqual(got, counts) {
		t.Fatalf("restarted simulators count %v, want %v", got, counts)
	}
	// Rows stay as the live steps wrote them: a member's address is not
	// rewritten behind its update stamp because the person moved since.
	got := partyRows(dsn)
	for r := range party {
		if !got[r] {
			t.Fatalf("party row changed by the restart: %s", r)
		}
	}
	if len(got) != len(party) {
		t.Fatalf("party database after restart: %d rows, want %d", len(got), len(party))
	}
	steps(s, clock, 130, 150)

	never, neverClock := start(ref, "")
	steps(never, neverClock, 1, 150)
	if got, want := s.City.Counts(), never.City.Counts(); !slicesEqual(got, want) {
		t.Fatalf("after the restart the simulators diverge: %v, never restarted %v", got, want)
	}
	if got, want := s.City.Changes(), never.City.Changes(); got != want || got != 149*7 {
		t.Fatalf("changes %d, never restarted %d, want %d", got, want, 149*7)
	}
}

func slicesEqual(a, b []city.Count) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRestartKeepsWallClock restarts wall-clock simulators: their time goes
// on from the first start instead of falling back to the reference instant.
func TestRestartKeepsWallClock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sim.Start(ctx, sim.Options{Seed: 2, DataDir: dir, LiveRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	first := s.Clock.(*city.WallClock).Origin
	s.Close()
	time.Sleep(20 * time.Millisecond)
	s, err = sim.Start(ctx, sim.Options{Seed: 2, DataDir: dir, LiveRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Clock.(*city.WallClock).Origin; !got.Equal(first) {
		t.Fatalf("restarted clock started at %v, want the first start %v", got, first)
	}
	if s.Clock.Now().Before(city.DefaultReference.Add(20 * time.Millisecond)) {
		t.Fatalf("restarted clock reads %v, before the time it had reached", s.Clock.Now())
	}
}
