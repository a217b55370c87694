// Package governance connects the comprehensive-governance grid platform
// (综治网格化服务管理平台): a REST JSON API with expiring bearer tokens,
// pageNum/pageSize paging, updatedAfter filtering, errors inside an HTTP 200
// envelope, BD-09 coordinates and numeric status codes (docs/sources.md §2).
// It maps grid workers, houses, residents and events onto the canonical
// model and quarantines what it cannot map.
//
// governance imports the connector contract, the shared normalisers, the
// reference layer, the HTTP client and canon.
package governance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors/fetch"
	"github.com/ywtg/hub/connectors/jsonscan"
)

// envelope is the platform's response wrapper.
type envelope struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

type page struct {
	Total   int               `json:"total"`
	Records []json.RawMessage `json:"records"`
	// decoded, when not nil, holds the records decoded, one for each of
	// Records, which then lie in the response body (see decodeList).
	decoded []wireRecord
}

// client talks to the API: tokens, envelopes, retries.
type client struct {
	base         string
	clientID     string
	clientSecret string
	http         *fetch.Client

	mu      sync.Mutex
	token   string
	expires time.Time
	now     func() time.Time
}

// envelope error codes.
const (
	codeOK           = 0
	codeUnauthorized = 401
	codeBusy         = 429
	codeInternal     = 500
)

// errTokenRejected reports a token the platform no longer accepts.
var errTokenRejected = errors.New("token rejected")

func (c *client) getToken(ctx context.Context, refresh bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !refresh && c.token != "" && c.now().Before(c.expires) {
		return c.token, nil
	}
	body, _ := json.Marshal(map[string]string{"clientId": c.clientID, "clientSecret": c.clientSecret})
	resp, err := c.http.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/auth/token", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	var env envelope
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		return "", fmt.Errorf("token: undecodable response: %w", err)
	}
	if env.Code != codeOK {
		return "", fmt.Errorf("token: platform refused the credentials (code %d: %s)", env.Code, env.Msg)
	}
	var tok struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int    `json:"expiresIn"`
	}
	if err := json.Unmarshal(env.Data, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token: response has no accessToken")
	}
	c.token = tok.AccessToken
	// Renew a little before the platform would refuse it.
	life := time.Duration(tok.ExpiresIn) * time.Second
	c.expires = c.now().Add(life - min(life/10, 30*time.Second))
	return c.token, nil
}

// list fetches one page of a resource. Envelope errors: 401 refreshes the
// token once; 429 and 500 are retried like their HTTP twins.
func (c *client) list(ctx context.Context, resource string, q url.Values) (*page, error) {
	const attempts = 5
	refreshed := false
	for attempt := 1; ; attempt++ {
		tok, err := c.getToken(ctx, false)
		if err != nil {
			return nil, err
		}
		resp, err := c.http.Do(ctx, func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/"+resource+"?"+q.Encode(), nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			return req, err
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", resource, err)
		}
		env, p, err := decodeList(resource, resp.Body)
		if err != nil {
			return nil, err
		}
		switch env.Code {
		case codeOK:
			return p, nil
		case codeUnauthorized:
			if refreshed {
				return nil, fmt.Errorf("%s: %w even after a fresh token: %s", resource, errTokenRejected, env.Msg)
			}
			refreshed = true
			if _, err := c.getToken(ctx, true); err != nil {
				return nil, err
			}
			continue
		case codeBusy, codeInternal:
			if attempt >= attempts {
				return nil, fetch.Unavailable("governance", attempts, fmt.Errorf("envelope code %d: %s", env.Code, env.Msg))
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
			continue
		default:
			return nil, canon.Errorf(canon.SourceUnavailable, "governance %s: platform error %d: %s", resource, env.Code, env.Msg)
		}
	}
}

// decodeList reads a list response: its envelope and, when the code is
// OK, the page it carries.
//
// A page is read in one pass, records included, when that reads what the
// envelope, the page and each record decoded in turn would (decodePage);
// otherwise, or when the one pass fails, they are decoded in turn.
func decodeList(resource string, body []byte) (envelope, *page, error) {
	if p := decodePage(body); p != nil {
		return envelope{Code: codeOK}, p, nil
	}
	return decodeInTurn(resource, body)
}

// decodeInTurn is decodeList decoding the envelope, then the page.
func decodeInTurn(resource string, body []byte) (envelope, *page, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return env, nil, fmt.Errorf("%s: undecodable envelope: %w", resource, err)
	}
	if env.Code != codeOK {
		return env, nil, nil
	}
	var p page
	if err := json.Unmarshal(env.Data, &p); err != nil {
		return env, nil, fmt.Errorf("%s: undecodable page: %w", resource, err)
	}
	return env, &p, nil
}

// listResponse is a list response decoded in one pass.
type listResponse struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data struct {
		Total   int          `json:"total"`
		Records []wireRecord `json:"records"`
	} `json:"data"`
}

// decodePage decodes a successful list response, records included, in one
// pass; nil when it is not one, or when the pass would not read what the
// envelope, the page and each record decoded in turn read. That holds when
// the response is an object with code 0 and one data member, an object,
// with one records member, an array, and no name at either level is
// escaped or non-ASCII (encoding/json matches names case-insensitively,
// and a repeated member would be decoded twice into the same record).
// Each record's payload is then its bytes in body.
//
// The pass is jsonscan.Decode's (goccy/go-json), held to the decodes in
// turn, which are encoding/json's, by
// TestOnePassDecodeReadsWhatDecodesInTurnRead and FuzzDecodeList: decoding
// and mapping a page of events took 33–37 µs a record with encoding/json's
// pass, 16 µs with this one; houses 6.3 against 3.3 (BenchmarkMapPage).
func decodePage(body []byte) *page {
	raws, ok := listRecords(body)
	if !ok {
		return nil
	}
	var resp listResponse
	resp.Data.Records = make([]wireRecord, 0, len(raws))
	if jsonscan.Decode(body, &resp) != nil || resp.Code != codeOK || len(resp.Data.Records) != len(raws) {
		return nil
	}
	return &page{Total: resp.Data.Total, Records: raws, decoded: resp.Data.Records}
}

// listRecords finds the records of a list response: the elements of
// data.records, each as its bytes in body. It reports false for a body
// that is not an object with exactly one member named data (in any case),
// an object with exactly one member named records, an array; for a name
// at either level that is escaped or not ASCII; and for malformed JSON it
// notices (encoding/json checks the rest).
func listRecords(body []byte) ([]json.RawMessage, bool) {
	var records []json.RawMessage
	datas := 0
	i, ok := jsonscan.Members(body, jsonscan.SkipSpace(body, 0), func(name []byte, i int) (int, bool) {
		if !bytes.EqualFold(name, []byte("data")) {
			return jsonscan.SkipValue(body, i)
		}
		if datas++; datas > 1 {
			return 0, false
		}
		recs := 0
		return jsonscan.Members(body, i, func(name []byte, i int) (int, bool) {
			if !bytes.EqualFold(name, []byte("records")) {
				return jsonscan.SkipValue(body, i)
			}
			if recs++; recs > 1 {
				return 0, false
			}
			els, end, ok := jsonscan.Elements(body, i)
			if !ok {
				return 0, false
			}
			records = make([]json.RawMessage, len(els))
			for k, e := range els {
				records[k] = e
			}
			return end, true
		})
	})
	if !ok || datas != 1 || records == nil || jsonscan.SkipSpace(body, i) != len(body) {
		return nil, false
	}
	return records, true
}

// parseInt reads a JSON number or numeric string.
func parseInt(raw []byte) (int64, bool) {
	if v, ok := plainInt(raw); ok {
		return v, true
	}
	return decodeInt(raw)
}

// decodeInt is parseInt decoding raw.
func decodeInt(raw []byte) (int64, bool) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		v, err := n.Int64()
		return v, err == nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}
	return 0, false
}

// plainInt reads a JSON integer literal without fraction or exponent (the
// common id and code), as parseInt would; false for anything else, which
// parseInt then decodes.
func plainInt(raw []byte) (int64, bool) {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 || digits[0] == '0' && len(digits) > 1 {
		return 0, false
	}
	var v int64 // 18 digits do not overflow
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if len(digits) < len(raw) {
		v = -v
	}
	return v, true
}
