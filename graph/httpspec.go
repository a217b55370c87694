package graph

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"

	"github.com/ywtg/hub/canon"
)

// graphqlOverHTTP makes the transport follow the GraphQL-over-HTTP
// specification where gqlgen's defaults differ:
//   - a request error (the request never executed: unparsable, invalid, over
//     a limit) has no "data" entry, and its status is 200 for
//     application/json but 400 for application/graphql-response+json;
//   - an operation that met STORE_UNAVAILABLE is answered 503 with
//     Retry-After (the body is the usual response);
//   - GET may only run queries (405 with Allow: POST otherwise), and methods
//     other than GET and POST get 405 with an Allow header.
//
// Websocket upgrades pass through untouched.
func graphqlOverHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodPost:
		case http.MethodOptions:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			w.Header().Set("Allow", "GET, POST")
			writeRequestError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on /graphql; use GET for queries or POST")
			return
		}
		ctx, unavailable := withUnavailableMark(r.Context())
		buf := &checkedResponse{w: w, get: r.Method == http.MethodGet, unavailable: unavailable}
		next.ServeHTTP(buf, r.WithContext(ctx))
		if buf.passed {
			return
		}
		status, body := buf.statusCode(), buf.body.Bytes()
		if bytes.HasPrefix(body, requestErrorPrefix) {
			status, body = fixRequestError(w.Header().Get("Content-Type"), status, body)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
	})
}

var requestErrorPrefix = []byte(`{"errors"`)

// fixRequestError drops "data" from a request error and sets its status.
func fixRequestError(contentType string, status int, body []byte) (int, []byte) {
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(body, &resp); err != nil {
		return status, body
	}
	if d, ok := resp["data"]; ok && string(d) != "null" {
		return status, body // execution ran: field errors beside data
	}
	var errs []struct {
		Path json.RawMessage `json:"path"`
	}
	if err := json.Unmarshal(resp["errors"], &errs); err != nil {
		return status, body
	}
	for _, e := range errs {
		if len(e.Path) > 0 && string(e.Path) != "null" {
			return status, body // a field error nulled the whole result
		}
	}
	delete(resp, "data")
	if coded, ok := withCodes(resp["errors"]); ok {
		resp["errors"] = coded
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return status, body
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case status == http.StatusBadRequest || status == http.StatusMethodNotAllowed:
		// not a well-formed request: keep
	case status == http.StatusServiceUnavailable:
		// the store could not answer: keep
	case mt == "application/graphql-response+json":
		status = http.StatusBadRequest
	default:
		status = http.StatusOK
	}
	return status, out
}

// withCodes gives the errors of a request error that have no
// extensions.code BAD_USER_INPUT: gqlgen's GET transport refuses
// undecodable variables and extensions without one, and a request that
// never ran failed on what the client sent.
func withCodes(raw json.RawMessage) (json.RawMessage, bool) {
	var errs []map[string]any
	if err := json.Unmarshal(raw, &errs); err != nil {
		return nil, false
	}
	changed := false
	for _, e := range errs {
		ext, _ := e["extensions"].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		if _, ok := ext["code"]; !ok {
			ext["code"] = string(canon.BadUserInput)
			changed = true
		}
	}
	if !changed {
		return nil, false
	}
	out, err := json.Marshal(errs)
	return out, err == nil
}

func writeRequestError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": msg, "extensions": map[string]string{"code": string(canon.BadUserInput)}}}})
}

// checkedResponse holds a response until its first bytes show whether it
// is a request error. One that is not — every executed operation, whose
// body writeResponse writes in one piece — passes straight through,
// unbuffered; a request error is held and fixed.
type checkedResponse struct {
	w      http.ResponseWriter
	get    bool
	status int
	body   bytes.Buffer
	passed bool
	// unavailable is set when an error of the operation was
	// STORE_UNAVAILABLE: the status becomes 503 with Retry-After.
	unavailable *unavailableMark
}

func (c *checkedResponse) Header() http.Header { return c.w.Header() }

func (c *checkedResponse) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *checkedResponse) statusCode() int {
	switch {
	case c.unavailable != nil && c.unavailable.set.Load():
		c.w.Header().Set("Retry-After", storeRetryAfter)
		return http.StatusServiceUnavailable
	case c.status == 0:
		return http.StatusOK
	case c.get && c.status == http.StatusNotAcceptable:
		c.w.Header().Set("Allow", "POST")
		return http.StatusMethodNotAllowed
	}
	return c.status
}

func (c *checkedResponse) Write(p []byte) (int, error) {
	if c.passed {
		return c.w.Write(p)
	}
	n := len(p)
	if c.body.Len() > 0 {
		c.body.Write(p)
		p = c.body.Bytes()
	}
	if len(p) < len(requestErrorPrefix) && bytes.HasPrefix(requestErrorPrefix, p) || bytes.HasPrefix(p, requestErrorPrefix) {
		if c.body.Len() == 0 {
			c.body.Write(p)
		}
		return n, nil // (possibly) a request error: hold it
	}
	c.passed = true
	c.w.WriteHeader(c.statusCode())
	if _, err := c.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}
