// Package citymgmt connects the digital city-management system (数字城管)
// through Open311 GeoReport v2 (docs/sources.md §3): service requests in
// JSON or XML with the extended attributes (workflow step, tier, grid, deadline,
// history) when the endpoint offers them, read incrementally with the
// updated_after/after_id extension, GCJ-02 coordinates converted to WGS-84.
//
// citymgmt imports the connector contract, the shared normalisers, the
// reference layer, the HTTP client and canon.
package citymgmt

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/fetch"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
)

// Config configures the connector.
type Config struct {
	Name        string
	Description string
	Endpoint    string // base URL ending in /open311/v2
	Format      string // json (default) or xml
	Datum       canon.Datum
	RateLimit   float64
	Timeout     time.Duration
	Log         *slog.Logger
	Layer       *places.Layer
	Times       normalize.Times
	Now         func() time.Time
}

// Connector pulls service requests.
type Connector struct {
	cfg  Config
	http *fetch.Client
}

// New returns a connector.
func New(cfg Config) *Connector {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Datum == "" {
		cfg.Datum = canon.GCJ02
	}
	return &Connector{cfg: cfg, http: fetch.New(fetch.Options{Source: cfg.Name, RateLimit: cfg.RateLimit, Timeout: cfg.Timeout, Log: cfg.Log})}
}

// Describe implements connectors.Connector.
func (c *Connector) Describe() connectors.Description {
	return connectors.Description{Name: c.cfg.Name, Kind: canon.SourceOpen311, Description: c.cfg.Description, Streams: []string{"requests"}}
}

// maxPage is the spec's cap on one response.
const maxPage = 1000

type cursor struct {
	Updated string `json:"u"`
	ID      string `json:"id"`
}

// request is a GeoReport v2 service request, in either format.
type request struct {
	ServiceRequestID  string  `json:"service_request_id" xml:"service_request_id"`
	Status            string  `json:"status" xml:"status"`
	StatusNotes       string  `json:"status_notes" xml:"status_notes"`
	ServiceName       string  `json:"service_name" xml:"service_name"`
	ServiceCode       string  `json:"service_code" xml:"service_code"`
	Description       string  `json:"description" xml:"description"`
	AgencyResponsible string  `json:"agency_responsible" xml:"agency_responsible"`
	RequestedDatetime string  `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string  `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  string  `json:"expected_datetime" xml:"expected_datetime"`
	Address           string  `json:"address" xml:"address"`
	Lat               float64 `json:"lat" xml:"lat"`
	Long              float64 `json:"long" xml:"long"`
	Extended          *struct {
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

// rawRequest is one request as received, with its decoded form.
type rawRequest struct {
	raw []byte
	req request
	err error
}

// decode splits a response into requests, keeping each one's own bytes.
func decode(format string, body []byte) ([]rawRequest, error) {
	var out []rawRequest
	if format == "xml" {
		var doc struct {
			Requests []struct {
				Inner []byte `xml:",innerxml"`
			} `xml:"request"`
		}
		if err := xml.Unmarshal(body, &doc); err != nil {
			return nil, err
		}
		for _, r := range doc.Requests {
			raw := append(append([]byte("<request>"), r.Inner...), "</request>"...)
			var req request
			err := xml.Unmarshal(raw, &req)
			out = append(out, rawRequest{raw: raw, req: req, err: err})
		}
		return out, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, err
	}
	for _, raw := range raws {
		var req request
		err := json.Unmarshal(raw, &req)
		out = append(out, rawRequest{raw: raw, req: req, err: err})
	}
	return out, nil
}

// Pull implements connectors.Connector: one page of requests updated after
// the cursor, oldest update first.
func (c *Connector) Pull(ctx context.Context, req connectors.Request) (connectors.Batch, error) {
	cur := cursor{Updated: "1970-01-01T08:00:00+08:00"}
	if req.Cursor != "" && !req.Full {
		if err := json.Unmarshal([]byte(req.Cursor), &cur); err != nil {
			return connectors.Batch{}, fmt.Errorf("open311: bad cursor %q: %w", req.Cursor, err)
		}
	}
	q := url.Values{"updated_after": {cur.Updated}, "extensions": {"true"}}
	if cur.ID != "" {
		q.Set("after_id", cur.ID)
	}
	format := c.cfg.Format
	if format == "" {
		format = "json"
	}
	u := strings.TrimRight(c.cfg.Endpoint, "/") + "/requests." + format + "?" + q.Encode()
	resp, err := c.http.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	})
	if err != nil {
		return connectors.Batch{}, fmt.Errorf("open311 requests: %w", err)
	}
	raws, err := decode(format, resp.Body)
	if err != nil {
		return connectors.Batch{}, fmt.Errorf("open311 requests: undecodable %s response: %w", format, err)
	}
	b := connectors.Batch{Next: req.Cursor}
	last := cur
	for _, rr := range raws {
		b.Fetched++
		raw, r := rr.raw, rr.req
		if rr.err != nil || r.ServiceRequestID == "" {
			b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: req.Stream, Reason: "MALFORMED", Message: "request without service_request_id", Raw: raw})
			continue
		}
		if r.UpdatedDatetime != "" {
			last = cursor{Updated: r.UpdatedDatetime, ID: r.ServiceRequestID}
		}
		cs, err := c.mapRequest(r, raw)
		if err != nil {
			b.Quarantine = append(b.Quarantine, connectors.QuarantineFor(req.Stream, r.ServiceRequestID, raw, err))
			continue
		}
		b.Records = append(b.Records, cs)
	}
	if b.Fetched > 0 {
		next, _ := json.Marshal(last)
		b.Next = string(next)
	}
	b.More = len(raws) >= maxPage
	return b, nil
}

func (c *Connector) mapRequest(r request, raw json.RawMessage) (*canon.Case, error) {
	updated, _, err := c.cfg.Times.ParseString("updated_datetime", r.UpdatedDatetime)
	if err != nil {
		return nil, err
	}
	reported, _, err := c.cfg.Times.ParseString("requested_datetime", r.RequestedDatetime)
	if err != nil {
		return nil, err
	}
	cat, err := normalize.CityServiceCode("service_code", r.ServiceCode)
	if err != nil {
		return nil, err
	}
	step, tierName, gridCode, deadline := "", "", "", r.ExpectedDatetime
	if e := r.Extended; e != nil {
		step, tierName, gridCode = e.WorkflowState, e.Tier, e.GridCode
		if e.Deadline != "" {
			deadline = e.Deadline
		}
	}
	status, err := normalize.Open311Status("extended_attributes.workflow_state", r.Status, step)
	if err != nil {
		return nil, err
	}
	tier, err := normalize.CityTier("extended_attributes.tier", tierName)
	if err != nil {
		return nil, err
	}
	loc, _, err := normalize.NormalizePoint("lat/long", r.Lat, r.Long, c.cfg.Datum)
	if err != nil {
		return nil, err
	}
	grid := gridCode
	if !c.cfg.Layer.IsGrid(grid) {
		g, ok := c.cfg.Layer.GridAt(loc.Point)
		if !ok {
			return nil, &normalize.Defect{Reason: normalize.UnknownGrid, Field: "grid_code", Message: fmt.Sprintf("grid %q unknown and the position lies in no grid", gridCode)}
		}
		grid = g
	}
	desc, err := normalize.Text("description", r.Description, 4000)
	if err != nil {
		return nil, err
	}
	title := cat.Name
	if desc != "" {
		title = cat.Name + "：" + truncate(desc, 40)
	}
	cs := &canon.Case{
		Provenance: canon.Provenance{Source: c.cfg.Name, SourceID: r.ServiceRequestID, SourceUpdatedAt: updated, FetchedAt: c.cfg.Now(), PayloadHash: connectors.PayloadHash(raw)},
		Kind:       cat.Kind, CategoryCode: cat.Code, SourceCategory: canon.CodeName{Code: r.ServiceCode, Name: r.ServiceName},
		Title: title, Description: desc, Status: status, SourceStatus: step, Tier: tier, GridCode: grid, Location: &loc,
		Address: strings.TrimSpace(r.Address), ReportedAt: reported, UpdatedAt: updated, AssigneeDept: r.AgencyResponsible,
	}
	if deadline != "" {
		d, _, err := c.cfg.Times.ParseDeadlineString("expected_datetime", deadline)
		if err != nil {
			return nil, err
		}
		cs.DueAt = &d
	}
	if e := r.Extended; e != nil {
		for i, h := range e.History {
			st, err := normalize.CityWorkflowState(fmt.Sprintf("history[%d].state", i), h.State)
			if err != nil {
				return nil, err
			}
			at, _, err := c.cfg.Times.ParseString(fmt.Sprintf("history[%d].at", i), h.At)
			if err != nil {
				return nil, err
			}
			cs.Timeline = append(cs.Timeline, canon.CaseEvent{At: at, Status: st, Tier: tier, SourceStatus: h.State, Actor: h.Actor, Note: h.Note})
			if st == canon.StatusClosed {
				closed := at
				cs.ClosedAt = &closed
			}
		}
	}
	if cs.Status == canon.StatusClosed && cs.ClosedAt == nil {
		cs.ClosedAt = &updated
	}
	return cs, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
