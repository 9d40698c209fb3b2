package live_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// Shared rendering: identical subscriptions get results rendered once;
// each must still get exactly its events, complete and in order, even
// when a subscriber rendering for the others goes away.
func TestLiveSharedRendering(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		const sub = `subscription($t: ID) { ticketEvents(ticketID: $t) { cursor type ticket { id subject } message { body } } }`
		const other = `subscription { ticketEvents { cursor type } }`
		first := d.Ticket(t, d.Admin, map[string]any{"subject": "First", "body": "one"})
		second := d.Ticket(t, d.Admin, map[string]any{"subject": "Second", "body": "two"})

		filters := []string{"", first, second, "", first, second}
		var socks []*harness.Stream
		for _, f := range filters {
			st := d.WS(t, d.Admin)
			vars := map[string]any{}
			if f != "" {
				vars["t"] = f
			}
			st.Sub(t, "s", sub, vars)
			st.Sync(t)
			socks = append(socks, st)
		}
		others := []*harness.Stream{d.WS(t, d.Admin), d.WS(t, d.Admin)}
		for _, st := range others {
			st.Sub(t, "o", other, nil)
			st.Sync(t)
		}
		const n = 12
		ticketOf := func(j int) string {
			if j%2 == 1 {
				return second
			}
			return first
		}
		for i := 0; i < n; i++ {
			d.Message(t, d.Admin, ticketOf(i), fmt.Sprintf("reply %d", i), false)
			if i == 3 {
				socks[0].WS.Conn.Close() // mid-stream, maybe while rendering for others
			}
		}
		for i := 1; i < len(socks); i++ {
			var want []string
			for j := 0; j < n; j++ {
				if filters[i] == "" || filters[i] == ticketOf(j) {
					want = append(want, fmt.Sprintf("%s reply %d", ticketOf(j), j))
				}
			}
			var last int64
			for k := 0; k < len(want); {
				ev := socks[i].Event(t, "s")
				c := harness.Cursor(t, ev)
				if c <= last {
					t.Fatalf("socket %d: cursor %d after %d", i, c, last)
				}
				last = c
				body := harness.Str(ev, "message", "body")
				if !strings.HasPrefix(body, "reply") {
					continue // creation events and the first reply's status change
				}
				if got := fmt.Sprintf("%s %s", harness.Str(ev, "ticket", "id"), body); got != want[k] {
					t.Fatalf("socket %d got %q, want %q", i, got, want[k])
				}
				k++
			}
		}
		for i, st := range others {
			var last int64
			replies := 0
			for replies < n {
				ev := st.Event(t, "o")
				c := harness.Cursor(t, ev)
				if last != 0 && c != last+1 {
					t.Fatalf("other %d: cursor %d after %d", i, c, last)
				}
				last = c
				if ev["ticket"] != nil || ev["message"] != nil {
					t.Fatalf("the other selection got fields it did not ask for: %v", ev)
				}
				if harness.Str(ev, "type") == "MESSAGE_ADDED" {
					replies++
				}
			}
		}
	})
}

// Agents of one role share a rendering only where nothing in it depends on
// the person: each still gets exactly the events of their own reach, and a
// personal field (followedByMe, the requester's tickets within their reach)
// is each agent's own.
func TestLiveSharedRenderingAcrossAgents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		ann, annID := d.Staff(t, "ann@example.com", "Ann", "AGENT")
		bob, bobID := d.Staff(t, "bob@example.com", "Bob", "AGENT")
		cid, cidID := d.Staff(t, "cid@example.com", "Cid", "AGENT")
		dee, deeID := d.Staff(t, "dee@example.com", "Dee", "AGENT")
		sales := d.Group(t, "Sales", annID, bobID, cidID)
		support := d.Group(t, "Support", deeID)
		_, customer := harness.Signup(t, d.S, "cara@example.com", "Cara")
		inSales := d.Ticket(t, d.Admin, map[string]any{"subject": "Quote", "body": "how much?", "groupID": sales, "requesterID": customer})
		inSupport := d.Ticket(t, d.Admin, map[string]any{"subject": "Broken", "body": "it fails", "groupID": support, "requesterID": customer})
		d.Update(t, d.Admin, inSupport, map[string]any{"assigneeID": bobID})
		d.S.Do(t, ann, `mutation($t: ID!) { followTicket(ticketID: $t) { id } }`, map[string]any{"t": inSales}).OK(t)

		const shared = `subscription { ticketEvents { type ticket { id subject requester { name email } } message { body internal } } }`
		const mine = `subscription { ticketEvents { type message { body } ticket { id followedByMe requester { tickets { totalCount } } } } }`
		type agent struct {
			name          string
			shared, mine  *harness.Stream
			bodies        []string
			follows       string // the ticket they follow
			requesterSees int
		}
		agents := []*agent{
			{name: "ann", bodies: []string{"hello", "last"}, follows: inSales, requesterSees: 1},
			{name: "bob", bodies: []string{"hello", "secret", "last"}, follows: inSupport, requesterSees: 2}, // assigned: follows
			{name: "cid", bodies: []string{"hello", "last"}, requesterSees: 1},
			{name: "dee", bodies: []string{"secret"}, requesterSees: 1},
		}
		for i, token := range []string{ann, bob, cid, dee} {
			a := agents[i]
			a.shared, a.mine = d.WS(t, token), d.WS(t, token)
			a.shared.Sub(t, "s", shared, nil)
			a.mine.Sub(t, "m", mine, nil)
			a.shared.Sync(t)
			a.mine.Sync(t)
		}
		d.Message(t, d.Admin, inSales, "hello", false)
		d.Message(t, d.Admin, inSupport, "secret", true)
		d.Message(t, d.Admin, inSales, "last", false)

		// messages reads id's events up to the one with the body last,
		// returning the messages' events.
		messages := func(t *testing.T, st *harness.Stream, id, last string) []map[string]any {
			t.Helper()
			var out []map[string]any
			for {
				ev := st.Event(t, id)
				// The tickets' first messages may still arrive: a
				// subscription without a cursor starts about now.
				if body := harness.Str(ev, "message", "body"); harness.Str(ev, "type") != "MESSAGE_ADDED" || body == "how much?" || body == "it fails" {
					continue
				}
				out = append(out, ev)
				if harness.Str(ev, "message", "body") == last {
					return out
				}
			}
		}
		for _, a := range agents {
			last := a.bodies[len(a.bodies)-1]
			var got []string
			for _, ev := range messages(t, a.shared, "s", last) {
				got = append(got, harness.Str(ev, "message", "body"))
				if email := harness.Str(ev, "ticket", "requester", "email"); email != "cara@example.com" {
					t.Errorf("%s read the requester's email as %q", a.name, email)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(a.bodies) {
				t.Errorf("%s's messages = %v, want %v", a.name, got, a.bodies)
			}
			for _, ev := range messages(t, a.mine, "m", last) {
				ticket := harness.Str(ev, "ticket", "id")
				followed := harness.Path(ev, "ticket", "followedByMe") == true
				if want := ticket == a.follows; followed != want {
					t.Errorf("%s: followedByMe of %s = %v, want %v", a.name, ticket, followed, want)
				}
				if n := harness.Num(ev, "ticket", "requester", "tickets", "totalCount"); n != a.requesterSees {
					t.Errorf("%s sees %d of the requester's tickets, want %d", a.name, n, a.requesterSees)
				}
			}
		}
	})
}
