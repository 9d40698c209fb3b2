package live

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// recorder is a transport's output that keeps what it was handed.
type recorder struct {
	mu    sync.Mutex
	got   []string
	ready int
}

func (r *recorder) Deliver(payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, string(payload))
}

func (r *recorder) Ready() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ready++
}

func (r *recorder) readies() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready
}

func (r *recorder) results() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// The hub's side of shared rendering, without a database: unfiltered
// subscriptions without a cursor never read the log.
func TestSharedRendering(t *testing.T) {
	h := New(nil, broker.NewMemory(), presence.NewMemory(), nil, Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	admin := &viewer.Viewer{UserID: "US1", Role: viewer.Admin}
	type sub struct {
		sh  *Share
		out *recorder
		ch  <-chan *Event
		end context.CancelFunc
	}
	subscribe := func(fingerprint string) *sub {
		ctx, cancel := context.WithCancel(viewer.NewContext(context.Background(), admin))
		t.Cleanup(cancel)
		s := &sub{out: &recorder{}, end: cancel}
		s.sh = NewShare(s.out, fingerprint)
		ch, err := h.Subscribe(WithShare(ctx, s.sh), Filter{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.ch = ch
		return s
	}
	a, b, c := subscribe("same"), subscribe("same"), subscribe("other")
	tk := &ent.Ticket{ID: "TK1", RequesterID: "US2"}
	event := func(seq int64) *Event {
		return (&Event{Seq: seq, Type: EventMessageAdded, TicketID: tk.ID, Ticket: tk, Before: tk, After: tk, Changes: []*FieldChange{}}).withViews()
	}
	// renderer returns the one of a and b handed e to render, failing if
	// both or neither were.
	renderer := func(t *testing.T, seq int64) (*sub, *sub) {
		t.Helper()
		var got []*sub
		for _, s := range []*sub{a, b} {
			select {
			case e := <-s.ch:
				if e.Seq != seq {
					t.Fatalf("rendering event %d, want %d", e.Seq, seq)
				}
				got = append(got, s)
			default:
			}
		}
		if len(got) != 1 {
			t.Fatalf("%d identical subscriptions render event %d, want 1", len(got), seq)
		}
		if got[0] == a {
			return a, b
		}
		return b, a
	}

	t.Run("OneRenderForIdenticalSubscriptions", func(t *testing.T) {
		h.dispatch(context.Background(), event(1))
		r, _ := renderer(t, 1)
		select {
		case <-c.ch:
		default:
			t.Fatal("a subscription of another fingerprint does not render its own")
		}
		if !r.sh.Rendered([]byte("same 1")) || !c.sh.Rendered([]byte("other 1")) {
			t.Fatal("a sharing subscription's rendering was not taken")
		}
		for name, s := range map[string]*sub{"a": a, "b": b} {
			if got := s.out.results(); !slices.Equal(got, []string{"same 1"}) {
				t.Fatalf("%s got %q", name, got)
			}
		}
		if got := c.out.results(); !slices.Equal(got, []string{"other 1"}) {
			t.Fatalf("c got %q", got)
		}
	})
	t.Run("ReadyOncePerQueuedEvent", func(t *testing.T) {
		// Event 1 was queued to its renderer of a and b, and to c.
		if got := a.out.readies() + b.out.readies(); got != 1 {
			t.Fatalf("a and b were told of %d queued events, want 1", got)
		}
		if got := c.out.readies(); got != 1 {
			t.Fatalf("c was told of %d queued events, want 1", got)
		}
		if !a.sh.Attached() || !c.sh.Attached() || NewShare(&recorder{}, "x").Attached() {
			t.Fatal("Attached does not tell the subscribed Shares")
		}
	})
	t.Run("ARendererThatLeavesHandsOver", func(t *testing.T) {
		h.dispatch(context.Background(), event(2))
		gone, left := renderer(t, 2)
		gone.end()
		select {
		case e := <-left.ch:
			if e.Seq != 2 {
				t.Fatalf("handed event %d, want 2", e.Seq)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the remaining subscription was not handed the event to render")
		}
		if !left.sh.Rendered([]byte("same 2")) {
			t.Fatal("the handed-over rendering was not taken")
		}
		if got := left.out.results(); !slices.Equal(got, []string{"same 1", "same 2"}) {
			t.Fatalf("the remaining subscription got %q", got)
		}
		// Told of event 1 (one of them), of event 2 (both: queued to
		// the one that left, then handed to the other), and of the end
		// of the one that left (before it handed over).
		if got := a.out.readies() + b.out.readies(); got != 4 {
			t.Fatalf("a and b were told %d times, want 4", got)
		}
	})
}
