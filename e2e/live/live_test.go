package live_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/gorilla/websocket"

	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// Live updates end to end: the event log's types, who sees which event,
// revalidation of live connections, resuming with after:, both websocket
// protocols and their close codes, Origin and cookie checks, server-sent
// events and presence. Every wait is bounded by a generous deadline; no
// assertion depends on how fast something happens.

const (
	// liveEvents subscribes to ticket events, every filter a variable.
	liveEvents = `subscription($groupID: ID, $ticketID: ID, $after: String) {
		ticketEvents(groupID: $groupID, ticketID: $ticketID, after: $after) {
			cursor type ticketID changes { field from to } at ticket { id subject status } message { body internal } actor { name } } }`
	liveViewers    = `subscription($id: ID!) { ticketViewers(ticketID: $id) { user { id name } typing expiresAt } }`
	liveViewTicket = `mutation($id: ID!, $typing: Boolean) { viewTicket(ticketID: $id, typing: $typing) }`
	liveUpdateUser = `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }`
	liveUpdateGrp  = `mutation($id: ID!, $in: UpdateGroupInput!) { updateGroup(id: $id, input: $in) { id } }`
)

func TestLiveEventLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		_, agentID := d.Staff(t, "agent@example.com", "Alice Agent", "AGENT")
		cust, _ := harness.Signup(t, d.S, "cara@example.com", "Cara")
		ws := d.WS(t, d.Admin)
		ws.Sub(t, "1", liveEvents, nil)
		ws.Sync(t)
		var cursors []int64
		next := func(t *testing.T, want string) map[string]any {
			t.Helper()
			ev := ws.Expect(t, "1", want)[0]
			cursors = append(cursors, harness.Cursor(t, ev))
			if harness.Str(ev, "at") == "" {
				t.Fatalf("event without at: %v", ev)
			}
			return ev
		}
		var ticketID string
		step := harness.Steps(t)

		step("CreateTicketLogsCreatedThenMessageAdded", func(t *testing.T) {
			ticketID = d.Ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})
			ev := next(t, "TICKET_CREATED")
			if harness.Str(ev, "ticket", "id") != ticketID || harness.Str(ev, "ticket", "subject") != "Printer on fire" ||
				harness.Str(ev, "actor", "name") != "Cara" || harness.Path(ev, "message") != nil {
				t.Fatalf("TICKET_CREATED = %v", ev)
			}
			ev = next(t, "MESSAGE_ADDED:help")
			if harness.Str(ev, "ticket", "id") != ticketID || harness.Str(ev, "actor", "name") != "Cara" || harness.Path(ev, "message", "internal") != false {
				t.Fatalf("MESSAGE_ADDED = %v", ev)
			}
		})
		var statusChange map[string]any
		step("StatusChangeLogsTicketUpdated", func(t *testing.T) {
			d.Update(t, d.Admin, ticketID, map[string]any{"status": "PENDING"})
			statusChange = next(t, "TICKET_UPDATED[status]")
			if harness.Str(statusChange, "ticket", "status") != "PENDING" || harness.Str(statusChange, "actor", "name") != "Ada Admin" {
				t.Fatalf("TICKET_UPDATED = %v", statusChange)
			}
		})
		// A field that was null and is cleared again is not a change
		// (ticketChanges in ent/schema/events.go, the hooks clearing
		// solvedAt and the SLA due times in ent/schema/hooks.go).
		t.Run("UnchangedNullFieldsAreNotChanges", func(t *testing.T) {
			// NEW → PENDING: solvedAt was null and stays null.
			if got := fmt.Sprint(harness.Path(statusChange, "changes")); got != "[map[field:status from:NEW to:PENDING]]" {
				t.Errorf("status change: changes = %s, want status from NEW to PENDING alone: solvedAt was and stays null", got)
			}
			// No SLA policy: the due times were and stay null.
			d.Update(t, d.Admin, ticketID, map[string]any{"priority": "LOW"})
			ev := next(t, "TICKET_UPDATED[priority]")
			if got := fmt.Sprint(harness.Path(ev, "changes")); got != "[map[field:priority from:NORMAL to:LOW]]" {
				t.Errorf("priority change: changes = %s, want [priority]: without an SLA policy the due times were and stay null", got)
			}
		})
		step("AssigningLogsTicketAssigned", func(t *testing.T) {
			d.Update(t, d.Admin, ticketID, map[string]any{"assigneeID": agentID})
			next(t, "TICKET_ASSIGNED[assignee]")
			// With another field: still TICKET_ASSIGNED, naming both.
			d.Update(t, d.Admin, ticketID, map[string]any{"clearAssignee": true, "priority": "HIGH"})
			next(t, "TICKET_ASSIGNED[assignee,priority]")
		})
		step("StaffReplyStopsTheClockAsTheSystem", func(t *testing.T) {
			d.Message(t, d.Admin, ticketID, "on it", false)
			if ev := next(t, "MESSAGE_ADDED:on it"); harness.Str(ev, "actor", "name") != "Ada Admin" {
				t.Fatalf("MESSAGE_ADDED = %v", ev)
			}
			if ev := next(t, "TICKET_UPDATED[firstRespondedAt]"); harness.Path(ev, "actor") != nil {
				t.Fatalf("bookkeeping must be the system's doing (actor null): %v", ev)
			}
		})
		step("CursorsStrictlyIncrease", func(t *testing.T) {
			for i := 1; i < len(cursors); i++ {
				if cursors[i] <= cursors[i-1] {
					t.Fatalf("cursors %v", cursors)
				}
			}
			ws.Quiet(t, 300*time.Millisecond)
		})
	})
}

func TestLiveVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		agentA, agentAID := d.Staff(t, "alice@example.com", "Alice Agent", "AGENT")
		agentB, agentBID := d.Staff(t, "bob@example.com", "Bob Agent", "AGENT")
		cust1, cust1ID := harness.Signup(t, d.S, "cara@example.com", "Cara")
		cust2, _ := harness.Signup(t, d.S, "dan@example.com", "Dan")
		billing := d.Group(t, "Billing", agentAID)

		admin, a, b := d.WS(t, d.Admin), d.WS(t, agentA), d.WS(t, agentB)
		c1, c2 := d.WS(t, cust1), d.WS(t, cust2)
		for _, st := range []*harness.Stream{admin, a, b, c1, c2} {
			st.Sub(t, "1", liveEvents, nil)
		}
		a.Sub(t, "g", liveEvents, map[string]any{"groupID": billing})
		for _, st := range []*harness.Stream{admin, a, b, c1, c2} {
			st.Sync(t)
		}

		// T1: Cara's, in Billing. T2: Dan's, in no group, then assigned to Bob.
		t1 := d.Ticket(t, d.Admin, map[string]any{"subject": "invoice", "body": "wrong total", "requesterID": cust1ID, "groupID": billing})
		admin.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:wrong total")
		t2 := d.Ticket(t, cust2, map[string]any{"subject": "login", "body": "locked out"})
		admin.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:locked out")
		d.Update(t, d.Admin, t2, map[string]any{"assigneeID": agentBID})
		admin.Expect(t, "1", "TICKET_ASSIGNED[assignee]")
		d.Message(t, agentA, t1, "note to self", true)
		d.Message(t, agentA, t1, "we will refund", false)
		admin.Expect(t, "1", "MESSAGE_ADDED:note to self", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]")
		// The last change, a marker everyone but Cara and Alice sees.
		d.Message(t, cust2, t2, "still locked out", false)
		admin.Expect(t, "1", "MESSAGE_ADDED:still locked out")

		t.Run("AgentInTheGroupSeesItsTickets", func(t *testing.T) {
			t1Events := []string{"TICKET_CREATED", "MESSAGE_ADDED:wrong total",
				"MESSAGE_ADDED:note to self", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]"}
			a.ExpectEach(t, map[string][]string{"1": t1Events, "g": slices.Clone(t1Events)})
			a.Quiet(t, 300*time.Millisecond)
		})
		t.Run("AgentOutsideTheGroupSeesOnlyWhatIsAssignedToThem", func(t *testing.T) {
			// T2's creation came before the assignment: not Bob's then.
			// The assignment brings it into his view.
			b.Expect(t, "1", "TICKET_ENTERED", "MESSAGE_ADDED:still locked out")
			b.Quiet(t, 300*time.Millisecond)
		})
		t.Run("CustomerSeesOwnTicketWithoutInternalNotes", func(t *testing.T) {
			evs := c1.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:wrong total", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]")
			for _, ev := range evs {
				if harness.Str(ev, "ticket", "id") != t1 {
					t.Fatalf("Cara got an event of another ticket: %v", ev)
				}
			}
			c1.Quiet(t, 300*time.Millisecond)
		})
		t.Run("CustomerNeverSeesAnotherCustomersEvents", func(t *testing.T) {
			c2.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:locked out", "TICKET_ASSIGNED[assignee]", "MESSAGE_ADDED:still locked out")
			c2.Quiet(t, 300*time.Millisecond)
		})
		t.Run("AdminSeesEverything", func(t *testing.T) {
			admin.Quiet(t, 300*time.Millisecond)
		})
		t.Run("CustomerReplayOfOwnTicketSkipsInternalNotes", func(t *testing.T) {
			c1.Sub(t, "r", liveEvents, map[string]any{"ticketID": t1, "after": "0"})
			c1.Expect(t, "r", "TICKET_CREATED", "MESSAGE_ADDED:wrong total", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]")
			c1.Sub(t, "r2", liveEvents, map[string]any{"after": "0"})
			c1.Expect(t, "r2", "TICKET_CREATED", "MESSAGE_ADDED:wrong total", "MESSAGE_ADDED:we will refund", "TICKET_UPDATED[firstRespondedAt,status]")
			c1.Quiet(t, 300*time.Millisecond)
		})
		t.Run("AgentReplayFollowsTheSameRules", func(t *testing.T) {
			b.Sub(t, "r", liveEvents, map[string]any{"after": "0"})
			// Replayed events are judged as they were: T2 became Bob's
			// with its assignment.
			b.Expect(t, "r", "TICKET_ENTERED", "MESSAGE_ADDED:still locked out")
			b.Quiet(t, 300*time.Millisecond)
		})
		t.Run("ErrCustomerFilteringOnAnotherCustomersTicket", func(t *testing.T) {
			c1.Sub(t, "x", liveEvents, map[string]any{"ticketID": t2})
			if code := c1.ErrorCode(t, "x"); code != "NOT_FOUND" {
				t.Fatalf("code %s, want NOT_FOUND", code)
			}
			// The connection stays usable.
			c1.Sync(t)
		})
		t.Run("ErrAgentFilteringOnTicketOutOfReach", func(t *testing.T) {
			b.Sub(t, "x", liveEvents, map[string]any{"ticketID": t1})
			if code := b.ErrorCode(t, "x"); code != "NOT_FOUND" {
				t.Fatalf("code %s, want NOT_FOUND", code)
			}
		})
		t.Run("ErrAnonymousConnectionRefused", func(t *testing.T) {
			anon, _, err := harness.DialWS(t, d.S, "graphql-transport-ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			anon.Init("")
			if code, reason := anon.CloseCode(harness.LiveWait); code != 4403 {
				t.Fatalf("close %d %q, want 4403", code, reason)
			}
		})
		t.Run("ErrRefusedCookieOnUpgradeIs4403", func(t *testing.T) {
			h := http.Header{"Cookie": {"__Host-switchboard_session=sbs_not-a-session"}, "Origin": {d.S.URL}}
			c, _, err := harness.DialWS(t, d.S, "graphql-transport-ws", h)
			if err != nil {
				t.Fatalf("the upgrade was refused instead of closed in the protocol: %v", err)
			}
			c.Init("")
			if code, reason := c.CloseCode(harness.LiveWait); code != 4403 {
				t.Fatalf("close %d %q, want 4403", code, reason)
			}
		})
		t.Run("CustomerEventTicketListsNoInternalNotes", func(t *testing.T) {
			// Fields below the event's ticket are read as the subscriber.
			st := d.WS(t, cust1)
			st.Sub(t, "m", `subscription($id: ID) { ticketEvents(ticketID: $id) { type ticket { messages { edges { node { body internal } } } } } }`,
				map[string]any{"id": t1})
			st.Sync(t)
			d.Message(t, agentA, t1, "secret note", true)
			d.Message(t, agentA, t1, "public answer", false)
			ev := st.Data(t, "m")
			var bodies []string
			for _, e := range harness.Path(ev, "ticketEvents", "ticket", "messages", "edges").([]any) {
				bodies = append(bodies, harness.Str(e, "node", "body"))
				if harness.Path(e, "node", "internal") != false {
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
		d := harness.NewDesk(t, tg, nil)
		_, custID := harness.Signup(t, d.S, "cara@example.com", "Cara")

		t.Run("AgentRemovedFromGroupStopsReceivingItsEvents", func(t *testing.T) {
			agent, agentID := d.Staff(t, "alice@example.com", "Alice Agent", "AGENT")
			g := d.Group(t, "Billing", agentID)
			inGroup := d.Ticket(t, d.Admin, map[string]any{"subject": "invoice", "body": "x", "requesterID": custID, "groupID": g})
			// A ticket assigned to the agent: its events are markers.
			mine := d.Ticket(t, d.Admin, map[string]any{"subject": "mine", "body": "x", "requesterID": custID})
			d.Update(t, d.Admin, mine, map[string]any{"assigneeID": agentID})
			ws := d.WS(t, agent)
			// after: the 5 events so far (2 per ticket, the assignment),
			// which the hub may not have dispatched yet.
			ws.Sub(t, "1", liveEvents, map[string]any{"after": "5"})
			ws.Sync(t)
			d.Message(t, d.Admin, inGroup, "probe 0", true)
			ws.Expect(t, "1", "MESSAGE_ADDED:probe 0")

			// The removal is logged: it applies at its place in the log,
			// announced by VIEW_CHANGED, and the group's events stop at once.
			d.S.Do(t, d.Admin, liveUpdateGrp, map[string]any{"id": g, "in": map[string]any{"removeMemberIDs": []string{agentID}}}).OK(t)
			vc := ws.Expect(t, "1", "VIEW_CHANGED")[0]
			if vc["ticket"] != nil || vc["ticketID"] != nil || vc["cursor"] == "" {
				t.Fatalf("VIEW_CHANGED = %v, want a cursor alone", vc)
			}
			d.Message(t, d.Admin, inGroup, "probe 1", true)
			d.Message(t, d.Admin, mine, "marker 1", true)
			ws.Expect(t, "1", "MESSAGE_ADDED:marker 1")

			// Back in the group: the events come back without reconnecting.
			d.S.Do(t, d.Admin, liveUpdateGrp, map[string]any{"id": g, "in": map[string]any{"addMemberIDs": []string{agentID}}}).OK(t)
			ws.Expect(t, "1", "VIEW_CHANGED")
			d.Message(t, d.Admin, inGroup, "again", true)
			ws.Expect(t, "1", "MESSAGE_ADDED:again")
		})
		t.Run("LogoutClosesTheSessionsSocketsWith4403", func(t *testing.T) {
			d.Staff(t, "bob@example.com", "Bob Agent", "AGENT")
			laptop := harness.Login(t, d.S, "bob@example.com", harness.DeskPassword)
			phone := harness.Login(t, d.S, "bob@example.com", harness.DeskPassword)
			ws1, ws2 := d.WS(t, laptop), d.WS(t, phone)
			ws2.Sub(t, "1", liveEvents, nil)
			ws2.Sync(t)
			d.S.Do(t, laptop, `mutation { logout }`, nil).OK(t)
			if code, _ := ws1.CloseCode(t, harness.LiveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
			// The other session's socket stays open.
			ws2.Sync(t)
		})
		t.Run("DeactivationClosesTheSocketWith4403", func(t *testing.T) {
			agent, agentID := d.Staff(t, "carl@example.com", "Carl Agent", "AGENT")
			ws := d.WS(t, agent)
			ws.Sub(t, "1", liveEvents, nil)
			ws.Sync(t)
			d.S.Do(t, d.Admin, liveUpdateUser, map[string]any{"id": agentID, "in": map[string]any{"active": false}}).OK(t)
			if code, _ := ws.CloseCode(t, harness.LiveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
		})
		t.Run("RoleChangeClosesTheSocketWith4403", func(t *testing.T) {
			agent, agentID := d.Staff(t, "dora@example.com", "Dora Agent", "AGENT")
			ws := d.WS(t, agent)
			d.S.Do(t, d.Admin, liveUpdateUser, map[string]any{"id": agentID, "in": map[string]any{"role": "ADMIN"}}).OK(t)
			if code, _ := ws.CloseCode(t, harness.LiveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
		})
		t.Run("RevokedAPITokenClosesTheSocketWith4403", func(t *testing.T) {
			agent, _ := d.Staff(t, "eve@example.com", "Eve Agent", "AGENT")
			r := d.S.Do(t, agent, `mutation { createAPIToken(input: {name: "wall display"}) { token apiToken { id } } }`, nil).OK(t)
			ws := d.WS(t, harness.Str(r, "createAPIToken", "token"))
			ws.Sub(t, "1", liveEvents, nil)
			ws.Sync(t)
			d.S.Do(t, agent, `mutation($id: ID!) { revokeAPIToken(id: $id) { id } }`, map[string]any{"id": harness.Str(r, "createAPIToken", "apiToken", "id")}).OK(t)
			if code, _ := ws.CloseCode(t, harness.LiveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
		})
	})
}

var liveHTTP = &http.Client{Timeout: 10 * time.Second}

func TestLiveResume(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		cust, _ := harness.Signup(t, d.S, "cara@example.com", "Cara")
		var ticketID, last string
		var all []string
		step := harness.Steps(t)

		step("FirstConnection", func(t *testing.T) {
			ws := d.WS(t, d.Admin)
			ws.Sub(t, "1", liveEvents, nil)
			ws.Sync(t)
			ticketID = d.Ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})
			evs := ws.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:help")
			last = harness.Str(evs[1], "cursor")
			all = append(all, "TICKET_CREATED", "MESSAGE_ADDED:help")
			ws.WS.Conn.Close()
		})
		// Three changes while disconnected.
		d.Update(t, d.Admin, ticketID, map[string]any{"status": "PENDING"})
		d.Message(t, d.Admin, ticketID, "looking", true)
		d.Update(t, d.Admin, ticketID, map[string]any{"priority": "HIGH"})
		missed := []string{"TICKET_UPDATED[status]", "MESSAGE_ADDED:looking", "TICKET_UPDATED[priority]"}
		all = append(all, missed...)

		step("AfterCursorDeliversExactlyTheMissedEventsThenLiveOnes", func(t *testing.T) {
			ws := d.WS(t, d.Admin)
			ws.Sub(t, "1", liveEvents, map[string]any{"after": last})
			evs := ws.Expect(t, "1", missed...)
			prev, _ := strconv.ParseInt(last, 10, 64)
			for _, ev := range evs {
				if c := harness.Cursor(t, ev); c <= prev {
					t.Fatalf("cursor %d after %d", c, prev)
				}
				prev = harness.Cursor(t, ev)
			}
			d.Message(t, cust, ticketID, "any news?", false)
			all = append(all, "MESSAGE_ADDED:any news?", "TICKET_UPDATED[status]") // reopened
			ev := ws.Expect(t, "1", "MESSAGE_ADDED:any news?", "TICKET_UPDATED[status]")[0]
			if harness.Cursor(t, ev) <= prev {
				t.Fatalf("live event cursor %d after %d", harness.Cursor(t, ev), prev)
			}
			ws.Quiet(t, 300*time.Millisecond)
		})
		step("AfterZeroReplaysTheWholeVisibleHistory", func(t *testing.T) {
			ws := d.WS(t, d.Admin)
			ws.Sub(t, "1", liveEvents, map[string]any{"after": "0"})
			evs := ws.Expect(t, "1", all...)
			for i, ev := range evs {
				if harness.Cursor(t, ev) != int64(i+1) {
					t.Fatalf("event %d has cursor %s, want %d", i, harness.Str(ev, "cursor"), i+1)
				}
			}
			ws.Quiet(t, 300*time.Millisecond)
			// The customer's history leaves out the internal note.
			c := d.WS(t, cust)
			c.Sub(t, "1", liveEvents, map[string]any{"after": "0"})
			c.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:help", "TICKET_UPDATED[status]", "TICKET_UPDATED[priority]",
				"MESSAGE_ADDED:any news?", "TICKET_UPDATED[status]")
			c.Quiet(t, 300*time.Millisecond)
		})
		step("ResumeDuringWritesHasNoGapNorDuplicate", func(t *testing.T) {
			const n = 20
			base := int64(len(all))
			started := make(chan struct{})
			errc := make(chan error, 1)
			go func() {
				var err error
				for i := 0; i < n && err == nil; i++ {
					_, err = d.S.QueryWithin(harness.LiveWait, d.Admin, harness.AddMessageMutation, map[string]any{"id": ticketID, "body": fmt.Sprintf("burst %d", i), "internal": true})
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
			ws := d.WS(t, d.Admin)
			ws.Sub(t, "1", liveEvents, map[string]any{"after": strconv.FormatInt(base-3, 10)})
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			for want := base - 2; want <= base+n; want++ {
				ev := ws.Event(t, "1")
				if c := harness.Cursor(t, ev); c != want {
					t.Fatalf("got cursor %d (%s), want %d", c, harness.EventSummary(ev), want)
				}
			}
			ws.Quiet(t, 300*time.Millisecond)
			all = nil // no longer tracked
		})
		t.Run("ErrCursorAheadOfTheLog", func(t *testing.T) {
			ws := d.WS(t, d.Admin)
			ws.Sub(t, "1", liveEvents, map[string]any{"after": "1000000"})
			if code := ws.ErrorCode(t, "1"); code != "BAD_USER_INPUT" {
				t.Fatalf("code %s, want BAD_USER_INPUT", code)
			}
		})
		t.Run("ErrCursorNotANumber", func(t *testing.T) {
			ws := d.WS(t, d.Admin)
			for i, after := range []string{"abc", "-1", ""} {
				id := strconv.Itoa(i)
				ws.Sub(t, id, liveEvents, map[string]any{"after": after})
				if code := ws.ErrorCode(t, id); code != "BAD_USER_INPUT" {
					t.Fatalf("after %q: code %s, want BAD_USER_INPUT", after, code)
				}
			}
		})
	})
}

func TestLiveCursorExpired(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		var ticketID string
		// The first run writes events 1 and 2 and stops.
		if !t.Run("BeforeRestart", func(t *testing.T) {
			d := &harness.Desk{S: harness.Start(t, tg, harness.LiveEnv(nil))}
			d.Admin = harness.Login(t, d.S, "admin@example.com", "amber canyon whistle")
			ws := d.WS(t, d.Admin)
			ws.Sub(t, "1", liveEvents, nil)
			ws.Sync(t)
			ticketID = d.Ticket(t, d.Admin, map[string]any{"subject": "old", "body": "x"})
			ws.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:x")
		}) {
			t.FailNow()
		}
		// The second prunes everything older than 1ms when it starts.
		d := &harness.Desk{S: harness.Start(t, tg, harness.LiveEnv(map[string]string{"SWITCHBOARD_EVENT_RETENTION": "1ms"}))}
		d.Admin = harness.Login(t, d.S, "admin@example.com", "amber canyon whistle")
		t.Run("ErrCursorOlderThanTheRetention", func(t *testing.T) {
			// Pruning runs beside start-up: retry until it has.
			deadline := time.Now().Add(harness.LiveWait)
			var ws *harness.Stream
			for {
				ws = d.WS(t, d.Admin)
				ws.Sub(t, "old", liveEvents, map[string]any{"after": "1"})
				m := ws.MustNext(t)
				if m.Type == "error" {
					ws.Unread(m)
					if code := ws.ErrorCode(t, "old"); code != "CURSOR_EXPIRED" {
						t.Fatalf("code %s, want CURSOR_EXPIRED", code)
					}
					break
				}
				ws.WS.Conn.Close()
				if time.Now().After(deadline) {
					t.Fatalf("after: 1 still accepted %s after start with 1ms retention: %s %s", harness.LiveWait, m.Type, m.Payload)
				}
				time.Sleep(100 * time.Millisecond)
			}
			ws.Sub(t, "zero", liveEvents, map[string]any{"after": "0"})
			if code := ws.ErrorCode(t, "zero"); code != "CURSOR_EXPIRED" {
				t.Fatalf("after 0: code %s, want CURSOR_EXPIRED", code)
			}
		})
		t.Run("CursorAtTheHeadStillResumes", func(t *testing.T) {
			ws := d.WS(t, d.Admin)
			ws.Sub(t, "1", liveEvents, map[string]any{"after": "2"})
			ws.Sync(t)
			d.Update(t, d.Admin, ticketID, map[string]any{"status": "OPEN"})
			if ev := ws.Expect(t, "1", "TICKET_UPDATED[status]")[0]; harness.Cursor(t, ev) != 3 {
				t.Fatalf("cursor %d, want 3", harness.Cursor(t, ev))
			}
			// Event 3 is recent: resuming after 2 replays it; after 1 is
			// still expired.
			ws.Sub(t, "2", liveEvents, map[string]any{"after": "2"})
			ws.Expect(t, "2", "TICKET_UPDATED[status]")
			ws.Sub(t, "3", liveEvents, map[string]any{"after": "1"})
			if code := ws.ErrorCode(t, "3"); code != "CURSOR_EXPIRED" {
				t.Fatalf("code %s, want CURSOR_EXPIRED", code)
			}
		})
	})
}

func TestLiveTransportProtocol(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		cust, _ := harness.Signup(t, d.S, "cara@example.com", "Cara")
		ticketID := d.Ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})
		dial := func(t *testing.T) *harness.Stream {
			t.Helper()
			c, _, err := harness.DialWS(t, d.S, "graphql-transport-ws", nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			return harness.ReadStream(c)
		}
		init := func(t *testing.T, st *harness.Stream, payload any) {
			t.Helper()
			st.Send(t, harness.WSMessage{Type: "connection_init", Payload: harness.JSON(t, payload)})
		}
		wantClose := func(t *testing.T, st *harness.Stream, want int) {
			t.Helper()
			code, before := st.CloseCode(t, harness.LiveWait)
			if code != want || len(before) > 0 {
				t.Fatalf("closed with %d after %v, want %d and nothing before", code, before, want)
			}
		}
		ack := func(t *testing.T, st *harness.Stream) {
			t.Helper()
			if m := st.MustNext(t); m.Type != "connection_ack" {
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
			st.Sub(t, "1", liveEvents, nil)
			wantClose(t, st, 4401)
		})
		t.Run("ErrSecondInitClosesWith4429", func(t *testing.T) {
			st := dial(t)
			init(t, st, map[string]any{"authorization": "Bearer " + d.Admin})
			ack(t, st)
			init(t, st, map[string]any{"authorization": "Bearer " + d.Admin})
			wantClose(t, st, 4429)
		})
		t.Run("ErrDuplicateIDClosesWith4409", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			st.Sub(t, "1", liveEvents, nil)
			st.Sub(t, "1", liveEvents, nil)
			wantClose(t, st, 4409)
		})
		t.Run("ErrInvalidJSONClosesWith4400", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			st.SendRaw(t, `{"type": "subscribe", "id": `)
			wantClose(t, st, 4400)
		})
		t.Run("ErrUnknownMessageTypeClosesWith4400", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			st.SendRaw(t, `{"type": "start", "id": "1", "payload": {"query": "{ __typename }"}}`)
			wantClose(t, st, 4400)
		})
		t.Run("PingGetsPong", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			st.Send(t, harness.WSMessage{Type: "ping", Payload: json.RawMessage(`{"n":1}`)})
			m, ok, closed := st.Recv(harness.LiveWait)
			if !ok || closed || m.Type != "pong" || string(m.Payload) != `{"n":1}` {
				t.Fatalf("got %+v (ok %v, closed %v: %v), want pong with the ping's payload", m, ok, closed, st.Err())
			}
		})
		t.Run("QueryGetsNextThenComplete", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			st.Sub(t, "q", `{ me { id name } }`, nil)
			if me := st.Data(t, "q"); harness.Str(me, "me", "name") != "Ada Admin" || harness.Str(me, "me", "id") == "" {
				t.Fatalf("me = %v", me)
			}
			if m := st.MustNext(t); m.Type != "complete" || m.ID != "q" {
				t.Fatalf("got %s (id %q), want complete of q", m.Type, m.ID)
			}
		})
		t.Run("MutationOverTheSocketIsDeliveredToItsSubscriptions", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			// after: the setup's 2 events.
			st.Sub(t, "events", liveEvents, map[string]any{"after": "2"})
			st.Sub(t, "m", harness.AddMessageMutation, map[string]any{"id": ticketID, "body": "sent over the socket", "internal": false})
			var gotResult, gotComplete, gotEvent bool
			for !(gotResult && gotComplete && gotEvent) {
				m := st.MustNext(t)
				switch {
				case m.ID == "m" && m.Type == "next" && !gotResult:
					if d, errs := harness.Result(t, m); len(errs) > 0 || harness.Str(d, "addMessage", "body") != "sent over the socket" {
						t.Fatalf("addMessage = %s", m.Payload)
					}
					gotResult = true
				case m.ID == "m" && m.Type == "complete" && gotResult:
					gotComplete = true
				case m.ID == "events" && m.Type == "next" && !gotEvent:
					st.Unread(m)
					// A staff reply also opens the ticket.
					st.Expect(t, "events", "MESSAGE_ADDED:sent over the socket", "TICKET_UPDATED[firstRespondedAt,status]")
					gotEvent = true
				default:
					t.Fatalf("unexpected %s (id %q) %s", m.Type, m.ID, m.Payload)
				}
			}
		})
		t.Run("ErrInvalidOperationIsAnErrorMessage", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			st.Sub(t, "bad", `subscription { ticketEvents { nope } }`, nil)
			// The same code as over HTTP.
			want := d.S.Do(t, d.Admin, `subscription { ticketEvents { nope } }`, nil).Code(t)
			if code := st.ErrorCode(t, "bad"); code != want || code == "" {
				t.Fatalf("code %s, want %s as over HTTP", code, want)
			}
			st.Sync(t)
		})
		t.Run("CompleteStopsDelivery", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			// after: the 4 events so far.
			st.Sub(t, "1", liveEvents, map[string]any{"ticketID": ticketID, "after": "4"})
			st.Sub(t, "2", liveEvents, map[string]any{"ticketID": ticketID, "after": "4"})
			st.Sync(t)
			d.Message(t, d.Admin, ticketID, "both", true)
			st.ExpectEach(t, map[string][]string{"1": {"MESSAGE_ADDED:both"}, "2": {"MESSAGE_ADDED:both"}})
			st.Stop(t, "1")
			st.Sync(t)
			d.Message(t, d.Admin, ticketID, "only two", true)
			st.Expect(t, "2", "MESSAGE_ADDED:only two")
			// No complete echoed for 1, and nothing more for it.
			st.Quiet(t, 300*time.Millisecond)
		})
		t.Run("IDCanBeReusedAfterComplete", func(t *testing.T) {
			// graphql-transport-ws lets a client reuse an id once the
			// operation is complete: the goroutine of the completed
			// operation must not send complete for the new one under the
			// same id, nor cancel it.
			st := d.WS(t, d.Admin)
			for i := 0; i < 30; i++ {
				st.Sub(t, "r", liveEvents, map[string]any{"ticketID": ticketID, "after": "6"})
				st.Stop(t, "r")
			}
			st.Sub(t, "r", liveEvents, map[string]any{"ticketID": ticketID, "after": "6"})
			st.Sync(t)
			d.Message(t, d.Admin, ticketID, "reused", true)
			st.Expect(t, "r", "MESSAGE_ADDED:reused")
			st.Quiet(t, 300*time.Millisecond)
		})
	})
}

func TestLiveLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, map[string]string{
			"SWITCHBOARD_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
			"SWITCHBOARD_MAX_CONNECTIONS_PER_USER":         "2",
		})
		cust, _ := harness.Signup(t, d.S, "cara@example.com", "Cara")
		ticketID := d.Ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})

		t.Run("TooManyOperationsGetRateLimitedAndTheConnectionStays", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			st.Sub(t, "1", liveEvents, map[string]any{"after": "2"})
			st.Sub(t, "2", liveEvents, map[string]any{"after": "2"})
			st.Sub(t, "3", liveEvents, nil)
			if e := st.ErrorOf(t, "3"); e.Extensions["code"] != "RATE_LIMITED" || e.Extensions["retryAfter"] != float64(1) {
				t.Fatalf("error %+v, want RATE_LIMITED with retryAfter 1", e)
			}
			d.Message(t, d.Admin, ticketID, "still here", true)
			st.ExpectEach(t, map[string][]string{"1": {"MESSAGE_ADDED:still here"}, "2": {"MESSAGE_ADDED:still here"}})
			// Completing one frees its slot.
			st.Stop(t, "2")
			st.Sync(t)
		})
		t.Run("TooManyConnectionsClosesWith4429", func(t *testing.T) {
			token := harness.Login(t, d.S, "cara@example.com", "correct horse battery")
			first := harness.ConnectStream(t, d.S, "graphql-transport-ws", token)
			harness.ConnectStream(t, d.S, "graphql-transport-ws", cust)
			c, _, err := harness.DialWS(t, d.S, "graphql-transport-ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			third := harness.ReadStream(c)
			third.Send(t, harness.WSMessage{Type: "connection_init", Payload: harness.JSON(t, map[string]any{"authorization": "Bearer " + token})})
			if code, before := third.CloseCode(t, harness.LiveWait); code != 4429 || len(before) > 0 {
				t.Fatalf("closed with %d after %v, want 4429", code, before)
			}
			// Closing one frees a place (once the server noticed).
			first.WS.Conn.Close()
			deadline := time.Now().Add(harness.LiveWait)
			for {
				c, _, err := harness.DialWS(t, d.S, "graphql-transport-ws", nil)
				if err != nil {
					t.Fatal(err)
				}
				st := harness.ReadStream(c)
				st.Send(t, harness.WSMessage{Type: "connection_init", Payload: harness.JSON(t, map[string]any{"authorization": "Bearer " + token})})
				m, ok, closed := st.Recv(harness.LiveWait)
				if ok && m.Type == "connection_ack" {
					break
				}
				if !closed && !ok {
					t.Fatal("no answer to connection_init")
				}
				if time.Now().After(deadline) {
					t.Fatalf("still refused %s after a connection closed: %v", harness.LiveWait, st.Err())
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Event streams count too: Cara holds two sockets.
			res := harness.SSE(t, d.S, cust, `subscription { ticketEvents { type } }`)
			res.Body.Close()
			if res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("event stream beyond the limit: status %d, want 429", res.StatusCode)
			}
		})
	})
}

func TestLiveLegacyProtocol(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		cust, _ := harness.Signup(t, d.S, "cara@example.com", "Cara")
		ticketID := d.Ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})

		t.Run("AckIsFollowedByKeepAlive", func(t *testing.T) {
			st := harness.ConnectStream(t, d.S, "graphql-ws", d.Admin)
			m, ok, closed := st.Recv(harness.LiveWait)
			if !ok || closed || m.Type != "ka" {
				t.Fatalf("after connection_ack got %+v (ok %v closed %v), want ka", m, ok, closed)
			}
		})
		t.Run("StartDataStop", func(t *testing.T) {
			st := harness.ConnectStream(t, d.S, "graphql-ws", d.Admin)
			st.Sub(t, "1", liveEvents, map[string]any{"ticketID": ticketID, "after": "2"})
			st.Sync(t)
			d.Message(t, d.Admin, ticketID, "legacy", true)
			m := st.MustNext(t)
			if m.Type != "data" || m.ID != "1" {
				t.Fatalf("got %s (id %q), want data of 1", m.Type, m.ID)
			}
			st.Unread(m)
			st.Expect(t, "1", "MESSAGE_ADDED:legacy")
			st.Stop(t, "1")
			st.Sync(t)
			d.Message(t, d.Admin, ticketID, "after stop", true)
			st.Quiet(t, 300*time.Millisecond)
		})
		t.Run("QueryGetsDataThenComplete", func(t *testing.T) {
			st := harness.ConnectStream(t, d.S, "graphql-ws", d.Admin)
			st.Sub(t, "q", `{ me { name } }`, nil)
			if me := st.Data(t, "q"); harness.Str(me, "me", "name") != "Ada Admin" {
				t.Fatalf("me = %v", me)
			}
			if m := st.MustNext(t); m.Type != "complete" || m.ID != "q" {
				t.Fatalf("got %s (id %q), want complete of q", m.Type, m.ID)
			}
		})
		t.Run("ConnectionTerminateCloses", func(t *testing.T) {
			st := harness.ConnectStream(t, d.S, "graphql-ws", d.Admin)
			st.Send(t, harness.WSMessage{Type: "connection_terminate"})
			if code, before := st.CloseCode(t, harness.LiveWait); code != websocket.CloseNormalClosure || len(before) > 0 {
				t.Fatalf("closed with %d after %v, want 1000", code, before)
			}
		})
		t.Run("ErrBadTokenGetsConnectionErrorThen4403", func(t *testing.T) {
			c, _, err := harness.DialWS(t, d.S, "graphql-ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			st := harness.ReadStream(c)
			st.Send(t, harness.WSMessage{Type: "connection_init", Payload: harness.JSON(t, map[string]any{"authorization": "Bearer sbs_nope"})})
			// subscriptions-transport-ws ignores close codes: it learns
			// of the refusal from connection_error.
			code, before := st.CloseCode(t, harness.LiveWait)
			if code != 4403 || len(before) != 1 || before[0].Type != "connection_error" || !strings.Contains(string(before[0].Payload), "message") {
				t.Fatalf("closed with %d after %v, want one connection_error then 4403", code, before)
			}
		})
	})
}

func TestLiveOriginAndCookies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, map[string]string{"SWITCHBOARD_ALLOWED_ORIGINS": "https://desk.example.com"})
		harness.Signup(t, d.S, "cara@example.com", "Cara")
		origin := func(o string) http.Header { return http.Header{"Origin": {o}} }

		t.Run("ErrForeignOriginRefusedWith403", func(t *testing.T) {
			_, res, err := harness.DialWS(t, d.S, "graphql-transport-ws", origin("https://evil.example"))
			if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
				t.Fatalf("dial from a foreign origin: %v, %+v", err, res)
			}
		})
		for name, o := range map[string]string{"AllowedOriginAccepted": "https://desk.example.com", "OwnOriginAccepted": d.S.URL} {
			t.Run(name, func(t *testing.T) {
				c, _, err := harness.DialWS(t, d.S, "graphql-transport-ws", origin(o))
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				c.Init(d.Admin)
				st := harness.ReadStream(c)
				if m := st.MustNext(t); m.Type != "connection_ack" {
					t.Fatalf("got %s", m.Type)
				}
				st.Sync(t)
			})
		}

		res, r := d.S.Post(t, `mutation { login(email: "cara@example.com", password: "correct horse battery", cookie: true) { user { id } } }`, nil, nil)
		r.OK(t)
		cookie := harness.SessionCookie(res)
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
			_, res, err := harness.DialWS(t, d.S, "graphql-transport-ws", cookieHeader("https://evil.example"))
			if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
				t.Fatalf("dial: %v, %+v", err, res)
			}
		})
		t.Run("CookieSignsTheSocketIn", func(t *testing.T) {
			c, _, err := harness.DialWS(t, d.S, "graphql-transport-ws", cookieHeader(d.S.URL))
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c.Init("")
			st := harness.ReadStream(c)
			if m := st.MustNext(t); m.Type != "connection_ack" {
				t.Fatalf("got %s %s", m.Type, m.Payload)
			}
			st.Sub(t, "me", `{ me { email } }`, nil)
			if me := st.Data(t, "me"); harness.Str(me, "me", "email") != "cara@example.com" {
				t.Fatalf("me = %v", me)
			}
			if m := st.MustNext(t); m.Type != "complete" {
				t.Fatalf("got %s, want complete", m.Type)
			}
			st.Sub(t, "1", liveEvents, nil)
			st.Sync(t)
			// Cara's ticket, opened over another connection.
			token := harness.Login(t, d.S, "cara@example.com", "correct horse battery")
			id := d.Ticket(t, token, map[string]any{"subject": "cookie", "body": "monster"})
			if ev := st.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:monster")[0]; harness.Str(ev, "ticket", "id") != id {
				t.Fatalf("event of %v", ev)
			}
			// Logging the cookie's session out closes the socket.
			_, r := d.S.Post(t, `mutation { logout }`, map[string]string{auth.CSRFHeader: "1"}, cookie)
			r.OK(t)
			if code, _ := st.CloseCode(t, harness.LiveWait); code != 4403 {
				t.Fatalf("close code %d, want 4403", code)
			}
		})
	})
}

func TestLiveEventStream(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		cust, _ := harness.Signup(t, d.S, "cara@example.com", "Cara")
		next := func(t *testing.T, ch <-chan harness.SSEEvent, d time.Duration) (harness.SSEEvent, bool) {
			t.Helper()
			select {
			case ev, ok := <-ch:
				if !ok {
					t.Fatal("the stream ended")
				}
				return ev, true
			case <-time.After(d):
				return harness.SSEEvent{}, false
			}
		}

		t.Run("MutationArrivesAsNextEvent", func(t *testing.T) {
			res := harness.SSE(t, d.S, d.Admin, `subscription { ticketEvents { type ticket { subject } message { body } } }`)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			ch := harness.ReadSSE(res.Body)
			// The stream cannot tell when the subscription is live: open
			// tickets until one is delivered.
			deadline := time.Now().Add(harness.LiveWait)
			var ev harness.SSEEvent
			for i := 0; ; i++ {
				d.Ticket(t, cust, map[string]any{"subject": fmt.Sprintf("sse %d", i), "body": "x"})
				var ok bool
				if ev, ok = next(t, ch, 500*time.Millisecond); ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no event within %s", harness.LiveWait)
				}
			}
			var payload struct {
				Data   map[string]any     `json:"data"`
				Errors []harness.GQLError `json:"errors"`
			}
			if err := json.Unmarshal([]byte(ev.Data), &payload); err != nil || ev.Event != "next" || len(payload.Errors) > 0 {
				t.Fatalf("got event %q data %s (%v)", ev.Event, ev.Data, err)
			}
			if harness.Str(payload.Data, "ticketEvents", "type") != "TICKET_CREATED" || !strings.HasPrefix(harness.Str(payload.Data, "ticketEvents", "ticket", "subject"), "sse ") {
				t.Fatalf("data = %v", payload.Data)
			}
			ev, _ = next(t, ch, harness.LiveWait)
			if ev.Event != "next" || !strings.Contains(ev.Data, `"MESSAGE_ADDED"`) {
				t.Fatalf("got %q %s, want the MESSAGE_ADDED", ev.Event, ev.Data)
			}
		})
		t.Run("ResumeWithAfter", func(t *testing.T) {
			res := harness.SSE(t, d.S, cust, `subscription { ticketEvents(after: "0") { cursor type } }`)
			ch := harness.ReadSSE(res.Body)
			ev, ok := next(t, ch, harness.LiveWait)
			if !ok || ev.Event != "next" || !strings.Contains(ev.Data, `"cursor":"1"`) || !strings.Contains(ev.Data, `"TICKET_CREATED"`) {
				t.Fatalf("got %q %s, want the first event", ev.Event, ev.Data)
			}
		})
		t.Run("ErrAnonymousGetsUnauthenticated", func(t *testing.T) {
			res := harness.SSE(t, d.S, "", `subscription { ticketEvents { type } }`)
			ch := harness.ReadSSE(res.Body)
			ev, ok := next(t, ch, harness.LiveWait)
			if !ok || !strings.Contains(ev.Data, "UNAUTHENTICATED") {
				t.Fatalf("got %q %s, want an UNAUTHENTICATED error", ev.Event, ev.Data)
			}
		})
		t.Run("LogoutEndsTheStream", func(t *testing.T) {
			token := harness.Login(t, d.S, "cara@example.com", "correct horse battery")
			res := harness.SSE(t, d.S, token, `subscription { ticketEvents { type } }`)
			ch := harness.ReadSSE(res.Body)
			d.S.Do(t, token, `mutation { logout }`, nil).OK(t)
			timeout := time.After(harness.LiveWait)
			for {
				select {
				case ev, ok := <-ch:
					if !ok {
						return
					}
					// complete would tell the client the subscription is
					// over; a cut stream makes it reconnect.
					if ev.Event == "complete" {
						t.Fatal("the stream ended with complete")
					}
				case <-timeout:
					t.Fatalf("stream still open %s after logout", harness.LiveWait)
				}
			}
		})
	})
}

func TestLivePresence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, map[string]string{"SWITCHBOARD_PRESENCE_TTL": "500ms"})
		agentA, agentAID := d.Staff(t, "alice@example.com", "Alice Agent", "AGENT")
		agentB, agentBID := d.Staff(t, "bob@example.com", "Bob Agent", "AGENT")
		agentC, _ := d.Staff(t, "carl@example.com", "Carl Agent", "AGENT")
		cust, custID := harness.Signup(t, d.S, "cara@example.com", "Cara")
		g := d.Group(t, "Support", agentAID, agentBID)
		ticketID := d.Ticket(t, d.Admin, map[string]any{"subject": "who is here", "body": "x", "requesterID": custID, "groupID": g})
		viewers := func(t *testing.T, st *harness.Stream, id string) []any {
			t.Helper()
			list, ok := st.Data(t, id)["ticketViewers"].([]any)
			if !ok {
				t.Fatalf("ticketViewers is not a list")
			}
			return list
		}

		t.Run("TypingAgentAppearsThenExpires", func(t *testing.T) {
			b := d.WS(t, agentB)
			b.Sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			if list := viewers(t, b, "v"); len(list) != 0 {
				t.Fatalf("first list = %v, want empty", list)
			}
			if r := d.S.Do(t, agentA, liveViewTicket, map[string]any{"id": ticketID, "typing": true}).OK(t); r["viewTicket"] != true {
				t.Fatalf("viewTicket = %v", r)
			}
			list := viewers(t, b, "v")
			if len(list) != 1 || harness.Str(list[0], "user", "id") != agentAID || harness.Path(list[0], "typing") != true ||
				harness.Str(list[0], "user", "name") != "Alice Agent" || harness.Str(list[0], "expiresAt") == "" {
				t.Fatalf("list = %v, want Alice typing", list)
			}
			// Nobody renews the heartbeat: the entry goes on its own.
			if list := viewers(t, b, "v"); len(list) != 0 {
				t.Fatalf("list = %v, want empty after the TTL", list)
			}
		})
		t.Run("CurrentListComesFirst", func(t *testing.T) {
			d.S.Do(t, agentA, liveViewTicket, map[string]any{"id": ticketID}).OK(t)
			b := d.WS(t, agentB)
			b.Sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			list := viewers(t, b, "v")
			if len(list) == 1 && harness.Path(list[0], "typing") == false && harness.Str(list[0], "user", "id") == agentAID {
				return
			}
			// The 500ms TTL may have passed before the subscription
			// started; then the list is empty.
			if len(list) != 0 {
				t.Fatalf("first list = %v", list)
			}
		})
		t.Run("ErrCustomerForbidden", func(t *testing.T) {
			if r := d.S.Do(t, cust, liveViewTicket, map[string]any{"id": ticketID, "typing": true}); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("viewTicket: %+v", r.Errors)
			}
			st := d.WS(t, cust)
			st.Sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			if code := st.ErrorCode(t, "v"); code != "FORBIDDEN" {
				t.Fatalf("ticketViewers: code %s, want FORBIDDEN", code)
			}
		})
		t.Run("ErrReadOnlyTokenCannotSendHeartbeats", func(t *testing.T) {
			r := d.S.Do(t, agentA, `mutation { createAPIToken(input: {name: "dashboard"}) { token } }`, nil).OK(t)
			if r := d.S.Do(t, harness.Str(r, "createAPIToken", "token"), liveViewTicket, map[string]any{"id": ticketID}); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("viewTicket with a READ token: %+v", r.Errors)
			}
		})
		t.Run("ErrAgentOutOfReachNotFound", func(t *testing.T) {
			if r := d.S.Do(t, agentC, liveViewTicket, map[string]any{"id": ticketID}); r.Code(t) != "NOT_FOUND" {
				t.Fatalf("viewTicket: %+v", r.Errors)
			}
			st := d.WS(t, agentC)
			st.Sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			if code := st.ErrorCode(t, "v"); code != "NOT_FOUND" {
				t.Fatalf("ticketViewers: code %s, want NOT_FOUND", code)
			}
		})
		t.Run("AgentRemovedFromGroupStopsSeeingViewers", func(t *testing.T) {
			b := d.WS(t, agentB)
			b.Sub(t, "v", liveViewers, map[string]any{"id": ticketID})
			viewers(t, b, "v")
			d.S.Do(t, d.Admin, liveUpdateGrp, map[string]any{"id": g, "in": map[string]any{"removeMemberIDs": []string{agentBID}}}).OK(t)
			t.Cleanup(func() {
				d.S.Do(t, d.Admin, liveUpdateGrp, map[string]any{"id": g, "in": map[string]any{"addMemberIDs": []string{agentBID}}}).OK(t)
			})
			// Wait until revalidation reached this connection: its queries
			// stop finding the ticket. Lists that came meanwhile are fine.
			deadline := time.Now().Add(harness.LiveWait)
			for i := 0; ; i++ {
				id := fmt.Sprintf("node%d", i)
				b.Sub(t, id, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ticketID})
				var res harness.WSMessage
				for res.ID != id {
					if res = b.MustNext(t); res.ID == "v" {
						res = harness.WSMessage{}
					}
				}
				if res.Type == "next" {
					if b.MustNext(t).Type != "complete" {
						t.Fatal("no complete after the query's result")
					}
				}
				if _, errs := harness.Result(t, res); len(errs) > 0 || res.Type == "error" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the connection still sees the ticket %s after removal", harness.LiveWait)
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Who is on a ticket of a group Bob left is no longer his to see:
			// access is checked again on every change, not only when
			// ticketViewers starts.
			d.S.Do(t, agentA, liveViewTicket, map[string]any{"id": ticketID, "typing": true}).OK(t)
			if m, ok := b.Next(t, time.Second); ok && m.ID == "v" && (m.Type == "next" || m.Type == "data") {
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
					_, _ = d.S.QueryWithin(harness.LiveWait, agentA, liveViewTicket, map[string]any{"id": ticketID, "typing": i%2 == 0})
				}
			}()
			defer func() { close(stop); wg.Wait() }()
			b := d.WS(t, agentB)
			for i := 0; i < 30; i++ {
				id := fmt.Sprintf("v%d", i)
				b.Sub(t, id, liveViewers, map[string]any{"id": ticketID})
				deadline := time.Now().Add(harness.LiveWait)
				for {
					m, ok := b.Next(t, time.Until(deadline))
					if !ok {
						t.Fatalf("subscription %d got no list within %s", i, harness.LiveWait)
					}
					if m.ID == id {
						break
					}
				}
				b.Stop(t, id)
			}
		})
	})
}

// TestLiveListFilters covers ticketEvents(where:) as a client sees it:
// the list query's refusals, filters that cannot be followed live, and
// events that bring tickets into a view and take them out of it.
func TestLiveListFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		cust, _ := harness.Signup(t, d.S, "cara@example.com", "Cara")
		_, agentID := d.Staff(t, "alice@example.com", "Alice Agent", "AGENT")
		billing := d.Group(t, "Billing")
		const events = `subscription($where: TicketWhereInput) { ticketEvents(where: $where) {
			cursor type ticketID changes { field from to } ticket { id status } message { body } actor { name } } }`

		t.Run("ErrCustomerFilteringOnStaffOnlyField", func(t *testing.T) {
			st := d.WS(t, cust)
			st.Sub(t, "1", events, map[string]any{"where": map[string]any{"firstResponseDueAtIsNil": true}})
			if code := st.ErrorCode(t, "1"); code != "FORBIDDEN" {
				t.Fatalf("code %s, want FORBIDDEN", code)
			}
		})
		t.Run("ErrFilterOnRelatedRowsNamesTheField", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			st.Sub(t, "1", events, map[string]any{"where": map[string]any{"hasRequesterWith": []any{map[string]any{"name": "Cara"}}}})
			e := st.ErrorOf(t, "1")
			if e.Extensions["code"] != "BAD_USER_INPUT" || e.Extensions["field"] != "where.hasRequesterWith" {
				t.Fatalf("error %+v, want BAD_USER_INPUT on where.hasRequesterWith", e)
			}
		})
		t.Run("ChangesCarryTypedValuesBeforeAndAfter", func(t *testing.T) {
			st := d.WS(t, d.Admin)
			st.Sub(t, "1", events, map[string]any{"where": map[string]any{"status": "NEW"}})
			st.Sync(t)
			id := d.Ticket(t, cust, map[string]any{"subject": "Printer on fire", "body": "help"})
			st.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:help")
			d.Update(t, d.Admin, id, map[string]any{"assigneeID": agentID, "groupID": billing, "appendTags": []string{"vip"}})
			ev := st.Event(t, "1")
			want := map[string][2]any{"assignee": {nil, agentID}, "group": {nil, billing}, "tags": {[]any{}, []any{"vip"}}}
			got := map[string][2]any{}
			for _, c := range harness.Path(ev, "changes").([]any) {
				c := c.(map[string]any)
				got[c["field"].(string)] = [2]any{c["from"], c["to"]}
			}
			if harness.Str(ev, "type") != "TICKET_ASSIGNED" || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("event %v, want TICKET_ASSIGNED with changes %v", ev, want)
			}
			// Out of the filter: TICKET_LEFT with the ID alone.
			d.Update(t, d.Admin, id, map[string]any{"status": "OPEN"})
			ev = st.Event(t, "1")
			if harness.Str(ev, "type") != "TICKET_LEFT" || harness.Str(ev, "ticketID") != id || ev["ticket"] != nil || ev["actor"] != nil || len(harness.Path(ev, "changes").([]any)) != 0 {
				t.Fatalf("event %v, want TICKET_LEFT carrying the ticket's ID alone", ev)
			}
			// Changes outside the view are not the subscriber's.
			d.Update(t, d.Admin, id, map[string]any{"priority": "HIGH"})
			// Back in: TICKET_ENTERED with the whole ticket.
			d.Update(t, d.Admin, id, map[string]any{"status": "NEW"})
			ev = st.Event(t, "1")
			if harness.Str(ev, "type") != "TICKET_ENTERED" || harness.Str(ev, "ticket", "status") != "NEW" || len(harness.Path(ev, "changes").([]any)) != 0 {
				t.Fatalf("event %v, want TICKET_ENTERED with the ticket", ev)
			}
			st.Quiet(t, 300*time.Millisecond)
		})
	})
}
