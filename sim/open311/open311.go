// Package open311 simulates the digital city-management system (数字城管)
// as an Open311 GeoReport v2 server, per docs/sources.md §3: services,
// service definitions, requests and single requests in JSON and XML, the
// spec's date/status/service_code filters and defaults (last 90 days on the
// simulator clock, at most 1000 requests, newest first), the hub-side
// updated_after/after_id extension for incremental reads, and the
// extended_attributes (workflow_state, tier, grid_code, deadline, history)
// returned with extensions=true; SetPlain turns the extensions off.
// Coordinates are GCJ-02, as the real system
// publishes them.
//
// The package also writes the system's daily GBK CSV export (csv.go).
package open311

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ywtg/hub/sim/city"
)

// Defaults of the GeoReport v2 spec.
const (
	DefaultWindow = 90 * 24 * time.Hour
	MaxRequests   = 1000
)

// Options configures a Server.
type Options struct {
	Clock  city.Clock    // default: wall clock starting at the city's reference
	Window time.Duration // default DefaultWindow
	Max    int           // default MaxRequests
}

// Server is the Open311 endpoint as an http.Handler.
type Server struct {
	c     *city.City
	opts  Options
	mux   *http.ServeMux
	down  atomic.Bool
	plain atomic.Bool
}

// New returns a server over the city.
func New(c *city.City, opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = city.NewWallClock(c.Reference())
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Max <= 0 {
		opts.Max = MaxRequests
	}
	s := &Server{c: c, opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /open311/v2/{file}", s.top)
	s.mux.HandleFunc("GET /open311/v2/services/{file}", s.serviceDefinition)
	s.mux.HandleFunc("GET /open311/v2/requests/{file}", s.request)
	return s
}

// SetDown makes every request answer HTTP 503 while down is true.
func (s *Server) SetDown(down bool) { s.down.Store(down) }

// SetPlain makes the server a plain GeoReport v2 endpoint while plain is
// true: the updated_after/after_id and extensions parameters are ignored,
// as a server without the extension ignores unknown parameters, so
// requests are read by start_date/end_date and carry no
// extended_attributes.
func (s *Server) SetPlain(plain bool) { s.plain.Store(plain) }

// plainQuery drops the extension parameters when the server is plain.
func (s *Server) plainQuery(q url.Values) url.Values {
	if s.plain.Load() {
		q.Del("updated_after")
		q.Del("after_id")
		q.Del("extensions")
	}
	return q
}

// ServeHTTP routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.down.Load() {
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// splitFormat splits "name.json" into name and format.
func splitFormat(file string) (string, string, bool) {
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return "", "", false
	}
	f := file[i+1:]
	return file[:i], f, f == "json" || f == "xml"
}

func (s *Server) top(w http.ResponseWriter, r *http.Request) {
	name, format, ok := splitFormat(r.PathValue("file"))
	if !ok {
		writeError(w, "json", http.StatusNotFound, "unknown format")
		return
	}
	switch name {
	case "services":
		s.services(w, format)
	case "requests":
		s.requests(w, r, format)
	default:
		writeError(w, format, http.StatusNotFound, "not found")
	}
}

// ServiceJSON is a service of the service list.
type ServiceJSON struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	ServiceName string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

type servicesXML struct {
	XMLName  xml.Name      `xml:"services"`
	Services []ServiceJSON `xml:"service"`
}

func (s *Server) services(w http.ResponseWriter, format string) {
	var list []ServiceJSON
	for _, sv := range city.Services() {
		list = append(list, ServiceJSON{ServiceCode: sv.Code, ServiceName: sv.Name, Description: sv.Description, Metadata: true,
			Type: "realtime", Keywords: sv.Keywords, Group: sv.Group})
	}
	if format == "xml" {
		writeXML(w, http.StatusOK, servicesXML{Services: list})
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// AttributeJSON is an attribute of a service definition.
type AttributeJSON struct {
	Variable            bool        `json:"variable" xml:"variable"`
	Code                string      `json:"code" xml:"code"`
	Datatype            string      `json:"datatype" xml:"datatype"`
	Required            bool        `json:"required" xml:"required"`
	DatatypeDescription string      `json:"datatype_description" xml:"datatype_description"`
	Order               int         `json:"order" xml:"order"`
	Description         string      `json:"description" xml:"description"`
	Values              []ValueJSON `json:"values" xml:"values>value"`
}

// ValueJSON is a value of a list attribute.
type ValueJSON struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

// DefinitionJSON is a service definition.
type DefinitionJSON struct {
	XMLName     xml.Name        `json:"-" xml:"service_definition"`
	ServiceCode string          `json:"service_code" xml:"service_code"`
	Attributes  []AttributeJSON `json:"attributes" xml:"attributes>attribute"`
}

var placeValues = []ValueJSON{{"1", "道路"}, {"2", "人行道"}, {"3", "小区"}, {"4", "广场"}, {"5", "绿地"}, {"6", "水域"}}

func (s *Server) serviceDefinition(w http.ResponseWriter, r *http.Request) {
	code, format, ok := splitFormat(r.PathValue("file"))
	if !ok {
		writeError(w, "json", http.StatusNotFound, "unknown format")
		return
	}
	for _, sv := range city.Services() {
		if sv.Code == code {
			d := DefinitionJSON{ServiceCode: code, Attributes: []AttributeJSON{
				{Variable: true, Code: "place_type", Datatype: "singlevaluelist", Required: false, DatatypeDescription: "发生场所",
					Order: 1, Description: "问题发生的场所类型", Values: placeValues},
				{Variable: true, Code: "severity", Datatype: "number", Required: false, DatatypeDescription: "1-3",
					Order: 2, Description: "严重程度（1 一般，2 较重，3 严重）"},
			}}
			if format == "xml" {
				writeXML(w, http.StatusOK, d)
			} else {
				writeJSON(w, http.StatusOK, d)
			}
			return
		}
	}
	writeError(w, format, http.StatusNotFound, "service_code "+code+" not found")
}

// RequestJSON is a service request as GeoReport v2 publishes it; the same
// struct encodes JSON and XML.
type RequestJSON struct {
	XMLName            xml.Name      `json:"-" xml:"request"`
	ServiceRequestID   string        `json:"service_request_id" xml:"service_request_id"`
	Status             string        `json:"status" xml:"status"`
	StatusNotes        string        `json:"status_notes" xml:"status_notes"`
	ServiceName        string        `json:"service_name" xml:"service_name"`
	ServiceCode        string        `json:"service_code" xml:"service_code"`
	Description        string        `json:"description" xml:"description"`
	AgencyResponsible  string        `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice      string        `json:"service_notice" xml:"service_notice"`
	RequestedDatetime  string        `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime    string        `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime   string        `json:"expected_datetime" xml:"expected_datetime"`
	Address            string        `json:"address" xml:"address"`
	AddressID          string        `json:"address_id" xml:"address_id"`
	Zipcode            string        `json:"zipcode" xml:"zipcode"`
	Lat                float64       `json:"lat" xml:"lat"`
	Long               float64       `json:"long" xml:"long"`
	MediaURL           string        `json:"media_url" xml:"media_url"`
	ExtendedAttributes *ExtendedJSON `json:"extended_attributes,omitempty" xml:"extended_attributes,omitempty"`
}

// ExtendedJSON holds the extension fields (extensions=true).
type ExtendedJSON struct {
	WorkflowState string     `json:"workflow_state" xml:"workflow_state"`
	Tier          string     `json:"tier" xml:"tier"`
	GridCode      string     `json:"grid_code" xml:"grid_code"`
	Deadline      string     `json:"deadline" xml:"deadline"`
	History       []StepJSON `json:"history" xml:"history>step"`
	// The reporter of a 12345 hotline or public report (name and phone,
	// the dwelling when given); absent for a supervisor's report.
	ReporterName    string `json:"reporter_name,omitempty" xml:"reporter_name,omitempty"`
	ReporterPhone   string `json:"reporter_phone,omitempty" xml:"reporter_phone,omitempty"`
	ReporterAddress string `json:"reporter_address,omitempty" xml:"reporter_address,omitempty"`
}

// StepJSON is one history entry.
type StepJSON struct {
	State string `json:"state" xml:"state"`
	At    string `json:"at" xml:"at"`
	Actor string `json:"actor" xml:"actor"`
	Note  string `json:"note" xml:"note"`
}

type requestsXML struct {
	XMLName  xml.Name      `xml:"service_requests"`
	Requests []RequestJSON `xml:"request"`
}

func rfc3339(t int64) string {
	if t == 0 {
		return ""
	}
	return time.Unix(t, 0).In(city.CST).Format(time.RFC3339)
}

func toJSON(r city.CityRequestRec, ext bool) RequestJSON {
	out := RequestJSON{ServiceRequestID: r.ID, Status: "closed", StatusNotes: r.StatusNotes, ServiceName: r.ServiceName,
		ServiceCode: r.ServiceCode, Description: r.Description, AgencyResponsible: r.Agency,
		UpdatedDatetime: rfc3339(r.Updated), ExpectedDatetime: rfc3339(r.Expected), Address: r.Address,
		Zipcode: "441000", Lat: r.Lat, Long: r.Long, MediaURL: r.MediaURL}
	if r.Open {
		out.Status = "open"
	}
	switch r.RequestedKind {
	case city.KNone:
		out.RequestedDatetime = rfc3339(r.Requested)
	case city.KTimeNoZone:
		out.RequestedDatetime = time.Unix(r.Requested, 0).In(city.CST).Format(time.DateTime)
	case city.KTimeEpochMs:
		out.RequestedDatetime = strconv.FormatInt(r.Requested*1000, 10)
	}
	if ext {
		e := &ExtendedJSON{WorkflowState: r.State, Tier: r.Tier, GridCode: r.GridCode, Deadline: rfc3339(r.Expected),
			ReporterName: r.ReporterName, ReporterPhone: r.ReporterPhone, ReporterAddress: r.ReporterAddress}
		e.History = make([]StepJSON, len(r.History))
		for i, h := range r.History {
			e.History[i] = StepJSON{State: h.State, At: rfc3339(h.At), Actor: h.Actor, Note: h.Note}
		}
		out.ExtendedAttributes = e
	}
	return out
}

// ParseDate reads an Open311 date parameter: RFC 3339 (W3C), or a date
// and time without zone (taken as Asia/Shanghai), or a bare date.
func ParseDate(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateTime, time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, city.CST); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", v)
}

func (s *Server) requests(w http.ResponseWriter, r *http.Request, format string) {
	q := s.plainQuery(r.URL.Query())
	ext := q.Get("extensions") == "true"
	var statuses, codes []string
	if v := q.Get("status"); v != "" {
		statuses = strings.Split(v, ",")
		for _, st := range statuses {
			if st != "open" && st != "closed" {
				writeError(w, format, http.StatusBadRequest, "status must be open or closed")
				return
			}
		}
	}
	if v := q.Get("service_code"); v != "" {
		codes = strings.Split(v, ",")
	}
	match := func(rec *city.CityRequestRec) bool {
		if statuses != nil {
			st := "closed"
			if rec.Open {
				st = "open"
			}
			if !slices.Contains(statuses, st) {
				return false
			}
		}
		return codes == nil || slices.Contains(codes, rec.ServiceCode)
	}
	out, status, msg := s.selectRequests(q, ext, match)
	if status != 0 {
		writeError(w, format, status, msg)
		return
	}
	if format == "xml" {
		writeXML(w, http.StatusOK, requestsXML{Requests: out})
		return
	}
	if out == nil {
		out = []RequestJSON{}
	}
	writeJSON(w, http.StatusOK, out)
}

// selectRequests picks the requests a query asks for under the city's read
// lock (released before the response is written, so a slow client never
// holds up live changes). A non-zero status reports a bad parameter.
func (s *Server) selectRequests(q url.Values, ext bool, match func(*city.CityRequestRec) bool) (out []RequestJSON, status int, msg string) {
	s.c.RLock()
	defer s.c.RUnlock()
	emit := func(i int32) bool {
		rec := s.c.CityRequest(int(i))
		if match(&rec) {
			out = append(out, toJSON(rec, ext))
		}
		return len(out) < s.opts.Max
	}
	switch {
	case q.Get("service_request_id") != "":
		for _, id := range strings.Split(q.Get("service_request_id"), ",") {
			if i := s.c.CityIndex(strings.TrimSpace(id)); i >= 0 {
				emit(int32(i))
			}
		}
	case q.Get("updated_after") != "":
		t, err := ParseDate(q.Get("updated_after"))
		if err != nil {
			return nil, http.StatusBadRequest, "updated_after: " + err.Error()
		}
		afterIdx := int32(-1)
		if v := q.Get("after_id"); v != "" {
			i := s.c.CityIndex(v)
			if i < 0 {
				return nil, http.StatusBadRequest, "after_id: unknown service_request_id"
			}
			afterIdx = int32(i)
		}
		_, idx := s.c.Page(city.CityRequests, t.Unix(), afterIdx, 0, 1<<31-1)
		for _, i := range idx {
			if !emit(i) {
				break
			}
		}
	default:
		now := s.opts.Clock.Now()
		end, start := now, now.Add(-s.opts.Window)
		var err error
		if v := q.Get("end_date"); v != "" {
			if end, err = ParseDate(v); err != nil {
				return nil, http.StatusBadRequest, "end_date: " + err.Error()
			}
			start = end.Add(-s.opts.Window)
		}
		if v := q.Get("start_date"); v != "" {
			if start, err = ParseDate(v); err != nil {
				return nil, http.StatusBadRequest, "start_date: " + err.Error()
			}
			if q.Get("end_date") == "" {
				end = now
			}
		}
		lo, hi := s.c.CityByRequested(start.Unix(), end.Unix())
	scan:
		for i := hi - 1; i >= lo; i-- {
			n := 1
			if s.c.CityCases[i].Def == city.KDuplicate {
				n = 2
			}
			for range n {
				if !emit(int32(i)) {
					break scan
				}
			}
		}
	}
	return out, 0, ""
}

func (s *Server) request(w http.ResponseWriter, r *http.Request) {
	id, format, ok := splitFormat(r.PathValue("file"))
	if !ok {
		writeError(w, "json", http.StatusNotFound, "unknown format")
		return
	}
	s.c.RLock()
	i := s.c.CityIndex(id)
	var rec city.CityRequestRec
	if i >= 0 {
		rec = s.c.CityRequest(i)
	}
	s.c.RUnlock()
	if i < 0 {
		writeError(w, format, http.StatusNotFound, "service_request_id "+id+" not found")
		return
	}
	out := []RequestJSON{toJSON(rec, s.plainQuery(r.URL.Query()).Get("extensions") == "true")}
	if format == "xml" {
		writeXML(w, http.StatusOK, requestsXML{Requests: out})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// ErrorJSON is an Open311 error.
type ErrorJSON struct {
	XMLName     xml.Name `json:"-" xml:"error"`
	Code        int      `json:"code" xml:"code"`
	Description string   `json:"description" xml:"description"`
}

type errorsXML struct {
	XMLName xml.Name    `xml:"errors"`
	Errors  []ErrorJSON `xml:"error"`
}

func writeError(w http.ResponseWriter, format string, status int, msg string) {
	e := []ErrorJSON{{Code: status, Description: msg}}
	if format == "xml" {
		writeXML(w, status, errorsXML{Errors: e})
		return
	}
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeXML(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
