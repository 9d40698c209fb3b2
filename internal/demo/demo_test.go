package demo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/macro"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/database/dbtest"
	"github.com/switchboardhq/switchboard/internal/demo"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func TestSeed(t *testing.T) {
	ctx := context.Background()
	client := dbtest.Client(t)
	accounts := auth.New(client, auth.Options{SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: time.Hour})
	logins, err := demo.Seed(ctx, client, accounts, ticketing.New(client, ticketing.Options{}), demo.Options{Customers: 3, Tickets: 12})
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
		if _, _, err := accounts.Login(viewer.NewContext(ctx, nil), logins[0].Email, demo.Password, "test", false); err != nil {
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
	t.Run("ErrNotEmpty", func(t *testing.T) {
		_, err := demo.Seed(ctx, client, accounts, ticketing.New(client, ticketing.Options{}), demo.Options{Customers: 1, Tickets: 1})
		if !errors.Is(err, demo.ErrNotEmpty) {
			t.Fatalf("second seed: %v", err)
		}
	})
}
