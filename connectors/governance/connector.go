package governance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/fetch"
)

// Config configures the connector.
type Config struct {
	Name         string
	Description  string
	Endpoint     string // base URL, e.g. http://10.1.2.3:8080
	ClientID     string
	ClientSecret string
	RateLimit    float64
	Timeout      time.Duration
	Log          *slog.Logger
	Mapper       *Mapper
	// Now is the clock (tests); nil for time.Now.
	Now func() time.Time
}

// Connector pulls the governance platform.
type Connector struct {
	cfg    Config
	client *client
}

// New returns a connector.
func New(cfg Config) *Connector {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hc := fetch.New(fetch.Options{Source: cfg.Name, RateLimit: cfg.RateLimit, Timeout: cfg.Timeout, Log: cfg.Log})
	return &Connector{cfg: cfg, client: &client{base: strings.TrimRight(cfg.Endpoint, "/"), clientID: cfg.ClientID,
		clientSecret: cfg.ClientSecret, http: hc, now: cfg.Now}}
}

// Streams in reference order: places and people before the events that
// name them.
var streams = []string{"houses", "residents", "gridWorkers", "events"}

// Describe implements connectors.Connector.
func (c *Connector) Describe() connectors.Description {
	return connectors.Description{Name: c.cfg.Name, Kind: canon.SourceREST, Description: c.cfg.Description, Streams: streams}
}

// cursor is the position in a stream: the update time and id of the last
// record delivered. The platform filters on update time only (exclusive,
// second resolution), so each request asks from one second earlier and
// drops the records at or before the cursor, which form a prefix of the
// (updateTime, id) order.
//
// Once a stream is caught up the cursor is marked Back: the next pull
// delivers the whole second of T again instead of dropping the records at
// or before the cursor, because a record updated later in that second with
// a lower id sorts before the cursor and would be missed. The store finds
// the records it already has unchanged.
type cursor struct {
	T    time.Time `json:"t"`
	ID   string    `json:"id"`
	Back bool      `json:"b,omitempty"`
}

func (k cursor) before(t time.Time, id string) bool {
	if !k.T.Equal(t) {
		return k.T.Before(t)
	}
	return k.Back || lessID(k.ID, id)
}

// lessID orders ids numerically when both are numbers, else as text.
func lessID(a, b string) bool {
	ai, aerr := strconv.ParseInt(a, 10, 64)
	bi, berr := strconv.ParseInt(b, 10, 64)
	if aerr == nil && berr == nil {
		return ai < bi
	}
	return a < b
}

// mapPage maps the records of p that lie after cur (all of them when cur
// is nil) into b, and returns the key of the last record that has one, or
// cur when none has.
func (m *Mapper) mapPage(stream string, p *page, cur *cursor, b *connectors.Batch) *cursor {
	last := cur
	for i, raw := range p.Records {
		var r *wireRecord
		if p.decoded != nil {
			r = &p.decoded[i]
		} else {
			r = decodeWire(raw)
		}
		var key cursor
		var ok bool
		if r != nil {
			key, ok = m.keyOf(r)
		} else {
			key, ok = m.key(raw)
		}
		if ok && cur != nil && !cur.before(key.T, key.ID) {
			continue // already delivered
		}
		quarantined := len(b.Quarantine)
		if r != nil {
			m.mapWire(stream, raw, r, b)
		} else {
			m.mapRaw(stream, raw, b)
		}
		if p.decoded != nil {
			// The payload lies in the response body: a quarantine entry
			// keeps a copy, not the whole body.
			for j := quarantined; j < len(b.Quarantine); j++ {
				b.Quarantine[j].Raw = bytes.Clone(b.Quarantine[j].Raw)
			}
		}
		if ok {
			last = &key
		}
	}
	return last
}

var cst = time.FixedZone("CST", 8*3600)

// maxSkipPages bounds the pages a Pull walks past records it already has
// (more than that many records sharing one second of update time).
const maxSkipPages = 100

// Pull implements connectors.Connector.
func (c *Connector) Pull(ctx context.Context, req connectors.Request) (connectors.Batch, error) {
	var cur *cursor
	if req.Cursor != "" && !req.Full {
		cur = &cursor{}
		if err := json.Unmarshal([]byte(req.Cursor), cur); err != nil {
			return connectors.Batch{}, fmt.Errorf("governance: bad cursor %q: %w", req.Cursor, err)
		}
	}
	size := min(max(req.Limit, 1), 500)
	q := url.Values{"pageSize": {strconv.Itoa(size)}}
	if cur != nil {
		q.Set("updatedAfter", cur.T.Add(-time.Second).In(cst).Format(time.DateTime))
	}
	for pageNum := 1; pageNum <= maxSkipPages; pageNum++ {
		q.Set("pageNum", strconv.Itoa(pageNum))
		p, err := c.client.list(ctx, req.Stream, q)
		if err != nil {
			return connectors.Batch{}, err
		}
		if cur != nil && pageNum == 1 && len(p.Records) == 0 {
			// The request re-reads the second of the last record
			// delivered, so that record (or a later version of it) is
			// always on the page: an empty page means the platform holds
			// nothing at or after the cursor any more — it was restored
			// from an older state or reloaded.
			return connectors.Batch{}, fmt.Errorf("governance %s: nothing at or after the cursor %s/%s: %w",
				req.Stream, cur.T.In(cst).Format(time.DateTime), cur.ID, connectors.ErrCursorRejected)
		}
		b := connectors.Batch{Next: req.Cursor}
		last := c.cfg.Mapper.mapPage(req.Stream, p, cur, &b)
		full := len(p.Records) >= size
		if b.Fetched > 0 || !full {
			if last != nil {
				k := *last
				k.Back = !full
				next, _ := json.Marshal(k)
				b.Next = string(next)
			}
			b.More = full
			return b, nil
		}
	}
	return connectors.Batch{}, fmt.Errorf("governance %s: more than %d pages of records share the update time %s", req.Stream, maxSkipPages, cur.T)
}
