// Package citymgmt connects the digital city-management system (数字城管)
// (docs/sources.md §3) through its two channels: the Open311 GeoReport v2
// endpoint (this package's Connector) and the daily GBK CSV export
// (package csvdrop below this one). Both deliver a Record that Mapper maps
// to the same canonical case, GCJ-02 coordinates converted to WGS-84.
//
// The Open311 connector reads JSON or XML (or discovers which the endpoint
// serves) and pages one of two ways:
//
//   - extension: the system's updated_after/after_id extension, oldest
//     update first, with the extended attributes (workflow step, tier,
//     grid, deadline, history);
//   - window: the portable path for any conformant GeoReport v2 endpoint,
//     start_date/end_date windows over requested_datetime, halved while a
//     response holds the spec's 1000-request cap, the cursor the end of the
//     last complete window, re-read with an overlap once caught up; status
//     is plain open/closed where the extension is absent.
//
// With paging "auto" the connector probes once whether the endpoint honours
// updated_after and remembers the answer in its cursor.
//
// citymgmt imports the connector contract, the shared normalisers, the
// reference layer, the HTTP client and canon.
package citymgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/fetch"
	"github.com/ywtg/hub/connectors/jsonscan"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
	"github.com/ywtg/hub/pii"
)

// Paging modes.
const (
	PagingAuto      = "auto"      // probe the endpoint once (default)
	PagingExtension = "extension" // updated_after/after_id
	PagingWindow    = "window"    // start_date/end_date windows
)

// Config configures the connector.
type Config struct {
	Name        string
	Description string
	Endpoint    string // base URL ending in /open311/v2
	Format      string // json (default), xml or auto
	Paging      string // auto (default), extension or window
	Datum       canon.Datum
	RateLimit   float64
	Timeout     time.Duration
	Log         *slog.Logger
	Layer       *places.Layer
	Addresses   *address.Directory // address fallback of grid placement; nil for none
	Keys        *pii.Keys          // hash and seal reporters' personal data; nil: reporters are not kept
	Times       normalize.Times
	Now         func() time.Time
	// Since is where window paging starts reading history (default
	// 2000-01-01 China Standard Time); windows over empty years grow fast.
	Since time.Time
	// Overlap is re-read before the cursor once window paging has caught
	// up (default 24h): requests that became visible late, and status
	// changes of recent requests. Changes to older requests are seen by a
	// full re-pull.
	Overlap time.Duration
	// Cap is the most requests the endpoint returns at once (default the
	// spec's 1000); a window that returns Cap is split.
	Cap int
}

// Connector pulls service requests.
type Connector struct {
	cfg    Config
	http   *fetch.Client
	mapper Mapper

	mu     sync.Mutex
	format string // resolved format
	paging string // resolved paging
}

// New returns a connector.
func New(cfg Config) *Connector {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Datum == "" {
		cfg.Datum = canon.GCJ02
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Since.IsZero() {
		cfg.Since = time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = 24 * time.Hour
	}
	if cfg.Cap <= 0 {
		cfg.Cap = maxPage
	}
	c := &Connector{cfg: cfg, http: fetch.New(fetch.Options{Source: cfg.Name, RateLimit: cfg.RateLimit, Timeout: cfg.Timeout, Log: cfg.Log}),
		mapper: Mapper{Source: cfg.Name, Datum: cfg.Datum, Layer: cfg.Layer, Addresses: cfg.Addresses, Keys: cfg.Keys, Times: cfg.Times, Now: cfg.Now, Fields: Open311Fields}}
	switch cfg.Format {
	case "", "json":
		c.format = "json"
	case "xml":
		c.format = "xml"
	}
	switch cfg.Paging {
	case PagingExtension, PagingWindow:
		c.paging = cfg.Paging
	}
	return c
}

// Describe implements connectors.Connector.
func (c *Connector) Describe() connectors.Description {
	return connectors.Description{Name: c.cfg.Name, Kind: canon.SourceOpen311, Description: c.cfg.Description, Streams: []string{"requests"}}
}

// maxPage is the spec's cap on one response.
const maxPage = 1000

// cursor is the position in the stream. Mode is empty for the extension
// (cursors written before window paging existed), "window" otherwise.
type cursor struct {
	Mode    string `json:"m,omitempty"`
	Updated string `json:"u,omitempty"`  // extension: last updated_datetime
	ID      string `json:"id,omitempty"` // extension: last service_request_id
	// Back (extension): the stream was caught up, so the next pull reads
	// the second of Updated again. Update times have second resolution:
	// a request updated later in that second with a lower id sorts before
	// the cursor and would be missed; reading it again costs the few
	// requests of one second, which the store finds unchanged.
	Back   bool   `json:"b,omitempty"`
	End    string `json:"t,omitempty"` // window: end of the last complete window
	Span   int64  `json:"s,omitempty"` // window: seconds of the next window
	Caught bool   `json:"c,omitempty"` // window: the last window reached the present
	Newest string `json:"n,omitempty"` // window: newest requested_datetime seen
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
	if out := decodeJSONOnce(body); out != nil {
		return out, nil
	}
	return decodeJSONInTurn(body)
}

// decodeJSONInTurn decodes a JSON response as an array of raw requests,
// then each request.
func decodeJSONInTurn(body []byte) ([]rawRequest, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, err
	}
	var out []rawRequest
	for _, raw := range raws {
		var req request
		err := json.Unmarshal(raw, &req)
		out = append(out, rawRequest{raw: raw, req: req, err: err})
	}
	return out, nil
}

// decodeJSONOnce decodes a JSON response, an array of requests, in one
// pass instead of the array, then each request: nil unless the body is an
// array of at least one element and every request decodes, when the pass
// reads what the decodes of each request read. Each request's payload is
// then its bytes in body.
func decodeJSONOnce(body []byte) []rawRequest {
	raws, ok := arrayElements(body)
	if !ok || len(raws) == 0 {
		return nil
	}
	// The wire forms directly: decoding into requests would have each
	// request's UnmarshalJSON validate its bytes a second time. The pass
	// is jsonscan.Decode's (goccy/go-json), held to the decodes in turn,
	// which are encoding/json's, by TestOnePassDecodeReadsWhatDecodesInTurnRead
	// and FuzzDecodeJSON: decoding and mapping took 32–37 µs a request with
	// encoding/json's pass, 16–19 µs with this one (BenchmarkMapPage).
	ws := make([]wireRequest, 0, len(raws))
	if jsonscan.Decode(body, &ws) != nil || len(ws) != len(raws) {
		return nil
	}
	out := make([]rawRequest, len(raws))
	for i, raw := range raws {
		out[i] = rawRequest{raw: raw, req: ws[i].request()}
	}
	return out
}

// arrayElements finds the elements of the JSON array body, each as its
// bytes in body; false when body is not an array, or is malformed JSON
// where it notices (encoding/json checks the rest).
func arrayElements(b []byte) ([][]byte, bool) {
	els, end, ok := jsonscan.Elements(b, jsonscan.SkipSpace(b, 0))
	return els, ok && jsonscan.SkipSpace(b, end) == len(b)
}

// get fetches and decodes requests.{format}?q.
func (c *Connector) get(ctx context.Context, format string, q url.Values) ([]rawRequest, error) {
	u := strings.TrimRight(c.cfg.Endpoint, "/") + "/requests." + format + "?" + q.Encode()
	resp, err := c.http.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("open311 requests: %w", err)
	}
	raws, err := decode(format, resp.Body)
	if err != nil {
		return nil, fmt.Errorf("open311 requests: undecodable %s response: %w", format, err)
	}
	return raws, nil
}

// Pull implements connectors.Connector: one page of requests from the
// cursor, in the paging mode the cursor was written in (a full re-pull
// and an empty cursor use the configured or discovered mode).
func (c *Connector) Pull(ctx context.Context, req connectors.Request) (connectors.Batch, error) {
	var cur cursor
	if req.Cursor != "" && !req.Full {
		if err := json.Unmarshal([]byte(req.Cursor), &cur); err != nil {
			return connectors.Batch{}, fmt.Errorf("open311: bad cursor %q: %w", req.Cursor, err)
		}
	}
	format, err := c.resolveFormat(ctx)
	if err != nil {
		return connectors.Batch{}, err
	}
	mode := PagingExtension
	switch {
	case cur.Mode == PagingWindow:
		mode = PagingWindow
	case cur.Updated != "":
	default:
		if mode, err = c.resolvePaging(ctx, format); err != nil {
			return connectors.Batch{}, err
		}
	}
	if mode == PagingWindow {
		return c.pullWindow(ctx, req, format, cur)
	}
	return c.pullExtension(ctx, req, format, cur)
}

// pullExtension reads the page after (updated, id), oldest update first.
func (c *Connector) pullExtension(ctx context.Context, req connectors.Request, format string, cur cursor) (connectors.Batch, error) {
	if cur.Updated == "" {
		cur.Updated = "1970-01-01T08:00:00+08:00"
	}
	after := cur.Updated
	if cur.Back {
		if t, err := time.Parse(time.RFC3339, cur.Updated); err == nil {
			after = t.Add(-time.Second).Format(time.RFC3339)
		}
	}
	q := url.Values{"updated_after": {after}, "extensions": {"true"}}
	if cur.ID != "" {
		// Still sent when reading the second again: an endpoint that no
		// longer knows the request refuses it (ErrCursorRejected below).
		q.Set("after_id", cur.ID)
	}
	raws, err := c.get(ctx, format, q)
	if err != nil {
		if cur.ID != "" && isStatus(err, http.StatusBadRequest) {
			// The endpoint refuses the position (after_id: unknown
			// service_request_id): its requests were renumbered or
			// restored from an older state.
			return connectors.Batch{}, fmt.Errorf("open311 after_id %s: %w: %w", cur.ID, connectors.ErrCursorRejected, err)
		}
		return connectors.Batch{}, err
	}
	b := connectors.Batch{Next: req.Cursor}
	if req.Full {
		b.Next = ""
	}
	last := cur
	for _, rr := range raws {
		if rr.err == nil && rr.req.ServiceRequestID != "" && rr.req.UpdatedDatetime != "" {
			last = cursor{Updated: rr.req.UpdatedDatetime, ID: rr.req.ServiceRequestID}
		}
		c.add(&b, req.Stream, rr)
	}
	b.More = len(raws) >= c.cfg.Cap
	if b.Fetched > 0 {
		last.Back = !b.More
		next, _ := json.Marshal(last)
		b.Next = string(next)
	}
	return b, nil
}

// add maps one received request into the batch.
func (c *Connector) add(b *connectors.Batch, stream string, rr rawRequest) {
	b.Fetched++
	// A quarantine entry keeps a copy of the payload, which may lie in the
	// response body, not the whole body.
	if rr.err != nil {
		b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: stream, SourceID: salvageID(rr.raw), Reason: "MALFORMED",
			Message: fmt.Sprintf("undecodable request: %v", rr.err), Raw: bytes.Clone(rr.raw)})
		return
	}
	if strings.TrimSpace(rr.req.ServiceRequestID) == "" {
		b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: stream, Reason: "MISSING_FIELD", Field: "service_request_id",
			Message: "request without service_request_id", Raw: bytes.Clone(rr.raw)})
		return
	}
	cs, err := c.mapper.Case(rr.req.record(), rr.raw)
	if err != nil {
		b.Quarantine = append(b.Quarantine, connectors.QuarantineFor(stream, rr.req.ServiceRequestID, bytes.Clone(rr.raw), err))
		return
	}
	b.Records = append(b.Records, cs)
}

// resolveFormat returns the configured format, discovering it once for
// "auto": JSON when services.json answers with a JSON list, else XML (the
// format every GeoReport v2 endpoint must serve).
func (c *Connector) resolveFormat(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.format != "" {
		return c.format, nil
	}
	u := strings.TrimRight(c.cfg.Endpoint, "/") + "/services.json"
	resp, err := c.http.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	})
	var list []json.RawMessage
	switch {
	case err == nil && json.Unmarshal(resp.Body, &list) == nil:
		c.format = "json"
	case err == nil || isClientError(err):
		c.format = "xml"
	default:
		return "", fmt.Errorf("open311 format discovery: %w", err)
	}
	c.cfg.Log.Info("open311 format discovered", "source", c.cfg.Name, "format", c.format)
	return c.format, nil
}

// isStatus reports whether err is a response with the HTTP status code.
func isStatus(err error, code int) bool {
	var se *fetch.StatusError
	return errors.As(err, &se) && se.Status == code
}

func isClientError(err error) bool {
	for e := err; e != nil; {
		if se, ok := e.(*fetch.StatusError); ok {
			return se.Status >= 400 && se.Status < 500
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// resolvePaging returns the configured paging mode, probing once for
// "auto". An endpoint honours updated_after when a time in the future
// yields nothing while the epoch yields requests in ascending update
// order; one that ignores the parameter answers both with its default
// window (the last 90 days, newest first). An endpoint with nothing to
// show proves nothing: window paging, which works everywhere, is used and
// the probe repeated next time.
func (c *Connector) resolvePaging(ctx context.Context, format string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paging != "" {
		return c.paging, nil
	}
	future, err := c.get(ctx, format, url.Values{"updated_after": {c.cfg.Now().AddDate(10, 0, 0).Format(time.RFC3339)}})
	if err != nil {
		return "", fmt.Errorf("open311 paging discovery: %w", err)
	}
	if len(future) > 0 {
		c.paging = PagingWindow
		c.cfg.Log.Info("open311 endpoint ignores updated_after: paging by date windows", "source", c.cfg.Name)
		return c.paging, nil
	}
	past, err := c.get(ctx, format, url.Values{"updated_after": {"1970-01-01T00:00:00Z"}})
	if err != nil {
		return "", fmt.Errorf("open311 paging discovery: %w", err)
	}
	if len(past) == 0 {
		return PagingWindow, nil
	}
	prev := time.Time{}
	for _, rr := range past {
		t, _, err := c.cfg.Times.ParseString("updated_datetime", rr.req.UpdatedDatetime)
		if err != nil {
			continue
		}
		if t.Before(prev) {
			c.paging = PagingWindow
			c.cfg.Log.Info("open311 endpoint ignores updated_after: paging by date windows", "source", c.cfg.Name)
			return c.paging, nil
		}
		prev = t
	}
	c.paging = PagingExtension
	c.cfg.Log.Info("open311 endpoint honours updated_after: paging by update time", "source", c.cfg.Name)
	return c.paging, nil
}
