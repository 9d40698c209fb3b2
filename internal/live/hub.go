// Package live delivers changes to connected clients as they happen. The
// Hub of an instance reads the event log (internal schema Event) after every
// announcement on the broker, and at a steady poll, so it sees every
// committed event exactly once and in order, whatever the broker lost. Each
// event is built once (one batch of queries, whatever the number of
// subscribers) and handed to the local subscribers whose filter it matches
// and whose viewer may see it, by the same rules as queries. Connections
// (websockets, event streams) are registered with the hub, which checks
// their credentials again every few seconds and closes those whose session
// or token ended, and applies changed group memberships.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/attachment"
	"github.com/switchboardhq/switchboard/ent/event"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/sequence"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Options are the hub's settings (docs/configuration.md).
type Options struct {
	// Retention is how long events stay in the log, and so how far back
	// a client can resume with after:.
	Retention time.Duration
	// PollInterval is how often the log is read without an announcement:
	// the bound on delay when the broker loses one.
	PollInterval time.Duration
	// RevalidateInterval is how often connections' credentials and group
	// memberships are checked again.
	RevalidateInterval time.Duration
	// SubscriberQueue bounds the events waiting for one subscription; a
	// subscription that falls this far behind is disconnected.
	SubscriberQueue int
	// MaxConnectionsPerUser bounds one user's live connections on an
	// instance.
	MaxConnectionsPerUser int
	// PresenceTTL is how long a viewTicket heartbeat lasts, and how long
	// an agent stays online after their last connection closed.
	PresenceTTL time.Duration
	// StaffOnlyFields are the ticket fields customers may not know of
	// (graph.StaffOnlyFields("Ticket")), also as changes.
	StaffOnlyFields map[string]bool
	// PresenceSweep is how often watched tickets' viewers are re-read, so
	// that expired entries disappear.
	PresenceSweep time.Duration
	// EventLag, if set, is told each dispatched event's age (now minus
	// its commit time), for metrics.
	EventLag func(time.Duration)
}

// DefaultOptions are the defaults of the settings.
func DefaultOptions() Options {
	return Options{
		Retention:             24 * time.Hour,
		PollInterval:          time.Second,
		RevalidateInterval:    5 * time.Second,
		SubscriberQueue:       64,
		MaxConnectionsPerUser: 50,
		PresenceTTL:           30 * time.Second,
		PresenceSweep:         time.Second,
	}
}

// Revalidator re-reads connected viewers (internal/auth).
type Revalidator interface {
	Revalidate(ctx context.Context, viewers []*viewer.Viewer) ([]*viewer.Viewer, error)
}

// outboxSize bounds the notices waiting for the broker.
const outboxSize = 1024

// batchSize bounds the events read from the log at once.
const batchSize = 500

// Hub is one instance's fan-out of live updates.
type Hub struct {
	client   *ent.Client
	broker   broker.Broker
	presence presence.Store
	auth     Revalidator
	opts     Options
	log      *slog.Logger
	wake     chan struct{}
	outbox   chan broker.Notice
	// dialect is the SQL dialect of the database, learnt at the first
	// read of the log's position.
	dialect     string
	dialectOnce sync.Once

	mu sync.Mutex
	// last is the cursor of the last event dispatched.
	last int64
	// Subscribers indexed by what they filter on, so that an event only
	// touches the subscribers it may concern.
	byTicket    map[globalid.ID]map[*subscriber]struct{}
	byGroup     map[globalid.ID]map[*subscriber]struct{}
	byRequester map[globalid.ID]map[*subscriber]struct{}
	staff       map[*subscriber]struct{}
	conns       map[*Conn]struct{}
	perUser     map[globalid.ID]int
	watchers    map[globalid.ID]map[*watcher]struct{}
	// byRecipient are the notifications subscriptions, by user.
	byRecipient map[globalid.ID]map[*inboxSub]struct{}
	// tracked are connections not yet registered (websockets before
	// connection_init), closed with the others on shutdown.
	tracked map[*func(int, string)]struct{}
	closed  bool
	// gone is closed, and replaced, whenever a connection leaves conns or
	// tracked: Wait sleeps on it instead of polling.
	gone chan struct{}

	counters counters
}

// New returns a hub; Init and Run (or Start) start it.
func New(client *ent.Client, b broker.Broker, p presence.Store, auth Revalidator, opts Options, log *slog.Logger) *Hub {
	d := DefaultOptions()
	orDefault(&opts.Retention, d.Retention)
	orDefault(&opts.PollInterval, d.PollInterval)
	orDefault(&opts.RevalidateInterval, d.RevalidateInterval)
	orDefault(&opts.SubscriberQueue, d.SubscriberQueue)
	orDefault(&opts.MaxConnectionsPerUser, d.MaxConnectionsPerUser)
	orDefault(&opts.PresenceTTL, d.PresenceTTL)
	orDefault(&opts.PresenceSweep, d.PresenceSweep)
	return &Hub{
		client: client, broker: b, presence: p, auth: auth, opts: opts, log: log,
		wake:        make(chan struct{}, 1),
		gone:        make(chan struct{}),
		outbox:      make(chan broker.Notice, outboxSize),
		tracked:     map[*func(int, string)]struct{}{},
		byTicket:    map[globalid.ID]map[*subscriber]struct{}{},
		byGroup:     map[globalid.ID]map[*subscriber]struct{}{},
		byRequester: map[globalid.ID]map[*subscriber]struct{}{},
		staff:       map[*subscriber]struct{}{},
		conns:       map[*Conn]struct{}{},
		perUser:     map[globalid.ID]int{},
		watchers:    map[globalid.ID]map[*watcher]struct{}{},
		byRecipient: map[globalid.ID]map[*inboxSub]struct{}{},
	}
}

// Start is Init, then Run in the background until ctx ends: for tests
// and tools that do not need to join the loops. The server uses Init and
// Run (internal/app).
func (h *Hub) Start(ctx context.Context) error {
	if err := h.Init(ctx); err != nil {
		return err
	}
	go func() { _ = h.Run(ctx) }()
	return nil
}

// Init reads the log's position: subscriptions without a cursor start
// there.
func (h *Hub) Init(ctx context.Context) error {
	last, err := h.head(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.last = last
	h.mu.Unlock()
	return nil
}

// Run runs the hub's loops (reading the log, housekeeping, revalidation,
// announcing to the broker) until ctx ends, and returns once all of them
// have returned: the broker may be closed after it.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { h.dispatchLoop(ctx) })
	wg.Go(func() { h.housekeeping(ctx) })
	wg.Go(func() { h.revalidating(ctx) })
	wg.Go(func() { h.publisher(ctx) })
	wg.Wait()
	return nil
}

// head is the cursor of the newest committed event.
func (h *Hub) head(ctx context.Context) (int64, error) {
	sys := viewer.SystemContext(ctx)
	seq, err := h.client.Sequence.Query().Where(sequence.Name(schema.EventCursorSequence), func(s *sql.Selector) {
		// Live filters are evaluated as this database's SQL would.
		h.dialectOnce.Do(func() { h.dialect = s.Dialect() })
	}).Only(sys)
	if err != nil {
		return 0, errors.Join(errors.New("reading the event log's position"), err)
	}
	return int64(seq.Value), nil
}

// Announce tells every instance that new events are in the log. The local
// hub is woken directly, without waiting for the broker's round trip; the
// broker is told by the publisher, so that a slow or lost Redis never
// holds up the request that made the change.
func (h *Hub) Announce(ctx context.Context) {
	select {
	case h.wake <- struct{}{}:
	default:
	}
	h.publish(broker.Notice{Kind: broker.Events})
}

// publish queues a notice for the publisher; when the queue is full the
// notice is dropped (receivers also poll the log and re-read presence).
func (h *Hub) publish(n broker.Notice) {
	select {
	case h.outbox <- n:
	default:
		h.counters.noticesDropped.Add(1)
	}
}

// publishTimeout bounds one publication to the broker.
const publishTimeout = time.Second

// publisher sends queued notices to the broker, one at a time; runs of
// "new events" notices are sent once, since one says it all.
func (h *Hub) publisher(ctx context.Context) {
	for {
		var n broker.Notice
		select {
		case <-ctx.Done():
			return
		case n = <-h.outbox:
		}
		if n.Kind == broker.Events {
			for len(h.outbox) > 0 && n.Kind == broker.Events {
				next := <-h.outbox
				if next.Kind != broker.Events {
					h.send(ctx, n)
					n = next
				}
			}
		}
		h.send(ctx, n)
	}
}

func (h *Hub) send(ctx context.Context, n broker.Notice) {
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	err := h.broker.Publish(pctx, n)
	if err != nil && ctx.Err() == nil {
		h.log.WarnContext(ctx, "announcing to other instances", "kind", n.Kind, "err", err)
	}
	if err == nil && n.Kind == broker.Events {
		h.counters.noticesPublished.Add(1)
	}
}

func (h *Hub) dispatchLoop(ctx context.Context) {
	poll := time.NewTicker(h.opts.PollInterval)
	defer poll.Stop()
	notices := h.broker.Notices()
	for {
		select {
		case <-ctx.Done():
			return
		case n, ok := <-notices:
			if !ok {
				notices = nil
				continue
			}
			if n.Kind == broker.Presence {
				h.presenceChanged(ctx, n.TicketID)
				continue
			}
			h.catchUp(ctx)
		case <-h.wake:
			h.catchUp(ctx)
		case <-poll.C:
			h.catchUp(ctx)
		}
	}
}

// catchUp dispatches every event committed since the last one dispatched.
func (h *Hub) catchUp(ctx context.Context) {
	for ctx.Err() == nil {
		h.mu.Lock()
		last := h.last
		h.mu.Unlock()
		events, err := h.read(ctx, event.CursorGT(last))
		if err != nil {
			if ctx.Err() == nil {
				h.log.ErrorContext(ctx, "reading the event log", "err", err)
			}
			return
		}
		for _, e := range events {
			h.dispatch(ctx, e)
		}
		if len(events) < batchSize {
			return
		}
	}
}

// read loads a batch of events matching where, oldest first, each with
// its ticket, message and actor: four queries for the whole batch.
func (h *Hub) read(ctx context.Context, where ...predicate.Event) ([]*Event, error) {
	sys := viewer.SystemContext(ctx)
	rows, err := h.client.Event.Query().Where(where...).Order(ent.Asc(event.FieldCursor)).Limit(batchSize).All(sys)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	var ticketIDs, messageIDs, actorIDs []globalid.ID
	for _, r := range rows {
		ticketIDs = append(ticketIDs, deref(r.TicketID))
		if r.MessageID != nil {
			messageIDs = append(messageIDs, *r.MessageID)
		}
		if r.ActorID != nil {
			actorIDs = append(actorIDs, *r.ActorID)
		}
	}
	withReach := func(q *ent.TicketQuery) { q.WithRequester().WithAssignee().WithGroup() }
	tq := h.client.Ticket.Query().Where(ticket.IDIn(ticketIDs...))
	withReach(tq)
	tickets, err := tq.All(sys)
	if err != nil {
		return nil, err
	}
	byTicket := map[globalid.ID]*ent.Ticket{}
	for _, t := range tickets {
		byTicket[t.ID] = t
	}
	byMessage := map[globalid.ID]*ent.Message{}
	if len(messageIDs) > 0 {
		msgs, err := h.client.Message.Query().Where(message.IDIn(messageIDs...)).WithAuthor().WithAttachments(func(q *ent.AttachmentQuery) { q.Order(ent.Asc(attachment.FieldID)) }).WithTicket(withReach).All(sys)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			byMessage[m.ID] = m
		}
	}
	byActor := map[globalid.ID]*ent.User{}
	if len(actorIDs) > 0 {
		actors, err := h.client.User.Query().Where(user.IDIn(actorIDs...)).All(sys)
		if err != nil {
			return nil, err
		}
		for _, u := range actors {
			byActor[u.ID] = u
		}
	}
	out := make([]*Event, len(rows))
	for i, r := range rows {
		e := &Event{
			Seq: r.Cursor, Type: EventType(r.Type), TicketID: deref(r.TicketID), RequesterID: deref(r.RequesterID),
			Internal: r.Internal, At: r.CreatedAt, Members: r.Members, Notified: r.Notified,
			Ticket: byTicket[deref(r.TicketID)], Message: byMessage[deref(r.MessageID)], Actor: byActor[deref(r.ActorID)],
		}
		if e.Before, err = snapshot(r.Before); err == nil {
			e.After, err = snapshot(r.After)
		}
		if err != nil {
			return nil, fmt.Errorf("reading event %d: %w", r.Cursor, err)
		}
		e.Changes = fieldChanges(r.Changes, e.Before, e.After)
		if e.After == nil && e.Type != eventMembership {
			// Logged before snapshots: judged on the ticket as it is,
			// its changes without values (null, not today's twice).
			e.After = e.Ticket
			if e.Type != EventTicketCreated {
				e.Before = e.Ticket
			}
		}
		out[i] = e.withViews()
	}
	return out, nil
}

// snapshot reads a ticket stored in an event (nil when none is).
func snapshot(raw json.RawMessage) (*ent.Ticket, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	t := &ent.Ticket{}
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	return t, nil
}

func (h *Hub) dispatch(ctx context.Context, e *Event) {
	h.mu.Lock()
	if e.Seq <= h.last {
		h.mu.Unlock()
		return
	}
	h.last = e.Seq
	h.counters.eventsDispatched.Add(1)
	if h.opts.EventLag != nil {
		h.opts.EventLag(time.Since(e.At))
	}
	if e.Type == eventMembership {
		targets := h.subscribersOf(e.Members)
		inboxes := h.inboxSubsOfLocked(e.Members)
		h.mu.Unlock()
		h.membershipChanged(ctx, e, targets, inboxes)
		return
	}
	// Only events that notified someone subscribed here cost a query.
	if inboxes := h.inboxTargetsLocked(e); inboxes != nil {
		defer h.notify(ctx, e, inboxes)
	}
	// The subscribers the ticket may concern on either side of the change.
	targets := map[*subscriber]struct{}{}
	collect := func(set map[*subscriber]struct{}) {
		for s := range set {
			targets[s] = struct{}{}
		}
	}
	collect(h.byTicket[e.TicketID])
	for _, t := range []*ent.Ticket{e.Before, e.After} {
		if t == nil {
			continue
		}
		if t.GroupID != nil {
			collect(h.byGroup[*t.GroupID])
		}
		collect(h.byRequester[t.RequesterID])
	}
	collect(h.staff)
	h.mu.Unlock()
	// Each distinct filter is evaluated once for the event, each
	// subscriber's reach checked in memory, each rendering made once.
	matches := map[string][2]bool{}
	renders := map[renderKey]*render{}
	for s := range targets {
		ev := s.view(e, matches)
		switch {
		case ev == nil:
		case s.share == nil:
			s.deliver(ev)
		default:
			key := renderKey{s.share.fingerprint, ev}
			r := renders[key]
			if r == nil {
				r = &render{event: ev}
				renders[key] = r
			}
			s.deliverShared(ev, r)
		}
	}
}

// renderKey identifies one rendering of an event: the form the subscriber
// gets (as is, entered, left) for one fingerprint.
type renderKey struct {
	fingerprint string
	event       *Event
}

// subscribersOf lists the subscribers whose viewer is one of users. The
// caller holds h.mu.
func (h *Hub) subscribersOf(users []globalid.ID) []*subscriber {
	var out []*subscriber
	add := func(set map[*subscriber]struct{}) {
		for s := range set {
			if v := s.conn.Viewer(); v != nil && slices.Contains(users, v.UserID) {
				out = append(out, s)
			}
		}
	}
	for _, index := range []map[globalid.ID]map[*subscriber]struct{}{h.byTicket, h.byGroup, h.byRequester} {
		for _, set := range index {
			add(set)
		}
	}
	add(h.staff)
	return out
}

// membershipChanged applies a change of group memberships at its place in
// the log: the members' connections get their new groups before the next
// event is judged, and each of their ticketEvents subscriptions
// VIEW_CHANGED, since what they may see changed as a whole.
func (h *Hub) membershipChanged(ctx context.Context, e *Event, subs []*subscriber, inboxes []*inboxSub) {
	var conns []*Conn
	var viewers []*viewer.Viewer
	addConn := func(c *Conn) {
		if !slices.Contains(conns, c) {
			conns = append(conns, c)
			viewers = append(viewers, c.Viewer())
		}
	}
	for _, s := range subs {
		addConn(s.conn)
	}
	// Notifications subscriptions are judged on the viewer's groups too:
	// a member who left a group is told nothing more of its tickets.
	for _, s := range inboxes {
		addConn(s.conn)
	}
	if len(conns) > 0 && !h.applyRevalidation(ctx, conns, viewers, true) {
		// Their groups could not be re-read: rather than judge the next
		// events with the old ones, the members reconnect and resume.
		for _, c := range conns {
			c.Disconnect(CloseTooSlow, "your access changed and could not be re-read; reconnect and resume from your last cursor")
		}
		return
	}
	// The client refetches on VIEW_CHANGED: its query must not be
	// answered with credentials cached before the change (the instance
	// that made it drops them after its commit, which may come later
	// than this).
	if f, ok := h.auth.(interface {
		ForgetUsers(context.Context, []globalid.ID) error
	}); ok {
		if err := f.ForgetUsers(ctx, e.Members); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "dropping cached credentials of changed members", "err", err)
		}
	}
	vc := viewChanged(e.Seq, e.At)
	for _, s := range subs {
		s.deliverAny(vc)
	}
}

// orDefault sets an unset (zero or negative) option to its default.
func orDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func deref(id *globalid.ID) globalid.ID {
	if id == nil {
		return ""
	}
	return *id
}
