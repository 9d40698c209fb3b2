package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

func TestStats(t *testing.T) {
	w := newWorld(t, dbtest.NewTarget(t, dbtest.SQLite))
	t.Run("CountsConnectionsSubscriptionsAndEvents", func(t *testing.T) {
		ctx, cancel := context.WithCancel(as(w.admin))
		defer cancel()
		cctx, conn, err := w.hub.Connect(ctx, func(int, string) {})
		if err != nil {
			t.Fatal(err)
		}
		// Closed here too when the test fails early, so that the next
		// subtest's Wait is not held by this connection.
		defer conn.Close()
		a, err := w.hub.Subscribe(cctx, live.Filter{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := subscribe(t, w.hub, w.agent, live.Filter{GroupID: w.group}, nil)
		if s := w.hub.Stats(); s.Connections != 1 || s.Subscriptions != 2 {
			t.Fatalf("stats %+v, want 1 connection and 2 subscriptions", s)
		}
		w.open(t, "counted") // created, message, updated
		for range 3 {
			next(t, a)
		}
		next(t, b) // the agent's group subscription sees the update
		// A counter is bumped just after its event is handed over, so the
		// reader may get there first: wait for the totals to settle.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			s := w.hub.Stats()
			if s.EventsBehind != 0 {
				t.Fatalf("stats %+v, want none behind", s)
			}
			if s.EventsDispatched >= 3 && s.EventsDelivered >= 4 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stats %+v, want at least 3 dispatched and 4 delivered", s)
			}
		}
		// The broker is told by a goroutine of its own.
		for deadline := time.Now().Add(5 * time.Second); w.hub.Stats().NoticesPublished == 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no announcement published")
			}
		}
		cancel()
		conn.Close()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if s := w.hub.Stats(); s.Connections == 0 && s.Subscriptions == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after closing: %+v, want 0 connections and 1 subscription", w.hub.Stats())
			}
		}
	})
	t.Run("WaitLastsUntilClosedConnectionsAreGone", func(t *testing.T) {
		closed := make(chan int, 1)
		_, conn, err := w.hub.Connect(as(w.agent), func(code int, _ string) { closed <- code })
		if err != nil {
			t.Fatal(err)
		}
		w.hub.Close()
		if code := <-closed; code != live.CloseGoingAway {
			t.Fatalf("closed with %d, want 1001", code)
		}
		short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := w.hub.Wait(short); err == nil {
			t.Fatal("Wait returned while a connection was still open")
		}
		// A websocket arriving after Close is tracked until it has closed
		// itself.
		release, ok := w.hub.Track(func(int, string) {})
		if ok {
			t.Fatal("Track accepted a connection after Close")
		}
		conn.Close()
		done := make(chan error, 1)
		go func() { done <- w.hub.Wait(context.Background()) }()
		select {
		case <-done:
			t.Fatal("Wait returned before the refused connection was released")
		case <-time.After(100 * time.Millisecond):
		}
		release()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Wait did not return once every connection was gone")
		}
	})
}
