package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/database/dbtest"
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
	*liveDesk
	agent, agentID, other, otherID string
	customer, customerID           string
	support, billing               string
}

func newMacroDesk(t *testing.T, tg dbtest.Target) *macroDesk {
	t.Helper()
	d := &macroDesk{liveDesk: newLiveDesk(t, tg, nil)}
	d.agent, d.agentID = d.staff(t, "alice@example.com", "Alice Agent", "AGENT")
	d.other, d.otherID = d.staff(t, "bob@example.com", "Bob Agent", "AGENT")
	// A requester named like a placeholder: filling must not expand it.
	d.customer, d.customerID = signup(t, d.s, "cara@example.com", "{{agent.name}}")
	d.support = d.group(t, "Support", d.agentID)
	d.billing = d.group(t, "Billing")
	return d
}

func (d *macroDesk) macro(t *testing.T, in map[string]any) string {
	t.Helper()
	return str(d.s.do(t, d.admin, macroCreate, map[string]any{"in": in}).ok(t), "createMacro", "id")
}

func (d *macroDesk) supportTicket(t *testing.T, subject string) string {
	t.Helper()
	return d.ticket(t, d.admin, map[string]any{"subject": subject, "body": "help", "requesterID": d.customerID, "groupID": d.support})
}

// wantInvalid checks a BAD_USER_INPUT naming field whose message contains
// every one of words.
func wantInvalid(t *testing.T, r gqlResponse, field string, words ...string) {
	t.Helper()
	if code := r.code(t); code != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != field {
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
				wantInvalid(t, d.s.do(t, d.admin, macroCreate, map[string]any{"in": tc.in}), tc.field, tc.words...)
			})
		}
		id := d.macro(t, map[string]any{"name": "Thanks", "body": "Thanks, {{requester.name}}"})
		t.Run("ErrUnknownPlaceholderOnUpdate", func(t *testing.T) {
			wantInvalid(t, d.s.do(t, d.admin, macroUpdate, map[string]any{"id": id, "in": map[string]any{"body": "{{ticket.owner}}"}}), "body", "{{ticket.owner}}")
		})
		t.Run("ErrClearingTheOnlyThingItDoes", func(t *testing.T) {
			wantInvalid(t, d.s.do(t, d.admin, macroUpdate, map[string]any{"id": id, "in": map[string]any{"clearBody": true}}), "body")
		})
		t.Run("ClearingTheBodyOfAMacroWithChanges", func(t *testing.T) {
			d.s.do(t, d.admin, macroUpdate, map[string]any{"id": id, "in": map[string]any{"clearBody": true, "setStatus": "PENDING"}}).ok(t)
		})
		t.Run("TagsAreTrimmedAndAppended", func(t *testing.T) {
			const q = `mutation($id: ID!, $in: UpdateMacroInput!) { updateMacro(id: $id, input: $in) { addTags removeTags } }`
			r := d.s.do(t, d.admin, q, map[string]any{"id": id, "in": map[string]any{"addTags": []string{" vip ", "vip"}}}).ok(t)
			if got := fmt.Sprint(path(r, "updateMacro", "addTags")); got != "[vip]" {
				t.Fatalf("addTags %s", got)
			}
			r = d.s.do(t, d.admin, q, map[string]any{"id": id, "in": map[string]any{"appendAddTags": []string{"printer"}}}).ok(t)
			if got := fmt.Sprint(path(r, "updateMacro", "addTags")); got != "[vip printer]" {
				t.Fatalf("addTags after appending %s", got)
			}
		})
		t.Run("ErrAgentsDoNotDefineMacros", func(t *testing.T) {
			if r := d.s.do(t, d.agent, macroCreate, map[string]any{"in": map[string]any{"name": "y", "body": "b"}}); r.code(t) != "FORBIDDEN" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
		t.Run("AgentsListMacrosCustomersDoNot", func(t *testing.T) {
			if n := num(d.s.do(t, d.agent, `{ macros { totalCount } }`, nil).ok(t), "macros", "totalCount"); n != 1 {
				t.Fatalf("agent sees %d macros, want 1", n)
			}
			if n := num(d.s.do(t, d.customer, `{ macros { totalCount } }`, nil).ok(t), "macros", "totalCount"); n != 0 {
				t.Fatalf("customer sees %d macros, want 0", n)
			}
		})
		t.Run("Delete", func(t *testing.T) {
			if r := d.s.do(t, d.agent, `mutation($id: ID!) { deleteMacro(id: $id) }`, map[string]any{"id": id}); r.code(t) != "FORBIDDEN" {
				t.Fatalf("agent deleted a macro: %+v", r.Errors)
			}
			if got := str(d.s.do(t, d.admin, `mutation($id: ID!) { deleteMacro(id: $id) }`, map[string]any{"id": id}).ok(t), "deleteMacro"); got != id {
				t.Fatalf("deleteMacro = %q, want %q", got, id)
			}
			if r := d.s.do(t, d.admin, `mutation($id: ID!) { deleteMacro(id: $id) }`, map[string]any{"id": id}); r.code(t) != "NOT_FOUND" {
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
		names := func(r gqlResponse) string {
			var out []string
			for _, m := range path(r.ok(t), "usableMacros").([]any) {
				out = append(out, str(m, "name"))
			}
			return strings.Join(out, ",")
		}
		if got := names(d.s.do(t, d.agent, macroUsable, map[string]any{"t": ticket})); got != "Everyone,Support only" {
			t.Fatalf("usable on a Support ticket: %s", got)
		}
		if r := d.s.do(t, d.other, macroUsable, map[string]any{"t": ticket}); r.code(t) != "NOT_FOUND" {
			t.Fatalf("agent out of reach: %+v", r.Errors)
		}
		if got := names(d.s.do(t, d.customer, macroUsable, map[string]any{"t": ticket})); got != "" {
			t.Fatalf("customer sees macros %s", got)
		}
	})
}

func TestMacrosApply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newMacroDesk(t, tg)
		// Subscribed before the ticket exists, so that its events are
		// awaited in order whenever the hub reads the log.
		ws := d.ws(t, d.admin)
		ws.sub(t, "1", liveEvents, nil)
		ws.sync(t)
		ticket := d.supportTicket(t, "Printer on fire")
		ws.expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:help")
		number := num(d.s.do(t, d.admin, `query($id: ID!) { node(id: $id) { ... on Ticket { number } } }`, map[string]any{"id": ticket}).ok(t), "node", "number")
		welcome := d.macro(t, map[string]any{
			"name":      "Welcome",
			"body":      "Hi {{requester.name}} <{{ requester.email }}>, #{{ticket.number}} {{ticket.subject}} is with {{group.name}}. — {{agent.name}}",
			"setStatus": "PENDING", "setPriority": "HIGH", "assignToID": d.agentID,
			"addTags": []string{"vip", " printer "}, "removeTags": []string{"spam"},
		})
		step := liveSteps(t)

		step("OneTransactionOneMessageOneChange", func(t *testing.T) {
			r := d.s.do(t, d.agent, macroApply, map[string]any{"t": ticket, "m": welcome}).ok(t)
			tk := path(r, "applyMacro")
			want := fmt.Sprintf("Hi {{agent.name}} <cara@example.com>, #%d Printer on fire is with Support. — Alice Agent", number)
			if str(tk, "status") != "PENDING" || str(tk, "priority") != "HIGH" || str(tk, "assignee", "id") != d.agentID ||
				fmt.Sprint(path(tk, "tags")) != "[vip printer]" || num(tk, "messages", "totalCount") != 2 {
				t.Fatalf("applyMacro = %v", tk)
			}
			// The requester's name stays literal: no template injection.
			if got := str(tk, "messages", "edges", 1, "node", "body"); got != want {
				t.Fatalf("reply body %q, want %q", got, want)
			}
			ws.expect(t, "1", "MESSAGE_ADDED:"+want, "TICKET_ASSIGNED[assignee,firstRespondedAt,priority,status,tags]")
			ws.quiet(t, 300*time.Millisecond)
		})
		step("InternalNoteWithoutChanges", func(t *testing.T) {
			note := d.macro(t, map[string]any{"name": "Note", "body": "checked by {{agent.name}}", "internal": true})
			r := d.s.do(t, d.agent, macroApply, map[string]any{"t": ticket, "m": note}).ok(t)
			if n := num(r, "applyMacro", "messages", "totalCount"); n != 3 || path(r, "applyMacro", "messages", "edges", 2, "node", "internal") != true ||
				str(r, "applyMacro", "status") != "PENDING" {
				t.Fatalf("applyMacro = %v", r)
			}
			cv := d.s.do(t, d.customer, `query($id: ID!) { node(id: $id) { ... on Ticket { messages { totalCount } } } }`, map[string]any{"id": ticket}).ok(t)
			if num(cv, "node", "messages", "totalCount") != 2 {
				t.Fatalf("customer sees the note: %v", cv)
			}
		})
		step("ErrDeactivatedAssigneeRollsBackTheReply", func(t *testing.T) {
			other := d.supportTicket(t, "Scanner")
			m := d.macro(t, map[string]any{"name": "To Bob", "body": "Bob takes it", "assignToID": d.otherID})
			d.s.do(t, d.admin, liveUpdateUser, map[string]any{"id": d.otherID, "in": map[string]any{"active": false}}).ok(t)
			wantInvalid(t, d.s.do(t, d.agent, macroApply, map[string]any{"t": other, "m": m}), "assignToID", "deactivated")
			r := d.s.do(t, d.admin, `query($id: ID!) { node(id: $id) { ... on Ticket { status messages { totalCount } } } }`, map[string]any{"id": other}).ok(t)
			if num(r, "node", "messages", "totalCount") != 1 || str(r, "node", "status") != "NEW" {
				t.Fatalf("the refused macro left a trace: %v", r)
			}
		})
		step("ErrMacroOfAnotherGroup", func(t *testing.T) {
			m := d.macro(t, map[string]any{"name": "Billing", "body": "b", "groupID": d.billing})
			wantInvalid(t, d.s.do(t, d.agent, macroApply, map[string]any{"t": ticket, "m": m}), "macroID", "another group")
		})
		step("ErrTicketOutOfReach", func(t *testing.T) {
			outside := d.ticket(t, d.admin, map[string]any{"subject": "Billing", "body": "b", "requesterID": d.customerID, "groupID": d.billing})
			if r := d.s.do(t, d.agent, macroApply, map[string]any{"t": outside, "m": welcome}); r.code(t) != "NOT_FOUND" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
		step("ErrCustomersDoNotApplyMacros", func(t *testing.T) {
			if r := d.s.do(t, d.customer, macroApply, map[string]any{"t": ticket, "m": welcome}); r.code(t) != "FORBIDDEN" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
		step("ErrClosedTicketRefusesTheReply", func(t *testing.T) {
			closed := d.supportTicket(t, "Done")
			d.update(t, d.admin, closed, map[string]any{"status": "CLOSED"})
			if r := d.s.do(t, d.agent, macroApply, map[string]any{"t": closed, "m": welcome}); r.code(t) != "CONFLICT" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
	})
}
