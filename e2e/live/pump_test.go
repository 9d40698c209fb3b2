package live_test

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"
)

// A ticketEvents subscription has no goroutine of its own on the server:
// the transport runs its execution only when the hub has queued an event
// for it (internal/wstransport, pump). These tests hold it to that, and
// check that the results still arrive complete, in order, and that an
// operation id can be stopped and reused.

const pumpEvents = `subscription($t: ID) { ticketEvents(ticketID: $t) { cursor type changes { field } message { body } } }`

// settledGoroutines is the goroutine count once it stopped moving for a
// while (the server's housekeeping comes and goes).
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n && i >= 5 {
			break
		}
		n = m
	}
	return n
}

// stackBytes is the memory of goroutine stacks after two collections: the
// first shrinks the stacks that can be and frees those of goroutines that
// ended, the second returns the stack spans that left empty.
func stackBytes() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.StackInuse) // #nosec G115 -- bytes of stack, far below 2^63
}

// syncWS runs a query on c and waits for its result and complete: the
// server has registered every operation started before it.
func syncWS(t *testing.T, c *harness.WS, id string) {
	t.Helper()
	c.Subscribe(id, `{ __typename }`, nil)
	c.Data(id)
	if m := c.Next(); m.ID != id || m.Type != "complete" {
		t.Fatalf("got %s (id %q) %s, want complete of %s", m.Type, m.ID, m.Payload, id)
	}
}

// answeredTicket creates a ticket and answers it as the admin, then waits
// for the hub to have dispatched it all: the events that follow are only
// the test's own (the first answer also updates the ticket).
func answeredTicket(t *testing.T, d *harness.Desk, subject string) string {
	t.Helper()
	ticket := d.Ticket(t, d.Admin, map[string]any{"subject": subject, "body": "start"})
	st := d.WS(t, d.Admin)
	st.Sub(t, "w", pumpEvents, map[string]any{"t": ticket})
	st.Sync(t)
	d.Message(t, d.Admin, ticket, "answered", false)
	for done := false; !done; {
		done = harness.EventSummary(st.Event(t, "w")) == "MESSAGE_ADDED:answered"
	}
	_ = st.WS.Conn.Close()
	return ticket
}

func TestLiveSubscriptionsCostNoGoroutine(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	d := harness.NewDesk(t, tg, map[string]string{"SWITCHBOARD_MAX_CONNECTIONS_PER_USER": "1000"})
	ticket := answeredTicket(t, d, "Counted")
	const n = 120 // many, so that a goroutine stack more or less elsewhere is small per connection
	base := settledGoroutines()
	stacks := stackBytes()
	// The client's connections have no goroutines (reads on this one).
	conns := make([]*harness.WS, n)
	for i := range conns {
		conns[i] = harness.ConnectWS(t, d.S, "graphql-transport-ws", d.Admin)
	}
	connected := settledGoroutines()
	for i, c := range conns {
		vars := map[string]any{}
		if i%2 == 0 {
			vars["t"] = ticket // by ticket and unfiltered: two indexes
		}
		c.Subscribe("1", pumpEvents, vars)
		syncWS(t, c, "sync")
	}
	subscribed := settledGoroutines()
	stackPerConn := float64(stackBytes()-stacks) / n
	perConn := float64(connected-base) / n
	perSub := float64(subscribed-connected) / n
	t.Logf("goroutines: %d at first, %d with %d connections (%.2f each), %d with a subscription on each (%.2f each)",
		base, connected, n, perConn, subscribed, perSub)
	if perConn > 1.3 {
		t.Errorf("%.2f goroutines per connection, want 1 (its reader)", perConn)
	}
	if perSub > 0.3 {
		_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		t.Fatalf("%.2f goroutines per ticketEvents subscription, want none (dump above)", perSub)
	}
	// The reader sits in a read for the life of the socket with the stack
	// it has: what reading needs (4 KB), not what authenticating and
	// subscribing grew (8 KB or more, when they ran on it).
	t.Logf("goroutine stacks: %.0f bytes more per subscribed connection", stackPerConn)
	if stackPerConn > 6<<10 {
		t.Errorf("%.0f bytes of goroutine stack per idle subscribed connection, want at most 6 KB", stackPerConn)
	}
	// They still work, and the goroutines that delivered are gone after.
	d.Message(t, d.Admin, ticket, "to all", false)
	for i, c := range conns {
		ev, _ := c.Data("1")["ticketEvents"].(map[string]any)
		if harness.EventSummary(ev) != "MESSAGE_ADDED:to all" {
			t.Fatalf("connection %d got %v", i, ev)
		}
	}
	if after := settledGoroutines(); after > subscribed+n/5 {
		t.Fatalf("%d goroutines after delivering, %d before", after, subscribed)
	}
}

// A burst of events far larger than the subscription's queue arrives
// complete and in order, past subscribers that share the rendering and
// one that reads nothing for a while.
func TestLiveBurstArrivesInOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, map[string]string{"SWITCHBOARD_SUBSCRIPTION_QUEUE": "2"})
		ticket := answeredTicket(t, d, "Burst")
		var socks []*harness.Stream
		for i := 0; i < 3; i++ {
			st := d.WS(t, d.Admin)
			vars := map[string]any{}
			if i != 1 {
				vars["t"] = ticket
			}
			st.Sub(t, "b", pumpEvents, vars)
			st.Sync(t)
			socks = append(socks, st)
		}
		const writers, each = 4, 10
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					r := d.S.Do(t, d.Admin, harness.AddMessageMutation, map[string]any{"id": ticket, "body": fmt.Sprintf("w%d-%d", w, i), "internal": false})
					if len(r.Errors) > 0 {
						t.Errorf("addMessage: %v", r.Errors)
						return
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for k, st := range socks {
			seen := map[string]bool{}
			last := int64(0)
			for len(seen) < writers*each {
				ev := st.Event(t, "b")
				c := harness.Cursor(t, ev)
				if c <= last {
					t.Fatalf("subscriber %d: cursor %d after %d", k, c, last)
				}
				last = c
				body := harness.Str(ev, "message", "body")
				if harness.Str(ev, "type") != "MESSAGE_ADDED" || seen[body] {
					t.Fatalf("subscriber %d: got %v after %d events", k, ev, len(seen))
				}
				seen[body] = true
			}
			// Each writer's messages in the order written.
			for w := 0; w < writers; w++ {
				for i := 0; i < each; i++ {
					if !seen[fmt.Sprintf("w%d-%d", w, i)] {
						t.Fatalf("subscriber %d: w%d-%d missing", k, w, i)
					}
				}
			}
			st.Quiet(t, 200*time.Millisecond)
		}
	})
}

// An operation stopped by the client gets no complete, and its id can be
// used again at once, over and over: the new operation gets each event
// once, the stopped ones nothing.
func TestLiveStopAndResubscribeWithTheSameID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := harness.NewDesk(t, tg, nil)
		ticket := answeredTicket(t, d, "Again")
		st := d.WS(t, d.Admin)
		// The probe sees each event once the hub dispatched it: a
		// subscription started after that does not get it.
		probe := d.WS(t, d.Admin)
		probe.Sub(t, "p", pumpEvents, map[string]any{"t": ticket})
		probe.Sync(t)
		for round := 0; round < 3; round++ {
			for i := 0; i < 20; i++ {
				st.Sub(t, "1", pumpEvents, map[string]any{"t": ticket})
				if i%3 == 0 {
					st.Sync(t) // sometimes live first, sometimes stopped at once
				}
				st.Stop(t, "1")
			}
			st.Sub(t, "1", pumpEvents, map[string]any{"t": ticket})
			st.Sync(t)
			body := "round " + strconv.Itoa(round)
			d.Message(t, d.Admin, ticket, body, false)
			probe.Expect(t, "p", "MESSAGE_ADDED:"+body)
			if ev := st.Event(t, "1"); harness.EventSummary(ev) != "MESSAGE_ADDED:"+body {
				t.Fatalf("round %d: got %v", round, ev)
			}
			st.Quiet(t, 300*time.Millisecond) // no second copy, no complete
			st.Stop(t, "1")
			// Mid-stream: events queued for the stopped operation are
			// not sent.
			d.Message(t, d.Admin, ticket, "unseen "+body, false)
			probe.Expect(t, "p", "MESSAGE_ADDED:unseen "+body)
			st.Sync(t)
		}
		st.Quiet(t, 300*time.Millisecond)
	})
}
