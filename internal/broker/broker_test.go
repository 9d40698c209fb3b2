package broker

import (
	"context"
	"errors"
	"testing"
	"time"
)

// next returns the next notice, failing if none comes within d or the
// channel is closed.
func next(t *testing.T, ch <-chan Notice, d time.Duration) Notice {
	t.Helper()
	select {
	case n, ok := <-ch:
		if !ok {
			t.Fatal("notices closed")
		}
		return n
	case <-time.After(d):
		t.Fatalf("no notice within %v", d)
	}
	return Notice{}
}

// waitClosed fails unless ch is closed within d, discarding what is left in
// it.
func waitClosed(t *testing.T, ch <-chan Notice, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("notices not closed within %v", d)
		}
	}
}

func TestMemory(t *testing.T) {
	ctx := context.Background()

	t.Run("StartsWithResync", func(t *testing.T) {
		m := NewMemory()
		defer m.Close()
		if n := next(t, m.Notices(), time.Second); n.Kind != Resync {
			t.Fatalf("first notice = %+v, want a Resync", n)
		}
	})

	t.Run("PublishDelivers", func(t *testing.T) {
		m := NewMemory()
		defer m.Close()
		next(t, m.Notices(), time.Second)
		want := []Notice{{Kind: Events, Cursor: 7}, {Kind: Presence, TicketID: "TK01J9Z3X8Q0W2E5R7T9Y1U3I5O7"}}
		for _, n := range want {
			if err := m.Publish(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		for _, w := range want {
			if n := next(t, m.Notices(), time.Second); n != w {
				t.Fatalf("got %+v, want %+v", n, w)
			}
		}
	})

	t.Run("FullBufferDropsInsteadOfBlocking", func(t *testing.T) {
		m := NewMemory()
		defer m.Close()
		done := make(chan error, 1)
		go func() {
			// The Resync already takes one slot.
			for i := range NoticeBuffer + 10 {
				if err := m.Publish(ctx, Notice{Kind: Events, Cursor: int64(i)}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Publish blocked on a full buffer")
		}
		if got := len(m.Notices()); got != NoticeBuffer {
			t.Fatalf("%d notices buffered, want %d", got, NoticeBuffer)
		}
		if n := next(t, m.Notices(), time.Second); n.Kind != Resync {
			t.Fatalf("first notice = %+v, want the Resync kept over later ones", n)
		}
	})

	t.Run("CloseClosesNoticesAndRefusesPublish", func(t *testing.T) {
		m := NewMemory()
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		waitClosed(t, m.Notices(), time.Second)
		if err := m.Publish(ctx, Notice{Kind: Events}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Publish after Close = %v, want ErrClosed", err)
		}
	})
}
