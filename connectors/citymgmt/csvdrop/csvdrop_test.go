package csvdrop_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/citymgmt/csvdrop"
	"github.com/ywtg/hub/connectors/connectortest"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/sim"
	"github.com/ywtg/hub/sim/city"
)

func start(t *testing.T) (*sim.Systems, *places.Layer) {
	t.Helper()
	sys, layer := connectortest.StartSim(t, sim.Options{Seed: 1, LiveRate: -1})
	return sys, layer
}

var fetched = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func newConnector(dir string, layer *places.Layer) *csvdrop.Connector {
	return csvdrop.New(csvdrop.Config{Name: "citymgmt-archive", Dir: dir, Layer: layer, Times: normalize.DefaultTimes(),
		Now: func() time.Time { return fetched }})
}

// pullAll reads from cur until no more, checking the accounting of every page.
func pullAll(t *testing.T, c *csvdrop.Connector, cur string) (connectors.Batch, string) {
	t.Helper()
	var all connectors.Batch
	for range 10000 {
		b, err := c.Pull(context.Background(), connectors.Request{Stream: csvdrop.Stream, Cursor: cur, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Records)+len(b.Quarantine) != b.Fetched {
			t.Fatalf("fetched %d, accounted %d", b.Fetched, len(b.Records)+len(b.Quarantine))
		}
		all.Fetched += b.Fetched
		all.Records = append(all.Records, b.Records...)
		all.Quarantine = append(all.Quarantine, b.Quarantine...)
		cur = b.Next
		if !b.More {
			return all, cur
		}
	}
	t.Fatal("the stream never ended")
	return all, cur
}

// TestBackfillsTheExportOnce reads the simulator's export: every exported
// case once, Chinese text decoded from GBK, the same canonical case as the
// Open311 channel gives; nothing on a second pass; a new file, and a file
// re-exported with other bytes, are read; a file only touched is not.
func TestBackfillsTheExportOnce(t *testing.T) {
	sys, layer := start(t)
	c := newConnector(sys.CSVDir, layer)
	all, cur := pullAll(t, c, "")
	if len(all.Records) == 0 {
		t.Fatal("nothing read")
	}
	// Every case of the export's days is there, once.
	files, _ := filepath.Glob(filepath.Join(sys.CSVDir, "cases_*.csv"))
	last := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(files[len(files)-1]), "cases_"), ".csv")
	got := map[string]bool{}
	for _, r := range all.Records {
		got[r.(*canon.Case).SourceID] = true
	}
	for _, q := range all.Quarantine {
		if q.SourceID == "" || got[q.SourceID] {
			t.Fatalf("quarantined row %q without id or also stored: %s", q.SourceID, q.Message)
		}
		got[q.SourceID] = true
	}
	want := 0
	sys.City.RLock()
	byID := map[string]int{}
	for i := range sys.City.CityCases {
		id := sys.City.SourceID(city.CityRequests, i)
		if id[:8] <= last {
			want++
			byID[id] = i
			if !got[id] {
				t.Errorf("case %s of the export not read", id)
			}
		}
	}
	sys.City.RUnlock()
	if len(got) != want {
		t.Fatalf("%d cases read, the export holds %d", len(got), want)
	}

	// Chinese text round-trips through GBK, and the Open311 channel maps
	// the same case identically where both describe it.
	o := citymgmt.New(citymgmt.Config{Name: "citymgmt-archive", Endpoint: sys.Open311URL + "/open311/v2", Layer: layer,
		Times: normalize.DefaultTimes(), Now: func() time.Time { return fetched }})
	open := map[string]*canon.Case{}
	for ocur := ""; ; {
		b, err := o.Pull(context.Background(), connectors.Request{Stream: "requests", Cursor: ocur})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range b.Records {
			open[r.(*canon.Case).SourceID] = r.(*canon.Case)
		}
		if ocur = b.Next; !b.More {
			break
		}
	}
	compared := 0
	for _, r := range all.Records {
		cs := r.(*canon.Case)
		sys.City.RLock()
		native := sys.City.CityRequest(byID[cs.SourceID])
		sys.City.RUnlock()
		if addr, _ := normalize.Text("address", native.Address, 500); cs.Address != addr || cs.SourceStatus != native.State {
			t.Fatalf("case %s: address %q status %q, the system has %q %q", cs.SourceID, cs.Address, cs.SourceStatus, native.Address, native.State)
		}
		oc, ok := open[cs.SourceID]
		if !ok {
			continue
		}
		compared++
		if cs.Description != oc.Description || cs.Title != oc.Title || cs.CategoryCode != oc.CategoryCode || cs.SourceCategory.Code != oc.SourceCategory.Code ||
			cs.Status != oc.Status || cs.GridCode != oc.GridCode ||
			(cs.Location == nil) != (oc.Location == nil) || cs.Location != nil && *cs.Location != *oc.Location || !cs.ReportedAt.Equal(oc.ReportedAt) ||
			(cs.ClosedAt == nil) != (oc.ClosedAt == nil) || cs.ClosedAt != nil && !cs.ClosedAt.Equal(*oc.ClosedAt) {
			t.Fatalf("case %s differs between the channels:\ncsv     %+v\nopen311 %+v", cs.SourceID, cs, oc)
		}
	}
	if compared < len(all.Records)/2 {
		t.Fatalf("only %d of %d cases compared with Open311", compared, len(all.Records))
	}
	t.Logf("%d rows: %d cases (%d identical to Open311), %d quarantined", all.Fetched, len(all.Records), compared, len(all.Quarantine))

	// A second pass reads nothing.
	again, cur2 := pullAll(t, c, cur)
	if again.Fetched != 0 || cur2 != cur {
		t.Fatalf("second pass read %d rows, cursor changed %v", again.Fetched, cur2 != cur)
	}
	// A file only touched is not read again.
	if err := os.Chtimes(files[0], time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	touched, cur := pullAll(t, c, cur)
	if touched.Fetched != 0 {
		t.Fatalf("touched file read again: %d rows", touched.Fetched)
	}
	// A new file is read, and only it.
	src, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	rows := bytes.Count(src, []byte("\r\n")) - 1
	if err := os.WriteFile(filepath.Join(sys.CSVDir, "cases_20991231.csv"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	added, cur := pullAll(t, c, cur)
	if added.Fetched == 0 || added.Fetched > rows {
		t.Fatalf("new file of %d rows: %d read", rows, added.Fetched)
	}
	// A re-export with other bytes is read again.
	if err := os.WriteFile(files[0], append(src, src[bytes.Index(src, []byte("\r\n"))+2:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	redone, _ := pullAll(t, c, cur)
	if redone.Fetched != added.Fetched {
		t.Fatalf("re-exported file: %d rows read, want %d", redone.Fetched, added.Fetched)
	}
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBadRowsAreQuarantined: each malformed row is a quarantine entry with
// its reason, field and original bytes; the good rows around it are read.
func TestBadRowsAreQuarantined(t *testing.T) {
	sys, layer := start(t)
	grid := sys.City.Regions[sys.City.Grids[0]].Code
	rect := sys.City.Regions[sys.City.Grids[0]].Rect
	lng, lat := city.WGS84ToGCJ02((rect.MinLng+rect.MaxLng)/2, (rect.MinLat+rect.MaxLat)/2)
	pos := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	good := func(id string) []string {
		return []string{id, "事件", "05", "01", "樊城区长虹路8号无照经营游商，流动摊点占道", "樊城区长虹路8号", pos(lng), pos(lat),
			"2025-03-01 09:30:00", "", "派遣", grid}
	}
	header := "案件编号,案件类型,大类代码,小类代码,问题描述,地址,经度,纬度,上报时间,结案时间,状态,网格编码\r\n"
	row := func(fields []string) string { return strings.Join(fields, ",") + "\r\n" }
	with := func(id string, col int, v string) string {
		f := good(id)
		f[col] = v
		return row(f)
	}
	tests := []struct {
		name   string
		line   string // UTF-8, written as GBK
		raw    []byte // bytes written as they are (after line)
		reason connectors.Reason
		field  string
		// kept: the row is stored without the field, which carries the
		// defect (reason, field): the position of a row with an address.
		kept bool
	}{
		{name: "good", line: row(good("202503010000001"))},
		{name: "too few fields", line: "202503010000002,事件,05\r\n", reason: "MALFORMED"},
		{name: "bare quote", line: "202503010000003,事件,05,01,他说\"停\"了,地址,112.1,32.0,2025-03-01 09:30:00,,派遣," + grid + "\r\n", reason: "MALFORMED"},
		{name: "unknown class", line: with("202503010000004", 3, "99"), reason: "UNKNOWN_CODE", field: "案件类型/大类代码/小类代码"},
		{name: "no report time", line: with("202503010000005", 8, ""), reason: "MISSING_FIELD", field: "上报时间"},
		{name: "bad report time", line: with("202503010000006", 8, "去年三月"), reason: "BAD_TIME", field: "上报时间"},
		{name: "outside China", line: with("202503010000007", 6, "-74.0060"), reason: "OUT_OF_CHINA", field: "经度/纬度", kept: true},
		{name: "longitude not a number", line: with("202503010000008", 6, "一百一十二"), reason: "BAD_COORDINATES", field: "经度/纬度", kept: true},
		{name: "unknown step", line: with("202503010000009", 10, "神游"), reason: "UNKNOWN_CODE", field: "状态"},
		{name: "no case number", line: with("", 0, ""), reason: "MISSING_FIELD", field: "案件编号"},
		{name: "description too long", line: with("202503010000010", 4, strings.Repeat("垃", 4001)), reason: "TEXT_TOO_LONG", field: "问题描述"},
		{name: "bytes that are not GBK", raw: []byte("202503010000011,\xff\xfe,05,01,x,y,112.1,32.0,2025-03-01 09:30:00,,派遣,1\r\n"), reason: "BAD_ENCODING", field: "案件类型"},
		{name: "good after the bad", line: row(good("202503010000012"))},
	}
	var file bytes.Buffer
	file.Write(gbk(t, header))
	for _, tc := range tests {
		if tc.line != "" {
			file.Write(gbk(t, tc.line))
		}
		file.Write(tc.raw)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cases_20250301.csv"), file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	all, _ := pullAll(t, newConnector(dir, layer), "")
	if all.Fetched != len(tests) {
		t.Fatalf("%d rows fetched, the file has %d", all.Fetched, len(tests))
	}
	stored := map[string]*canon.Case{}
	for _, r := range all.Records {
		stored[r.(*canon.Case).SourceID] = r.(*canon.Case)
	}
	qi := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.kept {
				id := strings.SplitN(tc.line, ",", 2)[0]
				cs := stored[id]
				if cs == nil || cs.Location != nil || cs.GridCode != grid || len(cs.FieldDefects) != 1 ||
					cs.FieldDefects[0].Reason != string(tc.reason) || cs.FieldDefects[0].Field != tc.field {
					t.Fatalf("row %s: want it stored without its position, with a %s/%s field defect: %+v", id, tc.reason, tc.field, cs)
				}
				return
			}
			if tc.reason == "" {
				id := strings.SplitN(tc.line, ",", 2)[0]
				cs := stored[id]
				if cs == nil {
					t.Fatalf("good row %s not stored", id)
				}
				if cs.Description != "樊城区长虹路8号无照经营游商，流动摊点占道" || cs.Status != canon.StatusDispatched || cs.GridCode != grid ||
					cs.SourceCategory.Code != "020501" {
					t.Fatalf("good row mapped to %+v", cs)
				}
				return
			}
			if qi >= len(all.Quarantine) {
				t.Fatalf("not quarantined")
			}
			q := all.Quarantine[qi]
			qi++
			want := tc.raw
			if tc.line != "" {
				want = gbk(t, strings.TrimRight(tc.line, "\r\n"))
			} else {
				want = bytes.TrimRight(want, "\r\n")
			}
			if q.Reason != tc.reason || (tc.field != "" && q.Field != tc.field) || !bytes.Equal(q.Raw, want) {
				t.Fatalf("quarantined as %s/%s (%s), raw %q; want %s/%s, raw %q", q.Reason, q.Field, q.Message, q.Raw, tc.reason, tc.field, want)
			}
		})
	}
}

// An export configured to backfill the Open311 source keys its cases as
// that source's and says so, so the sync engine stores them insert-only.
func TestBackfillsAnotherSource(t *testing.T) {
	sys, layer := start(t)
	c := csvdrop.New(csvdrop.Config{Name: "citymgmt-archive", Dir: sys.CSVDir, Layer: layer, Times: normalize.DefaultTimes(),
		Now: func() time.Time { return fetched }, Backfills: "citymgmt"})
	if d := c.Describe(); d.Name != "citymgmt-archive" || d.Backfills != "citymgmt" {
		t.Fatalf("description %+v", d)
	}
	all, _ := pullAll(t, c, "")
	if len(all.Records) == 0 {
		t.Fatal("nothing read")
	}
	for _, r := range all.Records {
		if src := r.(*canon.Case).Source; src != "citymgmt" {
			t.Fatalf("case %s keyed under %q, want citymgmt", r.(*canon.Case).SourceID, src)
		}
	}
}

// TestExportReplacedIsACursorRejection: files withdrawn from the old end
// of the export are retention, but a file the cursor read that is gone
// from the middle, or every file gone, means the export was replaced:
// connectors.ErrCursorRejected.
func TestExportReplacedIsACursorRejection(t *testing.T) {
	sys, layer := start(t)
	c := newConnector(sys.CSVDir, layer)
	_, cur := pullAll(t, c, "")
	files, _ := filepath.Glob(filepath.Join(sys.CSVDir, "cases_*.csv"))
	if len(files) < 4 {
		t.Fatalf("%d export files", len(files))
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pull(context.Background(), connectors.Request{Stream: csvdrop.Stream, Cursor: cur}); err != nil {
		t.Fatalf("the oldest file withdrawn: %v", err)
	}
	if err := os.Remove(files[len(files)/2]); err != nil {
		t.Fatal(err)
	}
	_, err := c.Pull(context.Background(), connectors.Request{Stream: csvdrop.Stream, Cursor: cur})
	if !errors.Is(err, connectors.ErrCursorRejected) {
		t.Fatalf("a file gone from the middle of the export: %v", err)
	}
	if !c.Describe().History {
		t.Fatal("the export is history: a complete re-pull must not delete what it no longer holds")
	}
}
