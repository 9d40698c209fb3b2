package live

import (
	"context"
	"slices"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/nodes"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/privacy"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// TicketViewer is someone looking at a ticket (collision detection).
type TicketViewer struct {
	User      *ent.User
	Typing    bool
	ExpiresAt time.Time
}

// watcher is one ticketViewers subscription.
type watcher struct {
	conn *Conn
	ch   chan []*TicketViewer
	last []presence.Entry
}

// onTicket checks that the viewer is signed in and reaches the ticket.
// That presence is for agents and admins is not restated here: the schema
// marks ticketViewers and viewTicket @staffOnly, the directive every
// GraphQL transport goes through.
func (h *Hub) onTicket(ctx context.Context, ticketID globalid.ID) (*viewer.Viewer, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	return v, nodes.MustSee(ctx, h.client, "ticketID", globalid.PrefixTicket, ticketID)
}

// ViewTicket records the viewer's heartbeat on a ticket (viewing, or
// typing) for PresenceTTL, and tells every instance.
func (h *Hub) ViewTicket(ctx context.Context, ticketID globalid.ID, typing bool) error {
	v, err := h.onTicket(ctx, ticketID)
	if err != nil {
		return err
	}
	if v.ReadOnly {
		return apierr.Errorf(apierr.Forbidden, "this API token can only read")
	}
	if err := h.presence.Touch(ctx, ticketID, v.UserID, typing, h.opts.PresenceTTL); err != nil {
		return err
	}
	h.presenceChanged(ctx, ticketID)
	h.publish(broker.Notice{Kind: broker.Presence, TicketID: ticketID})
	return nil
}

// Viewers streams who is on a ticket: the current list at once, then
// every change (arrivals, typing, expiries).
func (h *Hub) Viewers(ctx context.Context, ticketID globalid.ID) (<-chan []*TicketViewer, error) {
	if _, err := h.onTicket(ctx, ticketID); err != nil {
		return nil, err
	}
	entries, list, err := h.viewersOf(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	// The first list goes into the fresh one-slot channel while the
	// watcher is registered, so no change can get in before it; a change
	// between the read and now is caught by the next sweep.
	w := &watcher{conn: h.connOf(ctx), ch: make(chan []*TicketViewer, 1), last: entries}
	w.ch <- list
	h.mu.Lock()
	if h.watchers[ticketID] == nil {
		h.watchers[ticketID] = map[*watcher]struct{}{}
	}
	h.watchers[ticketID][w] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.watchers[ticketID], w)
		if len(h.watchers[ticketID]) == 0 {
			delete(h.watchers, ticketID)
		}
	})
	return w.ch, nil
}

// presenceChanged re-reads a watched ticket's viewers and sends the list
// to its watchers when it changed: one read per ticket, not per watcher.
func (h *Hub) presenceChanged(ctx context.Context, ticketID globalid.ID) {
	h.mu.Lock()
	n := len(h.watchers[ticketID])
	h.mu.Unlock()
	if n == 0 {
		return
	}
	entries, list, err := h.viewersOf(ctx, ticketID)
	if err != nil {
		h.log.WarnContext(ctx, "reading presence", "err", err)
		return
	}
	// Watchers who no longer reach the ticket (moved out of its group)
	// get nothing more.
	t, err := h.client.Ticket.Get(viewer.SystemContext(ctx), ticketID)
	if err != nil {
		h.log.WarnContext(ctx, "reading a watched ticket", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers[ticketID] {
		if v := w.conn.Viewer(); !v.IsStaff() || !privacy.InReach(v, t) {
			continue
		}
		if slices.EqualFunc(w.last, entries, func(a, b presence.Entry) bool {
			return a.UserID == b.UserID && a.Typing == b.Typing
		}) {
			continue
		}
		w.last = entries
		// Presence is a state, not a history: a watcher that has not read
		// the previous list gets only the newest.
		select {
		case <-w.ch:
		default:
		}
		w.ch <- list
	}
}

func (h *Hub) viewersOf(ctx context.Context, ticketID globalid.ID) ([]presence.Entry, []*TicketViewer, error) {
	entries, err := h.presence.List(ctx, ticketID)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]globalid.ID, len(entries))
	for i, e := range entries {
		ids[i] = e.UserID
	}
	users, err := h.client.User.Query().Where(user.IDIn(ids...)).All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	byID := map[globalid.ID]*ent.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	list := []*TicketViewer{}
	for _, e := range entries {
		if u := byID[e.UserID]; u != nil {
			list = append(list, &TicketViewer{User: u, Typing: e.Typing, ExpiresAt: e.ExpiresAt})
		}
	}
	return entries, list, nil
}
