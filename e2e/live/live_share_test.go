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
