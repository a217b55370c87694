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
		buf := &bufferedResponse{header: w.Header()}
		next.ServeHTTP(buf, r)
		status, body := buf.status, buf.body.Bytes()
		if status == 0 {
			status = http.StatusOK
		}
		if r.Method == http.MethodGet && status == http.StatusNotAcceptable {
			w.Header().Set("Allow", "POST")
			status = http.StatusMethodNotAllowed
		}
		if bytes.HasPrefix(body, []byte(`{"errors"`)) {
			status, body = fixRequestError(w.Header().Get("Content-Type"), status, body)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
	})
}

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
	out, err := json.Marshal(resp)
	if err != nil {
		return status, body
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case status == http.StatusBadRequest || status == http.StatusMethodNotAllowed:
		// not a well-formed request: keep
	case mt == "application/graphql-response+json":
		status = http.StatusBadRequest
	default:
		status = http.StatusOK
	}
	return status, out
}

func writeRequestError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": msg, "extensions": map[string]string{"code": string(canon.BadUserInput)}}}})
}

// bufferedResponse holds a response until it has been checked.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
