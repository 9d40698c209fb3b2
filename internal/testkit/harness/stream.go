package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// LiveWait bounds every wait for something that must happen.
const LiveWait = 10 * time.Second

// LiveEnv is short live-update settings (revalidation, connection_init
// timeout, log polling), plus extra.
func LiveEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		"SWITCHBOARD_LIVE_REVALIDATE_INTERVAL": "200ms",
		"SWITCHBOARD_WS_INIT_TIMEOUT":          "300ms",
		"SWITCHBOARD_LIVE_POLL_INTERVAL":       "100ms",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// Stream reads a websocket on a goroutine of its own, so that tests
// can wait with deadlines without spoiling the connection (a timed-out
// read breaks a gorilla connection for good). Writes stay on the test's
// goroutine. Server pings are not answered: no test keeps a connection for
// two keep-alive intervals.
type Stream struct {
	// WS is the connection, for writing or closing it.
	WS   *WS
	msgs chan WSMessage
	done chan struct{}
	err  error // why the connection ended, once done is closed
	// held are messages read while waiting for something else (sync).
	held []WSMessage
	seq  int
}

// ReadStream starts reading c on a goroutine.
func ReadStream(c *WS) *Stream {
	st := &Stream{WS: c, msgs: make(chan WSMessage, 4096), done: make(chan struct{})}
	_ = c.Conn.SetReadDeadline(time.Time{})
	go func() {
		defer close(st.done)
		for {
			_, data, err := c.Conn.ReadMessage()
			if err != nil {
				st.err = err
				return
			}
			var m WSMessage
			if err := json.Unmarshal(data, &m); err != nil {
				m = WSMessage{Type: "!invalid JSON: " + string(data)}
			}
			st.msgs <- m
		}
	}()
	return st
}

// Err is why the connection ended (nil while it is open).
func (st *Stream) Err() error {
	select {
	case <-st.done:
		return st.err
	default:
		return nil
	}
}

// Unread puts m back: the next read returns it.
func (st *Stream) Unread(m WSMessage) { st.held = append([]WSMessage{m}, st.held...) }

// ConnectStream dials, completes connection_init with the token and starts
// reading.
func ConnectStream(t *testing.T, s *Server, protocol, token string) *Stream {
	t.Helper()
	return ReadStream(ConnectWS(t, s, protocol, token))
}

// Send writes a message.
func (st *Stream) Send(t *testing.T, m WSMessage) {
	t.Helper()
	if err := st.WS.Conn.WriteJSON(m); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// SendRaw writes a text frame as is.
func (st *Stream) SendRaw(t *testing.T, s string) {
	t.Helper()
	if err := st.WS.Conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// Legacy tells whether the connection speaks graphql-ws.
func (st *Stream) Legacy() bool { return st.WS.Protocol == "graphql-ws" }

// Sub starts operation id.
func (st *Stream) Sub(t *testing.T, id, query string, vars map[string]any) {
	t.Helper()
	typ := "subscribe"
	if st.Legacy() {
		typ = "start"
	}
	st.Send(t, WSMessage{ID: id, Type: typ, Payload: JSON(t, map[string]any{"query": query, "variables": vars})})
}

// Stop ends operation id.
func (st *Stream) Stop(t *testing.T, id string) {
	t.Helper()
	typ := "complete"
	if st.Legacy() {
		typ = "stop"
	}
	st.Send(t, WSMessage{ID: id, Type: typ})
}

// Recv returns the next message (keep-alives included); closed when the
// connection ended; neither when d passed.
func (st *Stream) Recv(d time.Duration) (m WSMessage, ok, closed bool) {
	if len(st.held) > 0 {
		m, st.held = st.held[0], st.held[1:]
		return m, true, false
	}
	select {
	case m := <-st.msgs:
		return m, true, false
	default:
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case m := <-st.msgs:
		return m, true, false
	case <-st.done:
		select {
		case m := <-st.msgs:
			return m, true, false
		default:
			return WSMessage{}, false, true
		}
	case <-timer.C:
		return WSMessage{}, false, false
	}
}

// KeepAlive tells whether m is a keep-alive (ka, ping or pong).
func KeepAlive(m WSMessage) bool { return m.Type == "ka" || m.Type == "ping" || m.Type == "pong" }

// Next returns the next message other than keep-alives, or false when d
// passed; it fails if the connection ends.
func (st *Stream) Next(t *testing.T, d time.Duration) (WSMessage, bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		m, ok, closed := st.Recv(time.Until(deadline))
		switch {
		case closed:
			t.Fatalf("connection ended while waiting for a message: %v", st.err)
		case !ok:
			return m, false
		case !KeepAlive(m):
			return m, true
		}
	}
}

// MustNext is Next within LiveWait, failing when nothing comes.
func (st *Stream) MustNext(t *testing.T) WSMessage {
	t.Helper()
	m, ok := st.Next(t, LiveWait)
	if !ok {
		t.Fatalf("no message within %s", LiveWait)
	}
	return m
}

// Result decodes the payload of a next/data message.
func Result(t *testing.T, m WSMessage) (map[string]any, []GQLError) {
	t.Helper()
	var res struct {
		Data   map[string]any `json:"data"`
		Errors []GQLError     `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &res); err != nil {
		t.Fatalf("result payload %s: %v", m.Payload, err)
	}
	return res.Data, res.Errors
}

// Data returns the next result of operation id, failing on anything else.
func (st *Stream) Data(t *testing.T, id string) map[string]any {
	t.Helper()
	m := st.MustNext(t)
	if m.ID != id || (m.Type != "next" && m.Type != "data") {
		t.Fatalf("got %s (id %q) %s, want a result of %s", m.Type, m.ID, m.Payload, id)
	}
	d, errs := Result(t, m)
	if len(errs) > 0 {
		t.Fatalf("result of %s has errors: %s", id, m.Payload)
	}
	return d
}

// Event returns the next ticket event of operation id.
func (st *Stream) Event(t *testing.T, id string) map[string]any {
	t.Helper()
	ev, _ := st.Data(t, id)["ticketEvents"].(map[string]any)
	if ev == nil {
		t.Fatalf("result of %s is not a ticket event", id)
	}
	return ev
}

// Expect reads one event of id per summary in want (see EventSummary).
func (st *Stream) Expect(t *testing.T, id string, want ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, w := range want {
		ev := st.Event(t, id)
		if got := EventSummary(ev); got != w {
			t.Fatalf("event %d of %s is %s (%v), want %s", i, id, got, ev, w)
		}
		out = append(out, ev)
	}
	return out
}

// ExpectEach reads the events of several operations, which may arrive
// interleaved: want lists each operation's summaries in order.
func (st *Stream) ExpectEach(t *testing.T, want map[string][]string) {
	t.Helper()
	left := 0
	for _, w := range want {
		left += len(w)
	}
	for ; left > 0; left-- {
		m := st.MustNext(t)
		if len(want[m.ID]) == 0 {
			t.Fatalf("got %s (id %q) %s, want events of %v", m.Type, m.ID, m.Payload, want)
		}
		st.held = append([]WSMessage{m}, st.held...)
		st.Expect(t, m.ID, want[m.ID][0])
		want[m.ID] = want[m.ID][1:]
	}
}

// ErrorCode reads an error message of operation id and returns the code of
// its only error.
func (st *Stream) ErrorCode(t *testing.T, id string) string {
	t.Helper()
	code, _ := st.ErrorOf(t, id).Extensions["code"].(string)
	return code
}

// ErrorOf returns the one error of operation id, failing on anything else.
func (st *Stream) ErrorOf(t *testing.T, id string) GQLError {
	t.Helper()
	m := st.MustNext(t)
	if m.ID != id || m.Type != "error" {
		t.Fatalf("got %s (id %q) %s, want an error of %s", m.Type, m.ID, m.Payload, id)
	}
	var errs []GQLError
	if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) != 1 {
		t.Fatalf("error payload %s: want a list of one error (%v)", m.Payload, err)
	}
	return errs[0]
}

// Quiet asserts that nothing but keep-alives arrives within d.
func (st *Stream) Quiet(t *testing.T, d time.Duration) {
	t.Helper()
	if m, ok := st.Next(t, d); ok {
		t.Fatalf("got %s (id %q) %s, want nothing", m.Type, m.ID, m.Payload)
	}
}

// CloseCode waits for the server to close the connection and returns the
// code (1006 when it ended without a close frame) and the messages other
// than keep-alives that came before.
func (st *Stream) CloseCode(t *testing.T, d time.Duration) (int, []WSMessage) {
	t.Helper()
	deadline := time.Now().Add(d)
	var before []WSMessage
	for {
		m, ok, closed := st.Recv(time.Until(deadline))
		switch {
		case closed:
			var ce *websocket.CloseError
			if errors.As(st.err, &ce) {
				return ce.Code, before
			}
			return websocket.CloseAbnormalClosure, before
		case !ok:
			t.Fatalf("connection still open after %s (messages: %v)", d, before)
		case !KeepAlive(m):
			before = append(before, m)
		}
	}
}

// Sync runs a query on the connection and waits for its result: the
// server reads messages in order and registers a subscription before it
// reads the next message, so every operation started earlier is live
// afterwards. Other messages read meanwhile are kept for later.
func (st *Stream) Sync(t *testing.T) {
	t.Helper()
	st.seq++
	id := fmt.Sprintf("sync%d", st.seq)
	st.Sub(t, id, `{ __typename }`, nil)
	var other []WSMessage
	deadline := time.Now().Add(LiveWait)
	gotResult := false
	for {
		m, ok, closed := st.Recv(time.Until(deadline))
		switch {
		case closed:
			t.Fatalf("connection ended during sync: %v", st.err)
		case !ok:
			t.Fatalf("no answer to the sync query within %s", LiveWait)
		case KeepAlive(m):
		case m.ID != id:
			other = append(other, m)
		case m.Type == "next" || m.Type == "data":
			gotResult = true
		case m.Type == "complete" && gotResult:
			st.held = append(other, st.held...)
			return
		default:
			t.Fatalf("sync query got %s %s", m.Type, m.Payload)
		}
	}
}

// bookkeeping are fields that hooks clear whenever status or priority
// change, so that changes names them even when they stay null (see
// TestLiveEventLog/UnchangedNullFieldsAreNotChanges). Summaries leave them
// out, so that the tests about other things are not stopped by that bug.
var bookkeeping = map[any]bool{"solvedAt": true, "firstResponseDueAt": true, "resolutionDueAt": true}

// EventSummary describes an event for comparison: TYPE, TYPE:body for
// messages, TYPE[changes] for updates (changes sorted, bookkeeping left
// out).
func EventSummary(ev map[string]any) string {
	s := Str(ev, "type")
	if b := Str(ev, "message", "body"); b != "" {
		s += ":" + b
	}
	var changes []string
	for _, c := range ChangedFields(ev) {
		if !bookkeeping[c] {
			changes = append(changes, c)
		}
	}
	if len(changes) > 0 {
		slices.Sort(changes)
		s += "[" + strings.Join(changes, ",") + "]"
	}
	return s
}

// ChangedFields are the field names of an event's changes.
func ChangedFields(ev map[string]any) []string {
	var out []string
	for _, c := range Path(ev, "changes").([]any) {
		out = append(out, fmt.Sprint(c.(map[string]any)["field"]))
	}
	return out
}

// Cursor is an event's cursor as a number.
func Cursor(t *testing.T, ev map[string]any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(Str(ev, "cursor"), 10, 64)
	if err != nil {
		t.Fatalf("cursor of %v: %v", ev, err)
	}
	return n
}

// Steps runs subtests in order, stopping at the first that fails
// (they build on each other).
func Steps(t *testing.T) func(name string, f func(t *testing.T)) {
	return func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
}
