package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// post is gqlgen's POST transport (transport.POST) but for how it writes a
// response. gqlgen encodes the response with json.Marshal, which validates
// and compacts again the data document the executor has just written
// (about a twentieth of the CPU of a page of a thousand nodes); post writes
// that document as it is, and leaves every other part of a response to
// encoding/json.
type post struct{ transport.POST }

var _ graphql.Transport = post{}

func (post) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			writeResponse(w, exec.DispatchError(ctx, gqlerror.List{tooComplex("request body larger than %d bytes", tooLarge.Limit)}))
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{badInput("could not read the request body: %v", err)}))
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		// The decoder's message says where and what, never the body: a
		// body is the client's and may hold anything.
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{badInput("the request body is not a GraphQL request (a JSON object with query, variables, operationName, extensions): %v", decodeProblem(err))}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	opCtx, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		status := http.StatusOK
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if contentType == "application/graphql-response+json" {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResponse(w, responses(ctx))
}

// decodeProblem describes a JSON decoding error without quoting the input.
func decodeProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%s must be %s, not a JSON %s", typ.Field, jsonKind(typ.Type), typ.Value)
		}
		return fmt.Sprintf("the body must be a JSON object, not a JSON %s", typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends before its JSON does"
	}
	return "invalid JSON"
}

// jsonKind names what a Go type of graphql.RawParams takes in JSON.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a " + t.Kind().String()
}

// responseContentType negotiates the media type of the response from the
// Accept header as transport.POST does: application/json unless only
// application/graphql-response+json (or nothing known) is accepted.
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return "application/json"
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case "application/graphql-response+json":
			return "application/graphql-response+json"
		}
	}
	return "application/graphql-response+json"
}

// writeResponse writes a response as json.Marshal would, but copies its
// data document verbatim: the executor wrote it, compact and valid. The
// response goes out in one write with its length: net/http then sends it
// without chunked encoding, in one system call fewer (a page of 50 cases
// is three 4 KiB buffers' worth).
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if len(resp.Data) == 0 {
		b, err := json.Marshal(resp)
		if err != nil {
			b = []byte(`{"errors":[{"message":"unable to encode the response"}],"data":null}`)
		}
		writeBody(w, b)
		return
	}
	rest := *resp
	rest.Data = dataMark
	frame, err := json.Marshal(&rest)
	i := bytes.Index(frame, dataMark)
	if err != nil || i < 0 || bytes.Count(frame, dataMark) != 1 {
		b, _ := json.Marshal(resp)
		writeBody(w, b)
		return
	}
	buf := responseBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	buf.Grow(len(frame) - len(dataMark) + len(resp.Data))
	buf.Write(frame[:i])
	buf.Write(resp.Data)
	buf.Write(frame[i+len(dataMark):])
	writeBody(w, buf.Bytes())
	if buf.Cap() <= maxPooledResponse {
		responseBuffers.Put(buf)
	}
}

// writeBody writes a whole response body with its length.
func writeBody(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// responseBuffers hold responses while they are written; one larger than
// maxPooledResponse is left to the collector, so that a rare large answer
// does not keep its memory.
var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledResponse = 1 << 20

// dataMark stands in for the data document while the rest of a response is
// encoded.
var dataMark = json.RawMessage(`"\u0000data\u0000"`)
