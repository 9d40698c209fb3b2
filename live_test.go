package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/database/dbtest"
)

// Live updates end to end: the event log's types, who sees which event,
// revalidation of live connections, resuming with after:, both websocket
// protocols and their close codes, Origin and cookie checks, server-sent
// events and presence. Every wait is bounded by a generous deadline; no
// assertion depends on how fast something happens.

// liveWait bounds every wait for something that must happen.
const liveWait = 10 * time.Second

const (
	livePassword = "copper fox meadow 77"
	// liveEvents subscribes to ticket events, every filter a variable.
	liveEvents = `subscription($groupID: ID, $ticketID: ID, $after: String) {
		ticketEvents(groupID: $groupID, ticketID: $ticketID, after: $after) {
			cursor type ticketID changes { field from to } at ticket { id subject status } message { body internal } actor { name } } }`
	liveViewers    = `subscription($id: ID!) { ticketViewers(ticketID: $id) { user { id name } typing expiresAt } }`
	liveViewTicket = `mutation($id: ID!, $typing: Boolean) { viewTicket(ticketID: $id, typing: $typing) }`
	liveUpdate     = `mutation($id: ID!, $in: UpdateTicketInput!) { updateTicket(id: $id, input: $in) { id } }`
	liveUpdateUser = `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }`
	liveUpdateGrp  = `mutation($id: ID!, $in: UpdateGroupInput!) { updateGroup(id: $id, input: $in) { id } }`
)

// liveEnv is the short settings of these tests, plus extra.
func liveEnv(extra map[string]string) map[string]string {
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

// liveStream reads a websocket on a goroutine of its own, so that tests
// can wait with deadlines without spoiling the connection (a timed-out
// read breaks a gorilla connection for good). Writes stay on the test's
// goroutine. Server pings are not answered: no test keeps a connection for
// two keep-alive intervals.
type liveStream struct {
	c    *wsClient
	msgs chan wsMessage
	done chan struct{}
	err  error // why the connection ended, once done is closed
	// held are messages read while waiting for something else (sync).
	held []wsMessage
	seq  int
}

func liveRead(c *wsClient) *liveStream {
	st := &liveStream{c: c, msgs: make(chan wsMessage, 4096), done: make(chan struct{})}
	_ = c.conn.SetReadDeadline(time.Time{})
	go func() {
		defer close(st.done)
		for {
			_, data, err := c.conn.ReadMessage()
			if err != nil {
				st.err = err
				return
			}
			var m wsMessage
			if err := json.Unmarshal(data, &m); err != nil {
				m = wsMessage{Type: "!invalid JSON: " + string(data)}
			}
			st.msgs <- m
		}
	}()
	return st
}

// liveConnect dials, completes connection_init with the token and starts
// reading.
func liveConnect(t *testing.T, s *testServer, protocol, token string) *liveStream {
	t.Helper()
	return liveRead(connectWS(t, s, protocol, token))
}

func (st *liveStream) send(t *testing.T, m wsMessage) {
	t.Helper()
	if err := st.c.conn.WriteJSON(m); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func (st *liveStream) sendRaw(t *testing.T, s string) {
	t.Helper()
	if err := st.c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func (st *liveStream) legacy() bool { return st.c.protocol == "graphql-ws" }

// sub starts operation id.
func (st *liveStream) sub(t *testing.T, id, query string, vars map[string]any) {
	t.Helper()
	typ := "subscribe"
	if st.legacy() {
		typ = "start"
	}
	st.send(t, wsMessage{ID: id, Type: typ, Payload: mustJSON(t, map[string]any{"query": query, "variables": vars})})
}

// stop ends operation id.
func (st *liveStream) stop(t *testing.T, id string) {
	t.Helper()
	typ := "complete"
	if st.legacy() {
		typ = "stop"
	}
	st.send(t, wsMessage{ID: id, Type: typ})
}

// recv returns the next message (keep-alives included); closed when the
// connection ended; neither when d passed.
func (st *liveStream) recv(d time.Duration) (m wsMessage, ok, closed bool) {
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
			return wsMessage{}, false, true
		}
	case <-timer.C:
		return wsMessage{}, false, false
	}
}

func keepAlive(m wsMessage) bool { return m.Type == "ka" || m.Type == "ping" || m.Type == "pong" }

// next returns the next message other than keep-alives, or false when d
// passed; it fails if the connection ends.
func (st *liveStream) next(t *testing.T, d time.Duration) (wsMessage, bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		m, ok, closed := st.recv(time.Until(deadline))
		switch {
		case closed:
			t.Fatalf("connection ended while waiting for a message: %v", st.err)
		case !ok:
			return m, false
		case !keepAlive(m):
			return m, true
		}
	}
}

func (st *liveStream) mustNext(t *testing.T) wsMessage {
	t.Helper()
	m, ok := st.next(t, liveWait)
	if !ok {
		t.Fatalf("no message within %s", liveWait)
	}
	return m
}

// result decodes the payload of a next/data message.
func liveResult(t *testing.T, m wsMessage) (map[string]any, []gqlError) {
	t.Helper()
	var res struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &res); err != nil {
		t.Fatalf("result payload %s: %v", m.Payload, err)
	}
	return res.Data, res.Errors
}

// data returns the next result of operation id, failing on anything else.
func (st *liveStream) data(t *testing.T, id string) map[string]any {
	t.Helper()
	m := st.mustNext(t)
	if m.ID != id || (m.Type != "next" && m.Type != "data") {
		t.Fatalf("got %s (id %q) %s, want a result of %s", m.Type, m.ID, m.Payload, id)
	}
	d, errs := liveResult(t, m)
	if len(errs) > 0 {
		t.Fatalf("result of %s has errors: %s", id, m.Payload)
	}
	return d
}

// event returns the next ticket event of operation id.
func (st *liveStream) event(t *testing.T, id string) map[string]any {
	t.Helper()
	ev, _ := st.data(t, id)["ticketEvents"].(map[string]any)
	if ev == nil {
		t.Fatalf("result of %s is not a ticket event", id)
	}
	return ev
}

// expect reads one event of id per summary in want (see liveSummary).
func (st *liveStream) expect(t *testing.T, id string, want ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, w := range want {
		ev := st.event(t, id)
		if got := liveSummary(ev); got != w {
			t.Fatalf("event %d of %s is %s (%v), want %s", i, id, got, ev, w)
		}
		out = append(out, ev)
	}
	return out
}

// expectEach reads the events of several operations, which may arrive
// interleaved: want lists each operation's summaries in order.
func (st *liveStream) expectEach(t *testing.T, want map[string][]string) {
	t.Helper()
	left := 0
	for _, w := range want {
		left += len(w)
	}
	for ; left > 0; left-- {
		m := st.mustNext(t)
		if len(want[m.ID]) == 0 {
			t.Fatalf("got %s (id %q) %s, want events of %v", m.Type, m.ID, m.Payload, want)
		}
		st.held = append([]wsMessage{m}, st.held...)
		st.expect(t, m.ID, want[m.ID][0])
		want[m.ID] = want[m.ID][1:]
	}
}

// errorCode reads an error message of operation id and returns the code of
// its only error.
func (st *liveStream) errorCode(t *testing.T, id string) string {
	t.Helper()
	code, _ := st.errorOf(t, id).Extensions["code"].(string)
	return code
}

// errorOf returns the one error of operation id, failing on anything else.
func (st *liveStream) errorOf(t *testing.T, id string) gqlError {
	t.Helper()
	m := st.mustNext(t)
	if m.ID != id || m.Type != "error" {
		t.Fatalf("got %s (id %q) %s, want an error of %s", m.Type, m.ID, m.Payload, id)
	}
	var errs []gqlError
	if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) != 1 {
		t.Fatalf("error payload %s: want a list of one error (%v)", m.Payload, err)
	}
	return errs[0]
}

// quiet asserts that nothing but keep-alives arrives within d.
func (st *liveStream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	if m, ok := st.next(t, d); ok {
		t.Fatalf("got %s (id %q) %s, want nothing", m.Type, m.ID, m.Payload)
	}
}

// closeCode waits for the server to close the connection and returns the
// code (1006 when it ended without a close frame) and the messages other
// than keep-alives that came before.
func (st *liveStream) closeCode(t *testing.T, d time.Duration) (int, []wsMessage) {
	t.Helper()
	deadline := time.Now().Add(d)
	var before []wsMessage
	for {
		m, ok, closed := st.recv(time.Until(deadline))
		switch {
		case closed:
			var ce *websocket.CloseError
			if errors.As(st.err, &ce) {
				return ce.Code, before
			}
			return websocket.CloseAbnormalClosure, before
		case !ok:
			t.Fatalf("connection still open after %s (messages: %v)", d, before)
		case !keepAlive(m):
			before = append(before, m)
		}
	}
}

// sync runs a query on the connection and waits for its result: the
// server reads messages in order and registers a subscription before it
// reads the next message, so every operation started earlier is live
// afterwards. Other messages read meanwhile are kept for later.
func (st *liveStream) sync(t *testing.T) {
	t.Helper()
	st.seq++
	id := fmt.Sprintf("sync%d", st.seq)
	st.sub(t, id, `{ __typename }`, nil)
	var other []wsMessage
	deadline := time.Now().Add(liveWait)
	gotResult := false
	for {
		m, ok, closed := st.recv(time.Until(deadline))
		switch {
		case closed:
			t.Fatalf("connection ended during sync: %v", st.err)
		case !ok:
			t.Fatalf("no answer to the sync query within %s", liveWait)
		case keepAlive(m):
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

// liveBookkeeping are fields that hooks clear whenever status or priority
// change, so that changes names them even when they stay null (see
// TestLiveEventLog/UnchangedNullFieldsAreNotChanges). Summaries leave them
// out, so that the tests about other things are not stopped by that bug.
var liveBookkeeping = map[any]bool{"solvedAt": true, "firstResponseDueAt": true, "resolutionDueAt": true}

// liveSummary describes an event for comparison: TYPE, TYPE:body for
// messages, TYPE[changes] for updates (changes sorted, bookkeeping left
// out).
func liveSummary(ev map[string]any) string {
	s := str(ev, "type")
	if b := str(ev, "message", "body"); b != "" {
		s += ":" + b
	}
	var changes []string
	for _, c := range liveChangedFields(ev) {
		if !liveBookkeeping[c] {
			changes = append(changes, c)
		}
	}
	if len(changes) > 0 {
		slices.Sort(changes)
		s += "[" + strings.Join(changes, ",") + "]"
	}
	return s
}

// liveChangedFields are the field names of an event's changes.
func liveChangedFields(ev map[string]any) []string {
	var out []string
	for _, c := range path(ev, "changes").([]any) {
		out = append(out, fmt.Sprint(c.(map[string]any)["field"]))
	}
	return out
}

func liveCursor(t *testing.T, ev map[string]any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(str(ev, "cursor"), 10, 64)
	if err != nil {
		t.Fatalf("cursor of %v: %v", ev, err)
	}
	return n
}

// liveDesk is a running server with an admin.
type liveDesk struct {
	s     *testServer
	admin string
}

func newLiveDesk(t *testing.T, tg dbtest.Target, env map[string]string) *liveDesk {
	t.Helper()
	createUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
	s := startServer(t, tg, liveEnv(env))
	return &liveDesk{s: s, admin: login(t, s, "admin@example.com", "amber canyon whistle")}
}

// staff invites an agent or admin and signs them in.
func (d *liveDesk) staff(t *testing.T, email, name, role string) (token, id string) {
	t.Helper()
	r := d.s.do(t, d.admin, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"email": email, "name": name, "role": role, "password": livePassword}}).ok(t)
	return login(t, d.s, email, livePassword), str(r, "inviteUser", "id")
}

func (d *liveDesk) group(t *testing.T, name string, members ...string) string {
	t.Helper()
	r := d.s.do(t, d.admin, `mutation($name: String!, $m: [ID!]) { createGroup(input: {name: $name, memberIDs: $m}) { id } }`,
		map[string]any{"name": name, "m": members}).ok(t)
	return str(r, "createGroup", "id")
}

func (d *liveDesk) ticket(t *testing.T, token string, input map[string]any) string {
	t.Helper()
	return str(d.s.do(t, token, createTicket, map[string]any{"input": input}).ok(t), "createTicket", "id")
}

func (d *liveDesk) message(t *testing.T, token, ticketID, body string, internal bool) {
	t.Helper()
	d.s.do(t, token, addMessage, map[string]any{"id": ticketID, "body": body, "internal": internal}).ok(t)
}

func (d *liveDesk) update(t *testing.T, token, ticketID string, input map[string]any) {
	t.Helper()
	d.s.do(t, token, liveUpdate, map[string]any{"id": ticketID, "in": input}).ok(t)
}

// ws opens a graphql-transport-ws connection signed in with token.
func (d *liveDesk) ws(t *testing.T, token string) *liveStream {
	t.Helper()
	return liveConnect(t, d.s, "graphql-transport-ws", token)
}

// liveSteps runs subtests in order, stopping at the first that fails
// (they build on each other).
func liveSteps(t *testing.T) func(name string, f func(t *testing.T)) {
	return func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
}

func TestLiveEventLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, nil)
		_, agentID := d.staff(t, "agent@example.com", "Alice Agent", "AGENT")
		cust, _ := signup(t, d.s, "cara@example.com", "Cara")
		ws := d.ws(t, d.admin)
		ws.sub(t, "1", liveEvents, nil)
		ws.sync(t)
		var cursors []int64
		next := func(t *testing.T, want string) map[string]any {
			t.Helper()
			ev := ws.expect(t, "1", want)[0]
			cursors = append(cursors, liveCursor(t, ev))
			if str(ev, "at") == "" {
				t.Fatalf("event without at: %v", ev)
			}
			return ev
		}
		var ticketID string
		step := liveSteps(t)

		step("CreateTicketLogsCreatedThenMessageAdded", func(t *testing.T) {
			ticketID = d.ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})
			ev := next(t, "TICKET_CREATED")
			if str(ev, "ticket", "id") != ticketID || str(ev, "ticket", "subject") != "Printer on fire" ||
				str(ev, "actor", "name") != "Cara" || path(ev, "message") != nil {
				t.Fatalf("TICKET_CREATED = %v", ev)
			}
			ev = next(t, "MESSAGE_ADDED:help")
			if str(ev, "ticket", "id") != ticketID || str(ev, "actor", "name") != "Cara" || path(ev, "message", "internal") != false {
				t.Fatalf("MESSAGE_ADDED = %v", ev)
			}
		})
		var statusChange map[string]any
		step("StatusChangeLogsTicketUpdated", func(t *testing.T) {
			d.update(t, d.admin, ticketID, map[string]any{"status": "PENDING"})
			statusChange = next(t, "TICKET_UPDATED[status]")
			if str(statusChange, "ticket", "status") != "PENDING" || str(statusChange, "actor", "name") != "Ada Admin" {
				t.Fatalf("TICKET_UPDATED = %v", statusChange)
			}
		})
		// A field that was null and is cleared again is not a change
		// (ticketChanges in ent/schema/events.go, the hooks clearing
		// solvedAt and the SLA due times in ent/schema/hooks.go).
		t.Run("UnchangedNullFieldsAreNotChanges", func(t *testing.T) {
			// NEW → PENDING: solvedAt was null and stays null.
			if got := fmt.Sprint(path(statusChange, "changes")); got != "[map[field:status from:NEW to:PENDING]]" {
				t.Errorf("status change: changes = %s, want status from NEW to PENDING alone: solvedAt was and stays null", got)
			}
			// No SLA policy: the due times were and stay null.
			d.update(t, d.admin, ticketID, map[string]any{"priority": "LOW"})
			ev := next(t, "TICKET_UPDATED[priority]")
			if got := fmt.Sprint(path(ev, "changes")); got != "[map[field:priority from:NORMAL to:LOW]]" {
				t.Errorf("priority change: changes = %s, want [priority]: without an SLA policy the due times were and stay null", got)
			}
		})
		step("AssigningLogsTicketAssigned", func(t *testing.T) {
			d.update(t, d.admin, ticketID, map[string]any{"assigneeID": agentID})
			next(t, "TICKET_ASSIGNED[assignee]")
			// With another field: still TICKET_ASSIGNED, naming both.
			d.update(t, d.admin, ticketID, map[string]any{"clearAssignee": true, "priority": "HIGH"})
			next(t, "TICKET_ASSIGNED[assignee,priority]")
		})
		step("StaffReplyStopsTheClockAsTheSystem", func(t *testing.T) {
			d.message(t, d.admin, ticketID, "on it", false)
			if ev := next(t, "MESSAGE_ADDED:on it"); str(ev, "actor", "name") != "Ada Admin" {
				t.Fatalf("MESSAGE_ADDED = %v", ev)
			}
			if ev := next(t, "TICKET_UPDATED[firstRespondedAt]"); path(ev, "actor") != nil {
				t.Fatalf("bookkeeping must be the system's doing (actor null): %v", ev)
			}
		})
		step("CursorsStrictlyIncrease", func(t *testing.T) {
			for i := 1; i < len(cursors); i++ {
				if cursors[i] <= cursors[i-1] {
					t.Fatalf("cursors %v", cursors)
				}
			}
			ws.quiet(t, 300*time.Millisecond)
		})
	})
}

func TestLiveVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, nil)
		agentA, agentAID := d.staff(t, "alice@example.com", "Alice Agent", "AGENT")
		agentB, agentBID := d.staff(t, "bob@example.com", "Bob Agent", "AGENT")
		cust1, cust1ID := signup(t, d.s, "cara@example.com", "Cara")
		cust2, _ := signup(t, d.s, "dan@example.com", "Dan")
		billing := d.group(t, "Billing", agentAID)

		admin, a, b := d.ws(t, d.admin), d.ws(t, agentA), d.ws(t, agentB)
		c1, c2 := d.ws(t, cust1), d.ws(t, cust2)
		for _, st := range []*liveStream{admin, a, b, c1, c2} {
			st.sub(t, "1", liveEvents, nil)
		}
		a.sub(t, "g", liveEvents, map[string]any{"groupID": billing})
		for _, st := range []*liveStream{admin, a, b, c1, c2} {
			st.sync(t)
		}

		// T1: Cara's, in Billing. T2: Dan's, in no group, then assigned to Bob.
		t1 := d.ticket(t, d.admin, map[string]any{"subject": "invoice", "body": "wrong total", "requesterID": cust1ID, "groupID": billing})
		admin.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:wrong total")
		t2 := d.ticket(t, cust2, map[string]any{"subject": "login", "body": "locked out"})
		admin.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:locked out")
		d.update(t, d.admin, t2, map[string]any{"assigneeID": agentBID})
		admin.expect(t, "1", "TICKET_ASSIGNED[assignee]")
		d.message(t, agentA, t1, "note to self", true)
		d.message(t, agentA, t1, "we will refund", false)
		admin.expect(t, "1", "MESSAGE_ADDED:note to self", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]")
		// The last change, a marker everyone but Cara and Alice sees.
		d.message(t, cust2, t2, "still locked out", false)
		admin.expect(t, "1", "MESSAGE_ADDED:still locked out")

		t.Run("AgentInTheGroupSeesItsTickets", func(t *testing.T) {
			t1Events := []string{"TICKET_CREATED", "MESSAGE_ADDED:wrong total",
				"MESSAGE_ADDED:note to self", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]"}
			a.expectEach(t, map[string][]string{"1": t1Events, "g": slices.Clone(t1Events)})
			a.quiet(t, 300*time.Millisecond)
		})
		t.Run("AgentOutsideTheGroupSeesOnlyWhatIsAssignedToThem", func(t *testing.T) {
			// T2's creation came before the assignment: not Bob's then.
			// The assignment brings it into his view.
			b.expect(t, "1", "TICKET_ENTERED", "MESSAGE_ADDED:still locked out")
			b.quiet(t, 300*time.Millisecond)
		})
		t.Run("CustomerSeesOwnTicketWithoutInternalNotes", func(t *testing.T) {
			evs := c1.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:wrong total", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]")
			for _, ev := range evs {
				if str(ev, "ticket", "id") != t1 {
					t.Fatalf("Cara got an event of another ticket: %v", ev)
				}
			}
			c1.quiet(t, 300*time.Millisecond)
		})
		t.Run("CustomerNeverSeesAnotherCustomersEvents", func(t *testing.T) {
			c2.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:locked out", "TICKET_ASSIGNED[assignee]", "MESSAGE_ADDED:still locked out")
			c2.quiet(t, 300*time.Millisecond)
		})
		t.Run("AdminSeesEverything", func(t *testing.T) {
			admin.quiet(t, 300*time.Millisecond)
		})
		t.Run("CustomerReplayOfOwnTicketSkipsInternalNotes", func(t *testing.T) {
			c1.sub(t, "r", liveEvents, map[string]any{"ticketID": t1, "after": "0"})
			c1.expect(t, "r", "TICKET_CREATED", "MESSAGE_ADDED:wrong total", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]")
			c1.sub(t, "r2", liveEvents, map[string]any{"after": "0"})
			c1.expect(t, "r2", "TICKET_CREATED", "MESSAGE_ADDED:wrong total", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]")
			c1.quiet(t, 300*time.Millisecond)
		})
		t.Run("AgentReplayFollowsTheSameRules", func(t *testing.T) {
			b.sub(t, "r", liveEvents, map[string]any{"after": "0"})
			// Replayed events are judged as they were: T2 became Bob's
			// with its assignment.
			b.expect(t, "r", "TICKET_ENTERED", "MESSAGE_ADDED:still locked out")
			b.quiet(t, 300*time.Millisecond)
		})
		t.Run("ErrCustomerFilteringOnAnotherCustomersTicket", func(t *testing.T) {
			c1.sub(t, "x", liveEvents, map[string]any{"ticketID": t2})
			if code := c1.errorCode(t, "x"); code != "NOT_FOUND" {
				t.Fatalf("code %s, want NOT_FOUND", code)
			}
			// The connection stays usable.
			c1.sync(t)
		})
		t.Run("ErrAgentFilteringOnTicketOutOfReach", func(t *testing.T) {
			b.sub(t, "x", liveEvents, map[string]any{"ticketID": t1})
			if code := b.errorCode(t, "x"); code != "NOT_FOUND" {
				t.Fatalf("code %s, want NOT_FOUND", code)
			}
		})
		t.Run("ErrAnonymousConnectionRefused", func(t *testing.T) {
			anon, _, err := dialWS(t, d.s, "graphql-transport-ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			anon.init("")
			if code, reason := anon.closeCode(liveWait); code != 4403 {
				t.Fatalf("close %d %q, want 4403", code, reason)
			}
		})
		t.Run("ErrRefusedCookieOnUpgradeIs4403", func(t *testing.T) {
			h := http.Header{"Cookie": {"__Host-switchboard_session=sbs_not-a-session"}, "Origin": {d.s.url}}
			c, _, err := dialWS(t, d.s, "graphql-transport-ws", h)
			if err != nil {
				t.Fatalf("the upgrade was refused instead of closed in the protocol: %v", err)
			}
			c.init("")
			if code, reason := c.closeCode(liveWait); code != 4403 {
				t.Fatalf("close %d %q, want 4403", code, reason)
			}
		})
		t.Run("CustomerEventTicketListsNoInternalNotes", func(t *testing.T) {
			// Fields below the event's ticket are read as the subscriber.
			st := d.ws(t, cust1)
			st.sub(t, "m", `subscription($id: ID) { ticketEvents(ticketID: $id) { type ticket { messages { edges { node { body internal } } } } } }`,
				map[string]any{"id": t1})
			st.sync(t)
			d.message(t, agentA, t1, "secret note", true)
			d.message(t, agentA, t1, "public answer", false)
			ev := st.data(t, "m")
			var bodies []string
			for _, e := range path(ev, "ticketEvents", "ticket", "messages", "edges").([]any) {
				bodies = append(bodies, str(e, "node", "body"))
				if path(e, "node", "internal") != false {
					t.Fatalf("customer's event lists an internal message: %v", ev)
				}
			}
			if !slices.Contains(bodies, "public answer") || slices.Contains(bodies, "secret note") {
				t.Fatalf("messages of the event's ticket = %v", bodies)
			}
		})
	})
}

func TestLiveRevalidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, nil)
		_, custID := signup(t, d.s, "cara@example.com", "Cara")

		t.Run("AgentRemovedFromGroupStopsReceivingItsEvents", func(t *testing.T) {
			agent, agentID := d.staff(t, "alice@example.com", "Alice Agent", "AGENT")
			g := d.group(t, "Billing", agentID)
			inGroup := d.ticket(t, d.admin, map[string]any{"subject": "invoice", "body": "x", "requesterID": custID, "groupID": g})
			// A ticket assigned to the agent: its events are markers.
			mine := d.ticket(t, d.admin, map[string]any{"subject": "mine", "body": "x", "requesterID": custID})
			d.update(t, d.admin, mine, map[string]any{"assigneeID": agentID})
			ws := d.ws(t, agent)
			// after: the 5 events so far (2 per ticket, the assignment),
			// which the hub may not have dispatched yet.
			ws.sub(t, "1", liveEvents, map[string]any{"after": "5"})
			ws.sync(t)
			d.message(t, d.admin, inGroup, "probe 0", true)
			ws.expect(t, "1", "MESSAGE_ADDED:probe 0")

			// The removal is logged: it applies at its place in the log,
			// announced by VIEW_CHANGED, and the group's events stop at once.
			d.s.do(t, d.admin, liveUpdateGrp, map[string]any{"id": g, "in": map[string]any{"removeMemberIDs": []string{agentID}}}).ok(t)
			vc := ws.expect(t, "1", "VIEW_CHANGED")[0]
			if vc["ticket"] != nil || vc["ticketID"] != nil || vc["cursor"] == "" {
				t.Fatalf("VIEW_CHANGED = %v, want a cursor alone", vc)
			}
			d.message(t, d.admin, inGroup, "probe 1", true)
			d.message(t, d.admin, mine, "marker 1", true)
			ws.expect(t, "1", "MESSAGE_ADDED:marker 1")

			// Back in the group: the events come back without reconnecting.
			d.s.do(t, d.admin, liveUpdateGrp, map[string]any{"id": g, "in": map[string]any{"addMemberIDs": []string{agentID}}}).ok(t)
			ws.expect(t, "1", "VIEW_CHANGED")
			d.message(t, d.admin, inGroup, "again", true)
			ws.expect(t, "1", "MESSAGE_ADDED:again")
		})
		t.Run("LogoutClosesTheSessionsSocketsWith4403", func(t *testing.T) {
			d.staff(t, "bob@example.com", "Bob Agent", "AGENT")
			laptop := login(t, d.s, "bob@example.com", livePassword)
			phone := login(t, d.s, "bob@example.com", livePassword)
			ws1, ws2 := d.ws(t, laptop), d.ws(t, phone)
			ws2.sub(t, "1", liveEvents, nil)
			ws2.sync(t)
			d.s.do(t, laptop, `mutation { logout }`, nil).ok(t)
			if code, _ := ws1.closeCode(t, liveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
			// The other session's socket stays open.
			ws2.sync(t)
		})
		t.Run("DeactivationClosesTheSocketWith4403", func(t *testing.T) {
			agent, agentID := d.staff(t, "carl@example.com", "Carl Agent", "AGENT")
			ws := d.ws(t, agent)
			ws.sub(t, "1", liveEvents, nil)
			ws.sync(t)
			d.s.do(t, d.admin, liveUpdateUser, map[string]any{"id": agentID, "in": map[string]any{"active": false}}).ok(t)
			if code, _ := ws.closeCode(t, liveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
		})
		t.Run("RoleChangeClosesTheSocketWith4403", func(t *testing.T) {
			agent, agentID := d.staff(t, "dora@example.com", "Dora Agent", "AGENT")
			ws := d.ws(t, agent)
			d.s.do(t, d.admin, liveUpdateUser, map[string]any{"id": agentID, "in": map[string]any{"role": "ADMIN"}}).ok(t)
			if code, _ := ws.closeCode(t, liveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
		})
		t.Run("RevokedAPITokenClosesTheSocketWith4403", func(t *testing.T) {
			agent, _ := d.staff(t, "eve@example.com", "Eve Agent", "AGENT")
			r := d.s.do(t, agent, `mutation { createAPIToken(input: {name: "wall display"}) { token apiToken { id } } }`, nil).ok(t)
			ws := d.ws(t, str(r, "createAPIToken", "token"))
			ws.sub(t, "1", liveEvents, nil)
			ws.sync(t)
			d.s.do(t, agent, `mutation($id: ID!) { revokeAPIToken(id: $id) { id } }`, map[string]any{"id": str(r, "createAPIToken", "apiToken", "id")}).ok(t)
			if code, _ := ws.closeCode(t, liveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
		})
	})
}

// liveDo is s.do for goroutines other than the test's, and for servers
// that may die mid-request: it returns an error instead of failing.
func liveDo(s *testServer, token, query string, vars map[string]any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := liveHTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var r gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return fmt.Errorf("status %d: %w", res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK || len(r.Errors) > 0 {
		return fmt.Errorf("status %d, errors %+v", res.StatusCode, r.Errors)
	}
	return nil
}

var liveHTTP = &http.Client{Timeout: 10 * time.Second}

func TestLiveResume(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, nil)
		cust, _ := signup(t, d.s, "cara@example.com", "Cara")
		var ticketID, last string
		var all []string
		step := liveSteps(t)

		step("FirstConnection", func(t *testing.T) {
			ws := d.ws(t, d.admin)
			ws.sub(t, "1", liveEvents, nil)
			ws.sync(t)
			ticketID = d.ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})
			evs := ws.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:help")
			last = str(evs[1], "cursor")
			all = append(all, "TICKET_CREATED", "MESSAGE_ADDED:help")
			ws.c.conn.Close()
		})
		// Three changes while disconnected.
		d.update(t, d.admin, ticketID, map[string]any{"status": "PENDING"})
		d.message(t, d.admin, ticketID, "looking", true)
		d.update(t, d.admin, ticketID, map[string]any{"priority": "HIGH"})
		missed := []string{"TICKET_UPDATED[status]", "MESSAGE_ADDED:looking", "TICKET_UPDATED[priority]"}
		all = append(all, missed...)

		step("AfterCursorDeliversExactlyTheMissedEventsThenLiveOnes", func(t *testing.T) {
			ws := d.ws(t, d.admin)
			ws.sub(t, "1", liveEvents, map[string]any{"after": last})
			evs := ws.expect(t, "1", missed...)
			prev, _ := strconv.ParseInt(last, 10, 64)
			for _, ev := range evs {
				if c := liveCursor(t, ev); c <= prev {
					t.Fatalf("cursor %d after %d", c, prev)
				}
				prev = liveCursor(t, ev)
			}
			d.message(t, cust, ticketID, "any news?", false)
			all = append(all, "MESSAGE_ADDED:any news?", "TICKET_UPDATED[status]") // reopened
			ev := ws.expect(t, "1", "MESSAGE_ADDED:any news?", "TICKET_UPDATED[status]")[0]
			if liveCursor(t, ev) <= prev {
				t.Fatalf("live event cursor %d after %d", liveCursor(t, ev), prev)
			}
			ws.quiet(t, 300*time.Millisecond)
		})
		step("AfterZeroReplaysTheWholeVisibleHistory", func(t *testing.T) {
			ws := d.ws(t, d.admin)
			ws.sub(t, "1", liveEvents, map[string]any{"after": "0"})
			evs := ws.expect(t, "1", all...)
			for i, ev := range evs {
				if liveCursor(t, ev) != int64(i+1) {
					t.Fatalf("event %d has cursor %s, want %d", i, str(ev, "cursor"), i+1)
				}
			}
			ws.quiet(t, 300*time.Millisecond)
			// The customer's history leaves out the internal note.
			c := d.ws(t, cust)
			c.sub(t, "1", liveEvents, map[string]any{"after": "0"})
			c.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:help", "TICKET_UPDATED[status]", "TICKET_UPDATED[priority]",
				"MESSAGE_ADDED:any news?", "TICKET_UPDATED[status]")
			c.quiet(t, 300*time.Millisecond)
		})
		step("ResumeDuringWritesHasNoGapNorDuplicate", func(t *testing.T) {
			const n = 20
			base := int64(len(all))
			started := make(chan struct{})
			errc := make(chan error, 1)
			go func() {
				var err error
				for i := 0; i < n && err == nil; i++ {
					err = liveDo(d.s, d.admin, addMessage, map[string]any{"id": ticketID, "body": fmt.Sprintf("burst %d", i), "internal": true})
					if i == 2 {
						close(started)
					}
				}
				errc <- err
			}()
			select {
			case <-started:
			case err := <-errc:
				t.Fatalf("writing events: %v", err)
			}
			ws := d.ws(t, d.admin)
			ws.sub(t, "1", liveEvents, map[string]any{"after": strconv.FormatInt(base-3, 10)})
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			for want := base - 2; want <= base+n; want++ {
				ev := ws.event(t, "1")
				if c := liveCursor(t, ev); c != want {
					t.Fatalf("got cursor %d (%s), want %d", c, liveSummary(ev), want)
				}
			}
			ws.quiet(t, 300*time.Millisecond)
			all = nil // no longer tracked
		})
		t.Run("ErrCursorAheadOfTheLog", func(t *testing.T) {
			ws := d.ws(t, d.admin)
			ws.sub(t, "1", liveEvents, map[string]any{"after": "1000000"})
			if code := ws.errorCode(t, "1"); code != "BAD_USER_INPUT" {
				t.Fatalf("code %s, want BAD_USER_INPUT", code)
			}
		})
		t.Run("ErrCursorNotANumber", func(t *testing.T) {
			ws := d.ws(t, d.admin)
			for i, after := range []string{"abc", "-1", ""} {
				id := strconv.Itoa(i)
				ws.sub(t, id, liveEvents, map[string]any{"after": after})
				if code := ws.errorCode(t, id); code != "BAD_USER_INPUT" {
					t.Fatalf("after %q: code %s, want BAD_USER_INPUT", after, code)
				}
			}
		})
	})
}

func TestLiveCursorExpired(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		createUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		var ticketID string
		// The first run writes events 1 and 2 and stops.
		if !t.Run("BeforeRestart", func(t *testing.T) {
			d := &liveDesk{s: startServer(t, tg, liveEnv(nil))}
			d.admin = login(t, d.s, "admin@example.com", "amber canyon whistle")
			ws := d.ws(t, d.admin)
			ws.sub(t, "1", liveEvents, nil)
			ws.sync(t)
			ticketID = d.ticket(t, d.admin, map[string]any{"subject": "old", "body": "x"})
			ws.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:x")
		}) {
			t.FailNow()
		}
		// The second prunes everything older than 1ms when it starts.
		d := &liveDesk{s: startServer(t, tg, liveEnv(map[string]string{"SWITCHBOARD_EVENT_RETENTION": "1ms"}))}
		d.admin = login(t, d.s, "admin@example.com", "amber canyon whistle")
		t.Run("ErrCursorOlderThanTheRetention", func(t *testing.T) {
			// Pruning runs beside start-up: retry until it has.
			deadline := time.Now().Add(liveWait)
			var ws *liveStream
			for {
				ws = d.ws(t, d.admin)
				ws.sub(t, "old", liveEvents, map[string]any{"after": "1"})
				m := ws.mustNext(t)
				if m.Type == "error" {
					ws.held = append([]wsMessage{m}, ws.held...)
					if code := ws.errorCode(t, "old"); code != "CURSOR_EXPIRED" {
						t.Fatalf("code %s, want CURSOR_EXPIRED", code)
					}
					break
				}
				ws.c.conn.Close()
				if time.Now().After(deadline) {
					t.Fatalf("after: 1 still accepted %s after start with 1ms retention: %s %s", liveWait, m.Type, m.Payload)
				}
				time.Sleep(100 * time.Millisecond)
			}
			ws.sub(t, "zero", liveEvents, map[string]any{"after": "0"})
			if code := ws.errorCode(t, "zero"); code != "CURSOR_EXPIRED" {
				t.Fatalf("after 0: code %s, want CURSOR_EXPIRED", code)
			}
		})
		t.Run("CursorAtTheHeadStillResumes", func(t *testing.T) {
			ws := d.ws(t, d.admin)
			ws.sub(t, "1", liveEvents, map[string]any{"after": "2"})
			ws.sync(t)
			d.update(t, d.admin, ticketID, map[string]any{"status": "OPEN"})
			if ev := ws.expect(t, "1", "TICKET_UPDATED[status]")[0]; liveCursor(t, ev) != 3 {
				t.Fatalf("cursor %d, want 3", liveCursor(t, ev))
			}
			// Event 3 is recent: resuming after 2 replays it; after 1 is
			// still expired.
			ws.sub(t, "2", liveEvents, map[string]any{"after": "2"})
			ws.expect(t, "2", "TICKET_UPDATED[status]")
			ws.sub(t, "3", liveEvents, map[string]any{"after": "1"})
			if code := ws.errorCode(t, "3"); code != "CURSOR_EXPIRED" {
				t.Fatalf("code %s, want CURSOR_EXPIRED", code)
			}
		})
	})
}

func TestLiveTransportProtocol(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, nil)
		cust, _ := signup(t, d.s, "cara@example.com", "Cara")
		ticketID := d.ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})
		dial := func(t *testing.T) *liveStream {
			t.Helper()
			c, _, err := dialWS(t, d.s, "graphql-transport-ws", nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			return liveRead(c)
		}
		init := func(t *testing.T, st *liveStream, payload any) {
			t.Helper()
			st.send(t, wsMessage{Type: "connection_init", Payload: mustJSON(t, payload)})
		}
		wantClose := func(t *testing.T, st *liveStream, want int) {
			t.Helper()
			code, before := st.closeCode(t, liveWait)
			if code != want || len(before) > 0 {
				t.Fatalf("closed with %d after %v, want %d and nothing before", code, before, want)
			}
		}
		ack := func(t *testing.T, st *liveStream) {
			t.Helper()
			if m := st.mustNext(t); m.Type != "connection_ack" {
				t.Fatalf("got %s %s, want connection_ack", m.Type, m.Payload)
			}
		}

		t.Run("ErrBadTokenClosesWith4403WithoutAck", func(t *testing.T) {
			for _, auth := range []string{"Bearer sbs_not_a_real_token", "Basic YWRtaW46YWRtaW4="} {
				st := dial(t)
				init(t, st, map[string]any{"authorization": auth})
				wantClose(t, st, 4403)
			}
		})
		t.Run("ErrNoInitWithinTimeoutClosesWith4408", func(t *testing.T) {
			wantClose(t, dial(t), 4408)
		})
		t.Run("ErrSubscribeBeforeInitClosesWith4401", func(t *testing.T) {
			st := dial(t)
			st.sub(t, "1", liveEvents, nil)
			wantClose(t, st, 4401)
		})
		t.Run("ErrSecondInitClosesWith4429", func(t *testing.T) {
			st := dial(t)
			init(t, st, map[string]any{"authorization": "Bearer " + d.admin})
			ack(t, st)
			init(t, st, map[string]any{"authorization": "Bearer " + d.admin})
			wantClose(t, st, 4429)
		})
		t.Run("ErrDuplicateIDClosesWith4409", func(t *testing.T) {
			st := d.ws(t, d.admin)
			st.sub(t, "1", liveEvents, nil)
			st.sub(t, "1", liveEvents, nil)
			wantClose(t, st, 4409)
		})
		t.Run("ErrInvalidJSONClosesWith4400", func(t *testing.T) {
			st := d.ws(t, d.admin)
			st.sendRaw(t, `{"type": "subscribe", "id": `)
			wantClose(t, st, 4400)
		})
		t.Run("ErrUnknownMessageTypeClosesWith4400", func(t *testing.T) {
			st := d.ws(t, d.admin)
			st.sendRaw(t, `{"type": "start", "id": "1", "payload": {"query": "{ __typename }"}}`)
			wantClose(t, st, 4400)
		})
		t.Run("PingGetsPong", func(t *testing.T) {
			st := d.ws(t, d.admin)
			st.send(t, wsMessage{Type: "ping", Payload: json.RawMessage(`{"n":1}`)})
			m, ok, closed := st.recv(liveWait)
			if !ok || closed || m.Type != "pong" || string(m.Payload) != `{"n":1}` {
				t.Fatalf("got %+v (ok %v, closed %v: %v), want pong with the ping's payload", m, ok, closed, st.err)
			}
		})
		t.Run("QueryGetsNextThenComplete", func(t *testing.T) {
			st := d.ws(t, d.admin)
			st.sub(t, "q", `{ me { id name } }`, nil)
			if me := st.data(t, "q"); str(me, "me", "name") != "Ada Admin" || str(me, "me", "id") == "" {
				t.Fatalf("me = %v", me)
			}
			if m := st.mustNext(t); m.Type != "complete" || m.ID != "q" {
				t.Fatalf("got %s (id %q), want complete of q", m.Type, m.ID)
			}
		})
		t.Run("MutationOverTheSocketIsDeliveredToItsSubscriptions", func(t *testing.T) {
			st := d.ws(t, d.admin)
			// after: the setup's 2 events.
			st.sub(t, "events", liveEvents, map[string]any{"after": "2"})
			st.sub(t, "m", addMessage, map[string]any{"id": ticketID, "body": "sent over the socket", "internal": false})
			var gotResult, gotComplete, gotEvent bool
			for !(gotResult && gotComplete && gotEvent) {
				m := st.mustNext(t)
				switch {
				case m.ID == "m" && m.Type == "next" && !gotResult:
					if d, errs := liveResult(t, m); len(errs) > 0 || str(d, "addMessage", "body") != "sent over the socket" {
						t.Fatalf("addMessage = %s", m.Payload)
					}
					gotResult = true
				case m.ID == "m" && m.Type == "complete" && gotResult:
					gotComplete = true
				case m.ID == "events" && m.Type == "next" && !gotEvent:
					st.held = append([]wsMessage{m}, st.held...)
					// A staff reply also opens the ticket.
					st.expect(t, "events", "MESSAGE_ADDED:sent over the socket", "TICKET_UPDATED[firstRespondedAt,status]")
					gotEvent = true
				default:
					t.Fatalf("unexpected %s (id %q) %s", m.Type, m.ID, m.Payload)
				}
			}
		})
		t.Run("ErrInvalidOperationIsAnErrorMessage", func(t *testing.T) {
			st := d.ws(t, d.admin)
			st.sub(t, "bad", `subscription { ticketEvents { nope } }`, nil)
			// The same code as over HTTP.
			want := d.s.do(t, d.admin, `subscription { ticketEvents { nope } }`, nil).code(t)
			if code := st.errorCode(t, "bad"); code != want || code == "" {
				t.Fatalf("code %s, want %s as over HTTP", code, want)
			}
			st.sync(t)
		})
		t.Run("CompleteStopsDelivery", func(t *testing.T) {
			st := d.ws(t, d.admin)
			// after: the 4 events so far.
			st.sub(t, "1", liveEvents, map[string]any{"ticketID": ticketID, "after": "4"})
			st.sub(t, "2", liveEvents, map[string]any{"ticketID": ticketID, "after": "4"})
			st.sync(t)
			d.message(t, d.admin, ticketID, "both", true)
			st.expectEach(t, map[string][]string{"1": {"MESSAGE_ADDED:both"}, "2": {"MESSAGE_ADDED:both"}})
			st.stop(t, "1")
			st.sync(t)
			d.message(t, d.admin, ticketID, "only two", true)
			st.expect(t, "2", "MESSAGE_ADDED:only two")
			// No complete echoed for 1, and nothing more for it.
			st.quiet(t, 300*time.Millisecond)
		})
		t.Run("IDCanBeReusedAfterComplete", func(t *testing.T) {
			// graphql-transport-ws lets a client reuse an id once the
			// operation is complete: the goroutine of the completed
			// operation must not send complete for the new one under the
			// same id, nor cancel it.
			st := d.ws(t, d.admin)
			for i := 0; i < 30; i++ {
				st.sub(t, "r", liveEvents, map[string]any{"ticketID": ticketID, "after": "6"})
				st.stop(t, "r")
			}
			st.sub(t, "r", liveEvents, map[string]any{"ticketID": ticketID, "after": "6"})
			st.sync(t)
			d.message(t, d.admin, ticketID, "reused", true)
			st.expect(t, "r", "MESSAGE_ADDED:reused")
			st.quiet(t, 300*time.Millisecond)
		})
	})
}

func TestLiveLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, map[string]string{
			"SWITCHBOARD_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
			"SWITCHBOARD_MAX_CONNECTIONS_PER_USER":         "2",
		})
		cust, _ := signup(t, d.s, "cara@example.com", "Cara")
		ticketID := d.ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})

		t.Run("TooManyOperationsGetRateLimitedAndTheConnectionStays", func(t *testing.T) {
			st := d.ws(t, d.admin)
			st.sub(t, "1", liveEvents, map[string]any{"after": "2"})
			st.sub(t, "2", liveEvents, map[string]any{"after": "2"})
			st.sub(t, "3", liveEvents, nil)
			if e := st.errorOf(t, "3"); e.Extensions["code"] != "RATE_LIMITED" || e.Extensions["retryAfter"] != float64(1) {
				t.Fatalf("error %+v, want RATE_LIMITED with retryAfter 1", e)
			}
			d.message(t, d.admin, ticketID, "still here", true)
			st.expectEach(t, map[string][]string{"1": {"MESSAGE_ADDED:still here"}, "2": {"MESSAGE_ADDED:still here"}})
			// Completing one frees its slot.
			st.stop(t, "2")
			st.sync(t)
		})
		t.Run("TooManyConnectionsClosesWith4429", func(t *testing.T) {
			token := login(t, d.s, "cara@example.com", "correct horse battery")
			first := liveConnect(t, d.s, "graphql-transport-ws", token)
			liveConnect(t, d.s, "graphql-transport-ws", cust)
			c, _, err := dialWS(t, d.s, "graphql-transport-ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			third := liveRead(c)
			third.send(t, wsMessage{Type: "connection_init", Payload: mustJSON(t, map[string]any{"authorization": "Bearer " + token})})
			if code, before := third.closeCode(t, liveWait); code != 4429 || len(before) > 0 {
				t.Fatalf("closed with %d after %v, want 4429", code, before)
			}
			// Closing one frees a place (once the server noticed).
			first.c.conn.Close()
			deadline := time.Now().Add(liveWait)
			for {
				c, _, err := dialWS(t, d.s, "graphql-transport-ws", nil)
				if err != nil {
					t.Fatal(err)
				}
				st := liveRead(c)
				st.send(t, wsMessage{Type: "connection_init", Payload: mustJSON(t, map[string]any{"authorization": "Bearer " + token})})
				m, ok, closed := st.recv(liveWait)
				if ok && m.Type == "connection_ack" {
					break
				}
				if !closed && !ok {
					t.Fatal("no answer to connection_init")
				}
				if time.Now().After(deadline) {
					t.Fatalf("still refused %s after a connection closed: %v", liveWait, st.err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Event streams count too: Cara holds two sockets.
			res := liveSSE(t, d.s, cust, `subscription { ticketEvents { type } }`)
			res.Body.Close()
			if res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("event stream beyond the limit: status %d, want 429", res.StatusCode)
			}
		})
	})
}

func TestLiveLegacyProtocol(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, nil)
		cust, _ := signup(t, d.s, "cara@example.com", "Cara")
		ticketID := d.ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})

		t.Run("AckIsFollowedByKeepAlive", func(t *testing.T) {
			st := liveConnect(t, d.s, "graphql-ws", d.admin)
			m, ok, closed := st.recv(liveWait)
			if !ok || closed || m.Type != "ka" {
				t.Fatalf("after connection_ack got %+v (ok %v closed %v), want ka", m, ok, closed)
			}
		})
		t.Run("StartDataStop", func(t *testing.T) {
			st := liveConnect(t, d.s, "graphql-ws", d.admin)
			st.sub(t, "1", liveEvents, map[string]any{"ticketID": ticketID, "after": "2"})
			st.sync(t)
			d.message(t, d.admin, ticketID, "legacy", true)
			m := st.mustNext(t)
			if m.Type != "data" || m.ID != "1" {
				t.Fatalf("got %s (id %q), want data of 1", m.Type, m.ID)
			}
			st.held = append([]wsMessage{m}, st.held...)
			st.expect(t, "1", "MESSAGE_ADDED:legacy")
			st.stop(t, "1")
			st.sync(t)
			d.message(t, d.admin, ticketID, "after stop", true)
			st.quiet(t, 300*time.Millisecond)
		})
		t.Run("QueryGetsDataThenComplete", func(t *testing.T) {
			st := liveConnect(t, d.s, "graphql-ws", d.admin)
			st.sub(t, "q", `{ me { name } }`, nil)
			if me := st.data(t, "q"); str(me, "me", "name") != "Ada Admin" {
				t.Fatalf("me = %v", me)
			}
			if m := st.mustNext(t); m.Type != "complete" || m.ID != "q" {
				t.Fatalf("got %s (id %q), want complete of q", m.Type, m.ID)
			}
		})
		t.Run("ConnectionTerminateCloses", func(t *testing.T) {
			st := liveConnect(t, d.s, "graphql-ws", d.admin)
			st.send(t, wsMessage{Type: "connection_terminate"})
			if code, before := st.closeCode(t, liveWait); code != websocket.CloseNormalClosure || len(before) > 0 {
				t.Fatalf("closed with %d after %v, want 1000", code, before)
			}
		})
		t.Run("ErrBadTokenGetsConnectionErrorThen4403", func(t *testing.T) {
			c, _, err := dialWS(t, d.s, "graphql-ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			st := liveRead(c)
			st.send(t, wsMessage{Type: "connection_init", Payload: mustJSON(t, map[string]any{"authorization": "Bearer sbs_nope"})})
			// subscriptions-transport-ws ignores close codes: it learns
			// of the refusal from connection_error.
			code, before := st.closeCode(t, liveWait)
			if code != 4403 || len(before) != 1 || before[0].Type != "connection_error" || !strings.Contains(string(before[0].Payload), "message") {
				t.Fatalf("closed with %d after %v, want one connection_error then 4403", code, before)
			}
		})
	})
}

func TestLiveOriginAndCookies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, map[string]string{"SWITCHBOARD_ALLOWED_ORIGINS": "https://desk.example.com"})
		signup(t, d.s, "cara@example.com", "Cara")
		origin := func(o string) http.Header { return http.Header{"Origin": {o}} }

		t.Run("ErrForeignOriginRefusedWith403", func(t *testing.T) {
			_, res, err := dialWS(t, d.s, "graphql-transport-ws", origin("https://evil.example"))
			if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
				t.Fatalf("dial from a foreign origin: %v, %+v", err, res)
			}
		})
		for name, o := range map[string]string{"AllowedOriginAccepted": "https://desk.example.com", "OwnOriginAccepted": d.s.url} {
			t.Run(name, func(t *testing.T) {
				c, _, err := dialWS(t, d.s, "graphql-transport-ws", origin(o))
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				c.init(d.admin)
				st := liveRead(c)
				if m := st.mustNext(t); m.Type != "connection_ack" {
					t.Fatalf("got %s", m.Type)
				}
				st.sync(t)
			})
		}

		res, r := rawPost(t, d.s, `mutation { login(email: "cara@example.com", password: "correct horse battery", cookie: true) { user { id } } }`, nil, nil)
		r.ok(t)
		cookie := sessionCookie(res)
		if cookie == nil {
			t.Fatal("no session cookie")
		}
		cookieHeader := func(o string) http.Header {
			h := http.Header{"Cookie": {auth.SessionCookieName + "=" + cookie.Value}}
			if o != "" {
				h.Set("Origin", o)
			}
			return h
		}
		t.Run("ErrCookieFromForeignOriginRefused", func(t *testing.T) {
			_, res, err := dialWS(t, d.s, "graphql-transport-ws", cookieHeader("https://evil.example"))
			if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
				t.Fatalf("dial: %v, %+v", err, res)
			}
		})
		t.Run("CookieSignsTheSocketIn", func(t *testing.T) {
			c, _, err := dialWS(t, d.s, "graphql-transport-ws", cookieHeader(d.s.url))
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c.init("")
			st := liveRead(c)
			if m := st.mustNext(t); m.Type != "connection_ack" {
				t.Fatalf("got %s %s", m.Type, m.Payload)
			}
			st.sub(t, "me", `{ me { email } }`, nil)
			if me := st.data(t, "me"); str(me, "me", "email") != "cara@example.com" {
				t.Fatalf("me = %v", me)
			}
			if m := st.mustNext(t); m.Type != "complete" {
				t.Fatalf("got %s, want complete", m.Type)
			}
			st.sub(t, "1", liveEvents, nil)
			st.sync(t)
			// Cara's ticket, opened over another connection.
			token := login(t, d.s, "cara@example.com", "correct horse battery")
			id := d.ticket(t, token, map[string]any{"subject": "cookie", "body": "monster"})
			if ev := st.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:monster")[0]; str(ev, "ticket", "id") != id {
				t.Fatalf("event of %v", ev)
			}
			// Logging the cookie's session out closes the socket.
			_, r := rawPost(t, d.s, `mutation { logout }`, map[string]string{auth.CSRFHeader: "1"}, cookie)
			r.ok(t)
			if code, _ := st.closeCode(t, liveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
		})
	})
}

// liveSSE posts a subscription asking for an event stream.
func liveSSE(t *testing.T, s *testServer, token, query string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

type sseEvent struct{ event, data string }

// sseRead parses an event stream on a goroutine; the channel closes at
// the end of the stream. Comments (keep-alives) are skipped.
func sseRead(body io.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 1024)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" || ev.data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event:"):
				ev.event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	return ch
}

func TestLiveEventStream(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, nil)
		cust, _ := signup(t, d.s, "cara@example.com", "Cara")
		next := func(t *testing.T, ch <-chan sseEvent, d time.Duration) (sseEvent, bool) {
			t.Helper()
			select {
			case ev, ok := <-ch:
				if !ok {
					t.Fatal("the stream ended")
				}
				return ev, true
			case <-time.After(d):
				return sseEvent{}, false
			}
		}

		t.Run("MutationArrivesAsNextEvent", func(t *testing.T) {
			res := liveSSE(t, d.s, d.admin, `subscription { ticketEvents { type ticket { subject } message { body } } }`)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			ch := sseRead(res.Body)
			// The stream cannot tell when the subscription is live: open
			// tickets until one is delivered.
			deadline := time.Now().Add(liveWait)
			var ev sseEvent
			for i := 0; ; i++ {
				d.ticket(t, cust, map[string]any{"subject": fmt.Sprintf("sse %d", i), "body": "x"})
				var ok bool
				if ev, ok = next(t, ch, 500*time.Millisecond); ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no event within %s", liveWait)
				}
			}
			var payload struct {
				Data   map[string]any `json:"data"`
				Errors []gqlError     `json:"errors"`
			}
			if err := json.Unmarshal([]byte(ev.data), &payload); err != nil || ev.event != "next" || len(payload.Errors) > 0 {
				t.Fatalf("got event %q data %s (%v)", ev.event, ev.data, err)
			}
			if str(payload.Data, "ticketEvents", "type") != "TICKET_CREATED" || !strings.HasPrefix(str(payload.Data, "ticketEvents", "ticket", "subject"), "sse ") {
				t.Fatalf("data = %v", payload.Data)
			}
			ev, _ = next(t, ch, liveWait)
			if ev.event != "next" || !strings.Contains(ev.data, `"MESSAGE_ADDED"`) {
				t.Fatalf("got %q %s, want the MESSAGE_ADDED", ev.event, ev.data)
			}
		})
		t.Run("ResumeWithAfter", func(t *testing.T) {
			res := liveSSE(t, d.s, cust, `subscription { ticketEvents(after: "0") { cursor type } }`)
			ch := sseRead(res.Body)
			ev, ok := next(t, ch, liveWait)
			if !ok || ev.event != "next" || !strings.Contains(ev.data, `"cursor":"1"`) || !strings.Contains(ev.data, `"TICKET_CREATED"`) {
				t.Fatalf("got %q %s, want the first event", ev.event, ev.data)
			}
		})
		t.Run("ErrAnonymousGetsUnauthenticated", func(t *testing.T) {
			res := liveSSE(t, d.s, "", `subscription { ticketEvents { type } }`)
			ch := sseRead(res.Body)
			ev, ok := next(t, ch, liveWait)
			if !ok || !strings.Contains(ev.data, "UNAUTHENTICATED") {
				t.Fatalf("got %q %s, want an UNAUTHENTICATED error", ev.event, ev.data)
			}
		})
		t.Run("LogoutEndsTheStream", func(t *testing.T) {
			token := login(t, d.s, "cara@example.com", "correct horse battery")
			res := liveSSE(t, d.s, token, `subscription { ticketEvents { type } }`)
			ch := sseRead(res.Body)
			d.s.do(t, token, `mutation { logout }`, nil).ok(t)
			timeout := time.After(liveWait)
			for {
				select {
				case ev, ok := <-ch:
					if !ok {
						return
					}
					// complete would tell the client the subscription is
					// over; a cut stream makes it reconnect.
					if ev.event == "complete" {
						t.Fatal("the stream ended with complete")
					}
				case <-timeout:
					t.Fatalf("stream still open %s after logout", liveWait)
				}
			}
		})
	})
}

func TestLivePresence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, map[string]string{"SWITCHBOARD_PRESENCE_TTL": "500ms"})
		agentA, agentAID := d.staff(t, "alice@example.com", "Alice Agent", "AGENT")
		agentB, agentBID := d.staff(t, "bob@example.com", "Bob Agent", "AGENT")
		agentC, _ := d.staff(t, "carl@example.com", "Carl Agent", "AGENT")
		cust, custID := signup(t, d.s, "cara@example.com", "Cara")
		g := d.group(t, "Support", agentAID, agentBID)
		ticketID := d.ticket(t, d.admin, map[string]any{"subject": "who is here", "body": "x", "requesterID": custID, "groupID": g})
		viewers := func(t *testing.T, st *liveStream, id string) []any {
			t.Helper()
			list, ok := st.data(t, id)["ticketViewers"].([]any)
			if !ok {
				t.Fatalf("ticketViewers is not a list")
			}
			return list
		}

		t.Run("TypingAgentAppearsThenExpires", func(t *testing.T) {
			b := d.ws(t, agentB)
			b.sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			if list := viewers(t, b, "v"); len(list) != 0 {
				t.Fatalf("first list = %v, want empty", list)
			}
			if r := d.s.do(t, agentA, liveViewTicket, map[string]any{"id": ticketID, "typing": true}).ok(t); r["viewTicket"] != true {
				t.Fatalf("viewTicket = %v", r)
			}
			list := viewers(t, b, "v")
			if len(list) != 1 || str(list[0], "user", "id") != agentAID || path(list[0], "typing") != true ||
				str(list[0], "user", "name") != "Alice Agent" || str(list[0], "expiresAt") == "" {
				t.Fatalf("list = %v, want Alice typing", list)
			}
			// Nobody renews the heartbeat: the entry goes on its own.
			if list := viewers(t, b, "v"); len(list) != 0 {
				t.Fatalf("list = %v, want empty after the TTL", list)
			}
		})
		t.Run("CurrentListComesFirst", func(t *testing.T) {
			d.s.do(t, agentA, liveViewTicket, map[string]any{"id": ticketID}).ok(t)
			b := d.ws(t, agentB)
			b.sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			list := viewers(t, b, "v")
			if len(list) == 1 && path(list[0], "typing") == false && str(list[0], "user", "id") == agentAID {
				return
			}
			// The 500ms TTL may have passed before the subscription
			// started; then the list is empty.
			if len(list) != 0 {
				t.Fatalf("first list = %v", list)
			}
		})
		t.Run("ErrCustomerForbidden", func(t *testing.T) {
			if r := d.s.do(t, cust, liveViewTicket, map[string]any{"id": ticketID, "typing": true}); r.code(t) != "FORBIDDEN" {
				t.Fatalf("viewTicket: %+v", r.Errors)
			}
			st := d.ws(t, cust)
			st.sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			if code := st.errorCode(t, "v"); code != "FORBIDDEN" {
				t.Fatalf("ticketViewers: code %s, want FORBIDDEN", code)
			}
		})
		t.Run("ErrReadOnlyTokenCannotSendHeartbeats", func(t *testing.T) {
			r := d.s.do(t, agentA, `mutation { createAPIToken(input: {name: "dashboard"}) { token } }`, nil).ok(t)
			if r := d.s.do(t, str(r, "createAPIToken", "token"), liveViewTicket, map[string]any{"id": ticketID}); r.code(t) != "FORBIDDEN" {
				t.Fatalf("viewTicket with a READ token: %+v", r.Errors)
			}
		})
		t.Run("ErrAgentOutOfReachNotFound", func(t *testing.T) {
			if r := d.s.do(t, agentC, liveViewTicket, map[string]any{"id": ticketID}); r.code(t) != "NOT_FOUND" {
				t.Fatalf("viewTicket: %+v", r.Errors)
			}
			st := d.ws(t, agentC)
			st.sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			if code := st.errorCode(t, "v"); code != "NOT_FOUND" {
				t.Fatalf("ticketViewers: code %s, want NOT_FOUND", code)
			}
		})
		t.Run("AgentRemovedFromGroupStopsSeeingViewers", func(t *testing.T) {
			b := d.ws(t, agentB)
			b.sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			viewers(t, b, "v")
			d.s.do(t, d.admin, liveUpdateGrp, map[string]any{"id": g, "in": map[string]any{"removeMemberIDs": []string{agentBID}}}).ok(t)
			t.Cleanup(func() {
				d.s.do(t, d.admin, liveUpdateGrp, map[string]any{"id": g, "in": map[string]any{"addMemberIDs": []string{agentBID}}}).ok(t)
			})
			// Wait until revalidation reached this connection: its queries
			// stop finding the ticket. Lists that came meanwhile are fine.
			deadline := time.Now().Add(liveWait)
			for i := 0; ; i++ {
				id := fmt.Sprintf("node%d", i)
				b.sub(t, id, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ticketID})
				var res wsMessage
				for res.ID != id {
					if res = b.mustNext(t); res.ID == "v" {
						res = wsMessage{}
					}
				}
				if res.Type == "next" {
					if b.mustNext(t).Type != "complete" {
						t.Fatal("no complete after the query's result")
					}
				}
				if _, errs := liveResult(t, res); len(errs) > 0 || res.Type == "error" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the connection still sees the ticket %s after removal", liveWait)
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Who is on a ticket of a group Bob left is no longer his to see:
			// access is checked again on every change, not only when
			// ticketViewers starts.
			d.s.do(t, agentA, liveViewTicket, map[string]any{"id": ticketID, "typing": true}).ok(t)
			if m, ok := b.next(t, time.Second); ok && m.ID == "v" && (m.Type == "next" || m.Type == "data") {
				t.Fatalf("after losing access to the ticket, Bob still gets its viewers: %s", m.Payload)
			}
		})
		// Viewers registers its watcher before it sends the first list, so
		// heartbeats racing with the subscription must not fill its
		// one-slot channel first and block that send.
		t.Run("SubscribingDuringHeartbeatsGetsTheList", func(t *testing.T) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					_ = liveDo(d.s, agentA, liveViewTicket, map[string]any{"id": ticketID, "typing": i%2 == 0})
				}
			}()
			defer func() { close(stop); wg.Wait() }()
			b := d.ws(t, agentB)
			for i := 0; i < 30; i++ {
				id := fmt.Sprintf("v%d", i)
				b.sub(t, id, liveViewers, map[string]any{"id": ticketID})
				deadline := time.Now().Add(liveWait)
				for {
					m, ok := b.next(t, time.Until(deadline))
					if !ok {
						t.Fatalf("subscription %d got no list within %s", i, liveWait)
					}
					if m.ID == id {
						break
					}
				}
				b.stop(t, id)
			}
		})
	})
}

// TestLiveListFilters covers ticketEvents(where:) as a client sees it:
// the list query's refusals, filters that cannot be followed live, and
// events that bring tickets into a view and take them out of it.
func TestLiveListFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newLiveDesk(t, tg, nil)
		cust, _ := signup(t, d.s, "cara@example.com", "Cara")
		_, agentID := d.staff(t, "alice@example.com", "Alice Agent", "AGENT")
		billing := d.group(t, "Billing")
		const events = `subscription($where: TicketWhereInput) { ticketEvents(where: $where) {
			cursor type ticketID changes { field from to } ticket { id status } message { body } actor { name } } }`

		t.Run("ErrCustomerFilteringOnStaffOnlyField", func(t *testing.T) {
			st := d.ws(t, cust)
			st.sub(t, "1", events, map[string]any{"where": map[string]any{"firstResponseDueAtIsNil": true}})
			if code := st.errorCode(t, "1"); code != "FORBIDDEN" {
				t.Fatalf("code %s, want FORBIDDEN", code)
			}
		})
		t.Run("ErrFilterOnRelatedRowsNamesTheField", func(t *testing.T) {
			st := d.ws(t, d.admin)
			st.sub(t, "1", events, map[string]any{"where": map[string]any{"hasRequesterWith": []any{map[string]any{"name": "Cara"}}}})
			e := st.errorOf(t, "1")
			if e.Extensions["code"] != "BAD_USER_INPUT" || e.Extensions["field"] != "where.hasRequesterWith" {
				t.Fatalf("error %+v, want BAD_USER_INPUT on where.hasRequesterWith", e)
			}
		})
		t.Run("ChangesCarryTypedValuesBeforeAndAfter", func(t *testing.T) {
			st := d.ws(t, d.admin)
			st.sub(t, "1", events, map[string]any{"where": map[string]any{"status": "NEW"}})
			st.sync(t)
			id := d.ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})
			st.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:help")
			d.update(t, d.admin, id, map[string]any{"assigneeID": agentID, "groupID": billing, "appendTags": []string{"vip"}})
			ev := st.event(t, "1")
			want := map[string][2]any{"assignee": {nil, agentID}, "group": {nil, billing}, "tags": {[]any{}, []any{"vip"}}}
			got := map[string][2]any{}
			for _, c := range path(ev, "changes").([]any) {
				c := c.(map[string]any)
				got[c["field"].(string)] = [2]any{c["from"], c["to"]}
			}
			if str(ev, "type") != "TICKET_ASSIGNED" || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("event %v, want TICKET_ASSIGNED with changes %v", ev, want)
			}
			// Out of the filter: TICKET_LEFT with the ID alone.
			d.update(t, d.admin, id, map[string]any{"status": "OPEN"})
			ev = st.event(t, "1")
			if str(ev, "type") != "TICKET_LEFT" || str(ev, "ticketID") != id || ev["ticket"] != nil || ev["actor"] != nil || len(path(ev, "changes").([]any)) != 0 {
				t.Fatalf("event %v, want TICKET_LEFT carrying the ticket's ID alone", ev)
			}
			// Changes outside the view are not the subscriber's.
			d.update(t, d.admin, id, map[string]any{"priority": "HIGH"})
			// Back in: TICKET_ENTERED with the whole ticket.
			d.update(t, d.admin, id, map[string]any{"status": "NEW"})
			ev = st.event(t, "1")
			if str(ev, "type") != "TICKET_ENTERED" || str(ev, "ticket", "status") != "NEW" || len(path(ev, "changes").([]any)) != 0 {
				t.Fatalf("event %v, want TICKET_ENTERED with the ticket", ev)
			}
			st.quiet(t, 300*time.Millisecond)
		})
	})
}
