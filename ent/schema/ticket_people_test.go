package schema_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.BadUserInput || ae.Field != field {
		t.Fatalf("error = %v, want BAD_USER_INPUT on %s", err, field)
	}
}

// TestTicketPeople writes tickets with the ent client directly, an entry
// point that checked neither rule before they became hooks (only
// internal/ticketing's mutations did): an assignee is staff, whoever
// assigns, and a person opening a ticket for someone else opens it for a
// customer.
func TestTicketPeople(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		sys := viewer.SystemContext(context.Background())
		cust := newCustomer(t, client, sys, "cleo@example.com")
		person := func(email string, role user.Role, active bool) *ent.User {
			u, err := client.User.Create().SetEmail(email).SetName(email).SetRole(role).SetActive(active).Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		agent := person("agnes@helpdesk.test", user.RoleAGENT, true)
		gone := person("gone@helpdesk.test", user.RoleAGENT, false)
		admin := person("ada@helpdesk.test", user.RoleADMIN, true)
		asAdmin := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: admin.ID, Role: viewer.Admin})
		create := func(ctx context.Context, requester globalid.ID, build func(*ent.TicketCreate)) (*ent.Ticket, error) {
			var tk *ent.Ticket
			err := inTx(client, ctx, func(tx *ent.Tx) error {
				c := tx.Ticket.Create().SetSubject("People").SetRequesterID(requester)
				if build != nil {
					build(c)
				}
				var err error
				tk, err = c.Save(ctx)
				return err
			})
			return tk, err
		}

		t.Run("ErrCustomerAssigneeOnCreation", func(t *testing.T) {
			_, err := create(sys, cust.ID, func(c *ent.TicketCreate) { c.SetAssigneeID(cust.ID) })
			wantInvalid(t, err, "assigneeID")
		})
		t.Run("ErrCustomerAssigneeOnUpdate", func(t *testing.T) {
			tk := createTicket(t, client, sys, cust.ID, nil)
			wantInvalid(t, inTx(client, sys, func(tx *ent.Tx) error {
				return tx.Ticket.UpdateOneID(tk.ID).SetAssigneeID(cust.ID).Exec(sys)
			}), "assigneeID")
			wantInvalid(t, inTx(client, sys, func(tx *ent.Tx) error {
				return tx.Ticket.Update().Where(ticket.ID(tk.ID)).SetAssigneeID(cust.ID).Exec(sys)
			}), "assigneeID")
			if got := reload(t, client, sys, tk.ID); got.AssigneeID != nil {
				t.Fatalf("assigned to %s after refused updates", *got.AssigneeID)
			}
		})
		t.Run("ErrAssigneeNotAUser", func(t *testing.T) {
			_, err := create(sys, cust.ID, func(c *ent.TicketCreate) { c.SetAssigneeID(globalid.New(globalid.PrefixGroup)) })
			wantInvalid(t, err, "assigneeID")
			_, err = create(sys, cust.ID, func(c *ent.TicketCreate) { c.SetAssigneeID(globalid.New(globalid.PrefixUser)) })
			wantInvalid(t, err, "assigneeID")
		})
		t.Run("StaffAssignees", func(t *testing.T) {
			// A deactivated agent too: an import restores their tickets.
			for _, u := range []*ent.User{agent, gone, admin} {
				tk, err := create(sys, cust.ID, func(c *ent.TicketCreate) { c.SetAssigneeID(u.ID) })
				if err != nil || tk.AssigneeID == nil || *tk.AssigneeID != u.ID {
					t.Fatalf("assigning to %s: %v, %v", u.Email, tk, err)
				}
			}
			// Admins taking a ticket themselves.
			if _, err := create(asAdmin, cust.ID, func(c *ent.TicketCreate) { c.SetAssigneeID(admin.ID) }); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("ErrStaffRequester", func(t *testing.T) {
			_, err := create(asAdmin, agent.ID, nil)
			wantInvalid(t, err, "requesterID")
			// Named, even by themselves: their own tickets name no one.
			_, err = create(asAdmin, admin.ID, nil)
			wantInvalid(t, err, "requesterID")
			_, err = create(entschema.OwnTicket(asAdmin), agent.ID, nil)
			wantInvalid(t, err, "requesterID")
		})
		t.Run("Requesters", func(t *testing.T) {
			for name, tc := range map[string]struct {
				ctx       context.Context
				requester globalid.ID
			}{
				"ACustomerByStaff":     {asAdmin, cust.ID},
				"StaffTheirOwn":        {entschema.OwnTicket(asAdmin), admin.ID},
				"AnAgentByTheSystem":   {sys, agent.ID}, // an import of an agent's own ticket
				"ACustomerByTheSystem": {sys, cust.ID},
			} {
				t.Run(name, func(t *testing.T) {
					if _, err := create(tc.ctx, tc.requester, nil); err != nil {
						t.Fatal(err)
					}
				})
			}
		})
	})
}
