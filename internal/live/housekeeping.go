package live

import (
	"context"
	"time"

	"github.com/switchboardhq/switchboard/ent/event"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// pruneInterval is how often events older than the retention are deleted.
const pruneInterval = time.Minute

// housekeeping expires presence and prunes the log, away from the
// dispatch loop so that none of it delays events.
func (h *Hub) housekeeping(ctx context.Context) {
	sweep := time.NewTicker(h.opts.PresenceSweep)
	defer sweep.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	// Three renewals per TTL: one lost to a slow Redis does not drop anyone.
	online := time.NewTicker(h.opts.PresenceTTL / 3)
	defer online.Stop()
	h.Prune(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-online.C:
			h.renewOnline(ctx)
		case <-sweep.C:
			h.mu.Lock()
			tickets := make([]globalid.ID, 0, len(h.watchers))
			for id := range h.watchers {
				tickets = append(tickets, id)
			}
			h.mu.Unlock()
			for _, id := range tickets {
				h.presenceChanged(ctx, id)
			}
		case <-prune.C:
			h.Prune(ctx)
		}
	}
}

// renewOnline renews the online entries of the staff connected here.
func (h *Hub) renewOnline(ctx context.Context) {
	h.mu.Lock()
	staff := map[globalid.ID]bool{}
	for c := range h.conns {
		if v := c.Viewer(); v.IsStaff() {
			staff[v.UserID] = true
		}
	}
	h.mu.Unlock()
	for id := range staff {
		h.touchOnline(ctx, id)
	}
}

// touchOnline records that the staff member is online, for PresenceTTL.
func (h *Hub) touchOnline(ctx context.Context, userID globalid.ID) {
	if err := h.presence.Touch(ctx, presence.Online, userID, false, h.opts.PresenceTTL); err != nil && ctx.Err() == nil {
		h.log.WarnContext(ctx, "recording an agent online", "err", err)
	}
}

// AgentsOnline returns the agents and admins with a live connection to
// any instance (as of the last renewal: an entry lapses PresenceTTL after
// the person's last connection closed).
func (h *Hub) AgentsOnline(ctx context.Context) ([]globalid.ID, error) {
	entries, err := h.presence.List(ctx, presence.Online)
	if err != nil {
		return nil, err
	}
	ids := make([]globalid.ID, len(entries))
	for i, e := range entries {
		ids[i] = e.UserID
	}
	return ids, nil
}

// revalidating runs Revalidate on its own, so that a slow presence sweep
// never delays the end of a revoked session.
func (h *Hub) revalidating(ctx context.Context) {
	t := time.NewTicker(h.opts.RevalidateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Revalidate(ctx)
		}
	}
}

// Revalidate checks every connection's credentials again: connections
// whose session or token ended, or whose user was deactivated, are closed
// with 4403; changed roles and group memberships apply at once to their
// subscriptions.
func (h *Hub) Revalidate(ctx context.Context) {
	h.mu.Lock()
	conns := make([]*Conn, 0, len(h.conns))
	viewers := make([]*viewer.Viewer, 0, len(h.conns))
	for c := range h.conns {
		if v := c.Viewer(); v != nil {
			conns = append(conns, c)
			viewers = append(viewers, v)
		}
	}
	h.mu.Unlock()
	if len(conns) == 0 {
		return
	}
	h.applyRevalidation(ctx, conns, viewers, false)
}

// applyRevalidation re-reads the viewers of conns and applies what it
// finds. The periodic check (fresh false) leaves a viewer that changed
// while it read: a membership change applied at its place in the log
// (fresh) was read after its commit, and must not be undone by a check
// that read before it. It reports false when the viewers could not be
// read.
func (h *Hub) applyRevalidation(ctx context.Context, conns []*Conn, viewers []*viewer.Viewer, fresh bool) bool {
	now, err := h.auth.Revalidate(ctx, viewers)
	if err != nil {
		if ctx.Err() == nil {
			h.log.ErrorContext(ctx, "revalidating live connections", "err", err)
		}
		return false
	}
	for i, c := range conns {
		switch v := now[i]; {
		case v == nil:
			c.Disconnect(CloseForbidden, "your session ended; sign in again")
		case v.Role != viewers[i].Role:
			// Subscriptions are indexed by role; start afresh.
			c.Disconnect(CloseForbidden, "your access changed; reconnect")
		case fresh:
			viewer.SignIn(c.ctx, v)
		default:
			viewer.Replace(c.ctx, viewers[i], v)
		}
	}
	return true
}

// Prune deletes events older than the retention, and forgets expired
// presence entries of a store that does not expire them by itself.
func (h *Hub) Prune(ctx context.Context) {
	if s, ok := h.presence.(interface{ Sweep() }); ok {
		s.Sweep()
	}
	_, err := h.client.Event.Delete().
		Where(event.CreatedAtLT(time.Now().Add(-h.opts.Retention))).
		Exec(viewer.SystemContext(ctx))
	if err != nil && ctx.Err() == nil {
		h.log.WarnContext(ctx, "pruning the event log", "err", err)
	}
}

// Close disconnects every connection with 1001 (going away) so that
// clients reconnect to another instance, and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	closers := make([]func(int, string), 0, len(h.conns)+len(h.tracked))
	for c := range h.conns {
		closers = append(closers, c.disconnect)
	}
	for f := range h.tracked {
		closers = append(closers, *f)
	}
	h.mu.Unlock()
	for _, close := range closers {
		close(CloseGoingAway, "server shutting down")
	}
}

// Track registers a connection that is not (yet) a Conn, so that Close
// reaches it too and Wait waits for it; release unregisters it once it is
// closed. ok is false after Close: the caller closes it with 1001 itself
// (and still releases it).
func (h *Hub) Track(disconnect func(code int, reason string)) (release func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := &disconnect
	h.tracked[key] = struct{}{}
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.tracked, key)
		h.signalGone()
	}, !h.closed
}
