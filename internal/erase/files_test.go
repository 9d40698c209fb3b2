package erase_test

import (
	"context"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/attachment"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/erase"
	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/filetest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// TestUserFiles erases a customer with files: their uploads go, attached
// or pending; a blob someone else's attachment shares stays, and so does
// that attachment; a blob only they referenced is deleted, unless it was
// written too recently (the sweeper takes it later).
func TestUserFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		sys := viewer.SystemContext(ctx)
		client := tg.Open(t)
		db, err := database.OpenSQL(tg.DatabaseURL, tg.DataDir, database.Pool{}, tg.Keyring(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		res, err := seed.Run(ctx, db, seed.Options{Tickets: 6, Messages: 20, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		f := filetest.New(t, client)
		tk := client.Ticket.Query().Where(ticket.HasRequesterWith(user.RoleEQ(user.RoleCUSTOMER))).WithRequester().FirstX(sys)
		customer := tk.Edges.Requester
		agent := client.User.Query().Where(user.EmailEQ(res.Agent)).OnlyX(sys)
		quiet := entschema.SkipHooks(sys, entschema.SkipEvents)
		mine := client.Message.Create().SetTicketID(tk.ID).SetAuthorID(customer.ID).SetBody("Here are the files").SaveX(quiet)
		reply := client.Message.Create().SetTicketID(tk.ID).SetAuthorID(agent.ID).SetBody("And one from us").SaveX(quiet)

		only := f.Upload(t, customer, "invoice.pdf", "%PDF- only the customer's")
		f.Attach(t, only, mine)
		shared := f.Upload(t, customer, "screenshot.txt", "the same screenshot twice")
		f.Attach(t, shared, mine)
		pending := f.Upload(t, customer, "draft.txt", "never attached")
		recent := f.Upload(t, customer, "new.txt", "uploaded a moment ago")
		f.Attach(t, recent, mine)
		// The agent's upload of the same content, on the customer's ticket.
		theirs := f.Upload(t, agent, "screenshot.txt", "the same screenshot twice")
		f.Attach(t, theirs, reply)
		if theirs.Sha256 != shared.Sha256 {
			t.Fatal("the same content has two keys")
		}
		for _, a := range []*ent.Attachment{only, shared, pending} {
			f.Age(t, a.Sha256)
		}

		got, err := erase.Eraser{Client: client, Files: f.Svc}.User(ctx, customer.Email, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.Attachments != 4 || got.Files != 2 {
			t.Fatalf("result %+v; want 4 attachments deleted (3 attached, 1 pending) and 2 files (the old unshared ones)", got)
		}
		t.Run("TheirUploadsAreGone", func(t *testing.T) {
			if n := client.Attachment.Query().Where(attachment.UploaderID(customer.ID)).CountX(sys); n != 0 {
				t.Fatalf("%d of their attachments are left", n)
			}
		})
		t.Run("SomeoneElsesUploadStays", func(t *testing.T) {
			a, err := client.Attachment.Get(sys, theirs.ID)
			if err != nil || a.MessageID == nil || *a.MessageID != reply.ID {
				t.Fatalf("the agent's attachment on their ticket: %v, %v", a, err)
			}
			if !f.Stored(t, shared.Sha256) {
				t.Fatal("the blob the agent's attachment still references was deleted")
			}
		})
		t.Run("UnsharedBlobsAreDeleted", func(t *testing.T) {
			for _, a := range []*ent.Attachment{only, pending} {
				if f.Stored(t, a.Sha256) {
					t.Fatalf("the blob of %s (%s) is still stored", a.Filename, a.Sha256)
				}
			}
		})
		t.Run("RecentBlobIsLeftToTheSweeper", func(t *testing.T) {
			// An upload of the same content may be about to reference it
			// without writing it again (attachments.Service.PruneBlobs).
			if !f.Stored(t, recent.Sha256) {
				t.Fatal("a blob written a moment ago was deleted")
			}
			f.Age(t, recent.Sha256)
			if n, err := f.Svc.PruneBlobs(ctx, []string{recent.Sha256}); err != nil || n != 1 {
				t.Fatalf("pruning it once old deleted %d (%v)", n, err)
			}
		})
		t.Run("WithoutTheServiceRowsGoAndBlobsWait", func(t *testing.T) {
			other := client.User.Query().Where(user.RoleEQ(user.RoleCUSTOMER), user.IDNEQ(customer.ID)).FirstX(sys)
			a := f.Upload(t, other, "left.txt", "left for the sweeper")
			f.Age(t, a.Sha256)
			got, err := erase.User(ctx, client, other.Email, false)
			if err != nil || got.Attachments != 1 || got.Files != 0 {
				t.Fatalf("%+v, %v", got, err)
			}
			if client.Attachment.Query().Where(attachment.ID(a.ID)).ExistX(sys) || !f.Stored(t, a.Sha256) {
				t.Fatal("want the row deleted and the blob left")
			}
			if res, err := f.Svc.Sweep(ctx); err != nil || res.Blobs != 1 {
				t.Fatalf("the sweep deleted %+v (%v), want the one blob", res, err)
			}
		})
	})
}
