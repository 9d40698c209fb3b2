package wallboard_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
	"github.com/switchboardhq/switchboard/internal/wallboard"
)

// helpdesk is a small queue: in group Support, a new unassigned ticket, an
// open one assigned to the agent whose first response is overdue, a
// pending one whose resolution falls due in half an hour, and one solved
// today; outside the group, a new ticket assigned to the agent and another
// assigned to nobody.
type helpdesk struct {
	target                 dbtest.Target
	client                 *ent.Client
	tickets                *ticketing.Service
	admin, agent, customer *viewer.Viewer
	group                  globalid.ID
	oldestInGroup          time.Time
}

func newHelpdesk(t *testing.T, tg dbtest.Target) *helpdesk {
	t.Helper()
	client := tg.Open(t)
	sys := viewer.SystemContext(context.Background())
	newUser := func(email string, role user.Role) *viewer.Viewer {
		u, err := client.User.Create().SetEmail(email).SetName(email).SetRole(role).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		return &viewer.Viewer{UserID: u.ID, Role: viewer.Role(role)}
	}
	h := &helpdesk{target: tg, client: client, tickets: ticketing.New(client, ticketing.Options{})}
	h.admin = newUser("admin@example.com", user.RoleADMIN)
	h.agent = newUser("agent@example.com", user.RoleAGENT)
	h.customer = newUser("cara@example.com", user.RoleCUSTOMER)
	g, err := client.Group.Create().SetName("Support").AddMemberIDs(h.agent.UserID).Save(sys)
	if err != nil {
		t.Fatal(err)
	}
	h.group = g.ID
	h.agent.GroupIDs = []globalid.ID{g.ID}
	now := time.Now()
	open := func(group *globalid.ID, status ticket.Status, assignee *viewer.Viewer, set func(*ent.TicketUpdateOne)) *ent.Ticket {
		tk, err := h.tickets.Create(as(h.customer), ticketing.NewTicket{Subject: "help", Body: "please"})
		if err != nil {
			t.Fatal(err)
		}
		tx, err := client.Tx(sys) // ticket changes write the event log
		if err != nil {
			t.Fatal(err)
		}
		u := tx.Ticket.UpdateOneID(tk.ID).SetStatus(status).SetNillableGroupID(group)
		if assignee != nil {
			u.SetAssigneeID(assignee.UserID)
		}
		if set != nil {
			set(u)
		}
		// No SLA clock but the one the ticket is made for (ent applies a
		// clear after a set, so clear only what was not set).
		if _, ok := u.Mutation().FirstResponseDueAt(); !ok {
			u.ClearFirstResponseDueAt()
		}
		if _, ok := u.Mutation().ResolutionDueAt(); !ok {
			u.ClearResolutionDueAt()
		}
		if tk, err = u.Save(sys); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	first := open(&h.group, ticket.StatusNEW, nil, nil)
	h.oldestInGroup = first.CreatedAt
	open(&h.group, ticket.StatusOPEN, h.agent, func(u *ent.TicketUpdateOne) { u.SetFirstResponseDueAt(now.Add(-time.Minute)) })
	open(&h.group, ticket.StatusPENDING, nil, func(u *ent.TicketUpdateOne) { u.SetResolutionDueAt(now.Add(30 * time.Minute)) })
	open(&h.group, ticket.StatusSOLVED, h.agent, func(u *ent.TicketUpdateOne) { u.SetSolvedAt(now) })
	open(nil, ticket.StatusNEW, h.agent, nil)
	open(nil, ticket.StatusOPEN, nil, nil)
	return h
}

func as(v *viewer.Viewer) context.Context { return viewer.NewContext(context.Background(), v) }

// counts are the numbers of a board.
type counts struct{ New, Open, Pending, Unassigned, Breached, DueSoon, SolvedToday int }

func TestGet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		h := newHelpdesk(t, tg)
		online := &events{online: []globalid.ID{h.agent.UserID, h.customer.UserID}}
		boards := wallboard.New(h.client, online, wallboard.Options{})
		for _, tc := range []struct {
			name  string
			who   *viewer.Viewer
			group globalid.ID
			want  counts
		}{
			{"AdminGroup", h.admin, h.group, counts{New: 1, Open: 1, Pending: 1, Unassigned: 2, Breached: 1, DueSoon: 1, SolvedToday: 1}},
			{"AdminAll", h.admin, "", counts{New: 2, Open: 2, Pending: 1, Unassigned: 3, Breached: 1, DueSoon: 1, SolvedToday: 1}},
			// The agent's reach: the group, and what is assigned to them.
			{"AgentAll", h.agent, "", counts{New: 2, Open: 1, Pending: 1, Unassigned: 2, Breached: 1, DueSoon: 1, SolvedToday: 1}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w, err := boards.Get(as(tc.who), tc.group)
				if err != nil {
					t.Fatal(err)
				}
				got := counts{New: w.New, Open: w.Open, Pending: w.Pending, Unassigned: w.Unassigned,
					Breached: w.Breached, DueSoon: w.DueSoon, SolvedToday: w.SolvedToday}
				if got != tc.want {
					t.Fatalf("board %+v, want %+v", got, tc.want)
				}
				if (tc.group != "") != (w.Group != nil) || w.Group != nil && w.Group.ID != tc.group {
					t.Fatalf("group %v, want %q", w.Group, tc.group)
				}
				if w.OldestWaitingSince == nil || !w.OldestWaitingSince.Equal(h.oldestInGroup) {
					t.Fatalf("oldest waiting since %v, want %v", w.OldestWaitingSince, h.oldestInGroup)
				}
				// Online: the agent (a member of the group); the customer's
				// connection does not make them an agent online.
				if len(w.AgentsOnline) != 1 || w.AgentsOnline[0].ID != h.agent.UserID {
					t.Fatalf("agents online %v, want the agent alone", w.AgentsOnline)
				}
			})
		}
		// Customers are refused at the schema (@staffOnly on wallboard):
		// graph's TestStaffOnly, the root wallboard tests and the access
		// matrix.
		t.Run("ErrAnonymous", func(t *testing.T) {
			if _, err := boards.Get(context.Background(), ""); apierr.CodeOf(err) != apierr.Unauthenticated {
				t.Fatalf("error = %v, want UNAUTHENTICATED", err)
			}
		})
		t.Run("ErrUnknownGroup", func(t *testing.T) {
			if _, err := boards.Get(as(h.admin), globalid.ID(string(h.group[:2])+"01J9Z3X8Q0W2E5R7T9Y1V3K5M7")); apierr.CodeOf(err) != apierr.NotFound {
				t.Fatalf("error = %v, want NOT_FOUND", err)
			}
		})
		t.Run("OnlineOfTheGroupOnly", func(t *testing.T) {
			g, err := h.client.Group.Create().SetName("Night shift").Save(viewer.SystemContext(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			w, err := boards.Get(as(h.admin), g.ID)
			if err != nil || w.AgentsOnline == nil || len(w.AgentsOnline) != 0 {
				t.Fatalf("agents online in a group without members: %v, %v", w.AgentsOnline, err)
			}
		})
		t.Run("PresenceLostLeavesOnlineUnknown", func(t *testing.T) {
			lost := wallboard.New(h.client, &events{onlineErr: errors.New("redis: connection refused")}, wallboard.Options{})
			w, err := lost.Get(as(h.admin), "")
			if err != nil || w.AgentsOnline != nil || w.New != 2 {
				t.Fatalf("board without presence: %+v, %v", w, err)
			}
		})
		t.Run("EmptyQueueHasNoOldest", func(t *testing.T) {
			g, err := h.client.Group.Create().SetName("Empty").Save(viewer.SystemContext(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			w, err := boards.Get(as(h.admin), g.ID)
			if err != nil || w.OldestWaitingSince != nil || w.New+w.Open+w.Pending != 0 {
				t.Fatalf("board %+v, %v", w, err)
			}
		})
	})
}

// events is a live hub stand-in: every subscription gets the events sent
// to it; online (or onlineErr) is who is online.
type events struct {
	subs      chan chan *live.Event
	online    []globalid.ID
	onlineErr error
}

func (e *events) AgentsOnline(context.Context) ([]globalid.ID, error) { return e.online, e.onlineErr }

func (e *events) Subscribe(ctx context.Context, _ live.Filter, _ *string) (<-chan *live.Event, error) {
	ch := make(chan *live.Event, 16)
	e.subs <- ch
	go func() { <-ctx.Done(); close(ch) }()
	return ch, nil
}

func TestSubscribe(t *testing.T) {
	h := newHelpdesk(t, dbtest.NewTarget(t, dbtest.SQLite))
	src := &events{subs: make(chan chan *live.Event, 16)}
	var computed atomic.Int64
	// One statement of each computation groups by status.
	counted, _, err := database.Open(h.target.DatabaseURL, h.target.DataDir, h.target.Keyring(t), ent.Debug(), ent.Log(func(args ...any) {
		if m, ok := args[0].(string); ok && strings.Contains(m, "GROUP BY") {
			computed.Add(1)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { counted.Close() })
	boards := wallboard.New(counted, src, wallboard.Options{Coalesce: 50 * time.Millisecond, Refresh: time.Hour})
	subscribe := func(v *viewer.Viewer) (<-chan *wallboard.Wallboard, chan *live.Event) {
		ctx, cancel := context.WithCancel(as(v))
		t.Cleanup(cancel)
		ch, err := boards.Subscribe(ctx, h.group)
		if err != nil {
			t.Fatal(err)
		}
		return ch, <-src.subs
	}
	next := func(ch <-chan *wallboard.Wallboard) *wallboard.Wallboard {
		t.Helper()
		select {
		case w, ok := <-ch:
			if !ok {
				t.Fatal("the board's channel closed")
			}
			return w
		case <-time.After(10 * time.Second):
			t.Fatal("no board within 10s")
		}
		return nil
	}

	const screens = 5
	var boardsOf []<-chan *wallboard.Wallboard
	var feeds []chan *live.Event
	for range screens {
		ch, feed := subscribe(h.admin)
		boardsOf, feeds = append(boardsOf, ch), append(feeds, feed)
	}
	for _, ch := range boardsOf {
		if w := next(ch); w.New != 1 {
			t.Fatalf("first board %+v, want 1 new ticket", w)
		}
	}
	t.Run("ScreensOfOneViewerShareAComputation", func(t *testing.T) {
		if n := computed.Load(); n != 1 {
			t.Fatalf("%d screens of the admin cost %d computations, want 1", screens, n)
		}
	})
	t.Run("AChangeReachesEveryScreenOnce", func(t *testing.T) {
		before := computed.Load()
		if _, err := h.tickets.Create(as(h.admin), ticketing.NewTicket{Subject: "another", Body: "one", GroupID: &h.group, RequesterID: &h.customer.UserID}); err != nil {
			t.Fatal(err)
		}
		for _, feed := range feeds { // every screen hears the change, as from the hub
			feed <- &live.Event{Seq: 100}
		}
		for _, ch := range boardsOf {
			if w := next(ch); w.New != 2 {
				t.Fatalf("board after the change %+v, want 2 new tickets", w)
			}
		}
		if n := computed.Load() - before; n != 1 {
			t.Fatalf("one change heard by %d screens cost %d computations, want 1", screens, n)
		}
	})
	t.Run("ABurstIsCoalesced", func(t *testing.T) {
		// However the burst is read, a board is computed at most once per
		// Coalesce (50ms), plus the one already under way.
		before, started := computed.Load(), time.Now()
		for seq := int64(101); seq <= 150; seq++ {
			feeds[0] <- &live.Event{Seq: seq}
		}
		for w := next(boardsOf[0]); w.New != 2; w = next(boardsOf[0]) {
		}
		time.Sleep(100 * time.Millisecond) // a computation still due would have started
		bound := int64(time.Since(started)/(50*time.Millisecond)) + 2
		if n := computed.Load() - before; n > bound || n > 50/2 {
			t.Fatalf("a burst of 50 changes cost %d computations in %v, want at most %d", n, time.Since(started).Round(time.Millisecond), bound)
		}
	})
	t.Run("OtherViewersComputeTheirOwn", func(t *testing.T) {
		// Counted before subscribing: the agent's first board may be
		// computed before subscribe returns.
		before := computed.Load()
		ch, _ := subscribe(h.agent)
		w := next(ch)
		if computed.Load() == before || w.New != 2 || w.Open != 1 {
			t.Fatalf("the agent's board %+v (computations %d → %d)", w, before, computed.Load())
		}
	})
	t.Run("EndsWhenTheHubEndsTheSubscription", func(t *testing.T) {
		ctx, cancel := context.WithCancel(as(h.admin))
		ch, err := boards.Subscribe(ctx, h.group)
		if err != nil {
			t.Fatal(err)
		}
		<-src.subs
		next(ch)
		cancel()
		select {
		case _, ok := <-ch:
			if ok {
				for range ch {
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the board's channel stayed open after the subscription ended")
		}
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		if _, err := boards.Subscribe(context.Background(), ""); apierr.CodeOf(err) != apierr.Unauthenticated {
			t.Fatalf("error = %v, want UNAUTHENTICATED", err)
		}
	})
}
