package clients_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestReferenceLiveList runs the README's live-list recipe as printed
// (clients/live-list.mjs, urql with graphql-ws) as an agent, while tickets
// enter and leave the agent's OPEN list and the agent leaves and rejoins
// the group: after each change the script's list must equal a fresh
// query as the agent.
const updateGroupMutation = `mutation($id: ID!, $in: UpdateGroupInput!) { updateGroup(id: $id, input: $in) { id } }`

func TestReferenceLiveList(t *testing.T) {
	refClientsAvailable(t)
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, map[string]string{"SWITCHBOARD_WS_KEEPALIVE": "1h"})
		agent, agentID := d.Staff(t, "alice@example.com", "Alice Agent", "AGENT")
		_, custID := harness.Signup(t, d.S, "cara@example.com", "Cara")
		billing := d.Group(t, "Billing", agentID)
		support := d.Group(t, "Support")
		p := startRefClientWith(t, 2*time.Minute, "live-list.mjs", d.S.URL, agent)

		fresh := func() []string {
			r := d.S.Do(t, agent, `{ tickets(where: {status: OPEN}, first: 100) { edges { node { id status priority } } } }`, nil).OK(t)
			var out []string
			for _, e := range harness.Path(r, "tickets", "edges").([]any) {
				n := harness.Path(e, "node")
				out = append(out, fmt.Sprintf("%s|%s|%s", harness.Str(n, "id"), harness.Str(n, "status"), harness.Str(n, "priority")))
			}
			slices.Sort(out)
			if out == nil {
				out = []string{}
			}
			return out
		}
		// settle reads the script's lists until one equals the fresh
		// query (events may still be on their way).
		settle := func(t *testing.T, step string) {
			t.Helper()
			want := fresh()
			var last []string
			deadline := time.Now().Add(harness.LiveWait)
			for time.Now().Before(deadline) {
				if slices.Equal(last, want) {
					return
				}
				var m struct {
					List  *[]string `json:"list"`
					Event string    `json:"event"`
				}
				l := p.Next(t, time.Until(deadline), "a list")
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("%s: not JSON: %q", step, l)
				}
				if m.List != nil {
					last = *m.List
				}
			}
			t.Fatalf("%s: the recipe's list is %v, a fresh query %v", step, last, want)
		}
		settle(t, "loaded")
		open := func(subject string) string {
			id := d.Ticket(t, d.Admin, map[string]any{"subject": subject, "body": "x", "requesterID": custID, "groupID": billing})
			d.Update(t, d.Admin, id, map[string]any{"status": "OPEN"})
			return id
		}
		a := open("Printer on fire")
		settle(t, "a ticket opened in the agent's group enters")
		b := open("Refund")
		d.Update(t, d.Admin, b, map[string]any{"priority": "URGENT"})
		settle(t, "an update of a listed ticket")
		d.Update(t, d.Admin, a, map[string]any{"status": "SOLVED"})
		settle(t, "a solved ticket leaves")
		d.Update(t, d.Admin, b, map[string]any{"groupID": support})
		settle(t, "a ticket moved to another group leaves")
		d.Update(t, d.Admin, b, map[string]any{"assigneeID": agentID})
		settle(t, "a ticket assigned to the agent comes back")
		d.S.Do(t, d.Admin, updateGroupMutation, map[string]any{"id": billing, "in": map[string]any{"removeMemberIDs": []string{agentID}}}).OK(t)
		open("Login broken")
		settle(t, "the agent left the group")
		d.S.Do(t, d.Admin, updateGroupMutation, map[string]any{"id": billing, "in": map[string]any{"addMemberIDs": []string{agentID}}}).OK(t)
		settle(t, "the agent rejoined the group")
		_ = p.stdin.Close()
		if code := p.Wait(t); code != 0 {
			t.Fatalf("live-list.mjs exited %d\nstderr:\n%s", code, p.stderr)
		}
	})
}
