// Package wallboard owns the live queue numbers that supervisors watch on
// wallboard screens: tickets waiting by status, unassigned, SLA breached
// and due soon, solved today, and the age of the oldest waiting ticket,
// for one group or for everything in the viewer's reach. A board is
// computed through the privacy rules as its viewer, once per instance for
// every screen that would see the same numbers (admins alike; each agent
// alone, since an agent's reach includes their own assignments), and at
// most once per coalescing interval however many changes arrive: a
// screen's cost does not grow with the ticket traffic or the number of
// screens. Boards are also recomputed every refresh interval, since SLA
// clocks run out without any change to a ticket.
package wallboard

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/nodes"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Wallboard is one computation of a board.
type Wallboard struct {
	// Group is the board's group; nil for everything in reach.
	Group *ent.Group
	// New, Open and Pending count the tickets in each waiting status.
	New, Open, Pending int
	// Unassigned counts waiting tickets (new, open or pending) without an
	// assignee.
	Unassigned int
	// Breached counts waiting tickets past a due time they have not met;
	// DueSoon those that will be within DueSoonWindow.
	Breached, DueSoon int
	// SolvedToday counts tickets solved since midnight UTC.
	SolvedToday int
	// OldestWaitingSince is when the oldest waiting ticket was opened.
	OldestWaitingSince *time.Time
	// AgentsOnline are the agents and admins with a live connection (of
	// the group, for a group's board), by name; nil when presence cannot
	// be read (Redis lost), which the board shows rather than failing.
	AgentsOnline []*ent.User
	// ComputedAt is when these numbers were read.
	ComputedAt time.Time
}

// Options are the board settings.
type Options struct {
	// Coalesce is the shortest time between two computations of one
	// board: changes that arrive within it are shown together.
	Coalesce time.Duration
	// Refresh is how often a board is recomputed without any change (SLA
	// clocks run out by themselves).
	Refresh time.Duration
	// DueSoonWindow is how far ahead a due time counts as due soon.
	DueSoonWindow time.Duration
}

// DefaultOptions are the defaults of unset options.
func DefaultOptions() Options {
	return Options{Coalesce: time.Second, Refresh: 30 * time.Second, DueSoonWindow: time.Hour}
}

// Hub is where a board hears of changes and learns who is online: the
// live hub.
type Hub interface {
	Subscribe(ctx context.Context, f live.Filter, after *string) (<-chan *live.Event, error)
	AgentsOnline(ctx context.Context) ([]globalid.ID, error)
}

// Service computes boards and keeps the shared ones.
type Service struct {
	client *ent.Client
	hub    Hub
	opts   Options
	now    func() time.Time

	mu     sync.Mutex
	boards map[string]*board
}

// New returns the service; unset options take their defaults.
func New(client *ent.Client, hub Hub, opts Options) *Service {
	d := DefaultOptions()
	if opts.Coalesce <= 0 {
		opts.Coalesce = d.Coalesce
	}
	if opts.Refresh <= 0 {
		opts.Refresh = d.Refresh
	}
	if opts.DueSoonWindow <= 0 {
		opts.DueSoonWindow = d.DueSoonWindow
	}
	return &Service{client: client, hub: hub, opts: opts, now: time.Now, boards: map[string]*board{}}
}

// Get computes the board of groupID ("" for everything in reach) for the
// viewer in ctx (staff: the schema's @staffOnly).
func (s *Service) Get(ctx context.Context, groupID globalid.ID) (*Wallboard, error) {
	if err := s.check(ctx, groupID); err != nil {
		return nil, err
	}
	return s.compute(ctx, groupID)
}

// Subscribe sends the board of groupID at once and again after changes
// (at most once per Coalesce) and every Refresh, until ctx ends or the
// viewer may no longer see it. A screen that reads slowly gets the latest
// board, never a backlog.
func (s *Service) Subscribe(ctx context.Context, groupID globalid.ID) (<-chan *Wallboard, error) {
	if err := s.check(ctx, groupID); err != nil {
		return nil, err
	}
	// The transport's shared rendering is for ticketEvents results; the
	// events here are only a signal.
	events, err := s.hub.Subscribe(live.WithoutShare(ctx), live.Filter{GroupID: groupID}, nil)
	if err != nil {
		return nil, err
	}
	b := s.acquire(live.ShareKey(viewer.FromContext(ctx), true) + "|" + string(groupID))
	out := make(chan *Wallboard, 1)
	go func() {
		defer close(out)
		defer s.release(b)
		refresh := time.NewTicker(s.opts.Refresh)
		defer refresh.Stop()
		// seq is the newest event the next board must include (0: whatever
		// the other screens of the board wait for); maxAge how old it may be.
		var seq int64
		var maxAge time.Duration
		compute := func(ctx context.Context) (*Wallboard, error) { return s.compute(ctx, groupID) }
		for {
			w, err := b.get(ctx, seq, maxAge, s.opts.Coalesce, compute)
			if err != nil {
				return // ctx ended, or the database failed: the client resubscribes
			}
			select { // the latest board replaces one not yet read
			case <-out:
			default:
			}
			out <- w
			select {
			case <-ctx.Done():
				return
			case e, ok := <-events:
				if !ok {
					return // the hub ended the subscription (access changed, shutdown)
				}
				seq, maxAge = e.Seq, 0
				for more := true; more; { // a burst is one change
					select {
					case e, ok := <-events:
						if !ok {
							return
						}
						seq = e.Seq
					default:
						more = false
					}
				}
			case <-refresh.C:
				// Half the period: the screens' tickers are out of step, and
				// the first to tick recomputes for all.
				seq, maxAge = 0, s.opts.Refresh/2
			}
		}
	}()
	return out, nil
}

// check refuses anonymous callers and groups the viewer cannot see. That
// wallboards are for agents and admins is not restated here: the schema
// marks both wallboard fields @staffOnly, the directive every GraphQL
// transport goes through.
func (s *Service) check(ctx context.Context, groupID globalid.ID) error {
	if _, err := viewer.Require(ctx); err != nil {
		return err
	}
	if groupID != "" {
		return nodes.MustSee(ctx, s.client, "groupID", globalid.PrefixGroup, groupID)
	}
	return nil
}

// waiting are the statuses of tickets that wait for the helpdesk.
var waiting = []ticket.Status{ticket.StatusNEW, ticket.StatusOPEN, ticket.StatusPENDING}

// compute reads the board's numbers as the viewer in ctx.
func (s *Service) compute(ctx context.Context, groupID globalid.ID) (*Wallboard, error) {
	now := s.now()
	w := &Wallboard{ComputedAt: now}
	scope := []predicate.Ticket{}
	if groupID != "" {
		g, err := s.client.Group.Query().Where(group.ID(groupID)).Only(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the board's group: %w", err)
		}
		w.Group = g
		scope = append(scope, ticket.GroupID(groupID))
	}
	tickets := func(ps ...predicate.Ticket) *ent.TicketQuery {
		return s.client.Ticket.Query().Where(append(ps, scope...)...)
	}
	var byStatus []struct {
		Status ticket.Status `json:"status"`
		Count  int           `json:"count"`
	}
	if err := tickets(ticket.StatusIn(waiting...)).GroupBy(ticket.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &byStatus); err != nil {
		return nil, fmt.Errorf("counting tickets by status: %w", err)
	}
	for _, c := range byStatus {
		switch c.Status {
		case ticket.StatusNEW:
			w.New = c.Count
		case ticket.StatusOPEN:
			w.Open = c.Count
		case ticket.StatusPENDING:
			w.Pending = c.Count
		}
	}
	soon := now.Add(s.opts.DueSoonWindow)
	midnight := now.UTC().Truncate(24 * time.Hour)
	for _, c := range []struct {
		n  *int
		ps []predicate.Ticket
	}{
		{&w.Unassigned, []predicate.Ticket{ticket.StatusIn(waiting...), ticket.AssigneeIDIsNil()}},
		{&w.Breached, []predicate.Ticket{ticket.StatusIn(waiting...), dueBy(now)}},
		{&w.DueSoon, []predicate.Ticket{ticket.StatusIn(waiting...), dueBy(soon), ticket.Not(dueBy(now))}},
		{&w.SolvedToday, []predicate.Ticket{ticket.SolvedAtGTE(midnight)}},
	} {
		n, err := tickets(c.ps...).Count(ctx)
		if err != nil {
			return nil, fmt.Errorf("counting tickets: %w", err)
		}
		*c.n = n
	}
	oldest, err := tickets(ticket.StatusIn(waiting...)).Order(ticket.ByCreatedAt()).Select(ticket.FieldCreatedAt).First(ctx)
	switch {
	case err == nil:
		w.OldestWaitingSince = &oldest.CreatedAt
	case !ent.IsNotFound(err):
		return nil, fmt.Errorf("finding the oldest waiting ticket: %w", err)
	}
	if w.AgentsOnline, err = s.agentsOnline(ctx, groupID); err != nil {
		return nil, err
	}
	return w, nil
}

// agentsOnline are the staff online, of the group when one is given. A
// presence store that cannot be read gives nil, not an error.
func (s *Service) agentsOnline(ctx context.Context, groupID globalid.ID) ([]*ent.User, error) {
	ids, err := s.hub.AgentsOnline(ctx)
	if err != nil {
		return nil, nil //nolint:nilerr // the board shows "unknown" (null), see Wallboard.AgentsOnline
	}
	q := s.client.User.Query().Where(user.IDIn(ids...), user.RoleIn(user.RoleAGENT, user.RoleADMIN), user.Active(true))
	if groupID != "" {
		q.Where(user.HasGroupsWith(group.ID(groupID)))
	}
	users, err := q.Order(user.ByName(), user.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the agents online: %w", err)
	}
	return users, nil
}

// dueBy: a waiting ticket with a first response due by t and not given, or
// a resolution due by t (it is not solved, since it waits). The NotNil
// terms keep it true or false, never NULL, so that its negation holds for
// tickets without a clock.
func dueBy(t time.Time) predicate.Ticket {
	return ticket.Or(
		ticket.And(ticket.FirstResponseDueAtNotNil(), ticket.FirstResponseDueAtLT(t), ticket.FirstRespondedAtIsNil()),
		ticket.And(ticket.ResolutionDueAtNotNil(), ticket.ResolutionDueAtLT(t)),
	)
}
