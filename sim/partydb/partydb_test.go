package partydb_test

import (
	"context"
	"testing"
	"time"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/sim/partydb"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestLoadAndApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	db, err := partydb.Open(ctx, dbtest.EmptyDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Load(ctx, c); err != nil {
		t.Fatal(err)
	}
	pool := db.Pool()

	t.Run("legacy columns", func(t *testing.T) {
		for _, table := range partydb.Tables() {
			for _, col := range partydb.Columns(table) {
				var typ string
				err := pool.QueryRow(ctx, `SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = $2`, table, col).Scan(&typ)
				if err != nil {
					t.Errorf("%s.%s: %v", table, col, err)
					continue
				}
				if col == "gxsj" && typ != "character varying" {
					t.Errorf("%s.gxsj is %s, want varchar", table, typ)
				}
			}
		}
	})

	counts := c.Counts()
	t.Run("row counts", func(t *testing.T) {
		tests := []struct {
			table string
			e     city.Entity
		}{
			{"t_dzz", city.PartyOrgs}, {"t_dy", city.PartyMembers}, {"t_sbd", city.PartyDualReports},
			{"t_hyzz", city.PartyStations}, {"t_fwhd", city.PartyActivities},
		}
		for _, tt := range tests {
			var n int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+tt.table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			want := counts[tt.e].Records + counts[tt.e].Duplicates
			if n != want || n == 0 {
				t.Errorf("%s: %d rows, want %d", tt.table, n, want)
			}
		}
	})

	t.Run("values as the legacy system writes them", func(t *testing.T) {
		var gxsj string
		var jd, wd float64
		if err := pool.QueryRow(ctx, `SELECT gxsj, jd, wd FROM t_hyzz ORDER BY gxsj, zzid LIMIT 1`).Scan(&gxsj, &jd, &wd); err != nil {
			t.Fatal(err)
		}
		if _, err := time.ParseInLocation(time.DateTime, gxsj, city.CST); err != nil {
			t.Errorf("gxsj %q: %v", gxsj, err)
		}
		if (jd < 111 || jd > 114) && (wd < 111 || wd > 114) {
			t.Errorf("station at %v,%v", jd, wd)
		}
		var kinds int
		pool.QueryRow(ctx, `SELECT count(DISTINCT dzzlb) FROM t_dzz`).Scan(&kinds)
		if kinds != 5 {
			t.Errorf("%d org kinds, want 5", kinds)
		}
		var nullGrid, central int
		pool.QueryRow(ctx, `SELECT count(*) FROM t_dzz WHERE dzzlb = '党支部' AND wgbm IS NULL`).Scan(&nullGrid)
		pool.QueryRow(ctx, `SELECT count(*) FROM t_dy WHERE sfzxhz = 1`).Scan(&central)
		if nullGrid == 0 || central == 0 {
			t.Errorf("%d branches without wgbm, %d 党员中心户", nullGrid, central)
		}
	})

	t.Run("live changes", func(t *testing.T) {
		clock := city.NewManualClock(c.Reference().Add(time.Hour))
		var party []city.Change
		for len(party) < 10 {
			clock.Advance(time.Second)
			if ch := c.Tick(clock.Now()); ch.Entity == city.PartyMembers || ch.Entity == city.PartyActivities {
				party = append(party, ch)
			}
		}
		if err := db.Apply(ctx, c, party); err != nil {
			t.Fatal(err)
		}
		var n int
		after := c.Reference().Format(time.DateTime)
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM t_dy WHERE gxsj > $1) + (SELECT count(*) FROM t_fwhd WHERE gxsj > $1)`, after).Scan(&n); err != nil {
			t.Fatal(err)
		}
		distinct := map[[2]int32]bool{}
		deleted := 0
		for _, ch := range party {
			distinct[[2]int32{int32(ch.Entity), ch.Index}] = true
			if ch.Op == city.OpDelete {
				deleted++
			}
		}
		if n != len(distinct) {
			t.Errorf("%d rows changed after the reference, want %d", n, len(distinct))
		}
		var soft int
		pool.QueryRow(ctx, `SELECT count(*) FROM t_dy WHERE sfyx = 0`).Scan(&soft)
		if soft != deleted {
			t.Errorf("%d soft-deleted members, %d deletions", soft, deleted)
		}
	})

	t.Run("reload", func(t *testing.T) {
		if err := db.Load(ctx, c); err != nil {
			t.Fatal(err)
		}
	})
}
