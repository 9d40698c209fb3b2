package e2e_test

import (
	"encoding/json"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestWallboard drives the wallboard through the running server: the
// query, and the subscription over a websocket, where a ticket opened
// through another client shows on the board.
func TestWallboard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		s := harness.Start(t, tg, map[string]string{"SWITCHBOARD_WALLBOARD_COALESCE": "100ms"})
		admin := harness.Login(t, s, "admin@example.com", "amber canyon whistle")
		me := harness.Str(s.Do(t, admin, `{ me { id } }`, nil).OK(t), "me", "id")
		g := s.Do(t, admin, `mutation($m: [ID!]) { createGroup(input: {name: "Billing", memberIDs: $m}) { id } }`, map[string]any{"m": []string{me}}).OK(t)
		group := harness.Str(g, "createGroup", "id")
		cust, custID := harness.Signup(t, s, "cust@example.com", "Cust")
		open := func(subject string) {
			s.Do(t, admin, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": subject, "body": "help", "requesterID": custID, "groupID": group}}).OK(t)
		}
		open("invoice twice")
		const board = `wallboard(groupID: $g) { group { name } new open pending unassigned breached dueSoon solvedToday oldestWaitingSince computedAt agentsOnline { name } }`

		t.Run("Query", func(t *testing.T) {
			d := s.Do(t, admin, `query($g: ID) { `+board+` }`, map[string]any{"g": group}).OK(t)
			if harness.Str(d, "wallboard", "group", "name") != "Billing" || harness.Num(d, "wallboard", "new") != 1 || harness.Num(d, "wallboard", "unassigned") != 1 ||
				harness.Str(d, "wallboard", "oldestWaitingSince") == "" {
				t.Fatalf("wallboard = %s", harness.JSON(t, d))
			}
		})
		t.Run("ErrCustomer", func(t *testing.T) {
			r := s.Do(t, cust, `query($g: ID) { `+board+` }`, map[string]any{"g": group})
			if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
				t.Fatalf("customer's wallboard: %+v", r.Errors)
			}
		})
		t.Run("SubscriptionShowsChanges", func(t *testing.T) {
			c := harness.ConnectWS(t, s, "graphql-transport-ws", admin)
			c.Subscribe("1", `subscription($g: ID) { `+board+` }`, map[string]any{"g": group})
			if d := c.Data("1"); harness.Num(d, "wallboard", "new") != 1 {
				t.Fatalf("first board = %s", harness.JSON(t, d))
			}
			open("card declined")
			for {
				d := c.Data("1") // a refresh may come first
				if n := harness.Num(d, "wallboard", "new"); n == 2 {
					// The admin's own websocket makes them an agent online
					// (and a member of the group).
					if harness.Str(d, "wallboard", "agentsOnline", 0, "name") != "Ada Admin" {
						t.Fatalf("agents online = %s", harness.JSON(t, harness.Path(d, "wallboard", "agentsOnline")))
					}
					break
				} else if n != 1 {
					t.Fatalf("board after a new ticket = %s", harness.JSON(t, d))
				}
			}
		})
		t.Run("ErrSubscriptionCustomer", func(t *testing.T) {
			c := harness.ConnectWS(t, s, "graphql-transport-ws", cust)
			c.Subscribe("1", `subscription($g: ID) { `+board+` }`, map[string]any{"g": group})
			m := c.Next()
			var errs []harness.GQLError
			_ = json.Unmarshal(m.Payload, &errs)
			if m.Type != "error" || len(errs) == 0 || errs[0].Extensions["code"] != "FORBIDDEN" {
				t.Fatalf("customer's subscription got %s %s", m.Type, m.Payload)
			}
		})
	})
}
