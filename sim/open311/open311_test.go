package open311_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/sim/open311"
)

type fixture struct {
	c     *city.City
	srv   *httptest.Server
	clock *city.ManualClock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	clock := city.NewManualClock(c.Reference())
	srv := httptest.NewServer(open311.New(c, open311.Options{Clock: clock}))
	t.Cleanup(srv.Close)
	return &fixture{c, srv, clock}
}

func (f *fixture) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The client-side view of a request, decoded independently of the
// server's types, with the spec's element names.
type request struct {
	ServiceRequestID  string  `json:"service_request_id" xml:"service_request_id"`
	Status            string  `json:"status" xml:"status"`
	StatusNotes       string  `json:"status_notes" xml:"status_notes"`
	ServiceName       string  `json:"service_name" xml:"service_name"`
	ServiceCode       string  `json:"service_code" xml:"service_code"`
	Description       string  `json:"description" xml:"description"`
	AgencyResponsible string  `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string  `json:"service_notice" xml:"service_notice"`
	RequestedDatetime string  `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string  `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  string  `json:"expected_datetime" xml:"expected_datetime"`
	Address           string  `json:"address" xml:"address"`
	AddressID         string  `json:"address_id" xml:"address_id"`
	Zipcode           string  `json:"zipcode" xml:"zipcode"`
	Lat               float64 `json:"lat" xml:"lat"`
	Long              float64 `json:"long" xml:"long"`
	MediaURL          string  `json:"media_url" xml:"media_url"`
	Ext               *struct {
		WorkflowState string `json:"workflow_state" xml:"workflow_state"`
		Tier          string `json:"tier" xml:"tier"`
		GridCode      string `json:"grid_code" xml:"grid_code"`
		Deadline      string `json:"deadline" xml:"deadline"`
		History       []struct {
			State string `json:"state" xml:"state"`
			At    string `json:"at" xml:"at"`
			Actor string `json:"actor" xml:"actor"`
			Note  string `json:"note" xml:"note"`
		} `json:"history" xml:"history>step"`
	} `json:"extended_attributes" xml:"extended_attributes"`
}

type requestsXML struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []request `xml:"request"`
}

func (f *fixture) requests(t *testing.T, query string) (j, x []request) {
	t.Helper()
	code, body := f.get(t, "/open311/v2/requests.json?"+query)
	if code != 200 {
		t.Fatalf("requests.json?%s: HTTP %d %s", query, code, body)
	}
	if err := json.Unmarshal(body, &j); err != nil {
		t.Fatal(err)
	}
	code, body = f.get(t, "/open311/v2/requests.xml?"+query)
	if code != 200 {
		t.Fatalf("requests.xml?%s: HTTP %d", query, code)
	}
	var doc requestsXML
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return j, doc.Requests
}

func TestServices(t *testing.T) {
	f := newFixture(t)
	type service struct {
		ServiceCode string `json:"service_code" xml:"service_code"`
		ServiceName string `json:"service_name" xml:"service_name"`
		Description string `json:"description" xml:"description"`
		Metadata    bool   `json:"metadata" xml:"metadata"`
		Type        string `json:"type" xml:"type"`
		Keywords    string `json:"keywords" xml:"keywords"`
		Group       string `json:"group" xml:"group"`
	}
	_, jb := f.get(t, "/open311/v2/services.json")
	_, xb := f.get(t, "/open311/v2/services.xml")
	var js []service
	var xs struct {
		XMLName  xml.Name  `xml:"services"`
		Services []service `xml:"service"`
	}
	if err := json.Unmarshal(jb, &js); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(xb, &xs); err != nil {
		t.Fatal(err)
	}
	if len(js) != 48 || !reflect.DeepEqual(js, xs.Services) {
		t.Fatalf("%d JSON services, XML differs: %v", len(js), !reflect.DeepEqual(js, xs.Services))
	}
	want := map[string]string{"010101": "上水井盖", "020501": "无照经营游商", "020102": "暴露垃圾", "020404": "下水道堵塞或破损", "060301": ""}
	for _, s := range js {
		if n, ok := want[s.ServiceCode]; ok && n != s.ServiceName {
			t.Errorf("%s is %s, want %s", s.ServiceCode, s.ServiceName, n)
		}
		delete(want, s.ServiceCode)
	}
	delete(want, "060301")
	if len(want) > 0 {
		t.Errorf("missing services %v", want)
	}
	tests := []struct {
		path string
		code int
	}{
		{"/open311/v2/services/020501.json", 200},
		{"/open311/v2/services/020501.xml", 200},
		{"/open311/v2/services/999999.json", 404},
		{"/open311/v2/services.txt", 404},
	}
	for _, tt := range tests {
		if code, b := f.get(t, tt.path); code != tt.code {
			t.Errorf("%s: HTTP %d, want %d: %s", tt.path, code, tt.code, b)
		}
	}
	_, b := f.get(t, "/open311/v2/services/020501.xml")
	var def struct {
		XMLName    xml.Name `xml:"service_definition"`
		Code       string   `xml:"service_code"`
		Attributes []struct {
			Code   string `xml:"code"`
			Values []struct {
				Key string `xml:"key"`
			} `xml:"values>value"`
		} `xml:"attributes>attribute"`
	}
	if err := xml.Unmarshal(b, &def); err != nil || def.Code != "020501" || len(def.Attributes) == 0 || len(def.Attributes[0].Values) == 0 {
		t.Errorf("service definition: %v %+v", err, def)
	}
}

func TestRequestsFormatsAgree(t *testing.T) {
	f := newFixture(t)
	tests := []string{
		"extensions=true",
		"",
		"status=open&extensions=true",
		"start_date=2025-06-01T00:00:00%2B08:00&end_date=2025-06-10T00:00:00%2B08:00&extensions=true",
		"service_code=020501,020502",
		"updated_after=2025-01-01T00:00:00%2B08:00&extensions=true",
	}
	for _, q := range tests {
		t.Run(q, func(t *testing.T) {
			j, x := f.requests(t, q)
			if len(j) == 0 {
				t.Fatal("no requests")
			}
			if !reflect.DeepEqual(j, x) {
				for i := range j {
					if !reflect.DeepEqual(j[i], x[i]) {
						t.Fatalf("JSON and XML differ at %d:\n%+v\n%+v", i, j[i], x[i])
					}
				}
				t.Fatalf("JSON %d requests, XML %d", len(j), len(x))
			}
			if len(j) > open311.MaxRequests {
				t.Errorf("%d requests, max %d", len(j), open311.MaxRequests)
			}
			for _, r := range j {
				if r.Status != "open" && r.Status != "closed" {
					t.Errorf("%s: status %q", r.ServiceRequestID, r.Status)
				}
				if strings.Contains(q, "extensions") && (r.Ext == nil || r.Ext.WorkflowState == "" || len(r.Ext.History) == 0 || len(r.Ext.GridCode) != 15) {
					t.Errorf("%s: extensions missing", r.ServiceRequestID)
				}
				if !strings.Contains(q, "extensions") && r.Ext != nil {
					t.Errorf("%s: extensions without extensions=true", r.ServiceRequestID)
				}
				if strings.Contains(q, "status=open") && r.Status != "open" {
					t.Errorf("%s: status %s with status=open", r.ServiceRequestID, r.Status)
				}
				if strings.Contains(q, "service_code") && r.ServiceCode != "020501" && r.ServiceCode != "020502" {
					t.Errorf("%s: service_code %s filtered out", r.ServiceRequestID, r.ServiceCode)
				}
			}
		})
	}
}

func TestDefaultWindow(t *testing.T) {
	f := newFixture(t)
	j, _ := f.requests(t, "")
	now := f.clock.Now()
	prev := now
	for _, r := range j {
		ts, err := time.Parse(time.RFC3339, r.RequestedDatetime)
		if err != nil {
			continue // a time-format defect
		}
		if ts.Before(now.Add(-open311.DefaultWindow)) || ts.After(now) {
			t.Errorf("%s requested %s outside the last 90 days", r.ServiceRequestID, r.RequestedDatetime)
		}
		if ts.After(prev) {
			t.Errorf("%s: not newest first", r.ServiceRequestID)
		}
		prev = ts
		if !strings.HasSuffix(r.RequestedDatetime, "+08:00") {
			t.Errorf("%s: %s without +08:00", r.ServiceRequestID, r.RequestedDatetime)
		}
	}
	// GCJ-02 in the city, not WGS-84: the published point is offset.
	c := f.c
	c.RLock()
	defer c.RUnlock()
	i := c.CityIndex(j[0].ServiceRequestID)
	cs := c.CityCases[i]
	if d := (j[0].Long - cs.Lng) * 1e5; cs.Def == city.KNone && (d < 10 || d > 2000) {
		t.Errorf("longitude offset %.0f ×1e-5°, want the GCJ-02 shift", d)
	}
}

func TestUpdatedAfterWalk(t *testing.T) {
	f := newFixture(t)
	// Walk with the keyset extension; each record comes once (plus its
	// injected duplicate), and the walk ends.
	seen := map[string]int{}
	after, afterID := "2000-01-01T00:00:00+08:00", ""
	for pages := 0; ; pages++ {
		q := "updated_after=" + url.QueryEscape(after)
		if afterID != "" {
			q += "&after_id=" + afterID
		}
		j, _ := f.requests(t, q)
		for _, r := range j {
			seen[r.ServiceRequestID]++
		}
		if len(j) < open311.MaxRequests {
			break
		}
		last := j[len(j)-1]
		after, afterID = last.UpdatedDatetime, last.ServiceRequestID
		if pages > 100 {
			t.Fatal("walk does not end")
		}
	}
	n := f.c.Counts()[city.CityRequests]
	dups := 0
	for _, k := range seen {
		dups += k - 1
	}
	if len(seen) != n.Records {
		t.Errorf("walk saw %d requests, want %d", len(seen), n.Records)
	}
	if dups > n.Duplicates {
		t.Errorf("%d repeated deliveries, only %d injected duplicates", dups, n.Duplicates)
	}
	// After live changes, the walk from the reference returns exactly the
	// changed requests.
	changed := map[int32]bool{}
	for range 100 {
		f.clock.Advance(2 * time.Second)
		if ch := f.c.Tick(f.clock.Now()); ch.Entity == city.CityRequests {
			changed[ch.Index] = true
		}
	}
	j, _ := f.requests(t, "updated_after="+url.QueryEscape(f.c.Reference().Format(time.RFC3339)))
	if len(j) != len(changed) {
		t.Errorf("%d requests updated after the reference, %d changed", len(j), len(changed))
	}
}

func TestSingleRequestAndErrors(t *testing.T) {
	f := newFixture(t)
	j, _ := f.requests(t, "extensions=true")
	id := j[0].ServiceRequestID
	for _, format := range []string{"json", "xml"} {
		code, b := f.get(t, "/open311/v2/requests/"+id+"."+format+"?extensions=true")
		if code != 200 || !bytes.Contains(b, []byte(id)) {
			t.Errorf("requests/%s.%s: HTTP %d", id, format, code)
		}
	}
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/open311/v2/requests/000000000000000.json", 404, `"code":404`},
		{"/open311/v2/requests/000000000000000.xml", 404, "<errors><error><code>404</code>"},
		{"/open311/v2/requests.json?status=pending", 400, `"description"`},
		{"/open311/v2/requests.json?start_date=yesterday", 400, `"code":400`},
	}
	for _, tt := range tests {
		code, b := f.get(t, tt.path)
		if code != tt.code || !strings.Contains(string(b), tt.body) {
			t.Errorf("%s: HTTP %d %s, want %d with %s", tt.path, code, b, tt.code, tt.body)
		}
	}
}

func TestCSVExport(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	before := f.clock.Now().Add(-open311.DefaultWindow)
	paths, err := open311.WriteCSV(context.Background(), f.c, dir, before)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(paths) || len(paths) < 300 {
		t.Fatalf("%d files listed, %d written", len(entries), len(paths))
	}
	rows := 0
	dec := simplifiedchinese.GBK.NewDecoder()
	for _, p := range paths {
		name := filepath.Base(p)
		if !strings.HasPrefix(name, "cases_") || !strings.HasSuffix(name, ".csv") {
			t.Fatalf("file %s", name)
		}
		raw, _ := os.ReadFile(p)
		if !bytes.Contains(raw, []byte("\r\n")) {
			t.Fatalf("%s: not CRLF", name)
		}
		text, err := dec.Bytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(text)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(recs[0], open311.CSVHeader()) {
			t.Fatalf("%s: header %v", name, recs[0])
		}
		day := strings.TrimSuffix(strings.TrimPrefix(name, "cases_"), ".csv")
		for _, r := range recs[1:] {
			if r[1] != "部件" && r[1] != "事件" {
				t.Errorf("%s: 案件类型 %q", name, r[1])
			}
			if r[8] != "" && len(r[8]) == 19 && strings.ReplaceAll(r[8][:10], "-", "") != day {
				t.Errorf("%s: 上报时间 %s on another day", name, r[8])
			}
			if len(r[11]) != 15 {
				t.Errorf("%s: 网格编码 %q", name, r[11])
			}
		}
		rows += len(recs) - 1
	}
	f.c.RLock()
	lo, hi := f.c.CityByRequested(-1<<62, time.Date(before.Year(), before.Month(), before.Day(), 0, 0, 0, 0, city.CST).Unix()-1)
	want := hi - lo
	for i := lo; i < hi; i++ {
		if f.c.CityCases[i].Def == city.KDuplicate {
			want++
		}
	}
	f.c.RUnlock()
	if rows != want {
		t.Errorf("%d rows, want %d", rows, want)
	}
	// Rewriting is idempotent and leaves no temporary files.
	if _, err := open311.WriteCSV(context.Background(), f.c, dir, before); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadDir(dir)
	if len(again) != len(entries) {
		t.Errorf("%d files after rewrite, %d before", len(again), len(entries))
	}
}

func TestDeterministicResponses(t *testing.T) {
	a, b := newFixture(t), newFixture(t)
	for _, q := range []string{"requests.json?extensions=true", "requests.xml?extensions=true&start_date=2025-07-01", "services.xml"} {
		_, x := a.get(t, "/open311/v2/"+q)
		_, y := b.get(t, "/open311/v2/"+q)
		if !bytes.Equal(x, y) || len(x) < 100 {
			t.Errorf("%s: responses differ between two cities of the same seed", q)
		}
	}
	before := a.clock.Now().Add(-open311.DefaultWindow)
	da, db := t.TempDir(), t.TempDir()
	pa, err := open311.WriteCSV(context.Background(), a.c, da, before)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := open311.WriteCSV(context.Background(), b.c, db, before)
	if err != nil {
		t.Fatal(err)
	}
	if len(pa) != len(pb) {
		t.Fatalf("%d and %d CSV files", len(pa), len(pb))
	}
	for i := range pa {
		x, _ := os.ReadFile(pa[i])
		y, _ := os.ReadFile(pb[i])
		if filepath.Base(pa[i]) != filepath.Base(pb[i]) || !bytes.Equal(x, y) {
			t.Fatalf("CSV %s differs", filepath.Base(pa[i]))
		}
	}
}
