// Package partner serves the hub's data to partner systems outside
// GraphQL: the Open311 GeoReport v2 outbound endpoint over the unified
// cases of every source, and bulk exports (NDJSON, CSV) that carry the
// change-log position of their snapshot. Requests come through the HTTP layer's
// authentication; reads carry the caller's jurisdiction, so a partner key
// sees its region's cases only.
//
// partner imports the store, the principals and canon.
package partner

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

// maxRequests is the GeoReport v2 cap on one response.
const maxRequests = 1000

// defaultWindow is the spec's default span of requests without dates.
const defaultWindow = 90 * 24 * time.Hour

var cst = time.FixedZone("CST", 8*3600)

// Open311 is the outbound GeoReport v2 endpoint (mounted at /open311/v2/).
type Open311 struct {
	store *store.Store
	log   *slog.Logger
	mux   *http.ServeMux
	now   func() time.Time
}

// NewOpen311 returns the endpoint over st.
func NewOpen311(st *store.Store, log *slog.Logger) *Open311 {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Open311{store: st, log: log, mux: http.NewServeMux(), now: time.Now}
	o.mux.HandleFunc("GET /open311/v2/{file}", o.top)
	o.mux.HandleFunc("GET /open311/v2/requests/{file}", o.single)
	return o
}

// ServeHTTP checks the caller and routes the request.
func (o *Open311) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := auth.From(r.Context())
	format := "json"
	if strings.HasSuffix(r.URL.Path, ".xml") {
		format = "xml"
	}
	if p == nil {
		writeError(w, format, http.StatusUnauthorized, "authentication required")
		return
	}
	if p.Role == auth.Partner && !p.HasScope("cases:read") {
		writeError(w, format, http.StatusForbidden, "the key needs the scope cases:read")
		return
	}
	s := store.Scope{}
	if p.Role == auth.Staff || p.Role == auth.Partner {
		s.RegionCode = p.RegionCode
	}
	o.mux.ServeHTTP(w, r.WithContext(store.WithScope(r.Context(), s)))
}

func splitFormat(file string) (string, string, bool) {
	name, f, ok := strings.Cut(file, ".")
	return name, f, ok && (f == "json" || f == "xml")
}

func (o *Open311) top(w http.ResponseWriter, r *http.Request) {
	name, format, ok := splitFormat(r.PathValue("file"))
	if !ok {
		writeError(w, "json", http.StatusNotFound, "unknown format: use .json or .xml")
		return
	}
	switch name {
	case "services":
		o.services(w, r, format)
	case "requests":
		o.requests(w, r, format)
	default:
		writeError(w, format, http.StatusNotFound, "not found")
	}
}

// Service is a service of the service list.
type Service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	ServiceName string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

func (o *Open311) services(w http.ResponseWriter, r *http.Request, format string) {
	cats, err := o.store.ServiceCategories(r.Context())
	if err != nil {
		o.fail(w, format, err)
		return
	}
	list := make([]Service, len(cats))
	for i, c := range cats {
		list[i] = Service{ServiceCode: ServiceCode(c.Code), ServiceName: c.Name, Description: c.Group + " / " + c.Name,
			Type: "realtime", Group: c.Group}
	}
	if format == "xml" {
		writeXML(w, struct {
			XMLName  xml.Name  `xml:"services"`
			Services []Service `xml:"service"`
		}{Services: list})
		return
	}
	writeJSON(w, list)
}

// ServiceCode is the Open311 service code of a unified category: the
// city-management classes (BJ 部件, SJ 事件) as that system writes them, 01
// or 02 then major and minor class; the others as their unified code.
func ServiceCode(category string) string {
	switch {
	case len(category) == 6 && strings.HasPrefix(category, "BJ"):
		return "01" + category[2:]
	case len(category) == 6 && strings.HasPrefix(category, "SJ"):
		return "02" + category[2:]
	}
	return category
}

// categoryOf is the unified category of a service code.
func categoryOf(code string) string {
	switch {
	case len(code) == 6 && strings.HasPrefix(code, "01"):
		return "BJ" + code[2:]
	case len(code) == 6 && strings.HasPrefix(code, "02"):
		return "SJ" + code[2:]
	}
	return code
}

// Request is a service request as GeoReport v2 publishes it, with the
// extended attributes of the city-management extension.
type Request struct {
	XMLName            xml.Name  `json:"-" xml:"request"`
	ServiceRequestID   string    `json:"service_request_id" xml:"service_request_id"`
	Status             string    `json:"status" xml:"status"`
	StatusNotes        string    `json:"status_notes" xml:"status_notes"`
	ServiceName        string    `json:"service_name" xml:"service_name"`
	ServiceCode        string    `json:"service_code" xml:"service_code"`
	Description        string    `json:"description" xml:"description"`
	AgencyResponsible  string    `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice      string    `json:"service_notice" xml:"service_notice"`
	RequestedDatetime  string    `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime    string    `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime   string    `json:"expected_datetime" xml:"expected_datetime"`
	Address            string    `json:"address" xml:"address"`
	AddressID          string    `json:"address_id" xml:"address_id"`
	Zipcode            string    `json:"zipcode" xml:"zipcode"`
	Lat                *float64  `json:"lat" xml:"lat"`
	Long               *float64  `json:"long" xml:"long"`
	MediaURL           string    `json:"media_url" xml:"media_url"`
	ExtendedAttributes *Extended `json:"extended_attributes,omitempty" xml:"extended_attributes,omitempty"`
}

// Extended are the extended attributes (extensions=true).
type Extended struct {
	WorkflowState string `json:"workflow_state" xml:"workflow_state"`
	Tier          string `json:"tier" xml:"tier"`
	GridCode      string `json:"grid_code" xml:"grid_code"`
	Deadline      string `json:"deadline" xml:"deadline"`
	History       []Step `json:"history" xml:"history>step"`
}

// Step is a step of the workflow history.
type Step struct {
	State string `json:"state" xml:"state"`
	At    string `json:"at" xml:"at"`
	Actor string `json:"actor" xml:"actor"`
	Note  string `json:"note" xml:"note"`
}

// workflowSteps name the canonical statuses as the city-management
// workflow does (上报 … 结案, 回退, 延期, 挂账, 返工, 作废).
var workflowSteps = map[string]string{
	"REPORTED": "上报", "ACCEPTED": "受理", "FILED": "立案", "DISPATCHED": "派遣", "IN_PROGRESS": "处置",
	"RESOLVED": "处置反馈", "VERIFYING": "核查", "CLOSED": "结案", "RETURNED": "回退", "DEFERRED": "延期",
	"SUSPENDED": "挂账", "REOPENED": "返工", "REJECTED": "作废",
}

var tierNames = map[string]string{"GRID": "网格", "COMMUNITY": "社区", "STREET": "街道", "DISTRICT": "区", "CITY": "市"}

func stamp(t time.Time) string { return t.In(cst).Format(time.RFC3339) }

func toRequest(c store.ServiceRequest, ext bool) Request {
	out := Request{ServiceRequestID: strconv.FormatInt(c.ID, 10), Status: "open", ServiceName: c.CategoryName,
		ServiceCode: ServiceCode(c.CategoryCode), Description: c.Description, AgencyResponsible: c.Agency,
		RequestedDatetime: stamp(c.ReportedAt), UpdatedDatetime: stamp(c.UpdatedAt), Address: c.Address,
		Lat: c.Lat, Long: c.Lng}
	if c.Status == "CLOSED" || c.Status == "REJECTED" {
		out.Status = "closed"
	}
	if c.DueAt != nil {
		out.ExpectedDatetime = stamp(*c.DueAt)
	}
	if ext {
		e := &Extended{WorkflowState: workflowSteps[c.Status], Tier: tierNames[c.Tier], GridCode: c.GridCode,
			Deadline: out.ExpectedDatetime, History: make([]Step, len(c.History))}
		for i, h := range c.History {
			e.History[i] = Step{State: workflowSteps[h.Status], At: stamp(h.At), Actor: h.Actor, Note: h.Note}
		}
		out.ExtendedAttributes = e
	}
	return out
}

// parseDate reads an Open311 date: RFC 3339, or a date and time or a date
// without zone (China Standard Time).
func parseDate(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateTime, time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, cst); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q: want RFC 3339 such as 2026-10-01T09:00:00+08:00", v)
}

var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// query reads the parameters of requests.{format}: the spec's start_date,
// end_date, status and service_code, the page and page_size paging
// extension, and the updated_after/after_id extension.
func (o *Open311) query(r *http.Request) (store.ServiceRequestQuery, bool, error) {
	v := r.URL.Query()
	q := store.ServiceRequestQuery{Limit: maxRequests}
	ext := v.Get("extensions") == "true"
	if s := v.Get("status"); s != "" {
		var open, closed bool
		for _, x := range strings.Split(s, ",") {
			switch strings.TrimSpace(x) {
			case "open":
				open = true
			case "closed":
				closed = true
			default:
				return q, ext, badRequest("status must be open, closed or both")
			}
		}
		if open != closed {
			q.Closed = &closed
		}
	}
	if s := v.Get("service_code"); s != "" {
		for _, x := range strings.Split(s, ",") {
			q.Categories = append(q.Categories, categoryOf(strings.TrimSpace(x)))
		}
	}
	if s := v.Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxRequests {
			return q, ext, badRequest("page_size must be from 1 to %d", maxRequests)
		}
		q.Limit = n
	}
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			return q, ext, badRequest("page must be a page number from 1")
		}
		q.Offset = (n - 1) * q.Limit
	}
	if s := v.Get("updated_after"); s != "" {
		t, err := parseDate(s)
		if err != nil {
			return q, ext, badRequest("updated_after: %v", err)
		}
		q.UpdatedAfter = &t
		if id := v.Get("after_id"); id != "" {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil || n <= 0 {
				return q, ext, badRequest("after_id: unknown service_request_id")
			}
			known, err := o.store.ServiceRequests(r.Context(), store.ServiceRequestQuery{IDs: []int64{n}, Limit: 1})
			if err != nil {
				return q, ext, err
			}
			if len(known) == 0 {
				return q, ext, badRequest("after_id: unknown service_request_id")
			}
			q.AfterID = n
		}
		return q, ext, nil
	}
	end := o.now()
	if s := v.Get("end_date"); s != "" {
		t, err := parseDate(s)
		if err != nil {
			return q, ext, badRequest("end_date: %v", err)
		}
		end = t
	}
	start := end.Add(-defaultWindow)
	if s := v.Get("start_date"); s != "" {
		t, err := parseDate(s)
		if err != nil {
			return q, ext, badRequest("start_date: %v", err)
		}
		start = t
		if v.Get("end_date") == "" {
			end = o.now().Add(time.Second)
		}
	}
	if !start.Before(end) {
		return q, ext, badRequest("start_date must be before end_date")
	}
	q.From, q.To = start, end
	return q, ext, nil
}

func (o *Open311) requests(w http.ResponseWriter, r *http.Request, format string) {
	q, ext, err := o.query(r)
	if err != nil {
		o.fail(w, format, err)
		return
	}
	if ids := r.URL.Query().Get("service_request_id"); ids != "" {
		q = store.ServiceRequestQuery{Limit: maxRequests}
		for _, s := range strings.Split(ids, ",") {
			if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
				q.IDs = append(q.IDs, n)
			}
		}
	}
	list, err := o.store.ServiceRequests(r.Context(), q)
	if err != nil {
		o.fail(w, format, err)
		return
	}
	o.write(w, format, list, ext)
}

func (o *Open311) single(w http.ResponseWriter, r *http.Request) {
	id, format, ok := splitFormat(r.PathValue("file"))
	if !ok {
		writeError(w, "json", http.StatusNotFound, "unknown format: use .json or .xml")
		return
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		writeError(w, format, http.StatusNotFound, "service_request_id "+id+" not found")
		return
	}
	list, err := o.store.ServiceRequests(r.Context(), store.ServiceRequestQuery{IDs: []int64{n}, Limit: 1})
	if err != nil {
		o.fail(w, format, err)
		return
	}
	if len(list) == 0 {
		writeError(w, format, http.StatusNotFound, "service_request_id "+id+" not found")
		return
	}
	o.write(w, format, list, r.URL.Query().Get("extensions") == "true")
}

func (o *Open311) write(w http.ResponseWriter, format string, list []store.ServiceRequest, ext bool) {
	out := make([]Request, len(list))
	for i, c := range list {
		out[i] = toRequest(c, ext)
	}
	if format == "xml" {
		writeXML(w, struct {
			XMLName  xml.Name  `xml:"service_requests"`
			Requests []Request `xml:"request"`
		}{Requests: out})
		return
	}
	writeJSON(w, out)
}

// fail answers an error in the spec's error format.
func (o *Open311) fail(w http.ResponseWriter, format string, err error) {
	switch {
	case errors.Is(err, errBadRequest):
		writeError(w, format, http.StatusBadRequest, err.Error())
	case canon.ErrorCode(err) == canon.StoreUnavailable:
		w.Header().Set("Retry-After", "2")
		writeError(w, format, http.StatusServiceUnavailable, "the store is unavailable; retry")
	default:
		o.log.Error("open311", "error", err.Error())
		writeError(w, format, http.StatusInternalServerError, "internal error")
	}
}

// apiError is an error in the GeoReport v2 format.
type apiError struct {
	XMLName     xml.Name `json:"-" xml:"error"`
	Code        int      `json:"code" xml:"code"`
	Description string   `json:"description" xml:"description"`
}

func writeError(w http.ResponseWriter, format string, status int, msg string) {
	e := []apiError{{Code: status, Description: msg}}
	if format == "xml" {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(status)
		b, _ := xml.Marshal(struct {
			XMLName xml.Name   `xml:"errors"`
			Errors  []apiError `xml:"error"`
		}{Errors: e})
		w.Write([]byte(xml.Header))
		w.Write(b)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(e)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(v)
}
