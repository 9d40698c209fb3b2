package schema_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/event"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/clock"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// TestClockAt: a ticket's life written under clock.At (as the demo data
// writes its history) through the normal services carries those times —
// creation, SLA due times counted from it, first response, solving, the
// messages — while the event log keeps the time it was written.
func TestClockAt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		bg := context.Background()
		sys := viewer.SystemContext(bg)
		if err := client.SLAPolicy.Create().SetPriority(priority.High).SetFirstResponseMinutes(120).SetResolutionMinutes(24 * 60).Exec(sys); err != nil {
			t.Fatal(err)
		}
		cust := newCustomer(t, client, sys, "gus@example.com")
		agent, err := client.User.Create().SetEmail("ann@helpdesk.test").SetName("Ann").SetRole(user.RoleADMIN).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		asCustomer := viewer.NewContext(bg, &viewer.Viewer{UserID: cust.ID, Role: viewer.Customer})
		asAgent := viewer.NewContext(bg, &viewer.Viewer{UserID: agent.ID, Role: viewer.Admin})
		tickets := ticketing.New(client, ticketing.Options{})

		opened := time.Now().Add(-10 * 24 * time.Hour).UTC().Truncate(time.Second)
		answered, solved := opened.Add(90*time.Minute), opened.Add(20*time.Hour)
		writtenAfter := time.Now().Add(-time.Minute)

		tk, err := tickets.Create(clock.At(asCustomer, opened), ticketing.NewTicket{Subject: "Charged twice", Body: "help"})
		if err != nil {
			t.Fatal(err)
		}
		high := priority.High
		if _, err := tickets.Update(clock.At(sys, opened.Add(5*time.Minute)), tk.ID, ent.UpdateTicketInput{Priority: &high}); err != nil {
			t.Fatal(err)
		}
		if _, err := tickets.Reply(clock.At(asAgent, answered), tk.ID, "Refunded.", false); err != nil {
			t.Fatal(err)
		}
		if err := tickets.SetStatus(clock.At(asAgent, solved), tk.ID, ticket.StatusSOLVED); err != nil {
			t.Fatal(err)
		}

		got := reload(t, client, sys, tk.ID)
		for _, c := range []struct {
			name      string
			got       *time.Time
			want      time.Time
			wantExact bool
		}{
			{"createdAt", &got.CreatedAt, opened, true},
			{"firstResponseDueAt", got.FirstResponseDueAt, opened.Add(2 * time.Hour), true},
			{"resolutionDueAt", got.ResolutionDueAt, opened.Add(24 * time.Hour), true},
			{"firstRespondedAt", got.FirstRespondedAt, answered, true},
			{"solvedAt", got.SolvedAt, solved, true},
			{"updatedAt", &got.UpdatedAt, solved, true},
		} {
			if c.got == nil || !c.got.Equal(c.want) {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		}
		msgs := client.Message.Query().Where(message.TicketID(tk.ID)).Order(message.ByCreatedAt()).AllX(sys)
		if len(msgs) != 2 || !msgs[0].CreatedAt.Equal(opened) || !msgs[1].CreatedAt.Equal(answered) {
			t.Fatalf("messages at %v, want the opening at %v and the reply at %v", createdAts(msgs), opened, answered)
		}
		for _, e := range client.Event.Query().Where(event.TicketID(tk.ID)).AllX(sys) {
			if e.CreatedAt.Before(writtenAfter) {
				t.Fatalf("event %s at %v: the event log keeps the time it was written", e.Type, e.CreatedAt)
			}
		}

		t.Run("WithoutAtTheWallClock", func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			tk, err := tickets.Create(asCustomer, ticketing.NewTicket{Subject: "Now", Body: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if got := reload(t, client, sys, tk.ID); got.CreatedAt.Before(before) || !near(&got.UpdatedAt, time.Now()) {
				t.Fatalf("created %v, updated %v; want now", got.CreatedAt, got.UpdatedAt)
			}
		})
	})
}

func createdAts(msgs []*ent.Message) []time.Time {
	out := make([]time.Time, len(msgs))
	for i, m := range msgs {
		out[i] = m.CreatedAt
	}
	return out
}
