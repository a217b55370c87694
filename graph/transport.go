package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

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
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)}))
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %+v body:%s", err, body)}))
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
// data document verbatim: the executor wrote it, compact and valid.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if len(resp.Data) == 0 {
		b, err := json.Marshal(resp)
		if err != nil {
			b = []byte(`{"errors":[{"message":"unable to encode the response"}],"data":null}`)
		}
		w.Write(b)
		return
	}
	rest := *resp
	rest.Data = dataMark
	frame, err := json.Marshal(&rest)
	i := bytes.Index(frame, dataMark)
	if err != nil || i < 0 || bytes.Count(frame, dataMark) != 1 {
		b, _ := json.Marshal(resp)
		w.Write(b)
		return
	}
	w.Write(frame[:i])
	w.Write(resp.Data)
	w.Write(frame[i+len(dataMark):])
}

// dataMark stands in for the data document while the rest of a response is
// encoded.
var dataMark = json.RawMessage(`"\u0000data\u0000"`)
