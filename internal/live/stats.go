package live

import (
	"context"
	"sync/atomic"
)

// counters are the hub's running totals, read by Stats (for metrics):
// plain atomics, so that counting costs an increment on the hot paths.
type counters struct {
	noticesPublished, noticesDropped                atomic.Int64
	eventsDispatched, eventsDelivered, eventsBehind atomic.Int64
}

// Stats is a snapshot of the hub's state and totals.
type Stats struct {
	// Connections are registered live connections; Subscriptions the
	// running ticketEvents, ticketViewers and notifications subscriptions.
	Connections, Subscriptions int
	// NoticesPublished are announcements sent to the broker;
	// NoticesDropped those dropped because the outbox was full.
	NoticesPublished, NoticesDropped int64
	// EventsDispatched are events read from the log and dispatched;
	// EventsDelivered are events queued to a subscription; EventsBehind
	// are live events not queued because a subscription's queue was full
	// (it reads them from the log instead).
	EventsDispatched, EventsDelivered, EventsBehind int64
}

// Stats returns the hub's current numbers.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	subs := len(h.staff)
	for _, set := range h.byTicket {
		subs += len(set)
	}
	for _, set := range h.byGroup {
		subs += len(set)
	}
	for _, set := range h.byRequester {
		subs += len(set)
	}
	for _, set := range h.watchers {
		subs += len(set)
	}
	for _, set := range h.byRecipient {
		subs += len(set)
	}
	conns := len(h.conns)
	h.mu.Unlock()
	return Stats{
		Connections:      conns,
		Subscriptions:    subs,
		NoticesPublished: h.counters.noticesPublished.Load(),
		NoticesDropped:   h.counters.noticesDropped.Load(),
		EventsDispatched: h.counters.eventsDispatched.Load(),
		EventsDelivered:  h.counters.eventsDelivered.Load(),
		EventsBehind:     h.counters.eventsBehind.Load(),
	}
}

// Wait returns once every connection the hub closed or refused has
// finished closing (after Close), or when ctx ends: the process must not
// exit before the close frames are on the wire.
func (h *Hub) Wait(ctx context.Context) error {
	for {
		h.mu.Lock()
		open, gone := len(h.conns)+len(h.tracked), h.gone
		h.mu.Unlock()
		if open == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-gone:
		}
	}
}

// signalGone wakes the callers of Wait; h.mu is held.
func (h *Hub) signalGone() {
	close(h.gone)
	h.gone = make(chan struct{})
}
