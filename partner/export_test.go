package partner_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/partner"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

func position(t *testing.T, cursor string) int64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.ParseInt(strings.TrimPrefix(string(raw), "position:"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Exports run while cases change and another replica positions changes:
// each export's position splits the log exactly — every case is exported
// in the state after the changes at or before the position and before the
// ones after it (snapshot + log: no gap, no duplicate). CSV starts with a
// BOM; a staff key exports its jurisdiction only.
func TestExportPositionSplitsTheLog(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, storetest.MakeCases(200))
	if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET title = 'v0'`); err != nil {
		t.Fatal(err)
	}
	var who atomic.Pointer[auth.Principal]
	who.Store(&auth.Principal{ID: "a", Role: auth.Admin})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		partner.Handler(st, nil).ServeHTTP(w, r.WithContext(auth.With(r.Context(), who.Load())))
	}))
	defer srv.Close()
	if _, err := st.SequenceChanges(ctx); err != nil {
		t.Fatal(err)
	}

	// One writer gives cases new titles v1, v2, … one at a time; a second
	// replica positions changes all along.
	stop := make(chan struct{})
	done := make(chan error, 2)
	var ids []int64
	rows, _ := st.Pool().Query(ctx, `SELECT id FROM "case" ORDER BY id`)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	go func() {
		version := map[int64]int{}
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			id := ids[(i*7)%len(ids)]
			version[id]++
			if _, err := st.Pool().Exec(ctx, `UPDATE "case" SET title = $1 WHERE id = $2`, fmt.Sprintf("v%d", version[id]), id); err != nil {
				done <- err
				return
			}
		}
	}()
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := st.SequenceChanges(ctx); err != nil {
				done <- err
				return
			}
		}
	}()
	type export struct {
		pos    int64
		titles map[string]string
	}
	var exports []export
	for range 5 {
		resp, err := http.Get(srv.URL + "/export/cases.ndjson")
		if err != nil {
			t.Fatal(err)
		}
		e := export{pos: position(t, resp.Header.Get(partner.PositionHeader)), titles: map[string]string{}}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var row struct{ ID, Title string }
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatal(err)
			}
			e.titles[row.ID] = row.Title
		}
		resp.Body.Close()
		if len(e.titles) != len(ids) {
			t.Fatalf("export of %d cases, the store has %d", len(e.titles), len(ids))
		}
		exports = append(exports, e)
	}
	close(stop)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.SequenceChanges(ctx); err != nil {
		t.Fatal(err)
	}
	for i, e := range exports {
		// The k-th update of a case in the log is its title vk: writes to
		// one row commit in order, and so do their positions.
		for _, id := range ids {
			var k int
			if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM change_log WHERE type = 'CASE' AND record_id = $1
				AND op = 'UPDATE' AND 'title' = ANY(fields) AND position <= $2`, id, e.pos).Scan(&k); err != nil {
				t.Fatal(err)
			}
			// The first title update is the seed's, to v0.
			want := fmt.Sprintf("v%d", k-1)
			if got := e.titles[base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("Case:%d", id)))]; got != want {
				t.Fatalf("export %d at position %d: case %d has %s, the log says %s", i, e.pos, id, got, want)
			}
		}
	}
	t.Logf("%d exports checked against the log, at positions %d … %d", len(exports), exports[0].pos, exports[len(exports)-1].pos)

	// CSV for Excel; a staff key's export holds its jurisdiction.
	who.Store(&auth.Principal{ID: "s", Role: auth.Staff, RegionCode: "420606001001"})
	resp, err := http.Get(srv.URL + "/export/cases.csv?status=CLOSED,DISPATCHED")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.HasPrefix(body, []byte("\ufeffid,source,")) {
		t.Fatalf("csv starts %q", body[:min(40, len(body))])
	}
	recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var inside int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM "case" WHERE region_path <@ (SELECT path FROM region WHERE code = '420606001001')`).Scan(&inside); err != nil {
		t.Fatal(err)
	}
	if len(recs)-1 != inside || inside == len(ids) {
		t.Fatalf("staff csv: %d rows, %d cases in the jurisdiction of %d", len(recs)-1, inside, len(ids))
	}
}
