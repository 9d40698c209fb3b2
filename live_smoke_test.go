package main

import (
	"testing"

	"github.com/switchboardhq/switchboard/internal/database/dbtest"
)

func TestLiveSmoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		createUser(t, tg, "admin@example.com", "Ada Admin", "ADMIN", "correct horse battery staple 1")
		s := startServer(t, tg, nil)
		admin := login(t, s, "admin@example.com", "correct horse battery staple 1")
		ws := connectWS(t, s, "graphql-transport-ws", admin)
		ws.subscribe("1", `subscription { ticketEvents { cursor type ticket { subject } message { body } actor { name } changes } }`, nil)
		cust, _ := signup(t, s, "cara@example.com", "Cara")
		s.do(t, cust, `mutation { createTicket(input: {subject: "Printer on fire", body: "help"}) { id } }`, nil).ok(t)
		d := ws.data("1")
		t.Logf("%v", d)
		d = ws.data("1")
		t.Logf("%v", d)
	})
}
