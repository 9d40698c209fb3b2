package live_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestTeamWorksTheQueue is the story end to end, as a client sees
// it: a customer opens a ticket through the API; it is routed by a rule and
// assigned round-robin; the agent's notifications subscription hears of it;
// the agent applies a macro (a public reply and a status) and writes an
// internal note; the customer sees the reply and never the note; the
// default group's board counts what lands there.
func TestTeamWorksTheQueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		s := harness.Start(t, tg, harness.LiveEnv(nil))
		admin := harness.Login(t, s, "admin@example.com", "amber canyon whistle")
		invite := `mutation($email: String!, $name: String!) { inviteUser(input: {email: $email, name: $name, role: AGENT, password: "copper fox meadow 77"}) { id } }`
		ann := harness.Str(s.Do(t, admin, invite, map[string]any{"email": "ann@example.com", "name": "Ann Lee"}).OK(t), "inviteUser", "id")
		bob := harness.Str(s.Do(t, admin, invite, map[string]any{"email": "bob@example.com", "name": "Bob Ray"}).OK(t), "inviteUser", "id")
		group := `mutation($name: String!, $m: [ID!], $a: GroupAutoAssign) { createGroup(input: {name: $name, memberIDs: $m, autoAssign: $a}) { id } }`
		billing := harness.Str(s.Do(t, admin, group, map[string]any{"name": "Billing", "m": []string{ann}, "a": "ALL_AGENTS"}).OK(t), "createGroup", "id")
		general := harness.Str(s.Do(t, admin, group, map[string]any{"name": "General", "m": []string{bob}, "a": "OFF"}).OK(t), "createGroup", "id")
		s.Do(t, admin, `mutation($id: ID!) { setDefaultGroup(id: $id) { id } }`, map[string]any{"id": general}).OK(t)
		s.Do(t, admin, `mutation($g: ID!) { createRoutingRule(input: {name: "Refunds", words: ["refund"], groupID: $g, addTags: ["billing"]}) { id } }`,
			map[string]any{"g": billing}).OK(t)
		macro := harness.Str(s.Do(t, admin, `mutation($g: ID!) { createMacro(input: {name: "Refund issued", groupID: $g, setStatus: PENDING,
			body: "Hi {{requester.name}}, ticket #{{ticket.number}} is refunded."}) { id } }`, map[string]any{"g": billing}).OK(t), "createMacro", "id")

		annToken := harness.Login(t, s, "ann@example.com", "copper fox meadow 77")
		bobToken := harness.Login(t, s, "bob@example.com", "copper fox meadow 77")
		st := harness.ConnectStream(t, s, "graphql-transport-ws", annToken)
		st.Sub(t, "inbox", `subscription { notifications { kind cursor ticket { id number subject assignee { name } group { name } } } }`, nil)

		customer, _ := harness.Signup(t, s, "cara@example.com", "Cara")
		tk := s.Do(t, customer, `mutation { createTicket(input: {subject: "Refund please", body: "I was charged twice, I want a refund."}) { id number } }`, nil).OK(t)
		id := harness.Str(tk, "createTicket", "id")

		n, _ := st.Data(t, "inbox")["notifications"].(map[string]any)
		if harness.Str(n, "kind") != "ASSIGNED" || harness.Str(n, "ticket", "id") != id || harness.Str(n, "ticket", "assignee", "name") != "Ann Lee" || harness.Str(n, "ticket", "group", "name") != "Billing" {
			t.Fatalf("ann's notification = %v, want ASSIGNED of the routed ticket", n)
		}
		staff := s.Do(t, annToken, `query($id: ID!) { node(id: $id) { ... on Ticket { tags routingRule { name } } } }`, map[string]any{"id": id}).OK(t)
		if harness.Str(staff, "node", "routingRule", "name") != "Refunds" || fmt.Sprint(harness.Path(staff, "node", "tags")) != "[billing]" {
			t.Fatalf("routed ticket = %v", staff)
		}

		applied := s.Do(t, annToken, `mutation($t: ID!, $m: ID!) { applyMacro(ticketID: $t, macroID: $m) { status } }`, map[string]any{"t": id, "m": macro}).OK(t)
		if harness.Str(applied, "applyMacro", "status") != "PENDING" {
			t.Fatalf("applyMacro = %v", applied)
		}
		s.Do(t, annToken, harness.AddMessageMutation, map[string]any{"id": id, "body": "refund approved by @ada", "internal": true}).OK(t)

		seen := s.Do(t, customer, `query($id: ID!) { node(id: $id) { ... on Ticket { status messages { edges { node { body internal } } } } } }`, map[string]any{"id": id}).OK(t)
		bodies := fmt.Sprint(harness.Path(seen, "node", "messages"))
		want := fmt.Sprintf("Hi Cara, ticket #%d is refunded.", harness.Num(tk, "createTicket", "number"))
		if !strings.Contains(bodies, want) || strings.Contains(bodies, "approved") || harness.Str(seen, "node", "status") != "PENDING" {
			t.Fatalf("the customer sees %v, want the macro's reply %q and not the note", seen, want)
		}

		// A ticket no rule places lands in the default group: its board
		// counts it, and its members hear of it.
		other := harness.Str(s.Do(t, customer, `mutation { createTicket(input: {subject: "Hello", body: "a question"}) { id } }`, nil).OK(t), "createTicket", "id")
		board := s.Do(t, bobToken, `query($g: ID) { wallboard(groupID: $g) { new unassigned } }`, map[string]any{"g": general}).OK(t)
		if harness.Num(board, "wallboard", "new") != 1 || harness.Num(board, "wallboard", "unassigned") != 1 {
			t.Fatalf("General's board = %v, want the new ticket", board)
		}
		inbox := s.Do(t, bobToken, `{ unreadNotificationCount notifications(first: 5) { edges { node { kind ticket { id } } } } }`, nil).OK(t)
		if harness.Num(inbox, "unreadNotificationCount") != 1 || harness.Str(inbox, "notifications", "edges", 0, "node", "kind") != "UNASSIGNED_IN_GROUP" ||
			harness.Str(inbox, "notifications", "edges", 0, "node", "ticket", "id") != other {
			t.Fatalf("bob's inbox = %v", inbox)
		}
	})
}

// TestRoundRobinThroughTheAPI opens 50 tickets at once through the API into
// a group that assigns round-robin: nobody gets two more than another.
func TestRoundRobinThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		s := harness.Start(t, tg, nil)
		admin := harness.Login(t, s, "admin@example.com", "amber canyon whistle")
		var agents []string
		for i := range 3 {
			agents = append(agents, harness.Str(s.Do(t, admin, `mutation($email: String!) { inviteUser(input: {email: $email, name: "Agent", role: AGENT, password: "copper fox meadow 77"}) { id } }`,
				map[string]any{"email": fmt.Sprintf("agent%d@example.com", i)}).OK(t), "inviteUser", "id"))
		}
		g := harness.Str(s.Do(t, admin, `mutation($m: [ID!]) { createGroup(input: {name: "Queue", memberIDs: $m, autoAssign: ALL_AGENTS}) { id } }`, map[string]any{"m": agents}).OK(t), "createGroup", "id")
		s.Do(t, admin, `mutation($id: ID!) { setDefaultGroup(id: $id) { id } }`, map[string]any{"id": g}).OK(t)
		const n = 50
		tokens := make([]string, n)
		for i := range tokens {
			tokens[i], _ = harness.Signup(t, s, fmt.Sprintf("c%d@example.com", i), "Customer")
		}
		var wg sync.WaitGroup
		assignees := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.Do(t, tokens[i], `mutation { createTicket(input: {subject: "Help", body: "please"}) { id } }`, nil)
				if len(r.Errors) > 0 {
					t.Errorf("createTicket: %v", r.Errors)
					return
				}
				view := s.Do(t, admin, `query($id: ID!) { node(id: $id) { ... on Ticket { assignee { id } } } }`,
					map[string]any{"id": harness.Str(r.Data, "createTicket", "id")})
				assignees[i] = harness.Str(view.Data, "node", "assignee", "id")
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
