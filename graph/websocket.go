package graph

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// wsTransport serves GraphQL over graphql-transport-ws with as little
// memory per connection as it can, for tens of thousands of idle
// subscribers: once upgraded, a connection is served by one goroutine of
// its own (the request's handler returns, freeing its stack and the HTTP
// server's buffers), with 512-byte socket buffers; its keep-alive pings and
// its end are timers and context callbacks, not goroutines; and a
// subscription of the change feed has no goroutine while it waits (the
// feed wakes it, streamPump). Queries and mutations over the websocket,
// and the other subscriptions, run as gqlgen's websocket transport runs
// them. Clients of the older graphql-ws protocol (no subprotocol, or
// "graphql-ws") are served by gqlgen's transport.
type wsTransport struct {
	init        transport.WebsocketInitFunc
	initTimeout time.Duration
	ping        time.Duration
	// operation prepares the context of an operation that is not a
	// subscription (its own loaders).
	operation func(context.Context) context.Context
	legacy    transport.Websocket
	log       *slog.Logger
}

var _ graphql.Transport = wsTransport{}

const graphqlTransportWS = "graphql-transport-ws"

func (t wsTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

func (t wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if !offersSubprotocol(r, graphqlTransportWS) {
		t.legacy.Do(w, r, exec)
		return
	}
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{Subprotocols: []string{graphqlTransportWS}})
	if err != nil {
		return // Accept answered the request
	}
	ws.SetReadLimit(1 << 20)
	// The request's context ends when its handler returns; the
	// connection's keeps its values (the caller, its scope).
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	// Of the request's headers, operations read only X-Purpose (unmasking).
	headers := http.Header{}
	if v := r.Header.Values("X-Purpose"); len(v) > 0 {
		headers["X-Purpose"] = v
	}
	c := &wsConn{t: t, ws: ws, exec: exec, headers: headers, cancel: cancel, ops: map[string]*wsOp{}}
	go c.serve(ctx)
}

// offersSubprotocol reports whether the upgrade request offers proto.
func offersSubprotocol(r *http.Request, proto string) bool {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			if strings.TrimSpace(p) == proto {
				return true
			}
		}
	}
	return false
}

// smallBuffers hijacks a connection with small buffers in place of the
// HTTP server's 4 KB ones: messages of the protocol are small, and a
// larger one is read or written in several steps or directly.
type smallBuffers struct{ http.ResponseWriter }

func (s smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	const size = 512
	n := brw.Reader.Buffered()
	if n > size {
		return conn, brw, nil
	}
	br := bufio.NewReaderSize(conn, size)
	if n > 0 {
		// What the client sent right after its upgrade request goes in
		// the new buffer, where the websocket library looks for it.
		b, _ := brw.Reader.Peek(n)
		br.Reset(io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn))
		if _, err := br.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, size)), nil
}

func (s smallBuffers) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// wsMessage is a message of graphql-transport-ws.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsConn is one websocket connection.
type wsConn struct {
	t       wsTransport
	ws      *websocket.Conn
	exec    graphql.GraphExecutor
	headers http.Header
	cancel  context.CancelFunc
	ctx     context.Context // the connection's, once initialised

	mu     sync.Mutex
	ops    map[string]*wsOp
	closed bool
	ping   *time.Timer
}

// Close codes of graphql-transport-ws.
const (
	closeBadRequest     websocket.StatusCode = 4400
	closeUnauthorized   websocket.StatusCode = 4401
	closeForbidden      websocket.StatusCode = 4403
	closeInitTimeout    websocket.StatusCode = 4408
	closeDuplicateID    websocket.StatusCode = 4409
	closeTooManyInitReq websocket.StatusCode = 4429
)

func (c *wsConn) serve(ctx context.Context) {
	defer c.ws.CloseNow()
	// The operations' contexts are the connection's: they end with it.
	defer func() {
		c.mu.Lock()
		c.closed = true
		if c.ping != nil {
			c.ping.Stop()
		}
		c.mu.Unlock()
		c.cancel()
	}()
	if !c.initialise(ctx) {
		return
	}
	for {
		m, err := c.read(ctx)
		if err != nil {
			if errors.Is(err, errBadMessage) {
				c.close(closeBadRequest, err.Error())
			}
			return
		}
		switch m.Type {
		case "subscribe":
			if m.ID == "" {
				c.close(closeBadRequest, "a subscribe message needs an id")
				return
			}
			// The operation starts on a goroutine of its own: what it runs
			// (its resolvers, the database) would leave this one, which
			// waits on the socket for the connection's lifetime, a larger
			// stack.
			start := graphql.Now()
			octx, cancel := context.WithCancel(c.ctx)
			op := &wsOp{c: c, id: m.ID, cancel: cancel}
			c.mu.Lock()
			_, dup := c.ops[m.ID]
			if !dup {
				c.ops[m.ID] = op
			}
			c.mu.Unlock()
			if dup {
				cancel()
				c.close(closeDuplicateID, "Subscriber for "+m.ID+" already exists")
				return
			}
			go c.start(octx, op, m.Payload, start)
		case "complete":
			c.mu.Lock()
			op := c.ops[m.ID]
			c.mu.Unlock()
			if op != nil {
				op.cancel()
			}
		case "ping":
			c.send(wsMessage{Type: "pong", Payload: m.Payload})
		case "pong":
		case "connection_init":
			c.close(closeTooManyInitReq, "Too many initialisation requests")
			return
		default:
			c.close(closeBadRequest, "unexpected message "+m.Type)
			return
		}
	}
}

var errBadMessage = errors.New("invalid message")

func (c *wsConn) read(ctx context.Context) (wsMessage, error) {
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return wsMessage{}, err
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil || m.Type == "" {
		return m, fmt.Errorf("%w: not a graphql-transport-ws message", errBadMessage)
	}
	return m, nil
}

// initialise waits for connection_init, authenticates it and acknowledges.
func (c *wsConn) initialise(ctx context.Context) bool {
	late := time.AfterFunc(c.t.initTimeout, func() {
		c.ws.Close(closeInitTimeout, "Connection initialisation timeout")
	})
	m, err := c.read(ctx)
	if !late.Stop() {
		return false
	}
	switch {
	case err != nil:
		if errors.Is(err, errBadMessage) {
			c.close(closeBadRequest, err.Error())
		}
		return false
	case m.Type == "subscribe":
		c.close(closeUnauthorized, "Unauthorized")
		return false
	case m.Type != "connection_init":
		c.close(closeBadRequest, "unexpected message "+m.Type)
		return false
	}
	var payload transport.InitPayload
	if len(m.Payload) > 0 && string(m.Payload) != "null" {
		if err := json.Unmarshal(m.Payload, &payload); err != nil {
			c.close(closeBadRequest, "the connection_init payload is not an object")
			return false
		}
	}
	if c.t.init != nil {
		next, _, err := c.t.init(ctx, payload)
		if err != nil {
			c.close(closeForbidden, err.Error())
			return false
		}
		ctx = next
	}
	c.ctx = ctx
	c.send(wsMessage{Type: "connection_ack"})
	if c.t.ping > 0 {
		c.mu.Lock()
		c.ping = time.AfterFunc(c.t.ping, c.keepAlive)
		c.mu.Unlock()
	}
	return true
}

// pingMessage is the keep-alive message, written as it is.
var pingMessage = []byte(`{"type":"ping"}`)

// keepAlive pings the client and schedules the next ping.
func (c *wsConn) keepAlive() {
	if err := c.ws.Write(context.Background(), websocket.MessageText, pingMessage); err != nil {
		c.cancel()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.ping.Reset(c.t.ping)
	}
}

// close ends the connection with a close code of the protocol.
func (c *wsConn) close(code websocket.StatusCode, reason string) {
	if len(reason) > 120 { // a close frame's reason has at most 123 bytes
		reason = reason[:120]
	}
	c.ws.Close(code, reason) // waits a while for the client's close frame
	c.cancel()
}

// send writes a message; a failed write closes the connection.
func (c *wsConn) send(m wsMessage) {
	b, err := json.Marshal(m)
	if err != nil {
		c.t.log.Error("websocket: encoding a message", "error", err.Error())
		return
	}
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.cancel()
	}
}

// wsOp is one operation of a connection.
type wsOp struct {
	c      *wsConn
	id     string
	cancel context.CancelFunc
}

func (op *wsOp) next(resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(&graphql.Response{Errors: gqlerror.List{{Message: "unable to encode the response"}}})
	}
	op.c.send(wsMessage{ID: op.id, Type: "next", Payload: b})
}

func (op *wsOp) fail(errs ...*gqlerror.Error) {
	b, _ := json.Marshal(errs)
	op.c.send(wsMessage{ID: op.id, Type: "error", Payload: b})
}

// done ends the operation: complete, unless the connection or the client
// ended it.
func (op *wsOp) done(ctx context.Context) {
	if ctx.Err() == nil {
		op.c.send(wsMessage{ID: op.id, Type: "complete"})
	}
	op.forget()
}

// forget unregisters the operation.
func (op *wsOp) forget() {
	op.c.mu.Lock()
	if op.c.ops[op.id] == op {
		delete(op.c.ops, op.id)
	}
	op.c.mu.Unlock()
	op.cancel()
}

// start runs the operation of a subscribe message, registered as op.
func (c *wsConn) start(ctx context.Context, op *wsOp, payload json.RawMessage, start time.Time) {
	ctx = graphql.StartOperationTrace(ctx)
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		op.fail(&gqlerror.Error{Message: "invalid json"})
		op.forget()
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	params.Headers = c.headers
	rc, gerr := c.exec.CreateOperationContext(ctx, params)
	if gerr != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), gerr)
		if errcode.GetErrorKind(gerr) == errcode.KindProtocol {
			op.fail(resp.Errors...)
			op.forget()
			return
		}
		op.next(&graphql.Response{Errors: gerr})
		op.done(ctx)
		return
	}
	ctx = graphql.WithOperationContext(ctx, rc)

	var pump *streamPump
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		pump = &streamPump{op: op, ready: make(chan struct{})}
		ctx = context.WithValue(ctx, streamPumpKey{}, pump)
	} else if c.t.operation != nil {
		ctx = c.t.operation(ctx)
	}
	var responses graphql.ResponseHandler
	func() {
		defer func() {
			if r := recover(); r != nil {
				err := rc.Recover(ctx, r)
				responses = graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: errorText(err)}}})
			}
		}()
		responses, ctx = c.exec.DispatchOperation(ctx, rc)
	}()
	if pump != nil {
		pump.responses, pump.ctx = responses, ctx
		close(pump.ready)
		if pump.claimed() {
			return // the feed delivers it
		}
	}
	op.run(ctx, rc, responses)
}

func errorText(err error) string {
	if err == nil {
		return "internal system error"
	}
	return err.Error()
}

// run sends every response of the operation, then its end.
func (op *wsOp) run(ctx context.Context, rc *graphql.OperationContext, responses graphql.ResponseHandler) {
	defer func() {
		if r := recover(); r != nil {
			var gerr *gqlerror.Error
			if err := rc.Recover(ctx, r); !errors.As(err, &gerr) {
				gerr = &gqlerror.Error{Message: errorText(err)}
			}
			op.fail(gerr)
			op.forget()
		}
	}()
	for {
		resp := responses(ctx)
		if resp == nil {
			break
		}
		op.next(resp)
	}
	op.done(ctx)
}

// streamPump lets a subscription resolver deliver its stream itself, from
// whatever goroutine it runs on, instead of a goroutine of the transport
// waiting on its channel: the resolver claims the pump while the operation
// starts, then puts each item in its channel (buffered) and calls next,
// which runs the operation's response handler once and sends the response;
// end sends what is left (the error that ended it) and the end.
type streamPump struct {
	op        *wsOp
	ready     chan struct{} // closed once responses and ctx are set
	responses graphql.ResponseHandler
	ctx       context.Context

	mu    sync.Mutex
	claim bool
	over  bool
}

type streamPumpKey struct{}

// pumpOf returns the pump of a subscription's context, nil when its
// transport has none.
func pumpOf(ctx context.Context) *streamPump {
	p, _ := ctx.Value(streamPumpKey{}).(*streamPump)
	return p
}

// take claims the pump; false when it was claimed before (a second root
// field of the operation) and the transport runs the stream.
func (p *streamPump) take() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.claim {
		return false
	}
	p.claim = true
	return true
}

func (p *streamPump) claimed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.claim
}

// next sends the response to the item the resolver just put in its channel.
func (p *streamPump) next() {
	<-p.ready
	if p.over || p.ctx.Err() != nil {
		return
	}
	resp := p.responses(p.ctx)
	if resp == nil {
		p.over = true
		return
	}
	p.op.next(resp)
}

// end sends the rest of the stream once the resolver closed its channel,
// and the end of the operation.
func (p *streamPump) end() {
	<-p.ready
	for !p.over && p.ctx.Err() == nil {
		resp := p.responses(p.ctx)
		if resp == nil {
			break
		}
		p.op.next(resp)
	}
	p.over = true
	p.op.done(p.ctx)
}
