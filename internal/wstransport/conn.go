package wstransport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/requestid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Close codes of graphql-transport-ws, used by both protocols.
const (
	CloseNormal                = 1000
	CloseInternal              = 4500
	CloseBadRequest            = 4400
	CloseUnauthorized          = 4401
	CloseForbidden             = 4403
	CloseInitTimeout           = 4408
	CloseSubscriberExists      = 4409
	CloseTooManyInitialisation = 4429
	// CloseTryAgainLater: a passing fault on the server's side (1013).
	CloseTryAgainLater = 1013
)

type refusedKey struct{}

// WithCredentialsRefused marks a websocket upgrade whose cookie or
// Authorization header was refused: the refusal is then the protocol's
// (4403 at connection_init), which clients understand, not an HTTP 401
// that a browser reports as a bare failure.
func WithCredentialsRefused(ctx context.Context, reason string) context.Context {
	return context.WithValue(ctx, refusedKey{}, reason)
}

// CredentialsRefused returns the reason set by WithCredentialsRefused.
func CredentialsRefused(ctx context.Context) string {
	s, _ := ctx.Value(refusedKey{}).(string)
	return s
}

// closeGrace is how long the server waits for the client's answer to its
// close frame before dropping the connection.
const closeGrace = time.Second

type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type conn struct {
	t      *Transport
	ws     *gorillaConn
	exec   graphql.GraphExecutor
	legacy bool
	// ctx carries the viewer; it ends when the connection does.
	ctx    context.Context
	cancel context.CancelFunc
	live   *live.Conn

	// closeSent is closed once the close frame was written (or failed).
	closeSent chan struct{}

	mu    sync.Mutex
	queue [][]byte
	// queuedBytes is the size of queue.
	queuedBytes int
	writing     bool
	// writerDone is closed when the writing ends (the queue is empty).
	writerDone chan struct{}
	closing    bool
	inited     bool
	acked      bool
	ops        map[string]*operation
	ping       *time.Timer
}

func newConn(t *Transport, ws *gorillaConn, r *http.Request, exec graphql.GraphExecutor) *conn {
	ctx, cancel := context.WithCancel(detach(r.Context()))
	return &conn{
		t: t, ws: ws, exec: exec, ctx: ctx, cancel: cancel,
		legacy:    ws.Subprotocol() != ProtocolTransportWS,
		ops:       map[string]*operation{},
		closeSent: make(chan struct{}),
	}
}

// detach copies what a connection needs of its upgrade request's context
// (viewer, client, request id) into a context of its own: the request's
// ends when the handler returns, right after the upgrade, and holds on to
// net/http's response and buffers, which a long-lived socket should not.
func detach(req context.Context) context.Context {
	ctx := requestid.NewContext(context.Background(), requestid.FromContext(req))
	ctx = auth.WithClient(ctx, auth.ClientFromContext(req))
	if refused := CredentialsRefused(req); refused != "" {
		ctx = WithCredentialsRefused(ctx, refused)
	}
	return viewer.NewContext(ctx, viewer.FromContext(req))
}

// serve is the connection's reader, on a goroutine of its own (see Transport.Do).
func (c *conn) serve() {
	defer c.cleanup()
	_ = c.ws.SetReadDeadline(time.Now().Add(c.t.InitTimeout))
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			var netErr interface{ Timeout() bool }
			if errors.As(err, &netErr) && netErr.Timeout() && !c.isAcked() && !c.isClosing() {
				c.close(CloseInitTimeout, "Connection initialisation timeout")
				c.awaitClose()
			}
			return
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return
		}
		if c.isAcked() && !c.legacy {
			// graphql-transport-ws clients answer pings: silence for two
			// intervals means the peer is gone.
			_ = c.ws.SetReadDeadline(time.Now().Add(2*c.t.KeepAlive + closeGrace))
		}
		if !c.handleApart(data) {
			c.awaitClose()
			return
		}
	}
}

// handleApart runs handle on a goroutine that ends with it. connection_init
// (authentication) and subscribe (the executor) run deep call chains, and
// a goroutine's stack does not shrink back while it is in use: the reader,
// idle in a read for the life of the socket, would keep the 8 KB or more
// they grew, at 10,000 subscribers 80 MB, which the collector also counts
// when it paces the heap. Read apart, it keeps what reading needs.
func (c *conn) handleApart(data []byte) bool {
	done := make(chan bool, 1)
	go func() { done <- c.handle(data) }()
	return <-done
}

// awaitClose reads until the client answers the close frame, briefly, so
// that the frame is not lost to a reset connection.
func (c *conn) awaitClose() {
	c.waitCloseSent()
	_ = c.ws.SetReadDeadline(time.Now().Add(closeGrace))
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			return
		}
	}
}

// waitCloseSent waits for the close frame to be written, if one is being
// written (closeLocked bounds that).
func (c *conn) waitCloseSent() {
	if c.isClosing() {
		<-c.closeSent
	}
}

func (c *conn) cleanup() {
	c.waitCloseSent()
	c.cancel()
	c.mu.Lock()
	c.closing = true
	if c.ping != nil {
		c.ping.Stop()
	}
	c.mu.Unlock()
	if c.live != nil {
		c.live.Close()
	}
	_ = c.ws.Close()
}

func (c *conn) isAcked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acked
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// handle acts on one client message; false ends the connection.
func (c *conn) handle(data []byte) bool {
	var m message
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		c.close(CloseBadRequest, "Invalid message received")
		return false
	}
	switch m.Type {
	case "connection_init":
		return c.init(m.Payload)
	case "ping":
		if !c.legacy {
			c.send(message{Type: "pong", Payload: m.Payload})
		}
		return true
	case "pong":
		return true
	case "subscribe", "start":
		if (m.Type == "subscribe") == c.legacy {
			break
		}
		return c.start(m)
	case "complete", "stop":
		if (m.Type == "complete") == c.legacy {
			break
		}
		c.mu.Lock()
		op := c.ops[m.ID]
		delete(c.ops, m.ID)
		c.mu.Unlock()
		if op != nil {
			op.cancel()
		}
		return true
	case "connection_terminate":
		if c.legacy {
			c.close(CloseNormal, "terminated")
			return false
		}
	}
	c.close(CloseBadRequest, "Invalid message received: unknown type "+m.Type)
	return false
}

// init authenticates the connection: the authorization of the payload
// ("Bearer <token>"), or else the session cookie or Authorization header
// of the upgrade request.
func (c *conn) init(payload json.RawMessage) bool {
	c.mu.Lock()
	again := c.inited
	c.inited = true
	c.mu.Unlock()
	if again {
		c.close(CloseTooManyInitialisation, "Too many initialisation requests")
		return false
	}
	var p map[string]any
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &p); err != nil {
			c.close(CloseBadRequest, "connection_init payload must be an object")
			return false
		}
	}
	header, _ := p["authorization"].(string)
	if header == "" {
		header, _ = p["Authorization"].(string)
	}
	if header != "" {
		token, ok := auth.BearerToken(header)
		if !ok {
			c.refuse("Forbidden: authorization must be \"Bearer <token>\"")
			return false
		}
		v, err := c.t.Auth.Authenticate(c.ctx, token)
		if err != nil {
			var e *apierr.Error
			if errors.As(err, &e) {
				c.refuse("Forbidden: " + e.Message)
				return false
			}
			// A passing fault (the database): worth a retry, unlike 4500.
			c.t.Log.ErrorContext(c.ctx, "websocket authentication", "err", err)
			c.close(CloseTryAgainLater, "the server could not check your credentials; try again")
			return false
		}
		c.ctx = viewer.NewContext(c.ctx, v)
	} else if refused := CredentialsRefused(c.ctx); refused != "" {
		// The upgrade request's cookie or Authorization header was refused.
		c.refuse("Forbidden: " + refused)
		return false
	}
	if viewer.FromContext(c.ctx) == nil {
		// Everything live needs a signed-in viewer, and the per-user limit
		// must count every connection.
		c.refuse("Forbidden: sign in first (authorization in connection_init, or the session cookie)")
		return false
	}
	ctx, lc, err := c.t.Hub.Connect(c.ctx, c.disconnect)
	if err != nil {
		code := CloseTryAgainLater
		switch apierr.CodeOf(err) {
		case apierr.RateLimited:
			code = CloseTooManyInitialisation
		case apierr.Unavailable:
			code = live.CloseGoingAway
		}
		c.close(code, truncateReason(err.Error()))
		return false
	}
	c.ctx, c.live = ctx, lc
	c.mu.Lock()
	c.acked = true
	c.mu.Unlock()
	c.send(message{Type: "connection_ack"})
	if !c.legacy {
		_ = c.ws.SetReadDeadline(time.Now().Add(2*c.t.KeepAlive + closeGrace))
	} else {
		_ = c.ws.SetReadDeadline(time.Time{})
		c.send(message{Type: "ka"})
	}
	c.mu.Lock()
	c.ping = time.AfterFunc(c.t.KeepAlive, c.keepAlive)
	c.mu.Unlock()
	return true
}

// refuse closes a connection whose credentials were refused, with 4403.
// Legacy clients (subscriptions-transport-ws) ignore close codes, so they
// first get connection_error, which reaches their connectionCallback.
func (c *conn) refuse(reason string) {
	if c.legacy {
		payload, _ := json.Marshal(map[string]string{"message": reason})
		if b, err := json.Marshal(message{Type: "connection_error", Payload: payload}); err == nil {
			// Nothing else is written before the ack, so no writer runs.
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.t.WriteTimeout))
			_ = c.ws.WriteMessage(b)
		}
	}
	c.close(CloseForbidden, reason)
}

// keepAlive runs on a timer, not a goroutine of its own.
func (c *conn) keepAlive() {
	if c.legacy {
		c.send(message{Type: "ka"})
	} else {
		c.send(message{Type: "ping"})
	}
	c.mu.Lock()
	if !c.closing {
		c.ping.Reset(c.t.KeepAlive)
	}
	c.mu.Unlock()
}

// start runs one operation: a query or mutation at once; a subscription
// of the hub's events (one attached to its Share) is pumped, from the
// hub's Ready calls, only while it has results to take; any other
// subscription runs on a goroutine of its own.
func (c *conn) start(m message) bool {
	if !c.isAcked() {
		c.close(CloseUnauthorized, "Unauthorized")
		return false
	}
	if m.ID == "" {
		c.close(CloseBadRequest, "Invalid message received: id is required")
		return false
	}
	c.mu.Lock()
	_, exists := c.ops[m.ID]
	n := len(c.ops)
	c.mu.Unlock()
	if exists {
		c.close(CloseSubscriberExists, "Subscriber for "+truncateReason(m.ID)+" already exists")
		return false
	}
	if n >= c.t.MaxSubscriptions {
		// A place frees as soon as the client completes one of its
		// operations: retryAfter says "at once, after that".
		e := &apierr.Error{Code: apierr.RateLimited, RetryAfter: time.Second,
			Message: fmt.Sprintf("this connection already runs %d operations, the most allowed", c.t.MaxSubscriptions)}
		c.sendErrors(m.ID, gqlerror.List{graph.NewError(e)})
		return true
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(m.Payload))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		c.sendErrors(m.ID, gqlerror.List{graph.NewError(apierr.Errorf(apierr.BadUserInput, "the payload must be {query, variables, operationName}"))})
		return true
	}
	now := graphql.Now()
	params.ReadTime = graphql.TraceTiming{Start: now, End: now}
	ctx := graphql.StartOperationTrace(c.ctx)
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs == nil && rc.Operation.Operation != ast.Subscription {
		// A login over the socket signs in that operation, not the
		// connection: the connection stays its user's.
		ctx = viewer.NewContext(ctx, viewer.FromContext(ctx))
	}
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		c.sendErrors(m.ID, resp.Errors)
		return true
	}
	ctx, cancel := context.WithCancel(ctx)
	op := &operation{id: m.ID, cancel: cancel, resultHead: resultHead(m.ID, c.legacy)}
	if rc.Operation.Operation == ast.Subscription {
		op.share = live.NewShare(opOutput{c: c, op: op}, fingerprint(rc, live.ShareKey(viewer.FromContext(ctx), personal(rc))))
		ctx = live.WithShare(ctx, op.share)
		// Held until the operation is set up: the hub may queue events
		// (and call Ready) from within DispatchOperation.
		op.ready.Store(1)
	}
	c.mu.Lock()
	c.ops[m.ID] = op
	c.mu.Unlock()
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	switch {
	case rc.Operation.Operation != ast.Subscription:
		c.respond(ctx, op, responses)
	case op.share.Attached():
		op.ctx, op.responses = ctx, responses
		c.release(op)
	default:
		// Refused (an error response), or a subscription whose results
		// are not the hub's events of this operation.
		go c.respond(ctx, op, responses)
	}
	return true
}

// operation is one running operation. Ids may be reused once an operation
// is complete, so an operation is known by this identity, not by its id.
type operation struct {
	id         string
	cancel     context.CancelFunc
	resultHead []byte
	// share lets the hub hand this subscription results rendered for an
	// identical one.
	share *live.Share

	// A pumped subscription (one attached to the hub through share) has
	// no goroutine of its own: ready counts the results its execution
	// can give without waiting (one per Ready of the hub), plus one while
	// a pump takes them or the operation is being set up. The Ready that
	// takes it from zero starts a pump, which ends when it brings it back
	// to zero: one pump at a time, taking the results in order.
	ready     atomic.Int64
	ctx       context.Context
	responses graphql.ResponseHandler
	// started: the pump has taken a result.
	started bool
}

// opOutput delivers results rendered for another subscription.
type opOutput struct {
	c  *conn
	op *operation
}

func (o opOutput) Deliver(payload []byte) {
	c := o.c
	b := c.t.frames.frame(o.op.resultHead, payload)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops[o.op.id] == o.op {
		c.enqueueLocked(b)
	}
}

// Ready is the hub's word that the operation's execution has one more
// result to give without waiting (see live.Output). It does not block.
func (o opOutput) Ready() {
	if o.op.ready.Add(1) == 1 {
		go o.c.pump(o.op)
	}
}

// release ends the hold of a pumped operation's setup, starting its pump
// if results came meanwhile.
func (c *conn) release(op *operation) {
	if op.ready.Add(-1) > 0 {
		go c.pump(op)
	}
}

// pump takes the results of a pumped operation that are ready, in order,
// then returns; the next Ready starts another.
func (c *conn) pump(op *operation) {
	for {
		resp := op.responses(op.ctx)
		if resp == nil || !c.current(op) {
			// The operation ended (its context is done): the hub's
			// last Ready.
			c.finish(op, true)
			return
		}
		first := !op.started
		op.started = true
		if !c.result(op.ctx, op, resp, first) {
			c.finish(op, false)
			return
		}
		if op.ready.Add(-1) == 0 {
			return
		}
	}
}

// current reports whether op is still the connection's operation of its
// id (not stopped by the client, nor replaced).
func (c *conn) current(op *operation) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops[op.id] == op
}

// respond sends an operation's results, then complete (unless the client
// stopped it, or the connection is closing).
func (c *conn) respond(ctx context.Context, op *operation, responses graphql.ResponseHandler) {
	for first := true; ; first = false {
		resp := responses(ctx)
		if resp == nil || !c.current(op) {
			break
		}
		if !c.result(ctx, op, resp, first) {
			c.finish(op, false)
			return
		}
	}
	c.finish(op, true)
}

// result sends one response of op; false when it ended the operation
// with an error message.
func (c *conn) result(ctx context.Context, op *operation, resp *graphql.Response, first bool) bool {
	if first && op.share != nil && resp.Data == nil && len(resp.Errors) > 0 {
		// The operation failed before it produced anything (the
		// subscription was refused): an error message ends it.
		c.sendErrors(op.id, resp.Errors)
		return false
	}
	payload, err := json.Marshal(resp)
	if err != nil {
		// Still a result, so that shared rendering stays aligned.
		c.t.Log.ErrorContext(ctx, "encoding a response", "err", err)
		payload = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	if op.share != nil && op.share.Rendered(payload) {
		return true // the hub delivers it, to this and identical subscriptions
	}
	c.sendResult(op, payload)
	return true
}

// finish ends an operation whose results ended: complete is sent when
// complete is set, unless the client stopped it or the connection is
// closing.
func (c *conn) finish(op *operation, complete bool) {
	if complete && c.current(op) && c.ctx.Err() == nil {
		c.send(message{ID: op.id, Type: "complete"})
	}
	c.mu.Lock()
	if c.ops[op.id] == op {
		delete(c.ops, op.id)
	}
	c.mu.Unlock()
	op.cancel()
}

// sendResult sends one result of an operation. The frame is put together
// by hand: the payload is shared by many subscribers and already JSON, and
// the frame's head is made once per operation.
func (c *conn) sendResult(op *operation, payload []byte) {
	c.enqueue(c.t.frames.frame(op.resultHead, payload))
}

// resultHead is the start of a result frame of operation id.
func resultHead(id string, legacy bool) []byte {
	typ := "next"
	if legacy {
		typ = "data"
	}
	quotedID, _ := json.Marshal(id)
	return fmt.Appendf(nil, `{"id":%s,"type":%q,"payload":`, quotedID, typ)
}

func (c *conn) sendErrors(id string, errs gqlerror.List) {
	payload, err := json.Marshal(errs)
	if err != nil {
		payload = []byte(`[{"message":"internal error"}]`)
	}
	c.send(message{ID: id, Type: "error", Payload: payload})
}

// send queues a message for the writer.
func (c *conn) send(m message) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	c.enqueue(b)
}

// enqueue queues an encoded message, or closes a connection whose queue
// is full (the client is not reading).
func (c *conn) enqueue(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enqueueLocked(b)
}

func (c *conn) enqueueLocked(b []byte) {
	if c.closing {
		return
	}
	if len(c.queue) >= c.t.OutboundQueue || c.queuedBytes+len(b) > c.t.OutboundBytes {
		// Told to operators: a client dropped for this reconnects, and
		// many such drops mean clients (or their network) cannot keep up.
		c.t.Log.InfoContext(c.ctx, "websocket too slow: closing with 1013", "request_id", requestid.FromContext(c.ctx),
			"queued", len(c.queue), "queued_bytes", c.queuedBytes)
		c.closeLocked(live.CloseTooSlow, "too slow: messages were not read fast enough; reconnect and resume from your last cursor")
		return
	}
	c.queue = append(c.queue, b)
	c.queuedBytes += len(b)
	if !c.writing {
		c.writing = true
		c.writerDone = make(chan struct{})
		if c.ws.Resumable() {
			c.t.writers.schedule(c)
		} else {
			go c.writeAlone()
		}
	}
}

// writeTurn writes what has queued up since the last turn as one batch,
// and reports whether more is queued. A socket that cannot take the batch
// at once gets a writer of its own (writeAlone) for the rest.
func (c *conn) writeTurn() bool {
	batch, ok := c.takeBatch()
	if !ok {
		return false
	}
	err := c.ws.WriteMessages(batch, time.Now().Add(writeTry))
	clear(batch)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		go c.writeAlone()
		return false
	case err != nil:
		c.writeFailed()
		return false
	}
	return c.more()
}

// writeAlone finishes the batch a shared writer could not, then writes
// the rest of the queue, waiting up to WriteTimeout for each batch, until
// the queue is empty.
func (c *conn) writeAlone() {
	if err := c.ws.FlushRest(time.Now().Add(c.t.WriteTimeout)); err != nil {
		c.writeFailed()
		return
	}
	for {
		batch, ok := c.takeBatch()
		if !ok {
			return
		}
		err := c.ws.WriteMessages(batch, time.Now().Add(c.t.WriteTimeout))
		clear(batch)
		if err != nil {
			c.writeFailed()
			return
		}
	}
}

// takeBatch takes the queued messages, up to maxBatchBytes; with none
// left (or the connection closing) the writing ends.
func (c *conn) takeBatch() ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 || c.closing {
		c.doneWritingLocked()
		return nil, false
	}
	n, size := 0, 0
	for n < len(c.queue) && (n == 0 || size+len(c.queue[n]) <= maxBatchBytes) {
		size += len(c.queue[n])
		n++
	}
	// The batch's slots are behind the queue now: appends do not reach
	// them.
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.queuedBytes -= size
	return batch, true
}

// more reports whether messages wait for another turn; if none do, the
// writing ends.
func (c *conn) more() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 || c.closing {
		c.doneWritingLocked()
		return false
	}
	return true
}

func (c *conn) writeFailed() {
	c.mu.Lock()
	c.doneWritingLocked()
	c.mu.Unlock()
	c.cancel()
	_ = c.ws.Close()
}

func (c *conn) doneWritingLocked() {
	if c.writing {
		c.writing = false
		close(c.writerDone)
	}
	c.queue, c.queuedBytes = nil, 0
}

// disconnect is the hub's way to close the connection (revoked session,
// too slow, shutdown).
func (c *conn) disconnect(code int, reason string) { c.close(code, reason) }

func (c *conn) close(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason)
}

// closeLocked sends the close frame (pending messages are dropped) and
// ends the operations; the reader then waits briefly for the client's
// answer. A message being written holds the socket, and the close frame
// can only follow it: to a client that stopped reading (1013) that write
// is given its own deadline (WriteTimeout), so that a client that reads
// again in time still learns why it is dropped; other closes wait for it
// briefly, so that shutdown is not held up. The close frame itself then
// has a short deadline: a stuck peer cannot hold the connection longer.
func (c *conn) closeLocked(code int, reason string) {
	if c.closing {
		return
	}
	c.closing = true
	c.queue, c.queuedBytes = nil, 0
	if c.ping != nil {
		c.ping.Stop()
	}
	var writing chan struct{}
	if c.writing {
		writing = c.writerDone
	}
	wait := closeGrace
	if code == live.CloseTooSlow {
		wait = c.t.WriteTimeout
	}
	go func() {
		defer close(c.closeSent)
		c.cancel()
		if writing != nil {
			t := time.NewTimer(wait)
			select {
			case <-writing:
			case <-t.C:
			}
			t.Stop()
		}
		if err := c.ws.WriteClose(code, truncateReason(reason)); err != nil {
			_ = c.ws.Close()
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(closeGrace))
	}()
}

// truncateReason fits a close reason in a control frame (123 bytes).
func truncateReason(s string) string {
	if len(s) <= 120 {
		return s
	}
	s = s[:120]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return strings.TrimSpace(s)
}
