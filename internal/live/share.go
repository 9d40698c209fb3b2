package live

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Shared rendering. Subscribers with the same document, variables and
// visibility would render every event to the same bytes, so the hub lets
// one of them render it (the transport executes the GraphQL selection as
// usual) and hands the result to the others: the cost of an event grows
// with the number of distinct subscriptions, not of subscribers.

// owedLimit times SubscriberQueue bounds the results a sharing subscriber
// may wait for (pointers to shared results: cheap) before it reads the log
// instead.
const owedLimit = 16

// Output is the transport's side of a shared subscription.
type Output interface {
	// Deliver sends payload (one rendered response) to the client as the
	// subscription's next result.
	Deliver(payload []byte)
	// Ready tells that the subscription's execution can take one more
	// result without waiting: it is called once for each event queued on
	// the channel Subscribe returned, after it is queued, and once more
	// when the subscription ends (its context is done: the execution
	// then returns at once). A transport can so run the execution only
	// while it has something to do, rather than on a goroutine blocked on
	// the channel. Ready is called with the subscriber's locks held: it
	// must not block, nor call back into the hub.
	Ready()
}

// Share is what a transport puts in the context of an operation that may
// share rendering (see WithShare).
type Share struct {
	out         Output
	fingerprint string
	sub         atomic.Pointer[subscriber]
}

type shareKey struct{}

// NewShare returns a Share for an operation whose results go to out, and
// whose rendering is the same as that of every operation with the same
// fingerprint (document, variables outside the root field's arguments,
// and ShareKey of the viewer).
func NewShare(out Output, fingerprint string) *Share {
	return &Share{out: out, fingerprint: fingerprint}
}

// WithShare returns ctx carrying sh.
func WithShare(ctx context.Context, sh *Share) context.Context {
	return context.WithValue(ctx, shareKey{}, sh)
}

// WithoutShare returns ctx without a Share: for a subscription made on
// behalf of an operation whose results are not its events.
func WithoutShare(ctx context.Context) context.Context {
	return context.WithValue(ctx, shareKey{}, (*Share)(nil))
}

// Attached reports whether the operation subscribed to the hub's events
// through sh (Subscribe succeeded): its results then come from events the
// hub announces with Output.Ready, to the end.
func (sh *Share) Attached() bool { return sh.sub.Load() != nil }

func shareFrom(ctx context.Context) *Share {
	sh, _ := ctx.Value(shareKey{}).(*Share)
	return sh
}

// ShareKey is the part of a viewer that decides how a result renders,
// once the event is known to be visible to them (checked in memory for
// each subscriber): admins see everything alike, and agents too unless the
// selection is personal (reads a field marked @personal in the schema,
// whose value depends on the person: their own follows, tickets in their
// own reach). Customers are always keyed by person: what they read of
// people (contact data) depends on whether it is about themselves.
func ShareKey(v *viewer.Viewer, personal bool) string {
	switch {
	case v == nil:
		return "anonymous"
	case v.IsAdmin() && !personal:
		return "admin"
	case v.Role == viewer.Agent && !personal:
		return "agent"
	}
	return string(v.Role) + ":" + string(v.UserID)
}

// Rendered takes the transport's rendering of the operation's next result.
// It reports false when the operation does not share (the transport then
// sends the result itself).
func (sh *Share) Rendered(payload []byte) bool {
	s := sh.sub.Load()
	if s == nil {
		return false
	}
	s.mu.Lock()
	if len(s.rendering) == 0 {
		s.mu.Unlock()
		return false
	}
	r := s.rendering[0]
	s.rendering = s.rendering[1:]
	s.mu.Unlock()
	r.finish(payload)
	return true
}

// render is one event rendered for one fingerprint: by its renderer, for
// every subscriber in subs.
type render struct {
	event   *Event
	payload atomic.Pointer[[]byte]

	mu       sync.Mutex
	renderer *subscriber
	subs     []*subscriber
}

func (r *render) done() bool { return r.payload.Load() != nil }

// finish stores the result and sends it to everyone waiting for it.
func (r *render) finish(payload []byte) {
	r.payload.Store(&payload)
	r.mu.Lock()
	subs := slices.Clone(r.subs)
	r.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		s.flushLocked()
		s.mu.Unlock()
	}
}

// flushLocked delivers the owed results that are ready, in order.
func (s *subscriber) flushLocked() {
	for len(s.owed) > 0 && s.owed[0].done() {
		payload := *s.owed[0].payload.Load()
		s.owed[0] = nil
		s.owed = s.owed[1:]
		if !s.closed {
			s.share.out.Deliver(payload)
		}
	}
}

// pushLocked hands e to the subscriber's own rendering, for r.
func (s *subscriber) pushLocked(e *Event, r *render) bool {
	select {
	case s.ch <- e:
		s.rendering = append(s.rendering, r)
		s.share.out.Ready()
		return true
	default:
		return false
	}
}

// deliverShared queues a live event of a sharing subscriber: rendered by
// the first subscriber of its fingerprint, waited for by the others.
func (s *subscriber) deliverShared(e *Event, r *render) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed || e.Seq <= s.sent:
		return
	case s.replaying:
		s.holdLocked(e)
		return
	case len(s.owed) >= owedLimit*s.hub.opts.SubscriberQueue:
		s.hub.counters.eventsBehind.Add(1)
		s.lagLocked()
		return
	case r.renderer == nil:
		if !s.pushLocked(e, r) {
			s.hub.counters.eventsBehind.Add(1)
			s.lagLocked()
			return
		}
		r.renderer = s
	}
	s.hub.counters.eventsDelivered.Add(1)
	r.subs = append(r.subs, s)
	s.owed = append(s.owed, r)
	s.sent = e.Seq
	s.flushLocked()
}

// handOver finds another renderer for the renders a closing subscriber
// still owed; when none is left, the waiting subscribers are disconnected
// (they resume from their cursor) rather than skip the event.
func (s *subscriber) handOver(owed []*render) {
	for _, r := range owed {
		if r.done() {
			continue
		}
		r.mu.Lock()
		handed := false
		for _, w := range r.subs {
			if w == s {
				continue
			}
			w.mu.Lock()
			if !w.closed && w.pushLocked(r.event, r) {
				r.renderer, handed = w, true
			}
			w.mu.Unlock()
			if handed {
				break
			}
		}
		var stranded []*subscriber
		if !handed {
			// Whoever shares this fingerprint next renders it afresh.
			r.renderer = nil
			stranded = slices.Clone(r.subs)
			r.subs = nil
		}
		r.mu.Unlock()
		for _, w := range stranded {
			if w == s {
				continue
			}
			// A subscription that ended meanwhile misses nothing: its
			// connection (which may still run others) is kept.
			w.mu.Lock()
			closed := w.closed
			w.mu.Unlock()
			if !closed {
				w.conn.Disconnect(CloseTooSlow, "an event could not be delivered; reconnect and resume from your last cursor")
			}
		}
	}
}
