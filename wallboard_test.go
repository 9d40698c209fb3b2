package main

import (
	"encoding/json"
	"testing"

	"github.com/switchboardhq/switchboard/internal/database/dbtest"
)

// TestWallboard drives the wallboard through the running server: the
// query, and the subscription over a websocket, where a ticket opened
// through another client shows on the board.
func TestWallboard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		createUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		s := startServer(t, tg, map[string]string{"SWITCHBOARD_WALLBOARD_COALESCE": "100ms"})
		admin := login(t, s, "admin@example.com", "amber canyon whistle")
		me := str(s.do(t, admin, `{ me { id } }`, nil).ok(t), "me", "id")
		g := s.do(t, admin, `mutation($m: [ID!]) { createGroup(input: {name: "Billing", memberIDs: $m}) { id } }`, map[string]any{"m": []string{me}}).ok(t)
		group := str(g, "createGroup", "id")
		cust, custID := signup(t, s, "cust@example.com", "Cust")
		open := func(subject string) {
			s.do(t, admin, createTicket, map[string]any{"input": map[string]any{"subject": subject, "body": "help", "requesterID": custID, "groupID": group}}).ok(t)
		}
		open("invoice twice")
		const board = `wallboard(groupID: $g) { group { name } new open pending unassigned breached dueSoon solvedToday oldestWaitingSince computedAt agentsOnline { name } }`

		t.Run("Query", func(t *testing.T) {
			d := s.do(t, admin, `query($g: ID) { `+board+` }`, map[string]any{"g": group}).ok(t)
			if str(d, "wallboard", "group", "name") != "Billing" || num(d, "wallboard", "new") != 1 || num(d, "wallboard", "unassigned") != 1 ||
				str(d, "wallboard", "oldestWaitingSince") == "" {
				t.Fatalf("wallboard = %s", mustJSON(t, d))
			}
		})
		t.Run("ErrCustomer", func(t *testing.T) {
			r := s.do(t, cust, `query($g: ID) { `+board+` }`, map[string]any{"g": group})
			if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
				t.Fatalf("customer's wallboard: %+v", r.Errors)
			}
		})
		t.Run("SubscriptionShowsChanges", func(t *testing.T) {
			c := connectWS(t, s, "graphql-transport-ws", admin)
			c.subscribe("1", `subscription($g: ID) { `+board+` }`, map[string]any{"g": group})
			if d := c.data("1"); num(d, "wallboard", "new") != 1 {
				t.Fatalf("first board = %s", mustJSON(t, d))
			}
			open("card declined")
			for {
				d := c.data("1") // a refresh may come first
				if n := num(d, "wallboard", "new"); n == 2 {
					// The admin's own websocket makes them an agent online
					// (and a member of the group).
					if str(d, "wallboard", "agentsOnline", 0, "name") != "Ada Admin" {
						t.Fatalf("agents online = %s", mustJSON(t, path(d, "wallboard", "agentsOnline")))
					}
					break
				} else if n != 1 {
					t.Fatalf("board after a new ticket = %s", mustJSON(t, d))
				}
			}
		})
		t.Run("ErrSubscriptionCustomer", func(t *testing.T) {
			c := connectWS(t, s, "graphql-transport-ws", cust)
			c.subscribe("1", `subscription($g: ID) { `+board+` }`, map[string]any{"g": group})
			m := c.next()
			var errs []gqlError
			_ = json.Unmarshal(m.Payload, &errs)
			if m.Type != "error" || len(errs) == 0 || errs[0].Extensions["code"] != "FORBIDDEN" {
				t.Fatalf("customer's subscription got %s %s", m.Type, m.Payload)
			}
		})
	})
}
