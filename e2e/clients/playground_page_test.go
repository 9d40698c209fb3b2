package clients_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"
)

// TestPlaygroundPage opens the GraphiQL playground at / (package web) in
// headless Chromium against the real server, as on a machine without
// internet: clients/playground-page.mjs aborts, and fails on, any request
// to another origin, resolves no host name, and fails on any console
// error or CSP violation. Through the page's own editors it signs in,
// runs a query with the token in the Headers tab, opens a dialog, and
// runs a subscription over the websocket that shows a ticket created
// meanwhile.
func TestPlaygroundPage(t *testing.T) {
	wallboardPageAvailable(t) // the same needs: node, playwright-core, Chromium
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "ADMIN", "correct horse battery staple 1")
	s := harness.Start(t, tg, nil) // development mode: the playground is on
	customer, _ := harness.Signup(t, s, "cara@example.com", "Cara")

	const subject = "Printer on fire, seen in the playground"
	// Loading 1.6 MB of GraphiQL into Chromium under -race on a loaded
	// machine takes a while: a minute for the whole run.
	p := startRefClientWith(t, time.Minute, "playground-page.mjs", s.URL, "admin@example.com", "correct horse battery staple 1", subject)

	var me struct {
		Me struct{ Email, Role string } `json:"me"`
	}
	if l := p.Next(t, time.Minute, "the me query's result"); json.Unmarshal([]byte(l), &me) != nil || me.Me.Email != "admin@example.com" || me.Me.Role != "ADMIN" {
		t.Fatalf("the playground's me query with the Headers tab's token showed %q", l)
	}
	p.waitReady(t)

	// No protocol message says when the server has started the
	// subscription; a new ticket every 2s until the page shows one.
	var line string
	for i := 0; line == ""; i++ {
		if i == 15 {
			t.Fatalf("no ticket showed in the playground's subscription after %d tickets\nstderr:\n%s", i, p.stderr)
		}
		s.Do(t, customer, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": subject, "body": "help"}}).OK(t)
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("playground-page.mjs ended before showing the ticket\nstderr:\n%s", p.stderr)
			}
			p.seen = append(p.seen, l)
			line = l
		case <-time.After(2 * time.Second):
		}
	}
	var ev struct {
		Event struct {
			Type   string `json:"type"`
			Ticket struct{ Subject string }
		} `json:"event"`
	}
	if json.Unmarshal([]byte(line), &ev) != nil || ev.Event.Ticket.Subject != subject {
		t.Fatalf("the playground's subscription showed %q", line)
	}
	if code := p.Wait(t); code != 0 {
		t.Fatalf("playground-page.mjs exited %d\nstderr:\n%s", code, p.stderr)
	}
}
