package erase_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/attachment"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/erase"
	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// files is an attachments service over a directory store of its own.
type files struct {
	svc *attachments.Service
	dir *attachments.Dir
}

func newFiles(t *testing.T, client *ent.Client) files {
	t.Helper()
	dir, err := attachments.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := attachments.New(client, dir, "", attachments.DefaultLimits, nil)
	if err != nil {
		t.Fatal(err)
	}
	return files{svc, dir}
}

// upload stores content as a pending upload of u, as the API does.
func (f files) upload(t *testing.T, u *ent.User, name, content string) *ent.Attachment {
	t.Helper()
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Role: viewer.Role(u.Role)})
	a, err := f.svc.Upload(ctx, graphql.Upload{File: bytes.NewReader([]byte(content)), Filename: name, Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// blob is where the directory store keeps a blob.
func (f files) blob(key string) string {
	return filepath.Join(f.dir.Root(), key[:2], key[2:4], key)
}

func (f files) stored(t *testing.T, key string) bool {
	t.Helper()
	_, err := f.dir.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, attachments.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// age makes a blob look written two days ago: older than the last half
// of the pending TTL, within which PruneBlobs keeps an unreferenced blob.
func (f files) age(t *testing.T, key string) {
	t.Helper()
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(f.blob(key), old, old); err != nil {
		t.Fatal(err)
	}
}

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
		f := newFiles(t, client)
		tk := client.Ticket.Query().Where(ticket.HasRequesterWith(user.RoleEQ(user.RoleCUSTOMER))).WithRequester().FirstX(sys)
		customer := tk.Edges.Requester
		agent := client.User.Query().Where(user.EmailEQ(res.Agent)).OnlyX(sys)
		quiet := entschema.SkipHooks(sys, entschema.SkipEvents)
		mine := client.Message.Create().SetTicketID(tk.ID).SetAuthorID(customer.ID).SetBody("Here are the files").SaveX(quiet)
		reply := client.Message.Create().SetTicketID(tk.ID).SetAuthorID(agent.ID).SetBody("And one from us").SaveX(quiet)
		attach := func(a *ent.Attachment, m *ent.Message) {
			client.Attachment.UpdateOneID(a.ID).SetMessageID(m.ID).SetTicketID(m.TicketID).ExecX(sys)
		}

		only := f.upload(t, customer, "invoice.pdf", "%PDF- only the customer's")
		attach(only, mine)
		shared := f.upload(t, customer, "screenshot.txt", "the same screenshot twice")
		attach(shared, mine)
		pending := f.upload(t, customer, "draft.txt", "never attached")
		recent := f.upload(t, customer, "new.txt", "uploaded a moment ago")
		attach(recent, mine)
		// The agent's upload of the same content, on the customer's ticket.
		theirs := f.upload(t, agent, "screenshot.txt", "the same screenshot twice")
		attach(theirs, reply)
		if theirs.Sha256 != shared.Sha256 {
			t.Fatal("the same content has two keys")
		}
		for _, a := range []*ent.Attachment{only, shared, pending} {
			f.age(t, a.Sha256)
		}

		got, err := erase.Eraser{Client: client, Files: f.svc}.User(ctx, customer.Email, false)
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
			if !f.stored(t, shared.Sha256) {
				t.Fatal("the blob the agent's attachment still references was deleted")
			}
		})
		t.Run("UnsharedBlobsAreDeleted", func(t *testing.T) {
			for _, a := range []*ent.Attachment{only, pending} {
				if f.stored(t, a.Sha256) {
					t.Fatalf("the blob of %s (%s) is still stored", a.Filename, a.Sha256)
				}
			}
		})
		t.Run("RecentBlobIsLeftToTheSweeper", func(t *testing.T) {
			// An upload of the same content may be about to reference it
			// without writing it again (attachments.Service.PruneBlobs).
			if !f.stored(t, recent.Sha256) {
				t.Fatal("a blob written a moment ago was deleted")
			}
			f.age(t, recent.Sha256)
			if n, err := f.svc.PruneBlobs(ctx, []string{recent.Sha256}); err != nil || n != 1 {
				t.Fatalf("pruning it once old deleted %d (%v)", n, err)
			}
		})
		t.Run("WithoutTheServiceRowsGoAndBlobsWait", func(t *testing.T) {
			other := client.User.Query().Where(user.RoleEQ(user.RoleCUSTOMER), user.IDNEQ(customer.ID)).FirstX(sys)
			a := f.upload(t, other, "left.txt", "left for the sweeper")
			f.age(t, a.Sha256)
			got, err := erase.User(ctx, client, other.Email, false)
			if err != nil || got.Attachments != 1 || got.Files != 0 {
				t.Fatalf("%+v, %v", got, err)
			}
			if client.Attachment.Query().Where(attachment.ID(a.ID)).ExistX(sys) || !f.stored(t, a.Sha256) {
				t.Fatal("want the row deleted and the blob left")
			}
			if res, err := f.svc.Sweep(ctx); err != nil || res.Blobs != 1 {
				t.Fatalf("the sweep deleted %+v (%v), want the one blob", res, err)
			}
		})
	})
}
