package live

import (
	"context"
	"slices"
	"sync"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/event"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/nodes"
	"github.com/switchboardhq/switchboard/internal/privacy"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// subscriber is one ticketEvents subscription.
type subscriber struct {
	hub    *Hub
	conn   *Conn
	filter Filter
	// customer is set for unfiltered customer subscriptions, indexed by
	// requester.
	customer globalid.ID
	ch       chan *Event
	ctx      context.Context

	mu sync.Mutex
	// replaying: events older than the seam are still being read from
	// the log; live ones wait in pending meanwhile.
	replaying bool
	pending   []*Event
	// lagged: live events were dropped while replaying; the replay reads
	// them from the log.
	lagged bool
	// sent is the cursor of the last event queued, so that nothing is
	// queued twice across the seam between replay and live.
	sent   int64
	closed bool

	// With shared rendering (share set): the results owed to the client,
	// in order, and the renders this subscriber's own execution is making,
	// in the order of the events in ch.
	share     *Share
	owed      []*render
	rendering []*render
}

// Subscribe starts a ticketEvents subscription for the viewer of ctx:
// events matching f that the viewer may see, first those after the cursor
// after (when given) from the log, then live ones, without gap or
// duplicate. It ends when ctx ends.
func (h *Hub) Subscribe(ctx context.Context, f Filter, after *string) (<-chan *Event, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	if f.TicketID != "" {
		if err := nodes.MustSee(ctx, h.client, "ticketID", globalid.PrefixTicket, f.TicketID); err != nil {
			return nil, err
		}
	}
	if f.GroupID != "" {
		if err := nodes.MustSee(ctx, h.client, "groupID", globalid.PrefixGroup, f.GroupID); err != nil {
			return nil, err
		}
	}
	if err := f.compile(h.dialect); err != nil {
		return nil, err
	}
	from := int64(-1)
	if after != nil {
		if from, err = h.checkCursor(ctx, *after); err != nil {
			return nil, err
		}
	}
	s := &subscriber{hub: h, conn: h.connOf(ctx), filter: f, ch: make(chan *Event, h.opts.SubscriberQueue)}
	if f.TicketID == "" && f.GroupID == "" && v.IsCustomer() {
		s.customer = v.UserID
	}
	sh := shareFrom(ctx)
	s.share = sh
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, apierr.Errorf(apierr.Unavailable, "the server is shutting down")
	}
	if sh != nil {
		// Only once the subscription is sure to start: an attached Share
		// tells the transport that events (and Ready calls) will follow.
		sh.sub.Store(s)
	}
	seam := h.last
	s.ctx = ctx
	s.sent = max(from, 0)
	s.replaying = from >= 0 && from < seam
	h.index(s, true)
	h.mu.Unlock()
	context.AfterFunc(ctx, s.close)
	if s.replaying {
		go s.replay(ctx, from)
	}
	return s.ch, nil
}

// checkCursor reads a client's cursor: it must not be ahead of the log,
// nor older than what the log still holds.
func (h *Hub) checkCursor(ctx context.Context, after string) (int64, error) {
	from, ok := ParseCursor(after)
	if !ok {
		return 0, apierr.Invalid("after", "after must be a cursor from an earlier event")
	}
	head, err := h.head(ctx)
	if err != nil {
		return 0, err
	}
	if from > head {
		return 0, apierr.Invalid("after", "the cursor %s is ahead of the event log", after)
	}
	if from == head {
		return from, nil
	}
	oldest, err := h.client.Event.Query().Order(event.ByCursor()).First(viewer.SystemContext(ctx))
	switch {
	case err == nil && oldest.Cursor <= from+1:
		return from, nil
	case err == nil || ent.IsNotFound(err):
		return 0, apierr.Errorf(apierr.CursorExpired, "the events after cursor %s are older than the retention of %s; refetch, then subscribe again without after", after, h.opts.Retention)
	}
	return 0, err
}

// index adds (or removes) s in the index of what it filters on.
func (h *Hub) index(s *subscriber, add bool) {
	var set map[*subscriber]struct{}
	var parent map[globalid.ID]map[*subscriber]struct{}
	var key globalid.ID
	switch {
	case s.filter.TicketID != "":
		parent, key = h.byTicket, s.filter.TicketID
	case s.filter.GroupID != "":
		parent, key = h.byGroup, s.filter.GroupID
	case s.customer != "":
		parent, key = h.byRequester, s.customer
	default:
		set = h.staff
	}
	if parent != nil {
		set = parent[key]
		if set == nil && add {
			set = map[*subscriber]struct{}{}
			parent[key] = set
		}
	}
	if add {
		set[s] = struct{}{}
		return
	}
	delete(set, s)
	if parent != nil && len(set) == 0 {
		delete(parent, key)
	}
}

// view is e as the subscriber gets it, judged on the ticket before and
// after the change by the subscription's filter and the viewer's reach:
// e itself when the ticket is in view on both sides (and the viewer may
// see this change), its TICKET_ENTERED form when only after, its
// TICKET_LEFT form when only before, nil when neither. matches memoizes
// the filters' results for the event across subscribers (nil: none).
func (s *subscriber) view(e *Event, matches map[string][2]bool) *Event {
	v := s.conn.Viewer()
	if e.Type == eventMembership {
		if v != nil && slices.Contains(e.Members, v.UserID) {
			return viewChanged(e.Seq, e.At)
		}
		return nil
	}
	m, ok := matches[s.filter.key]
	if !ok {
		m = [2]bool{e.Before != nil && s.filter.Matches(e.Before), s.filter.Matches(e.After)}
		if matches != nil {
			matches[s.filter.key] = m
		}
	}
	before := m[0] && privacy.InReach(v, e.Before)
	after := m[1] && privacy.InReach(v, e.After)
	// What is rendered is the ticket as it is now (e.Ticket), which a
	// later change may have taken out of the viewer's reach: then it is
	// not sent, and the view loses the ticket at once (the later change's
	// own TICKET_LEFT then changes nothing).
	if (before || after) && !privacy.InReach(v, e.Ticket) {
		if before {
			return e.left
		}
		return nil
	}
	switch {
	case before == after || e.Type == EventTicketCreated:
		if after && Visible(v, e, s.hub.opts.StaffOnlyFields) {
			return e
		}
		return nil
	case after:
		return e.entered
	}
	return e.left
}

// deliverAny queues an event that is not a rendering of the log's own
// (VIEW_CHANGED): the subscriber renders it itself.
func (s *subscriber) deliverAny(e *Event) {
	if s.share == nil {
		s.deliver(e)
		return
	}
	s.deliverShared(e, &render{event: e})
}

// deliver queues a live event.
func (s *subscriber) deliver(e *Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed || e.Seq <= s.sent:
	case s.replaying:
		s.holdLocked(e)
	default:
		select {
		case s.ch <- e:
			s.sent = e.Seq
			s.hub.counters.eventsDelivered.Add(1)
			s.ready()
		default:
			s.hub.counters.eventsBehind.Add(1)
			s.lagLocked()
		}
	}
}

// holdLocked keeps a live event while the log is being read; when too
// many wait, they are dropped and read from the log instead.
func (s *subscriber) holdLocked(e *Event) {
	if len(s.pending) >= s.hub.opts.SubscriberQueue {
		s.hub.counters.eventsBehind.Add(int64(len(s.pending)) + 1)
		s.lagged = true
		s.pending = nil
		return
	}
	s.pending = append(s.pending, e)
}

// lagLocked handles a subscriber whose queue is full: rather than drop it
// (a burst would disconnect readers that keep up), it reads the log from
// its last queued event until it has caught up, waiting for room as it
// goes. A client that stops reading altogether is disconnected by its
// transport, whose own queue is bounded.
func (s *subscriber) lagLocked() {
	if s.replaying {
		s.lagged = true
		s.pending = nil
		return
	}
	s.replaying = true
	go s.replay(s.ctx, s.sent)
}

// replay queues the visible events after from from the log, up to the
// last dispatched event, then the live ones that arrived meanwhile, until
// nothing is left to catch up.
func (s *subscriber) replay(ctx context.Context, from int64) {
	// Internal notes are read for customers too: one that moves a
	// ticket's updatedAt can take it into or out of a filter.
	var where []predicate.Event
	if s.filter.TicketID != "" {
		where = append(where, event.Or(event.TicketID(s.filter.TicketID), event.Type(string(eventMembership))))
	}
	if s.customer != "" {
		where = append(where, event.RequesterID(s.customer))
	}
	for {
		s.hub.mu.Lock()
		seam := s.hub.last
		s.hub.mu.Unlock()
		for from < seam {
			events, err := s.hub.read(ctx, append(where, event.CursorGT(from), event.CursorLTE(seam))...)
			if err != nil {
				if ctx.Err() == nil {
					s.hub.log.ErrorContext(ctx, "replaying events", "err", err)
					s.conn.Disconnect(CloseTooSlow, "could not read the event log; reconnect and resume")
				}
				return
			}
			if len(events) == 0 {
				break
			}
			for _, e := range events {
				if ev := s.view(e, nil); ev != nil && !s.send(ctx, ev) {
					return
				}
			}
			from = events[len(events)-1].Seq
		}
		from = max(from, seam)
		s.mu.Lock()
		pending := s.pending
		s.pending = nil
		switch {
		case s.lagged:
			// Live events were dropped meanwhile: read them from the log.
			s.lagged = false
			s.mu.Unlock()
			continue
		case len(pending) == 0:
			s.replaying = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		for _, e := range pending {
			if !s.send(ctx, e) {
				return
			}
			from = max(from, e.Seq)
		}
	}
}

// send queues e, waiting for room: only replay waits, while live events
// are held in pending.
func (s *subscriber) send(ctx context.Context, e *Event) bool {
	s.mu.Lock()
	skip := e.Seq <= s.sent
	if !skip && s.share != nil {
		// Replayed events are rendered by the subscriber alone.
		r := &render{event: e, renderer: s, subs: []*subscriber{s}}
		s.owed = append(s.owed, r)
		s.rendering = append(s.rendering, r)
	}
	s.mu.Unlock()
	if skip {
		return true
	}
	select {
	case s.ch <- e:
		s.mu.Lock()
		s.sent = e.Seq
		s.ready()
		s.mu.Unlock()
		s.hub.counters.eventsDelivered.Add(1)
		return true
	case <-ctx.Done():
		return false
	}
}

// ready tells the transport of a sharing subscriber that the execution
// can take one more result (an event queued, or the end) without waiting.
func (s *subscriber) ready() {
	if s.share != nil {
		s.share.out.Ready()
	}
}

func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	s.pending = nil
	owed := s.rendering
	s.rendering = nil
	// The context is done: the execution returns at once, with the end.
	s.ready()
	s.mu.Unlock()
	if len(owed) > 0 {
		s.handOver(owed)
	}
	s.hub.mu.Lock()
	s.hub.index(s, false)
	s.hub.mu.Unlock()
}
