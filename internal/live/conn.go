package live

import (
	"context"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Close codes the hub asks transports to close connections with (the
// websocket codes of graphql-transport-ws; event streams just end).
const (
	// CloseForbidden: the session or token ended, or the user was
	// deactivated (4403).
	CloseForbidden = 4403
	// CloseTooManyConnections: the user has MaxConnectionsPerUser open.
	CloseTooManyConnections = 4429
	// CloseTooSlow: the client did not read its events fast enough (1013,
	// "try again later": clients reconnect and resume from their cursor).
	CloseTooSlow = 1013
	// CloseGoingAway: the server is shutting down (1001).
	CloseGoingAway = 1001
)

// connectionLimitRetry is the wait a connection refused for the per-user
// limit is told. A place frees only when one of the user's connections
// closes, which the server cannot foresee: long enough that a client
// retrying in a loop costs little, short enough that a closed tab's place
// is taken soon.
const connectionLimitRetry = 30 * time.Second

// Conn is one client connection (a websocket or an event stream) known
// to the hub. Its context carries the viewer; revalidation replaces that
// viewer in place, so every subscription of the connection sees the change.
type Conn struct {
	hub    *Hub
	ctx    context.Context
	viewer viewer.Ref // ctx's
	// user is counted against MaxConnectionsPerUser (as of Connect).
	user       globalid.ID
	disconnect func(code int, reason string)
	once       sync.Once
}

type connKey struct{}

// Connect registers a connection whose context ctx carries its viewer.
// disconnect must close the connection (without blocking) with the code.
// The returned context carries the Conn for the subscriptions made on it.
func (h *Hub) Connect(ctx context.Context, disconnect func(code int, reason string)) (context.Context, *Conn, error) {
	c := &Conn{hub: h, ctx: ctx, viewer: viewer.RefOf(ctx), disconnect: disconnect}
	v := c.Viewer()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, apierr.Errorf(apierr.Unavailable, "the server is shutting down")
	}
	if v != nil {
		if h.perUser[v.UserID] >= h.opts.MaxConnectionsPerUser {
			return nil, nil, apierr.TooMany(connectionLimitRetry, "you have %d live connections open, the most allowed", h.opts.MaxConnectionsPerUser)
		}
		if h.perUser[v.UserID] == 0 && v.IsStaff() {
			// Online at once, not at the next renewal; away from the lock
			// and from the connection's own fate.
			go h.touchOnline(context.WithoutCancel(ctx), v.UserID)
		}
		h.perUser[v.UserID]++
		c.user = v.UserID
	}
	h.conns[c] = struct{}{}
	return context.WithValue(ctx, connKey{}, c), c, nil
}

// Viewer is the connection's viewer as of the last revalidation.
func (c *Conn) Viewer() *viewer.Viewer { return c.viewer.Load() }

// Close unregisters the connection (its subscriptions end with their
// contexts).
func (c *Conn) Close() {
	c.once.Do(func() {
		h := c.hub
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.conns[c]; !ok {
			return
		}
		delete(h.conns, c)
		h.signalGone()
		if c.user != "" {
			if h.perUser[c.user]--; h.perUser[c.user] <= 0 {
				delete(h.perUser, c.user)
			}
		}
	})
}

// Disconnect asks the transport to close the connection.
func (c *Conn) Disconnect(code int, reason string) { c.disconnect(code, reason) }

// connOf returns the connection of ctx or, for callers not through a live
// transport (tests, in-process callers), a connection of its own, never
// revalidated.
func (h *Hub) connOf(ctx context.Context) *Conn {
	if c, ok := ctx.Value(connKey{}).(*Conn); ok {
		return c
	}
	return &Conn{hub: h, ctx: ctx, viewer: viewer.RefOf(ctx), disconnect: func(int, string) {}}
}
