package live_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// Macros end to end: checks on save, which macros a ticket may use, and
// applying one in a single transaction (reply, then changes; a refusal
// rolls the reply back), on SQLite and PostgreSQL.

const (
	macroCreate = `mutation($in: CreateMacroInput!) { createMacro(input: $in) { id name body } }`
	macroUpdate = `mutation($id: ID!, $in: UpdateMacroInput!) { updateMacro(id: $id, input: $in) { id body } }`
	macroApply  = `mutation($t: ID!, $m: ID!) { applyMacro(ticketID: $t, macroID: $m) {
		id status priority tags assignee { id } group { id } messages { totalCount edges { node { body internal author { name } } } } } }`
	macroUsable = `query($t: ID!) { usableMacros(ticketID: $t) { name } }`
)

// macroDesk is a helpdesk with two groups, an agent in Support, another
// agent, and a customer whose name looks like a placeholder.
type macroDesk struct {
	*harness.Desk
	agent, agentID, other, otherID string
	customer, customerID           string
	support, billing               string
}

func newMacroDesk(t *testing.T, tg dbtest.Target) *macroDesk {
	t.Helper()
	d := &macroDesk{Desk: harness.NewDesk(t, tg, nil)}
	d.agent, d.agentID = d.Staff(t, "alice@example.com", "Alice Agent", "AGENT")
	d.other, d.otherID = d.Staff(t, "bob@example.com", "Bob Agent", "AGENT")
	// A requester named like a placeholder: filling must not expand it.
	d.customer, d.customerID = harness.Signup(t, d.S, "cara@example.com", "{{agent.name}}")
	d.support = d.Group(t, "Support", d.agentID)
	d.billing = d.Group(t, "Billing")
	return d
}

func (d *macroDesk) macro(t *testing.T, in map[string]any) string {
	t.Helper()
	return harness.Str(d.S.Do(t, d.Admin, macroCreate, map[string]any{"in": in}).OK(t), "createMacro", "id")
}

func (d *macroDesk) supportTicket(t *testing.T, subject string) string {
	t.Helper()
	return d.Ticket(t, d.Admin, map[string]any{"subject": subject, "body": "help", "requesterID": d.customerID, "groupID": d.support})
}

// wantInvalid checks a BAD_USER_INPUT naming field whose message contains
// every one of words.
func wantInvalid(t *testing.T, r harness.Response, field string, words ...string) {
	t.Helper()
	if code := r.Code(t); code != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != field {
		t.Fatalf("got %s on %v (%q), want BAD_USER_INPUT on %s", code, r.Errors[0].Extensions["field"], r.Errors[0].Message, field)
	}
	for _, w := range words {
		if !strings.Contains(r.Errors[0].Message, w) {
			t.Fatalf("message %q does not contain %q", r.Errors[0].Message, w)
		}
	}
}

func TestMacrosSave(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newMacroDesk(t, tg)
		known := "{{requester.name}}, {{requester.email}}, {{ticket.number}}, {{ticket.subject}}, {{agent.name}}, {{group.name}}"
		for _, tc := range []struct {
			name  string
			in    map[string]any
			field string
			words []string
		}{
			{"ErrUnknownPlaceholder", map[string]any{"name": "x", "body": "Hi {{ requester.phone }}"}, "body", []string{"{{ requester.phone }}", known}},
			{"ErrUnclosedPlaceholder", map[string]any{"name": "x", "body": "Hi {{requester.name"}, "body", []string{`"{{"`, known}},
			{"ErrNothingToDo", map[string]any{"name": "x"}, "body", []string{"at least one change"}},
			{"ErrEmptyTag", map[string]any{"name": "x", "addTags": []string{"ok", " "}}, "addTags", []string{"empty"}},
			{"ErrAssigneeIsACustomer", map[string]any{"name": "x", "assignToID": d.customerID}, "assignToID", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantInvalid(t, d.S.Do(t, d.Admin, macroCreate, map[string]any{"in": tc.in}), tc.field, tc.words...)
			})
		}
		id := d.macro(t, map[string]any{"name": "Thanks", "body": "Thanks, {{requester.name}}"})
		t.Run("ErrUnknownPlaceholderOnUpdate", func(t *testing.T) {
			wantInvalid(t, d.S.Do(t, d.Admin, macroUpdate, map[string]any{"id": id, "in": map[string]any{"body": "{{ticket.owner}}"}}), "body", "{{ticket.owner}}")
		})
		t.Run("ErrClearingTheOnlyThingItDoes", func(t *testing.T) {
			wantInvalid(t, d.S.Do(t, d.Admin, macroUpdate, map[string]any{"id": id, "in": map[string]any{"clearBody": true}}), "body")
		})
		t.Run("ClearingTheBodyOfAMacroWithChanges", func(t *testing.T) {
			d.S.Do(t, d.Admin, macroUpdate, map[string]any{"id": id, "in": map[string]any{"clearBody": true, "setStatus": "PENDING"}}).OK(t)
		})
		t.Run("TagsAreTrimmedAndAppended", func(t *testing.T) {
			const q = `mutation($id: ID!, $in: UpdateMacroInput!) { updateMacro(id: $id, input: $in) { addTags removeTags } }`
			r := d.S.Do(t, d.Admin, q, map[string]any{"id": id, "in": map[string]any{"addTags": []string{" vip ", "vip"}}}).OK(t)
			if got := fmt.Sprint(harness.Path(r, "updateMacro", "addTags")); got != "[vip]" {
				t.Fatalf("addTags %s", got)
			}
			r = d.S.Do(t, d.Admin, q, map[string]any{"id": id, "in": map[string]any{"appendAddTags": []string{"printer"}}}).OK(t)
			if got := fmt.Sprint(harness.Path(r, "updateMacro", "addTags")); got != "[vip printer]" {
				t.Fatalf("addTags after appending %s", got)
			}
		})
		t.Run("ErrAgentsDoNotDefineMacros", func(t *testing.T) {
			if r := d.S.Do(t, d.agent, macroCreate, map[string]any{"in": map[string]any{"name": "y", "body": "b"}}); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
		t.Run("AgentsListMacrosCustomersDoNot", func(t *testing.T) {
			if n := harness.Num(d.S.Do(t, d.agent, `{ macros { totalCount } }`, nil).OK(t), "macros", "totalCount"); n != 1 {
				t.Fatalf("agent sees %d macros, want 1", n)
			}
			if n := harness.Num(d.S.Do(t, d.customer, `{ macros { totalCount } }`, nil).OK(t), "macros", "totalCount"); n != 0 {
				t.Fatalf("customer sees %d macros, want 0", n)
			}
		})
		t.Run("Delete", func(t *testing.T) {
			if r := d.S.Do(t, d.agent, `mutation($id: ID!) { deleteMacro(id: $id) }`, map[string]any{"id": id}); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("agent deleted a macro: %+v", r.Errors)
			}
			if got := harness.Str(d.S.Do(t, d.Admin, `mutation($id: ID!) { deleteMacro(id: $id) }`, map[string]any{"id": id}).OK(t), "deleteMacro"); got != id {
				t.Fatalf("deleteMacro = %q, want %q", got, id)
			}
			if r := d.S.Do(t, d.Admin, `mutation($id: ID!) { deleteMacro(id: $id) }`, map[string]any{"id": id}); r.Code(t) != "NOT_FOUND" {
				t.Fatalf("deleting again: %+v", r.Errors)
			}
		})
	})
}

func TestMacrosUsable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newMacroDesk(t, tg)
		d.macro(t, map[string]any{"name": "Everyone", "body": "hi"})
		d.macro(t, map[string]any{"name": "Support only", "body": "hi", "groupID": d.support})
		d.macro(t, map[string]any{"name": "Billing only", "body": "hi", "groupID": d.billing})
		ticket := d.supportTicket(t, "Printer")
		names := func(r harness.Response) string {
			var out []string
			for _, m := range harness.Path(r.OK(t), "usableMacros").([]any) {
				out = append(out, harness.Str(m, "name"))
			}
			return strings.Join(out, ",")
		}
		if got := names(d.S.Do(t, d.agent, macroUsable, map[string]any{"t": ticket})); got != "Everyone,Support only" {
			t.Fatalf("usable on a Support ticket: %s", got)
		}
		if r := d.S.Do(t, d.other, macroUsable, map[string]any{"t": ticket}); r.Code(t) != "NOT_FOUND" {
			t.Fatalf("agent out of reach: %+v", r.Errors)
		}
		if got := names(d.S.Do(t, d.customer, macroUsable, map[string]any{"t": ticket})); got != "" {
			t.Fatalf("customer sees macros %s", got)
		}
	})
}

func TestMacrosApply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newMacroDesk(t, tg)
		// Subscribed before the ticket exists, so that its events are
		// awaited in order whenever the hub reads the log.
		ws := d.WS(t, d.Admin)
		ws.Sub(t, "1", liveEvents, nil)
		ws.Sync(t)
		ticket := d.supportTicket(t, "Printer on fire")
		ws.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:help")
		number := harness.Num(d.S.Do(t, d.Admin, `query($id: ID!) { node(id: $id) { ... on Ticket { number } } }`, map[string]any{"id": ticket}).OK(t), "node", "number")
		welcome := d.macro(t, map[string]any{
			"name":      "Welcome",
			"body":      "Hi {{requester.name}} <{{ requester.email }}>, #{{ticket.number}} {{ticket.subject}} is with {{group.name}}. — {{agent.name}}",
			"setStatus": "PENDING", "setPriority": "HIGH", "assignToID": d.agentID,
			"addTags": []string{"vip", " printer "}, "removeTags": []string{"spam"},
		})
		step := harness.Steps(t)

		step("OneTransactionOneMessageOneChange", func(t *testing.T) {
			r := d.S.Do(t, d.agent, macroApply, map[string]any{"t": ticket, "m": welcome}).OK(t)
			tk := harness.Path(r, "applyMacro")
			want := fmt.Sprintf("Hi {{agent.name}} <cara@example.com>, #%d Printer on fire is with Support. — Alice Agent", number)
			if harness.Str(tk, "status") != "PENDING" || harness.Str(tk, "priority") != "HIGH" || harness.Str(tk, "assignee", "id") != d.agentID ||
				fmt.Sprint(harness.Path(tk, "tags")) != "[vip printer]" || harness.Num(tk, "messages", "totalCount") != 2 {
				t.Fatalf("applyMacro = %v", tk)
			}
			// The requester's name stays literal: no template injection.
			if got := harness.Str(tk, "messages", "edges", 1, "node", "body"); got != want {
				t.Fatalf("reply body %q, want %q", got, want)
			}
			ws.Expect(t, "1", "MESSAGE_ADDED:"+want, "TICKET_ASSIGNED[assignee,firstRespondedAt,priority,status,tags]")
			ws.Quiet(t, 300*time.Millisecond)
		})
		step("InternalNoteWithoutChanges", func(t *testing.T) {
			note := d.macro(t, map[string]any{"name": "Note", "body": "checked by {{agent.name}}", "internal": true})
			r := d.S.Do(t, d.agent, macroApply, map[string]any{"t": ticket, "m": note}).OK(t)
			if n := harness.Num(r, "applyMacro", "messages", "totalCount"); n != 3 || harness.Path(r, "applyMacro", "messages", "edges", 2, "node", "internal") != true ||
				harness.Str(r, "applyMacro", "status") != "PENDING" {
				t.Fatalf("applyMacro = %v", r)
			}
			cv := d.S.Do(t, d.customer, `query($id: ID!) { node(id: $id) { ... on Ticket { messages { totalCount } } } }`, map[string]any{"id": ticket}).OK(t)
			if harness.Num(cv, "node", "messages", "totalCount") != 2 {
				t.Fatalf("customer sees the note: %v", cv)
			}
		})
		step("ErrDeactivatedAssigneeRollsBackTheReply", func(t *testing.T) {
			other := d.supportTicket(t, "Scanner")
			m := d.macro(t, map[string]any{"name": "To Bob", "body": "Bob takes it", "assignToID": d.otherID})
			d.S.Do(t, d.Admin, liveUpdateUser, map[string]any{"id": d.otherID, "in": map[string]any{"active": false}}).OK(t)
			wantInvalid(t, d.S.Do(t, d.agent, macroApply, map[string]any{"t": other, "m": m}), "assignToID", "deactivated")
			r := d.S.Do(t, d.Admin, `query($id: ID!) { node(id: $id) { ... on Ticket { status messages { totalCount } } } }`, map[string]any{"id": other}).OK(t)
			if harness.Num(r, "node", "messages", "totalCount") != 1 || harness.Str(r, "node", "status") != "NEW" {
				t.Fatalf("the refused macro left a trace: %v", r)
			}
		})
		step("ErrMacroOfAnotherGroup", func(t *testing.T) {
			m := d.macro(t, map[string]any{"name": "Billing", "body": "b", "groupID": d.billing})
			wantInvalid(t, d.S.Do(t, d.agent, macroApply, map[string]any{"t": ticket, "m": m}), "macroID", "another group")
		})
		step("ErrTicketOutOfReach", func(t *testing.T) {
			outside := d.Ticket(t, d.Admin, map[string]any{"subject": "Billing", "body": "b", "requesterID": d.customerID, "groupID": d.billing})
			if r := d.S.Do(t, d.agent, macroApply, map[string]any{"t": outside, "m": welcome}); r.Code(t) != "NOT_FOUND" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
		step("ErrCustomersDoNotApplyMacros", func(t *testing.T) {
			if r := d.S.Do(t, d.customer, macroApply, map[string]any{"t": ticket, "m": welcome}); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
		step("ErrClosedTicketRefusesTheReply", func(t *testing.T) {
			closed := d.supportTicket(t, "Done")
			d.Update(t, d.Admin, closed, map[string]any{"status": "CLOSED"})
			if r := d.S.Do(t, d.agent, macroApply, map[string]any{"t": closed, "m": welcome}); r.Code(t) != "CONFLICT" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
	})
}
