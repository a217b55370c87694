package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// TestCaseTimelinesAreCompressedWithLZ4: a timeline long enough to be
// compressed is compressed with lz4 (migration 049 and the sessions'
// setting, Open), on a server built with it.
func TestCaseTimelinesAreCompressedWithLZ4(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	if _, err := st.Pool().Exec(ctx, `CREATE TEMP TABLE lz4_probe (v text COMPRESSION lz4)`); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "0A000" {
			t.Skipf("this server has no lz4: %s", pgErr.Message)
		}
		t.Fatal(err)
	}
	// The column names its method (for writers outside the hub's
	// sessions too), and the hub's sessions compress with it.
	var column string
	if err := st.Pool().QueryRow(ctx, `SELECT attcompression::text FROM pg_attribute
		WHERE attrelid = '"case"'::regclass AND attname = 'timeline'`).Scan(&column); err != nil {
		t.Fatal(err)
	}
	if column != "l" {
		t.Fatalf("case.timeline's compression is %q, want lz4 (l)", column)
	}
	var session string
	if err := st.Pool().QueryRow(ctx, `SHOW default_toast_compression`).Scan(&session); err != nil || session != "lz4" {
		t.Fatalf("the session compresses with %q, %v; want lz4", session, err)
	}
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(2)
	long := &cases[1]
	long.Timeline = nil
	for i := range 24 {
		long.Timeline = append(long.Timeline, canon.CaseEvent{At: long.ReportedAt.Add(time.Duration(i) * time.Hour),
			Status: canon.StatusInProgress, Tier: canon.TierStreet, SourceStatus: "处置中", Actor: "街道城管科",
			Note: strings.Repeat("现场核实，已通知责任单位限期整改。", 3)})
	}
	storetest.SeedCases(t, st, cases)
	var method *string
	if err := st.Pool().QueryRow(ctx, `SELECT pg_column_compression(timeline) FROM "case" WHERE source_id = $1`,
		long.SourceID).Scan(&method); err != nil {
		t.Fatal(err)
	}
	if method == nil {
		t.Fatal("a long timeline is stored uncompressed, want lz4")
	}
	if *method != "lz4" {
		t.Fatalf("a long timeline is stored compressed with %s, want lz4", *method)
	}
	// The timeline reads back whole.
	var steps int
	if err := st.Pool().QueryRow(ctx, `SELECT jsonb_array_length(timeline) FROM "case" WHERE source_id = $1`,
		long.SourceID).Scan(&steps); err != nil || steps != 24 {
		t.Fatalf("timeline of %d steps read back, %v; want 24", steps, err)
	}
}
