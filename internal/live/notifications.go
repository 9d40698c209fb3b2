package live

import (
	"context"
	"sync"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/privacy"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// inboxSub is one notifications subscription: the notifications of its
// viewer, in the order of their events. It follows the same course as a
// ticketEvents subscriber (replay from the inbox up to the seam, live ones
// held meanwhile, a full queue turning into a replay) with notifications
// instead of events.
type inboxSub struct {
	hub  *Hub
	conn *Conn
	user globalid.ID
	ch   chan *ent.Notification
	ctx  context.Context

	mu        sync.Mutex
	replaying bool
	pending   []*ent.Notification
	lagged    bool
	// sent is the event cursor of the last notification queued.
	sent   int64
	closed bool
}

// SubscribeNotifications starts a notifications subscription for the
// viewer of ctx: first their notifications of events after the cursor
// after (when given), then live ones, without gap or duplicate. It ends
// when ctx ends.
func (h *Hub) SubscribeNotifications(ctx context.Context, after *string) (<-chan *ent.Notification, error) {
	v, err := viewer.RequireUser(ctx)
	if err != nil {
		return nil, err
	}
	from := int64(-1)
	if after != nil {
		if from, err = h.checkInboxCursor(ctx, *after); err != nil {
			return nil, err
		}
	}
	s := &inboxSub{hub: h, conn: h.connOf(ctx), user: v.UserID, ch: make(chan *ent.Notification, h.opts.SubscriberQueue), ctx: ctx}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, apierr.Errorf(apierr.Unavailable, "the server is shutting down")
	}
	seam := h.last
	s.sent = max(from, 0)
	s.replaying = from >= 0 && from < seam
	set := h.byRecipient[s.user]
	if set == nil {
		set = map[*inboxSub]struct{}{}
		h.byRecipient[s.user] = set
	}
	set[s] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, s.close)
	if s.replaying {
		go s.replay(ctx, from)
	}
	return s.ch, nil
}

// checkInboxCursor reads a client's cursor, which must not be ahead of
// the log. Unlike ticketEvents it does not expire with the log's
// retention: the replay reads the inbox, which keeps its notifications.
func (h *Hub) checkInboxCursor(ctx context.Context, after string) (int64, error) {
	from, ok := ParseCursor(after)
	if !ok {
		return 0, apierr.Invalid("after", "after must be the cursor of an earlier notification")
	}
	head, err := h.head(ctx)
	if err != nil {
		return 0, err
	}
	if from > head {
		return 0, apierr.Invalid("after", "the cursor %s is ahead of the event log", after)
	}
	return from, nil
}

// inboxTargetsLocked lists the notifications subscriptions of the users e
// notified, by user. The caller holds h.mu.
func (h *Hub) inboxTargetsLocked(e *Event) map[globalid.ID][]*inboxSub {
	var out map[globalid.ID][]*inboxSub
	for _, u := range e.Notified {
		for s := range h.byRecipient[u] {
			if out == nil {
				out = map[globalid.ID][]*inboxSub{}
			}
			out[u] = append(out[u], s)
		}
	}
	return out
}

// inboxSubsOfLocked lists the notifications subscriptions of users. The
// caller holds h.mu.
func (h *Hub) inboxSubsOfLocked(users []globalid.ID) []*inboxSub {
	var out []*inboxSub
	for _, u := range users {
		for s := range h.byRecipient[u] {
			out = append(out, s)
		}
	}
	return out
}

// notify delivers the notifications of e to the subscriptions of their
// recipients: one query for the event, whatever the number of recipients
// and subscriptions, read as the system and then judged per subscriber as
// the policy would (the recipient may read the ticket), in memory.
func (h *Hub) notify(ctx context.Context, e *Event, targets map[globalid.ID][]*inboxSub) {
	recipients := make([]globalid.ID, 0, len(targets))
	for u := range targets {
		recipients = append(recipients, u)
	}
	ns, err := h.client.Notification.Query().
		Where(notification.EventCursor(e.Seq), notification.RecipientIDIn(recipients...)).
		All(viewer.SystemContext(ctx))
	if err != nil {
		if ctx.Err() == nil {
			h.log.ErrorContext(ctx, "reading notifications", "cursor", e.Seq, "err", err)
			// Their subscriptions would miss it: they reconnect and resume.
			for _, subs := range targets {
				for _, s := range subs {
					s.conn.Disconnect(CloseTooSlow, "could not read your notifications; reconnect and resume from your last cursor")
				}
			}
		}
		return
	}
	for _, n := range ns {
		if e.Ticket != nil && e.Ticket.ID == n.TicketID {
			// Rendered without a query per subscriber: the ticket as it
			// is now, which every recipient below may read (as the
			// ticketEvents render e.Ticket).
			n.Edges.Ticket = e.Ticket
		}
		for _, s := range targets[n.RecipientID] {
			if v := s.conn.Viewer(); privacy.InReach(v, e.After) && privacy.InReach(v, e.Ticket) {
				s.deliver(n)
			}
		}
	}
}

// deliver queues a live notification.
func (s *inboxSub) deliver(n *ent.Notification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed || n.EventCursor <= s.sent:
	case s.replaying:
		if len(s.pending) >= s.hub.opts.SubscriberQueue {
			// Too many wait: they are read from the inbox instead.
			s.lagged = true
			s.pending = nil
			return
		}
		s.pending = append(s.pending, n)
	default:
		select {
		case s.ch <- n:
			s.sent = n.EventCursor
		default:
			// Full: rather than drop the subscription (a burst would
			// disconnect readers that keep up), read the inbox from the
			// last one queued, waiting for room.
			s.replaying = true
			go s.replay(s.ctx, s.sent)
		}
	}
}

// replay queues the viewer's notifications of events after from up to
// the last dispatched event, read through the viewer's own context (the
// policy decides), then the live ones that arrived meanwhile, until
// nothing is left to catch up.
func (s *inboxSub) replay(ctx context.Context, from int64) {
	for {
		s.hub.mu.Lock()
		seam := s.hub.last
		s.hub.mu.Unlock()
		for from < seam {
			ns, err := s.hub.client.Notification.Query().
				Where(notification.EventCursorGT(from), notification.EventCursorLTE(seam)).
				Order(ent.Asc(notification.FieldEventCursor)).Limit(batchSize).All(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.hub.log.ErrorContext(ctx, "replaying notifications", "err", err)
					s.conn.Disconnect(CloseTooSlow, "could not read your notifications; reconnect and resume")
				}
				return
			}
			for _, n := range ns {
				if !s.send(ctx, n) {
					return
				}
			}
			if len(ns) < batchSize {
				break
			}
			from = ns[len(ns)-1].EventCursor
		}
		from = max(from, seam)
		s.mu.Lock()
		pending := s.pending
		s.pending = nil
		switch {
		case s.lagged:
			s.lagged = false
			s.mu.Unlock()
			continue
		case len(pending) == 0:
			s.replaying = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		for _, n := range pending {
			if !s.send(ctx, n) {
				return
			}
			from = max(from, n.EventCursor)
		}
	}
}

// send queues n, waiting for room (replay only).
func (s *inboxSub) send(ctx context.Context, n *ent.Notification) bool {
	s.mu.Lock()
	skip := n.EventCursor <= s.sent
	s.mu.Unlock()
	if skip {
		return true
	}
	select {
	case s.ch <- n:
		s.mu.Lock()
		s.sent = n.EventCursor
		s.mu.Unlock()
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *inboxSub) close() {
	s.mu.Lock()
	s.closed = true
	s.pending = nil
	s.mu.Unlock()
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.byRecipient[s.user]
	delete(set, s)
	if len(set) == 0 {
		delete(h.byRecipient, s.user)
	}
}
