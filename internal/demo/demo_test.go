package demo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/macro"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/demo"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
	"github.com/switchboardhq/switchboard/internal/wallboard"
)

func TestSeed(t *testing.T) {
	ctx := context.Background()
	client := dbtest.Client(t)
	logins, err := demo.Seed(ctx, client, accounts(client), ticketing.New(client, ticketing.Options{}), demo.Options{Customers: 3, Tickets: 12})
	if err != nil {
		t.Fatal(err)
	}
	sys := viewer.SystemContext(ctx)

	t.Run("PrintsStaffAndOneCustomerLogin", func(t *testing.T) {
		roles := map[user.Role]int{}
		for _, l := range logins {
			roles[l.Role]++
		}
		if roles[user.RoleADMIN] != 1 || roles[user.RoleAGENT] != 4 || roles[user.RoleCUSTOMER] != 1 {
			t.Fatalf("logins = %v", logins)
		}
	})
	t.Run("DemoPasswordWorks", func(t *testing.T) {
		if _, _, err := accounts(client).Login(viewer.NewContext(ctx, nil), logins[0].Email, demo.Password, "test", false); err != nil {
			t.Fatalf("demo login: %v", err)
		}
	})
	t.Run("TicketsAreRoutedToGroupsWithConversations", func(t *testing.T) {
		if n := client.Ticket.Query().Where(ticket.GroupIDNotNil()).CountX(sys); n != 12 {
			t.Fatalf("%d of 12 tickets have a group", n)
		}
		if n := client.Message.Query().CountX(sys); n < 12 {
			t.Fatalf("only %d messages", n)
		}
		if n := client.SLAPolicy.Query().CountX(sys); n != 4 {
			t.Fatalf("%d SLA policies, want one per priority", n)
		}
	})
	t.Run("AnsweredTicketsAreNotNew", func(t *testing.T) {
		for _, tk := range client.Ticket.Query().WithMessages().AllX(sys) {
			answered := false
			for _, m := range tk.Edges.Messages {
				answered = answered || m.AuthorID != tk.RequesterID && !m.Internal
			}
			if answered && tk.Status == ticket.StatusNEW {
				t.Fatalf("ticket #%d was answered but is still NEW", tk.Number)
			}
		}
	})
	t.Run("InternalNotesAreWrittenByAgents", func(t *testing.T) {
		for _, m := range client.Message.Query().Where(message.Internal(true)).WithAuthor().AllX(sys) {
			if m.Edges.Author.Role == user.RoleCUSTOMER {
				t.Fatalf("internal note by a customer: %q", m.Body)
			}
		}
	})
	t.Run("TheTeamIsSetUp", func(t *testing.T) {
		def := client.Group.Query().Where(group.IsDefault(true)).OnlyX(sys)
		if def.Name != "Technical" {
			t.Fatalf("default group %q", def.Name)
		}
		if n := client.RoutingRule.Query().CountX(sys); n < 2 {
			t.Fatalf("%d routing rules", n)
		}
		for _, g := range client.Group.Query().AllX(sys) {
			if !client.Macro.Query().Where(macro.GroupID(g.ID)).ExistX(sys) {
				t.Fatalf("group %s has no macro", g.Name)
			}
		}
		if n := client.Ticket.Query().Where(ticket.RoutingRuleIDNotNil()).CountX(sys); n == 0 {
			t.Fatal("no ticket was placed by a routing rule")
		}
		agents := client.User.Query().Where(user.RoleEQ(user.RoleAGENT)).IDsX(sys)
		if n := client.Notification.Query().Where(notification.RecipientIDIn(agents...)).CountX(sys); n == 0 {
			t.Fatal("the demo agents have no notifications")
		}
	})
	t.Run("HistorySpreadsOverWeeksWithTheSLAVisible", func(t *testing.T) {
		all := client.Ticket.Query().Order(ticket.ByNumber()).AllX(sys)
		now := time.Now()
		oldest, newest := all[0].CreatedAt, all[0].CreatedAt
		for i, tk := range all {
			oldest, newest = minTime(oldest, tk.CreatedAt), maxTime(newest, tk.CreatedAt)
			if i > 0 && tk.CreatedAt.Before(all[i-1].CreatedAt) {
				t.Fatalf("ticket #%d was opened before #%d: numbers should follow time", tk.Number, all[i-1].Number)
			}
			for name, at := range map[string]*time.Time{"createdAt": &tk.CreatedAt, "updatedAt": &tk.UpdatedAt, "firstRespondedAt": tk.FirstRespondedAt, "solvedAt": tk.SolvedAt} {
				if at != nil && (at.After(now) || at.Before(tk.CreatedAt)) {
					t.Fatalf("ticket #%d: %s %v is not between its opening %v and now", tk.Number, name, at, tk.CreatedAt)
				}
			}
			if tk.FirstResponseDueAt == nil || tk.ResolutionDueAt == nil {
				t.Fatalf("ticket #%d has no SLA due times", tk.Number)
			}
			for _, m := range client.Message.Query().Where(message.TicketID(tk.ID)).AllX(sys) {
				if m.CreatedAt.Before(tk.CreatedAt) || m.CreatedAt.After(now) {
					t.Fatalf("ticket #%d: a message at %v, opened %v", tk.Number, m.CreatedAt, tk.CreatedAt)
				}
			}
		}
		if spread := newest.Sub(oldest); spread < 21*24*time.Hour || now.Sub(oldest) > demo.History {
			t.Fatalf("tickets opened over %v, from %v ago; want three weeks or more within %v", spread, now.Sub(oldest), demo.History)
		}
		resolved := client.Ticket.Query().Where(ticket.StatusIn(ticket.StatusSOLVED, ticket.StatusCLOSED), ticket.SolvedAtNotNil()).CountX(sys)
		if resolved == 0 {
			t.Fatal("no demo ticket was resolved")
		}
		// What the wallboard shows, computed as an admin would see it.
		admin := client.User.Query().Where(user.RoleEQ(user.RoleADMIN)).OnlyX(sys)
		board, err := wallboard.New(client, noPresence{}, wallboard.Options{}).Get(viewer.NewContext(ctx, &viewer.Viewer{UserID: admin.ID, Role: viewer.Admin}), "")
		if err != nil {
			t.Fatal(err)
		}
		if board.Breached == 0 || board.DueSoon == 0 || board.New == 0 || board.Open+board.Pending == 0 {
			t.Fatalf("the wallboard shows %d breached, %d due soon, %d new, %d open, %d pending; want some of each", board.Breached, board.DueSoon, board.New, board.Open, board.Pending)
		}
	})
	t.Run("ErrNotEmpty", func(t *testing.T) {
		_, err := demo.Seed(ctx, client, accounts(client), ticketing.New(client, ticketing.Options{}), demo.Options{Customers: 1, Tickets: 1})
		if !errors.Is(err, demo.ErrNotEmpty) {
			t.Fatalf("second seed: %v", err)
		}
	})
}

func accounts(client *ent.Client) *auth.Service {
	return auth.New(client, auth.Options{SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: time.Hour})
}

// noPresence is a wallboard hub with nobody online; the boards here are
// computed once (Get), never subscribed to.
type noPresence struct{}

func (noPresence) Subscribe(context.Context, live.Filter, *string) (<-chan *live.Event, error) {
	return nil, errors.New("not subscribed in this test")
}

func (noPresence) AgentsOnline(context.Context) ([]globalid.ID, error) { return nil, nil }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
