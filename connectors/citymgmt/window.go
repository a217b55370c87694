package citymgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/ywtg/hub/connectors"
)

// Window paging bounds.
const (
	firstSpan = 24 * time.Hour
	minSpan   = time.Second
	// maxSpan bounds how fast windows over empty history grow.
	maxSpan = 366 * 24 * time.Hour
)

// pullWindow reads one start_date/end_date window of requests. The window
// starts at the cursor (less the overlap once the stream has caught up
// with the present) and is halved while the endpoint returns its cap,
// since a capped answer is only the newest part of the window. Requests on
// the window's edges may come twice, in this window and the next; the store
// upserts them by id. Within a page a request delivered twice counts once.
//
// Windows are second-granular: more than Cap requests within one second
// cannot be paged by any portable means, and are logged as an error.
func (c *Connector) pullWindow(ctx context.Context, req connectors.Request, format string, cur cursor) (connectors.Batch, error) {
	from := c.cfg.Since
	if cur.End != "" {
		t, err := time.Parse(time.RFC3339, cur.End)
		if err != nil {
			return connectors.Batch{}, fmt.Errorf("open311: bad window cursor %q: %w", cur.End, err)
		}
		from = t
		if cur.Caught {
			// Rewind from the newest request seen when the endpoint's
			// clock lags ours, so its new requests are not skipped.
			if n, err := time.Parse(time.RFC3339, cur.Newest); err == nil && n.Before(from) {
				from = n
			}
			from = from.Add(-c.cfg.Overlap)
		}
		if from.Before(c.cfg.Since) {
			from = c.cfg.Since
		}
	}
	span := time.Duration(cur.Span) * time.Second
	if span <= 0 {
		span = firstSpan
	}
	now := c.cfg.Now().Truncate(time.Second)
	var raws []rawRequest
	to := from
	for {
		to = from.Add(span)
		if to.After(now) {
			to = now
		}
		if !to.After(from) { // the cursor is at (or past) the present
			to = from
		}
		var err error
		raws, err = c.get(ctx, format, url.Values{"start_date": {from.UTC().Format(time.RFC3339)}, "end_date": {to.UTC().Format(time.RFC3339)}})
		if err != nil {
			return connectors.Batch{}, err
		}
		if len(raws) < c.cfg.Cap {
			break
		}
		if to.Sub(from) <= minSpan {
			c.cfg.Log.Error("open311 window holds the endpoint's cap even at its smallest: requests beyond the cap are not read",
				"source", c.cfg.Name, "start", from, "end", to, "cap", c.cfg.Cap)
			break
		}
		span = (to.Sub(from) / 2).Truncate(time.Second)
		if span < minSpan {
			span = minSpan
		}
	}
	// Grow the next window while pages stay small.
	if len(raws) < c.cfg.Cap/4 && to.Sub(from) >= span {
		span = min(2*span, maxSpan)
	}
	b := connectors.Batch{}
	index := map[string]int{}
	unique := raws[:0:0]
	for _, rr := range raws {
		if id := rr.req.ServiceRequestID; rr.err == nil && id != "" {
			if i, ok := index[id]; ok {
				unique[i] = rr // the later copy wins
				continue
			}
			index[id] = len(unique)
		}
		unique = append(unique, rr)
	}
	newest, _ := time.Parse(time.RFC3339, cur.Newest)
	for _, rr := range unique {
		c.add(&b, req.Stream, rr)
		if t, _, err := c.cfg.Times.ParseString("requested_datetime", rr.req.RequestedDatetime); err == nil && t.After(newest) {
			newest = t
		}
	}
	next := cursor{Mode: PagingWindow, End: to.UTC().Format(time.RFC3339), Span: int64(span / time.Second), Caught: !to.Before(now)}
	if !newest.IsZero() {
		next.Newest = newest.UTC().Format(time.RFC3339)
	}
	buf, _ := json.Marshal(next)
	b.Next = string(buf)
	b.More = !next.Caught
	return b, nil
}
