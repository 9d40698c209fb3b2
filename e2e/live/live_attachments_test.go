package live_test

import (
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"
)

// TestLiveMessageAttachments: MESSAGE_ADDED carries the message's files
// under the message's rules: a reply's files reach the customer and the
// agents, a note's files only the agents (the customer gets no event).
func TestLiveMessageAttachments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		ann, annID := d.Staff(t, "ann@example.com", "Ann", "AGENT")
		support := d.Group(t, "Support", annID)
		cust, custID := harness.Signup(t, d.S, "cara@example.com", "Cara")
		ticket := d.Ticket(t, d.Admin, map[string]any{"subject": "Broken", "body": "it fails", "groupID": support, "requesterID": custID})

		const sub = `subscription($t: ID!) { ticketEvents(ticketID: $t) { type changes { field } message { body attachments { id filename size contentType url } } } }`
		agent, customer := d.WS(t, ann), d.WS(t, cust)
		for _, st := range []*harness.Stream{agent, customer} {
			st.Sub(t, "1", sub, map[string]any{"t": ticket})
			st.Sync(t)
		}
		const reply = `mutation($t: ID!, $b: String!, $i: Boolean, $a: [ID!]) { addMessage(ticketID: $t, body: $b, internal: $i, attachmentIDs: $a) { id } }`
		shot, _ := d.S.Uploaded(t, cust, "screen.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR....."))
		d.S.Do(t, cust, reply, map[string]any{"t": ticket, "b": "see screenshot", "a": []string{shot}}).OK(t)
		log, _ := d.S.Uploaded(t, ann, "debug.log", []byte("driver crashed at 0x1f"))
		d.S.Do(t, ann, reply, map[string]any{"t": ticket, "b": "see log", "i": true, "a": []string{log}}).OK(t)
		d.Message(t, ann, ticket, "fixed", false)

		check := func(t *testing.T, ev map[string]any, id, filename, contentType string) {
			t.Helper()
			a := harness.Path(ev, "message", "attachments", 0)
			if harness.Str(a, "id") != id || harness.Str(a, "filename") != filename || harness.Str(a, "contentType") != contentType ||
				harness.Str(a, "url") != "/attachments/"+id+"/"+filename {
				t.Fatalf("attachment of %v", ev)
			}
		}
		// The ticket's own events may still arrive: a subscription without
		// a cursor starts about now.
		first := func(st *harness.Stream) map[string]any {
			for {
				if ev := st.Event(t, "1"); harness.Str(ev, "message", "body") == "see screenshot" {
					return ev
				}
			}
		}
		check(t, first(agent), shot, "screen.png", "image/png")
		evs := agent.Expect(t, "1", "MESSAGE_ADDED:see log", "MESSAGE_ADDED:fixed")
		check(t, evs[0], log, "debug.log", "text/plain; charset=utf-8")
		check(t, first(customer), shot, "screen.png", "image/png")
		evs = customer.Expect(t, "1", "MESSAGE_ADDED:fixed")
		if n := len(harness.Path(evs[0], "message", "attachments").([]any)); n != 0 {
			t.Fatalf("a message without files has %d", n)
		}
	})
}
