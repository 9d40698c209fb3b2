package seed_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/message"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/sequence"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func TestRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		sys := viewer.SystemContext(ctx)
		client := tg.Open(t)
		db, err := database.OpenSQL(tg.DatabaseURL, tg.DataDir, database.Pool{}, tg.Keyring(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })

		// A ticket made the normal way before the seed: numbers go on from it.
		cust, err := client.User.Create().SetEmail("early@example.com").SetName("Early").Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ticketing.New(client, ticketing.Options{}).Create(viewer.NewContext(ctx, &viewer.Viewer{UserID: cust.ID, Role: viewer.Customer}),
			ticketing.NewTicket{Subject: "Before the seed", Body: "Hello"}); err != nil {
			t.Fatal(err)
		}

		const tickets, messages = 200, 1500
		now := time.Now()
		res, err := seed.Run(ctx, db, seed.Options{Tickets: tickets, Messages: messages, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		all := client.Ticket.Query().WithMessages(func(q *ent.MessageQuery) {
			q.Order(ent.Asc(message.FieldCreatedAt), ent.Asc(message.FieldID)).WithAuthor()
		}).
			Where(ticket.SubjectNEQ("Before the seed")).Order(ent.Asc(ticket.FieldNumber)).AllX(sys)

		t.Run("CountsAreExact", func(t *testing.T) {
			n := 0
			for _, tk := range all {
				n += len(tk.Edges.Messages)
			}
			if len(all) != tickets || n != messages || res.Tickets != tickets || res.Messages != messages {
				t.Fatalf("%d tickets and %d messages", len(all), n)
			}
		})
		t.Run("NumbersFollowTheSequence", func(t *testing.T) {
			for i, tk := range all {
				if tk.Number != i+2 {
					t.Fatalf("ticket %d has number %d, want %d", i, tk.Number, i+2)
				}
			}
			seq := client.Sequence.Query().Where(sequence.Name(entschema.TicketNumberSequence)).OnlyX(sys)
			if seq.Value != tickets+1 {
				t.Fatalf("ticket number sequence at %d, want %d", seq.Value, tickets+1)
			}
		})
		t.Run("ConversationsAgreeWithTheirTickets", func(t *testing.T) {
			statuses := map[ticket.Status]int{}
			internal := 0
			for _, tk := range all {
				statuses[tk.Status]++
				first := tk.Edges.Messages[0]
				if first.AuthorID != tk.RequesterID || first.Internal || !first.CreatedAt.Equal(tk.CreatedAt) {
					t.Fatalf("ticket %d does not start with its requester's message", tk.Number)
				}
				var responded *time.Time
				for _, m := range tk.Edges.Messages {
					staff := m.Edges.Author.Role != user.RoleCUSTOMER
					if m.Internal {
						internal++
						if !staff {
							t.Fatalf("a customer wrote an internal note on ticket %d", tk.Number)
						}
					}
					if staff && !m.Internal && responded == nil {
						at := m.CreatedAt
						responded = &at
					}
					if m.CreatedAt.Before(tk.CreatedAt) || m.CreatedAt.After(now.Add(time.Second)) {
						t.Fatalf("message on ticket %d at %v, outside %v–now", tk.Number, m.CreatedAt, tk.CreatedAt)
					}
				}
				if (responded == nil) != (tk.FirstRespondedAt == nil) || responded != nil && !responded.Equal(*tk.FirstRespondedAt) {
					t.Fatalf("ticket %d: first response at %v, firstRespondedAt %v", tk.Number, responded, tk.FirstRespondedAt)
				}
				solved := tk.Status == ticket.StatusSOLVED || tk.Status == ticket.StatusCLOSED
				if solved != (tk.SolvedAt != nil) {
					t.Fatalf("ticket %d is %s with solvedAt %v", tk.Number, tk.Status, tk.SolvedAt)
				}
				if tk.FirstResponseDueAt == nil || len(tk.Tags) == 0 || tk.GroupID == nil {
					t.Fatalf("ticket %d lacks SLA times, tags or group: %+v", tk.Number, tk)
				}
			}
			if len(statuses) < 4 || internal == 0 {
				t.Fatalf("statuses %v, %d internal notes: not varied", statuses, internal)
			}
		})
		t.Run("TimesSpreadOverTheYear", func(t *testing.T) {
			oldest, newest := all[0].CreatedAt, all[len(all)-1].CreatedAt
			if newest.Sub(oldest) < 200*24*time.Hour || newest.After(now) {
				t.Fatalf("tickets from %v to %v", oldest, newest)
			}
		})
		t.Run("TextHasAVocabulary", func(t *testing.T) {
			words := map[string]bool{}
			for _, tk := range all {
				for _, m := range tk.Edges.Messages {
					for _, w := range strings.Fields(strings.ToLower(m.Body)) {
						words[strings.Trim(w, ".,!?;:'\"()")] = true
					}
				}
			}
			if len(words) < 500 {
				t.Fatalf("%d distinct words in %d messages", len(words), messages)
			}
		})
		t.Run("PhonesAreEncrypted", func(t *testing.T) {
			var raw string
			if err := db.DB.QueryRow("SELECT phone FROM users WHERE phone IS NOT NULL LIMIT 1").Scan(&raw); err != nil {
				t.Fatal(err)
			}
			withPhone := client.User.Query().Where(user.PhoneNotNil()).FirstX(sys)
			if strings.HasPrefix(raw, "+") || !strings.HasPrefix(withPhone.Phone, "+") {
				t.Fatalf("stored %q, read %q", raw, withPhone.Phone)
			}
		})
		t.Run("AccountsSignInWithThePassword", func(t *testing.T) {
			u := client.User.Query().Where(user.EmailEQ(res.Agent)).OnlyX(sys)
			if u.Role != user.RoleAGENT || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
				t.Fatalf("agent %+v", u)
			}
		})
	})
	t.Run("ErrFewerMessagesThanTickets", func(t *testing.T) {
		if _, err := seed.Run(context.Background(), nil, seed.Options{Tickets: 5, Messages: 4}); err == nil {
			t.Fatal("no error")
		}
	})
}
