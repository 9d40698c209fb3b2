package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/internal/database/dbtest"
)

// TestTeamWorksTheQueue is the story end to end, as a client sees
// it: a customer opens a ticket through the API; it is routed by a rule and
// assigned round-robin; the agent's notifications subscription hears of it;
// the agent applies a macro (a public reply and a status) and writes an
// internal note; the customer sees the reply and never the note; the
// default group's board counts what lands there.
func TestTeamWorksTheQueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		createUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		s := startServer(t, tg, liveEnv(nil))
		admin := login(t, s, "admin@example.com", "amber canyon whistle")
		invite := `mutation($email: String!, $name: String!) { inviteUser(input: {email: $email, name: $name, role: AGENT, password: "copper fox meadow 77"}) { id } }`
		ann := str(s.do(t, admin, invite, map[string]any{"email": "ann@example.com", "name": "Ann Lee"}).ok(t), "inviteUser", "id")
		bob := str(s.do(t, admin, invite, map[string]any{"email": "bob@example.com", "name": "Bob Ray"}).ok(t), "inviteUser", "id")
		group := `mutation($name: String!, $m: [ID!], $a: GroupAutoAssign) { createGroup(input: {name: $name, memberIDs: $m, autoAssign: $a}) { id } }`
		billing := str(s.do(t, admin, group, map[string]any{"name": "Billing", "m": []string{ann}, "a": "ALL_AGENTS"}).ok(t), "createGroup", "id")
		general := str(s.do(t, admin, group, map[string]any{"name": "General", "m": []string{bob}, "a": "OFF"}).ok(t), "createGroup", "id")
		s.do(t, admin, `mutation($id: ID!) { setDefaultGroup(id: $id) { id } }`, map[string]any{"id": general}).ok(t)
		s.do(t, admin, `mutation($g: ID!) { createRoutingRule(input: {name: "Refunds", words: ["refund"], groupID: $g, addTags: ["billing"]}) { id } }`,
			map[string]any{"g": billing}).ok(t)
		macro := str(s.do(t, admin, `mutation($g: ID!) { createMacro(input: {name: "Refund issued", groupID: $g, setStatus: PENDING,
			body: "Hi {{requester.name}}, ticket #{{ticket.number}} is refunded."}) { id } }`, map[string]any{"g": billing}).ok(t), "createMacro", "id")

		annToken := login(t, s, "ann@example.com", "copper fox meadow 77")
		bobToken := login(t, s, "bob@example.com", "copper fox meadow 77")
		st := liveConnect(t, s, "graphql-transport-ws", annToken)
		st.sub(t, "inbox", `subscription { notifications { kind cursor ticket { id number subject assignee { name } group { name } } } }`, nil)

		customer, _ := signup(t, s, "cara@example.com", "Cara")
		tk := s.do(t, customer, `mutation { createTicket(input: {subject: "Refund please", body: "I was charged twice, I want a refund."}) { id number } }`, nil).ok(t)
		id := str(tk, "createTicket", "id")

		n, _ := st.data(t, "inbox")["notifications"].(map[string]any)
		if str(n, "kind") != "ASSIGNED" || str(n, "ticket", "id") != id || str(n, "ticket", "assignee", "name") != "Ann Lee" || str(n, "ticket", "group", "name") != "Billing" {
			t.Fatalf("ann's notification = %v, want ASSIGNED of the routed ticket", n)
		}
		staff := s.do(t, annToken, `query($id: ID!) { node(id: $id) { ... on Ticket { tags routingRule { name } } } }`, map[string]any{"id": id}).ok(t)
		if str(staff, "node", "routingRule", "name") != "Refunds" || fmt.Sprint(path(staff, "node", "tags")) != "[billing]" {
			t.Fatalf("routed ticket = %v", staff)
		}

		applied := s.do(t, annToken, `mutation($t: ID!, $m: ID!) { applyMacro(ticketID: $t, macroID: $m) { status } }`, map[string]any{"t": id, "m": macro}).ok(t)
		if str(applied, "applyMacro", "status") != "PENDING" {
			t.Fatalf("applyMacro = %v", applied)
		}
		s.do(t, annToken, addMessage, map[string]any{"id": id, "body": "refund approved by @ada", "internal": true}).ok(t)

		seen := s.do(t, customer, `query($id: ID!) { node(id: $id) { ... on Ticket { status messages { edges { node { body internal } } } } } }`, map[string]any{"id": id}).ok(t)
		bodies := fmt.Sprint(path(seen, "node", "messages"))
		want := fmt.Sprintf("Hi Cara, ticket #%d is refunded.", num(tk, "createTicket", "number"))
		if !strings.Contains(bodies, want) || strings.Contains(bodies, "approved") || str(seen, "node", "status") != "PENDING" {
			t.Fatalf("the customer sees %v, want the macro's reply %q and not the note", seen, want)
		}

		// A ticket no rule places lands in the default group: its board
		// counts it, and its members hear of it.
		other := str(s.do(t, customer, `mutation { createTicket(input: {subject: "Hello", body: "a question"}) { id } }`, nil).ok(t), "createTicket", "id")
		board := s.do(t, bobToken, `query($g: ID) { wallboard(groupID: $g) { new unassigned } }`, map[string]any{"g": general}).ok(t)
		if num(board, "wallboard", "new") != 1 || num(board, "wallboard", "unassigned") != 1 {
			t.Fatalf("General's board = %v, want the new ticket", board)
		}
		inbox := s.do(t, bobToken, `{ unreadNotificationCount notifications(first: 5) { edges { node { kind ticket { id } } } } }`, nil).ok(t)
		if num(inbox, "unreadNotificationCount") != 1 || str(inbox, "notifications", "edges", 0, "node", "kind") != "UNASSIGNED_IN_GROUP" ||
			str(inbox, "notifications", "edges", 0, "node", "ticket", "id") != other {
			t.Fatalf("bob's inbox = %v", inbox)
		}
	})
}

// TestRoundRobinThroughTheAPI opens 50 tickets at once through the API into
// a group that assigns round-robin: nobody gets two more than another.
func TestRoundRobinThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		createUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		s := startServer(t, tg, nil)
		admin := login(t, s, "admin@example.com", "amber canyon whistle")
		var agents []string
		for i := range 3 {
			agents = append(agents, str(s.do(t, admin, `mutation($email: String!) { inviteUser(input: {email: $email, name: "Agent", role: AGENT, password: "copper fox meadow 77"}) { id } }`,
				map[string]any{"email": fmt.Sprintf("agent%d@example.com", i)}).ok(t), "inviteUser", "id"))
		}
		g := str(s.do(t, admin, `mutation($m: [ID!]) { createGroup(input: {name: "Queue", memberIDs: $m, autoAssign: ALL_AGENTS}) { id } }`, map[string]any{"m": agents}).ok(t), "createGroup", "id")
		s.do(t, admin, `mutation($id: ID!) { setDefaultGroup(id: $id) { id } }`, map[string]any{"id": g}).ok(t)
		const n = 50
		tokens := make([]string, n)
		for i := range tokens {
			tokens[i], _ = signup(t, s, fmt.Sprintf("c%d@example.com", i), "Customer")
		}
		var wg sync.WaitGroup
		assignees := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.do(t, tokens[i], `mutation { createTicket(input: {subject: "Help", body: "please"}) { id } }`, nil)
				if len(r.Errors) > 0 {
					t.Errorf("createTicket: %v", r.Errors)
					return
				}
				view := s.do(t, admin, `query($id: ID!) { node(id: $id) { ... on Ticket { assignee { id } } } }`,
					map[string]any{"id": str(r.Data, "createTicket", "id")})
				assignees[i] = str(view.Data, "node", "assignee", "id")
			}()
		}
		wg.Wait()
		load := map[string]int{}
		for _, a := range assignees {
			load[a]++
		}
		lo, hi := n, 0
		for _, a := range agents {
			lo, hi = min(lo, load[a]), max(hi, load[a])
		}
		if hi-lo > 1 || load[""] > 0 {
			t.Fatalf("load %v: spread %d..%d, want at most one apart and none unassigned", load, lo, hi)
		}
	})
}
