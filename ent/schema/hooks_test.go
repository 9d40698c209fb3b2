package schema_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func newCustomer(t *testing.T, client *ent.Client, sys context.Context, email string) *ent.User {
	t.Helper()
	u, err := client.User.Create().SetEmail(email).SetName("Customer").SetRole(user.RoleCUSTOMER).Save(sys)
	if err != nil {
		t.Fatalf("creating %s: %v", email, err)
	}
	return u
}

// createTicket opens a ticket with the ent client in a transaction as the
// system, so that only the schema hooks act on it.
func createTicket(t *testing.T, client *ent.Client, sys context.Context, requester globalid.ID, build func(*ent.TicketCreate)) *ent.Ticket {
	t.Helper()
	tx, err := client.Tx(sys)
	if err != nil {
		t.Fatal(err)
	}
	c := tx.Ticket.Create().SetSubject("Hook test").SetRequesterID(requester)
	if build != nil {
		build(c)
	}
	tk, err := c.Save(sys)
	if err != nil {
		_ = tx.Rollback()
		t.Fatalf("creating ticket: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return tk
}

// inTx runs fn in a transaction, as ticket changes must (event log).
func inTx(client *ent.Client, ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func reload(t *testing.T, client *ent.Client, sys context.Context, id globalid.ID) *ent.Ticket {
	t.Helper()
	tk, err := client.Ticket.Get(sys, id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func wantCode(t *testing.T, err error, code apierr.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := apierr.CodeOf(err); got != code {
		t.Fatalf("error %q has code %s, want %s", err, got, code)
	}
}

// near reports whether got is want within 5s (the time between a row's
// creation time and the hook's clock reading, never the test's timing).
func near(got *time.Time, want time.Time) bool {
	if got == nil {
		return false
	}
	d := got.Sub(want)
	return d > -5*time.Second && d < 5*time.Second
}

func TestUserEmail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		sys := viewer.SystemContext(context.Background())

		var ann *ent.User
		t.Run("StoredLowerCasedAndTrimmed", func(t *testing.T) {
			u, err := client.User.Create().SetEmail("  Ann.Lee@Example.COM\t").SetName("Ann").Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			ann = u
			if u.Email != "ann.lee@example.com" {
				t.Fatalf("returned email = %q", u.Email)
			}
			stored, err := client.User.Query().Where(user.Email("ann.lee@example.com")).Only(sys)
			if err != nil {
				t.Fatalf("looking up the normalised address: %v", err)
			}
			if stored.ID != u.ID {
				t.Fatal("found another user")
			}
		})
		t.Run("UniqueRegardlessOfCase", func(t *testing.T) {
			if ann == nil {
				t.Skip("needs the first user")
			}
			_, err := client.User.Create().SetEmail("ANN.LEE@example.com ").SetName("Impostor").Save(sys)
			if !ent.IsConstraintError(err) {
				t.Fatalf("second user with the same address in other case: err = %v, want a constraint error", err)
			}
			n, err := client.User.Query().Count(sys)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("%d users stored, want 1", n)
			}
		})
		t.Run("NormalisedOnUpdate", func(t *testing.T) {
			u := newCustomer(t, client, sys, "dan@example.com")
			got, err := client.User.UpdateOneID(u.ID).SetEmail(" Dan.New@Example.com ").Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			if got.Email != "dan.new@example.com" {
				t.Fatalf("email after update = %q", got.Email)
			}
			if _, err := client.User.Update().Where(user.ID(u.ID)).SetEmail("DAN@EXAMPLE.COM").Save(sys); err != nil {
				t.Fatal(err)
			}
			stored, err := client.User.Get(sys, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Email != "dan@example.com" {
				t.Fatalf("email after bulk update = %q", stored.Email)
			}
			if ann != nil {
				err := client.User.UpdateOneID(u.ID).SetEmail("Ann.Lee@example.com").Exec(sys)
				if !ent.IsConstraintError(err) {
					t.Fatalf("changing the address to another user's in other case: err = %v, want a constraint error", err)
				}
			}
		})
	})
}

func TestTicketStatus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		sys := viewer.SystemContext(context.Background())
		cust := newCustomer(t, client, sys, "erin@example.com")
		setStatus := func(id globalid.ID, s ticket.Status) error {
			return inTx(client, sys, func(tx *ent.Tx) error { return tx.Ticket.UpdateOneID(id).SetStatus(s).Exec(sys) })
		}

		t.Run("ClosedTicketCannotBeReopened", func(t *testing.T) {
			tk := createTicket(t, client, sys, cust.ID, nil)
			if err := setStatus(tk.ID, ticket.StatusCLOSED); err != nil {
				t.Fatal(err)
			}
			for _, s := range []ticket.Status{ticket.StatusOPEN, ticket.StatusNEW, ticket.StatusPENDING, ticket.StatusSOLVED} {
				wantCode(t, setStatus(tk.ID, s), apierr.Conflict)
			}
			if got := reload(t, client, sys, tk.ID); got.Status != ticket.StatusCLOSED {
				t.Fatalf("status = %s, want CLOSED", got.Status)
			}
			// Other changes to a closed ticket are still possible.
			if err := inTx(client, sys, func(tx *ent.Tx) error { return tx.Ticket.UpdateOneID(tk.ID).SetSubject("Archived").Exec(sys) }); err != nil {
				t.Fatalf("renaming a closed ticket: %v", err)
			}
		})
		t.Run("ClosedTicketCannotBeReopenedByItsCustomer", func(t *testing.T) {
			tk := createTicket(t, client, sys, cust.ID, nil)
			if err := setStatus(tk.ID, ticket.StatusCLOSED); err != nil {
				t.Fatal(err)
			}
			asCust := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: cust.ID, Role: viewer.Customer})
			err := ticketing.New(client, ticketing.Options{}).SetStatus(asCust, tk.ID, ticket.StatusOPEN)
			wantCode(t, err, apierr.Conflict)
		})
		t.Run("SolvedAtFollowsStatus", func(t *testing.T) {
			tk := createTicket(t, client, sys, cust.ID, nil)
			if tk.SolvedAt != nil {
				t.Fatal("new ticket has solvedAt")
			}
			if err := setStatus(tk.ID, ticket.StatusSOLVED); err != nil {
				t.Fatal(err)
			}
			solved := reload(t, client, sys, tk.ID)
			if solved.SolvedAt == nil {
				t.Fatal("solvedAt not set when the ticket was solved")
			}
			if !near(solved.SolvedAt, solved.UpdatedAt) {
				t.Fatalf("solvedAt %v is not the time of the change %v", solved.SolvedAt, solved.UpdatedAt)
			}
			if err := setStatus(tk.ID, ticket.StatusOPEN); err != nil {
				t.Fatal(err)
			}
			if got := reload(t, client, sys, tk.ID); got.SolvedAt != nil {
				t.Fatalf("solvedAt = %v after reopening, want cleared", got.SolvedAt)
			}
		})
		t.Run("SolvedAtKeptWhenSolvedAgainOrClosed", func(t *testing.T) {
			tk := createTicket(t, client, sys, cust.ID, nil)
			if err := setStatus(tk.ID, ticket.StatusSOLVED); err != nil {
				t.Fatal(err)
			}
			first := reload(t, client, sys, tk.ID).SolvedAt
			if err := setStatus(tk.ID, ticket.StatusSOLVED); err != nil {
				t.Fatal(err)
			}
			again := reload(t, client, sys, tk.ID).SolvedAt
			if first == nil || again == nil || !first.Equal(*again) {
				t.Fatalf("solvedAt moved from %v to %v when solved again", first, again)
			}
			if err := setStatus(tk.ID, ticket.StatusCLOSED); err != nil {
				t.Fatal(err)
			}
			closed := reload(t, client, sys, tk.ID).SolvedAt
			if closed == nil || !first.Equal(*closed) {
				t.Fatalf("solvedAt = %v after closing, want it kept at %v", closed, first)
			}
		})
	})
}

func TestSLA(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		sys := viewer.SystemContext(context.Background())
		cust := newCustomer(t, client, sys, "fay@example.com")
		if err := client.SLAPolicy.Create().SetPriority(priority.High).SetFirstResponseMinutes(60).SetResolutionMinutes(240).Exec(sys); err != nil {
			t.Fatal(err)
		}
		high := func(c *ent.TicketCreate) { c.SetPriority(priority.High) }

		t.Run("HighTicketGetsDueTimes", func(t *testing.T) {
			tk := reload(t, client, sys, createTicket(t, client, sys, cust.ID, high).ID)
			if want := tk.CreatedAt.Add(60 * time.Minute); !near(tk.FirstResponseDueAt, want) {
				t.Fatalf("firstResponseDueAt = %v, want about %v (created + 60m)", tk.FirstResponseDueAt, want)
			}
			if want := tk.CreatedAt.Add(240 * time.Minute); !near(tk.ResolutionDueAt, want) {
				t.Fatalf("resolutionDueAt = %v, want about %v (created + 240m)", tk.ResolutionDueAt, want)
			}
		})
		t.Run("HighTicketFromTheServiceGetsDueTimes", func(t *testing.T) {
			admin, err := client.User.Create().SetEmail("boss@helpdesk.test").SetName("Boss").SetRole(user.RoleADMIN).Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			asAdmin := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: admin.ID, Role: viewer.Admin})
			p := priority.High
			created, err := ticketing.New(client, ticketing.Options{}).Create(asAdmin, ticketing.NewTicket{Subject: "VIP", Body: "x", Priority: &p, RequesterID: &cust.ID})
			if err != nil {
				t.Fatal(err)
			}
			tk := reload(t, client, sys, created.ID)
			if !near(tk.FirstResponseDueAt, tk.CreatedAt.Add(time.Hour)) || !near(tk.ResolutionDueAt, tk.CreatedAt.Add(4*time.Hour)) {
				t.Fatalf("due times %v / %v for a HIGH ticket created %v", tk.FirstResponseDueAt, tk.ResolutionDueAt, tk.CreatedAt)
			}
		})
		t.Run("TicketWithoutPolicyHasNoDueTimes", func(t *testing.T) {
			tk := reload(t, client, sys, createTicket(t, client, sys, cust.ID, nil).ID)
			if tk.FirstResponseDueAt != nil || tk.ResolutionDueAt != nil {
				t.Fatalf("NORMAL ticket without a policy has due times %v / %v", tk.FirstResponseDueAt, tk.ResolutionDueAt)
			}
		})
		t.Run("LoweringPriorityWithoutPolicyClearsDueTimes", func(t *testing.T) {
			tk := createTicket(t, client, sys, cust.ID, high)
			if err := inTx(client, sys, func(tx *ent.Tx) error { return tx.Ticket.UpdateOneID(tk.ID).SetPriority(priority.Low).Exec(sys) }); err != nil {
				t.Fatal(err)
			}
			got := reload(t, client, sys, tk.ID)
			if got.Priority != priority.Low {
				t.Fatalf("priority = %s, want LOW", got.Priority)
			}
			if got.FirstResponseDueAt != nil || got.ResolutionDueAt != nil {
				t.Fatalf("LOW ticket without a policy keeps due times %v / %v", got.FirstResponseDueAt, got.ResolutionDueAt)
			}
		})
		t.Run("RaisingPriorityCountsFromCreation", func(t *testing.T) {
			created := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
			tk := createTicket(t, client, sys, cust.ID, func(c *ent.TicketCreate) { c.SetCreatedAt(created) })
			if err := inTx(client, sys, func(tx *ent.Tx) error { return tx.Ticket.UpdateOneID(tk.ID).SetPriority(priority.High).Exec(sys) }); err != nil {
				t.Fatal(err)
			}
			got := reload(t, client, sys, tk.ID)
			if got.FirstResponseDueAt == nil || !got.FirstResponseDueAt.Equal(got.CreatedAt.Add(time.Hour)) {
				t.Fatalf("firstResponseDueAt = %v, want exactly created %v + 60m", got.FirstResponseDueAt, got.CreatedAt)
			}
			if got.ResolutionDueAt == nil || !got.ResolutionDueAt.Equal(got.CreatedAt.Add(4*time.Hour)) {
				t.Fatalf("resolutionDueAt = %v, want exactly created %v + 240m", got.ResolutionDueAt, got.CreatedAt)
			}
		})
		t.Run("ImportedTicketCountsFromItsCreationTime", func(t *testing.T) {
			created := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
			tk := createTicket(t, client, sys, cust.ID, func(c *ent.TicketCreate) { c.SetCreatedAt(created).SetPriority(priority.High) })
			got := reload(t, client, sys, tk.ID)
			if !near(got.FirstResponseDueAt, got.CreatedAt.Add(time.Hour)) {
				if near(got.FirstResponseDueAt, got.UpdatedAt.Add(time.Hour)) {
					t.Fatalf("fixed bug regressed: a ticket created with createdAt %v gets firstResponseDueAt %v: applySLA in ent/schema/hooks.go counts from time.Now() at creation instead of the ticket's createdAt, unlike on priority changes", got.CreatedAt, got.FirstResponseDueAt)
				}
				t.Fatalf("firstResponseDueAt = %v, want created %v + 60m", got.FirstResponseDueAt, got.CreatedAt)
			}
		})
	})
}

func TestTicketNumbering(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		sys := viewer.SystemContext(context.Background())
		cust := newCustomer(t, client, sys, "gus@example.com")

		t.Run("CreationOutsideTransactionFails", func(t *testing.T) {
			_, err := client.Ticket.Create().SetSubject("No tx").SetRequesterID(cust.ID).Save(sys)
			if err == nil {
				t.Fatal("ticket created outside a transaction")
			}
			if !strings.Contains(err.Error(), "transaction") {
				t.Fatalf("error %q does not say a transaction is needed", err)
			}
			n, err := client.Ticket.Query().Count(sys)
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d tickets stored, want 0", n)
			}
		})
		t.Run("NumbersStartAtOneAndIncrease", func(t *testing.T) {
			a := createTicket(t, client, sys, cust.ID, nil)
			b := createTicket(t, client, sys, cust.ID, nil)
			if a.Number != 1 || b.Number != 2 {
				t.Fatalf("numbers = %d, %d, want 1, 2", a.Number, b.Number)
			}
		})
		t.Run("RolledBackCreationGivesItsNumberBack", func(t *testing.T) {
			tx, err := client.Tx(sys)
			if err != nil {
				t.Fatal(err)
			}
			tk, err := tx.Ticket.Create().SetSubject("Rolled back").SetRequesterID(cust.ID).Save(sys)
			if err != nil {
				_ = tx.Rollback()
				t.Fatal(err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			next := createTicket(t, client, sys, cust.ID, nil)
			if next.Number != tk.Number {
				t.Fatalf("next ticket has number %d, want the rolled-back %d again", next.Number, tk.Number)
			}
		})
		t.Run("GivenNumberIsKeptAndLaterTicketsNumberAfterIt", func(t *testing.T) {
			imported := createTicket(t, client, sys, cust.ID, func(c *ent.TicketCreate) { c.SetNumber(100) })
			next := createTicket(t, client, sys, cust.ID, nil)
			if imported.Number != 100 || next.Number != 101 {
				t.Fatalf("numbers = %d, %d, want the given 100, then 101", imported.Number, next.Number)
			}
		})
		t.Run("GivenNumberBelowTheSequenceLeavesItAlone", func(t *testing.T) {
			imported := createTicket(t, client, sys, cust.ID, func(c *ent.TicketCreate) { c.SetNumber(50) })
			next := createTicket(t, client, sys, cust.ID, nil)
			if imported.Number != 50 || next.Number != 102 {
				t.Fatalf("numbers = %d, %d, want the given 50, then 102", imported.Number, next.Number)
			}
		})
	})
}

// TestSkipHooksIsCalledOnlyByImportAndErasure keeps the promise of
// hooks.go: the flags that turn hooks off are set by internal/bulk and
// internal/erase, and by no code the API reaches.
func TestSkipHooksIsCalledOnlyByImportAndErasure(t *testing.T) {
	allowed := map[string]bool{"internal/bulk": true, "internal/erase": true}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", filepath.Dir(path))
		if strings.Contains(string(src), "SkipHooks(") && !allowed[filepath.ToSlash(rel)] && filepath.ToSlash(rel) != "ent/schema" {
			t.Errorf("%s turns schema hooks off; only import and erasure may (see ent/schema/hooks.go)", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
