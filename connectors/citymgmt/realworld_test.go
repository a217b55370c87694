package citymgmt_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
)

// A small reference: 樊城区 with one community of two grids, and the
// compound 金色佳苑 in the second grid.
const (
	gridA = "420606001001001" // lng 112.10–112.15, lat 32.00–32.05
	gridB = "420606001001002" // lng 112.15–112.20, lat 32.00–32.05
)

func realWorldLayer(t *testing.T) *places.Layer {
	t.Helper()
	rect := func(x0, y0, x1, y1 float64) orb.Polygon {
		return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
	}
	raw, err := places.MarshalRegions([]canon.Region{
		{Code: "420600", Name: "襄阳市", Level: canon.LevelCity, Boundary: rect(111, 31, 113, 33)},
		{Code: "420606", Name: "樊城区", Level: canon.LevelDistrict, ParentCode: "420600", Boundary: rect(112, 31.9, 112.3, 32.1)},
		{Code: "420606001", Name: "汉江街道", Level: canon.LevelStreet, ParentCode: "420606", Boundary: rect(112.1, 32.0, 112.2, 32.05)},
		{Code: "420606001001", Name: "胜利社区", Level: canon.LevelCommunity, ParentCode: "420606001", Boundary: rect(112.1, 32.0, 112.2, 32.05)},
		{Code: gridA, Name: "一网格", Level: canon.LevelGrid, ParentCode: "420606001001", Boundary: rect(112.10, 32.0, 112.15, 32.05)},
		{Code: gridB, Name: "二网格", Level: canon.LevelGrid, ParentCode: "420606001001", Boundary: rect(112.15, 32.0, 112.20, 32.05)},
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := places.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// staticReference is an address source that never changes.
type staticReference struct{ ref canon.AddressReference }

func (s staticReference) AddressVersion(context.Context) (string, error) { return "1", nil }
func (s staticReference) AddressReference(context.Context) (canon.AddressReference, error) {
	return s.ref, nil
}

func realWorldDirectory(t *testing.T, l *places.Layer) *address.Directory {
	t.Helper()
	var ref canon.AddressReference
	for _, r := range l.Regions() {
		ref.Regions = append(ref.Regions, canon.RegionRef{Code: r.Code, Name: r.Name, Level: r.Level, ParentCode: r.ParentCode})
	}
	ref.Compounds = []canon.CompoundRef{{ID: "1", Name: "金色佳苑", GridCode: gridB, Buildings: []canon.BuildingRef{{ID: "11", Number: "1"}}}}
	d := address.NewDirectory(staticReference{ref}, time.Hour, nil)
	if _, err := d.Gazetteer(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// serveRequests answers requests.json and requests.xml with fixed bodies.
func serveRequests(t *testing.T, jsonBody, xmlBody string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/requests.json"):
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, jsonBody)
		case strings.HasSuffix(r.URL.Path, "/requests.xml"):
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, xmlBody)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/open311/v2"
}

// outcome is what became of one request.
type outcome struct {
	stored  bool
	reason  connectors.Reason // when quarantined
	field   string            // when quarantined
	grid    string
	loc     bool
	status  canon.CaseStatus
	updated string // RFC 3339, when stored
	address string
}

// pullOne reads the single request the endpoint serves in the format.
func pullOne(t *testing.T, endpoint, format string, l *places.Layer, d *address.Directory) (string, outcome) {
	t.Helper()
	c := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: endpoint, Format: format, Paging: citymgmt.PagingExtension,
		Datum: canon.WGS84, Layer: l, Addresses: d, Times: normalize.DefaultTimes(),
		Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }})
	b, err := c.Pull(context.Background(), connectors.Request{Stream: "requests"})
	if err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	if b.Fetched != 1 || len(b.Records)+len(b.Quarantine) != 1 {
		t.Fatalf("%s: fetched %d, %d records, %d quarantined", format, b.Fetched, len(b.Records), len(b.Quarantine))
	}
	if len(b.Quarantine) == 1 {
		q := b.Quarantine[0]
		return q.SourceID, outcome{reason: q.Reason, field: q.Field}
	}
	cs := b.Records[0].(*canon.Case)
	return cs.SourceID, outcome{stored: true, grid: cs.GridCode, loc: cs.Location != nil, status: cs.Status,
		updated: cs.UpdatedAt.UTC().Format(time.RFC3339), address: cs.Address}
}

// TestRealWorldRequestsReadAlikeInJSONAndXML: every form of the fields
// that the spec and real endpoints use (ids and codes as numbers or
// strings, coordinates as numbers, strings, empty or null, optional fields
// omitted or null, status in any case, unknown extra fields) reads alike in
// JSON and XML, and a quarantined request is named by its id.
func TestRealWorldRequestsReadAlikeInJSONAndXML(t *testing.T) {
	l := realWorldLayer(t)
	d := realWorldDirectory(t, l)
	const (
		requested = "2026-10-01T09:30:00+08:00"
		updated   = "2026-10-02T10:00:00+08:00"
	)
	// base is a complete request in JSON members and XML elements; each
	// case overrides or drops members.
	type field struct{ json, xml string }
	base := []struct {
		name string
		f    field
	}{
		{"service_request_id", field{`"202610010001"`, `202610010001`}},
		{"status", field{`"open"`, `open`}},
		{"service_name", field{`"井盖"`, `井盖`}},
		{"service_code", field{`"010101"`, `010101`}},
		{"description", field{`"井盖破损"`, `井盖破损`}},
		{"requested_datetime", field{`"` + requested + `"`, requested}},
		{"updated_datetime", field{`"` + updated + `"`, updated}},
		{"address", field{`"湖北省襄阳市樊城区胜利社区金色佳苑1栋"`, `湖北省襄阳市樊城区胜利社区金色佳苑1栋`}},
		{"lat", field{`32.02`, `32.02`}},
		{"long", field{`112.12`, `112.12`}},
	}
	const drop = "\x00drop"
	build := func(over map[string]field) (string, string) {
		var js, xs []string
		for _, b := range base {
			f := b.f
			if o, ok := over[b.name]; ok {
				f = o
			}
			if f.json != drop {
				js = append(js, fmt.Sprintf("%q:%s", b.name, f.json))
			}
			if f.xml != drop {
				xs = append(xs, fmt.Sprintf("<%s>%s</%s>", b.name, f.xml, b.name))
			}
		}
		for name, f := range over { // members the base lacks
			found := false
			for _, b := range base {
				found = found || b.name == name
			}
			if !found {
				js = append(js, fmt.Sprintf("%q:%s", name, f.json))
				xs = append(xs, fmt.Sprintf("<%s>%s</%s>", name, f.xml, name))
			}
		}
		return "[{" + strings.Join(js, ",") + "}]",
			`<?xml version="1.0" encoding="utf-8"?><service_requests><request>` + strings.Join(xs, "") + `</request></service_requests>`
	}
	stored := func(grid string, loc bool, st canon.CaseStatus, upd string) outcome {
		return outcome{stored: true, grid: grid, loc: loc, status: st, updated: upd, address: "湖北省襄阳市樊城区胜利社区金色佳苑1栋"}
	}
	updatedUTC := "2026-10-02T02:00:00Z"
	requestedUTC := "2026-10-01T01:30:00Z"
	tests := []struct {
		name string
		over map[string]field
		id   string
		want outcome
	}{
		{"complete", nil, "202610010001", stored(gridA, true, canon.StatusAccepted, updatedUTC)},
		{"id as a JSON number", map[string]field{"service_request_id": {`638344`, `638344`}}, "638344", stored(gridA, true, canon.StatusAccepted, updatedUTC)},
		{"service code as a JSON number", map[string]field{"service_code": {`10101`, `10101`}}, "202610010001", stored(gridA, true, canon.StatusAccepted, updatedUTC)},
		{"coordinates as strings", map[string]field{"lat": {`"32.02"`, `32.02`}, "long": {`" 112.12 "`, ` 112.12 `}}, "202610010001", stored(gridA, true, canon.StatusAccepted, updatedUTC)},
		{"updated_datetime absent", map[string]field{"updated_datetime": {drop, drop}}, "202610010001", stored(gridA, true, canon.StatusAccepted, requestedUTC)},
		{"updated_datetime null or empty", map[string]field{"updated_datetime": {`null`, ``}}, "202610010001", stored(gridA, true, canon.StatusAccepted, requestedUTC)},
		{"coordinates null: placed by the address", map[string]field{"lat": {`null`, ``}, "long": {`null`, ``}}, "202610010001", stored(gridB, false, canon.StatusAccepted, updatedUTC)},
		{"coordinates empty strings", map[string]field{"lat": {`""`, ``}, "long": {`""`, ``}}, "202610010001", stored(gridB, false, canon.StatusAccepted, updatedUTC)},
		{"coordinates absent", map[string]field{"lat": {drop, drop}, "long": {drop, drop}}, "202610010001", stored(gridB, false, canon.StatusAccepted, updatedUTC)},
		{"status in capitals", map[string]field{"status": {`"CLOSED"`, `CLOSED`}}, "202610010001", stored(gridA, true, canon.StatusClosed, updatedUTC)},
		{"status capitalised", map[string]field{"status": {`"Open"`, `Open`}}, "202610010001", stored(gridA, true, canon.StatusAccepted, updatedUTC)},
		{"optional fields null", map[string]field{"description": {`null`, ``}, "service_name": {`null`, ``}, "expected_datetime": {`null`, ``}}, "202610010001", stored(gridA, true, canon.StatusAccepted, updatedUTC)},
		{"unknown extra fields", map[string]field{"media_url": {`"http://example.org/1.jpg"`, `http://example.org/1.jpg`}, "zipcode": {`441000`, `441000`}, "address_id": {`545483`, `545483`}}, "202610010001", stored(gridA, true, canon.StatusAccepted, updatedUTC)},
		{"expected_datetime no time: kept without it", map[string]field{"expected_datetime": {`"soon"`, `soon`}}, "202610010001", stored(gridA, true, canon.StatusAccepted, updatedUTC)},
		{"no id", map[string]field{"service_request_id": {drop, drop}}, "", outcome{reason: "MISSING_FIELD", field: "service_request_id"}},
		{"coordinates no numbers, no address", map[string]field{"lat": {`"n/a"`, `n/a`}, "address": {drop, drop}}, "202610010001", outcome{reason: "BAD_COORDINATES", field: "lat/long"}},
		{"numeric id, bad time: the entry names the id", map[string]field{"service_request_id": {`638345`, `638345`}, "requested_datetime": {`"yesterday"`, `yesterday`}}, "638345", outcome{reason: "BAD_TIME", field: "requested_datetime"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			js, xs := build(tc.over)
			endpoint := serveRequests(t, js, xs)
			for _, format := range []string{"json", "xml"} {
				id, got := pullOne(t, endpoint, format, l, d)
				if id != tc.id || got != tc.want {
					t.Errorf("%s: id %q %+v, want %q %+v", format, id, got, tc.id, tc.want)
				}
			}
		})
	}
}

// TestSpecExampleIsNamedByItsID: the GeoReport v2 spec's own JSON example
// (numeric id, code and zipcode, nulls, a position in San Francisco)
// decodes; it is quarantined for its content, named by its id.
func TestSpecExampleIsNamedByItsID(t *testing.T) {
	l := realWorldLayer(t)
	body := `[{"service_request_id":638344,"status":"closed","status_notes":"Duplicate request.","service_name":"Sidewalk and Curb Issues",
		"service_code":6,"description":null,"agency_responsible":null,"service_notice":null,"requested_datetime":"2010-04-14T06:37:38-08:00",
		"updated_datetime":"2010-04-14T06:37:38-08:00","expected_datetime":"2010-04-15T06:37:38-08:00","address":"8TH AVE and J ST",
		"address_id":545483,"zipcode":94122,"lat":37.762221815,"long":-122.4651145,"media_url":"http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"}]`
	endpoint := serveRequests(t, body, "")
	id, got := pullOne(t, endpoint, "json", l, nil)
	if id != "638344" || got.stored || got.reason == "MALFORMED" {
		t.Fatalf("spec example: id %q %+v", id, got)
	}
}

// TestUndecodableRequestKeepsItsID: a request whose fields cannot be read
// at all (an object where the status belongs) is MALFORMED, and its entry
// still names the id.
func TestUndecodableRequestKeepsItsID(t *testing.T) {
	l := realWorldLayer(t)
	for _, body := range []string{
		`[{"service_request_id":77,"status":{"open":true},"requested_datetime":"2026-10-01T09:30:00+08:00"}]`,
		`[{"status":["open"],"service_request_id":"77"}]`,
	} {
		endpoint := serveRequests(t, body, "")
		id, got := pullOne(t, endpoint, "json", l, nil)
		if id != "77" || got.reason != "MALFORMED" {
			t.Errorf("%s: id %q %+v", body, id, got)
		}
	}
}

// TestAddressIsKeptAsReported: the stored address is the reported text,
// English words and province included.
func TestAddressIsKeptAsReported(t *testing.T) {
	l := realWorldLayer(t)
	for _, addr := range []string{"Room 1203, No.18 Renmin Road, Fancheng District, Xiangyang", "湖北省襄阳市樊城区人民路18号"} {
		body := `[{"service_request_id":"1","status":"open","service_code":"010101","requested_datetime":"2026-10-01T09:30:00+08:00",
			"address":"` + addr + `","lat":32.02,"long":112.12}]`
		endpoint := serveRequests(t, body, "")
		_, got := pullOne(t, endpoint, "json", l, nil)
		if !got.stored || got.address != addr {
			t.Errorf("%q stored as %+v", addr, got)
		}
	}
}

// TestBadPositionBesideAnAddressIsAFieldDefect: coordinates that are no
// position do not lose a request that has an address: it is stored
// without them, placed by its address, and carries the field defect.
func TestBadPositionBesideAnAddressIsAFieldDefect(t *testing.T) {
	l := realWorldLayer(t)
	d := realWorldDirectory(t, l)
	for _, pos := range []string{`"lat":0,"long":0`, `"lat":"n/a","long":"112.12"`, `"lat":48.85,"long":2.35`} {
		body := `[{"service_request_id":"9","status":"open","service_code":"010101","requested_datetime":"2026-10-01T09:30:00+08:00",
			"address":"樊城区胜利社区金色佳苑1栋",` + pos + `}]`
		c := citymgmt.New(citymgmt.Config{Name: "citymgmt", Endpoint: serveRequests(t, body, ""), Paging: citymgmt.PagingExtension,
			Datum: canon.WGS84, Layer: l, Addresses: d, Times: normalize.DefaultTimes()})
		b, err := c.Pull(context.Background(), connectors.Request{Stream: "requests"})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Records) != 1 || len(b.Quarantine) != 0 {
			t.Fatalf("%s: %d stored, %d quarantined", pos, len(b.Records), len(b.Quarantine))
		}
		cs := b.Records[0].(*canon.Case)
		if cs.Location != nil || cs.GridCode != gridB || len(cs.FieldDefects) != 1 || cs.FieldDefects[0].Field != "lat/long" || len(cs.FieldDefects[0].Raw) == 0 {
			t.Fatalf("%s: location %v grid %s defects %+v", pos, cs.Location, cs.GridCode, cs.FieldDefects)
		}
	}
}
