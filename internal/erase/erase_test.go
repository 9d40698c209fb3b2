package erase_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/apitoken"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/erase"
	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func TestUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		sys := viewer.SystemContext(ctx)
		client := tg.Open(t)
		db, err := database.OpenSQL(tg.DatabaseURL, tg.DataDir, database.Pool{}, tg.Keyring(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		res, err := seed.Run(ctx, db, seed.Options{Tickets: 40, Messages: 300, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		// A cache that would hold a credential for a minute: only the
		// hooks that auth installs on the client drop it sooner.
		accounts := auth.New(client, auth.Options{SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: 24 * time.Hour,
			Cache: cache.NewMemory(100, time.Minute)})
		// The customer with the most tickets, signed in.
		customers, err := client.User.Query().Where(user.RoleEQ(user.RoleCUSTOMER)).All(sys)
		if err != nil {
			t.Fatal(err)
		}
		v, most := customers[0], 0
		for _, c := range customers {
			if n := client.Ticket.Query().Where(ticket.RequesterID(c.ID)).CountX(sys); n > most {
				v, most = c, n
			}
		}
		token, _, err := accounts.Login(ctx, v.Email, seed.Password, "test", false)
		if err != nil {
			t.Fatal(err)
		}
		signedIn, err := accounts.Authenticate(ctx, token) // now cached
		if err != nil {
			t.Fatal(err)
		}
		// Customers make no API tokens themselves; an old one, from when
		// they were staff, is written here as the system.
		apiToken := auth.APITokenPrefix + "erase-test-token"
		client.APIToken.Create().SetName("script").SetScope(apitoken.ScopeREAD).SetUserID(signedIn.UserID).
			SetTokenHash(auth.HashToken(apiToken)).ExecX(sys)
		if _, err := accounts.Authenticate(ctx, apiToken); err != nil { // now cached
			t.Fatal(err)
		}
		statusesBefore := client.Ticket.Query().Where(ticket.RequesterID(v.ID)).Order(ticket.ByID()).Select(ticket.FieldStatus).StringsX(sys)
		messagesBefore := client.Message.Query().CountX(sys)
		authored := client.Message.Query().Where(message.AuthorID(v.ID)).CountX(sys)
		otherBody := client.Message.Query().Where(message.AuthorIDNEQ(v.ID)).FirstX(sys)
		ticketsBefore := client.Ticket.Query().Where(ticket.RequesterID(v.ID)).Order(ticket.ByID()).AllX(sys)
		messagesOfTheirs := client.Message.Query().Where(message.AuthorID(v.ID)).Order(message.ByID()).AllX(sys)
		eventsBefore := client.Event.Query().CountX(sys)

		t.Run("ErrStaffWithoutForce", func(t *testing.T) {
			_, err := erase.User(ctx, client, res.Agent, false)
			if !errors.Is(err, erase.ErrStaff) {
				t.Fatalf("error = %v, want ErrStaff", err)
			}
			if _, err := client.User.Query().Where(user.EmailEQ(res.Agent)).Only(sys); err != nil {
				t.Fatalf("the agent was changed: %v", err)
			}
		})
		t.Run("ErrUnknownEmail", func(t *testing.T) {
			_, err := erase.User(ctx, client, "nobody@example.com", false)
			if apierr.CodeOf(err) != apierr.NotFound {
				t.Fatalf("error = %v", err)
			}
		})

		got, err := erase.User(ctx, client, strings.ToUpper(v.Email), false)
		if err != nil {
			t.Fatal(err)
		}
		if got.Messages != int64(authored) || got.Tickets != int64(most) || got.Sessions != 1 || got.Tokens != 1 {
			t.Fatalf("result %+v; want %d messages, %d tickets, 1 session, 1 API token", got, authored, most)
		}
		t.Run("CachedCredentialsAreDroppedByTheHooks", func(t *testing.T) {
			// Nobody told the cache: the erasure's writes went through
			// the client, whose hooks dropped both after the commit.
			if _, err := accounts.Authenticate(ctx, token); err == nil {
				t.Fatal("the erased customer's cached session still works")
			}
			if _, err := accounts.Authenticate(ctx, apiToken); err == nil {
				t.Fatal("the erased customer's cached API token still works")
			}
		})
		t.Run("PlaceholderAddressIsNormalised", func(t *testing.T) {
			u := client.User.GetX(sys, v.ID)
			if want := "erased-" + strings.ToLower(string(v.ID)) + "@" + erase.ErasedDomain; u.Email != want {
				t.Fatalf("erased user's address %q, want %q", u.Email, want)
			}
		})
		t.Run("WritesNoEvents", func(t *testing.T) {
			// An event would carry the ticket's subject from before the
			// change into the log (entschema.SkipEvents).
			if n := client.Event.Query().CountX(sys); n != eventsBefore {
				t.Fatalf("%d events after the erasure, %d before", n, eventsBefore)
			}
		})
		t.Run("TimestampsAreKept", func(t *testing.T) {
			for _, before := range ticketsBefore {
				if after := client.Ticket.GetX(sys, before.ID); !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Fatalf("ticket %s updatedAt %v → %v", before.ID, before.UpdatedAt, after.UpdatedAt)
				}
			}
			for _, before := range messagesOfTheirs {
				if after := client.Message.GetX(sys, before.ID); !after.UpdatedAt.Equal(before.UpdatedAt) || !after.CreatedAt.Equal(before.CreatedAt) {
					t.Fatalf("message %s times %v, %v → %v, %v", before.ID, before.CreatedAt, before.UpdatedAt, after.CreatedAt, after.UpdatedAt)
				}
			}
		})
		t.Run("PersonalDataIsGone", func(t *testing.T) {
			u := client.User.GetX(sys, v.ID)
			if u.Name != erase.ErasedName || strings.Contains(u.Email, strings.Split(v.Email, "@")[0]) || u.Phone != "" || u.PasswordHash != "" || u.Active {
				t.Fatalf("erased user is %+v", u)
			}
			if n := client.Message.Query().Where(message.AuthorID(v.ID), message.BodyNEQ(erase.ErasedBody)).CountX(sys); n != 0 {
				t.Fatalf("%d of their messages keep their text", n)
			}
			if n := client.Ticket.Query().Where(ticket.RequesterID(v.ID), ticket.SubjectNEQ(erase.ErasedSubject)).CountX(sys); n != 0 {
				t.Fatalf("%d of their tickets keep their subject", n)
			}
		})
		t.Run("SessionsAreRevoked", func(t *testing.T) {
			if _, err := accounts.Authenticate(ctx, token); err == nil {
				t.Fatal("the erased customer's session still works")
			}
			if _, _, err := accounts.Login(ctx, v.Email, seed.Password, "test", false); err == nil {
				t.Fatal("the erased customer can still sign in")
			}
		})
		t.Run("StatisticsAreKept", func(t *testing.T) {
			after := client.Ticket.Query().Where(ticket.RequesterID(v.ID)).Order(ticket.ByID()).Select(ticket.FieldStatus).StringsX(sys)
			if strings.Join(after, ",") != strings.Join(statusesBefore, ",") || client.Message.Query().CountX(sys) != messagesBefore {
				t.Fatalf("statuses %v → %v, messages %d → %d", statusesBefore, after, messagesBefore, client.Message.Query().CountX(sys))
			}
			if other := client.Message.GetX(sys, otherBody.ID); other.Body != otherBody.Body {
				t.Fatal("someone else's message was changed")
			}
		})
		t.Run("StaffWithForce", func(t *testing.T) {
			got, err := erase.User(ctx, client, res.Agent, true)
			if err != nil || got.Role != "AGENT" {
				t.Fatalf("%+v, %v", got, err)
			}
		})
	})
}
