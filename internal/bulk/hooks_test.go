package bulk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/bulk"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// jsonl writes records as an import file.
func jsonl(t *testing.T, recs ...bulk.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// TestImportGoesThroughTheHooks imports into a helpdesk whose own rules
// would change imported tickets (a default group that assigns by
// round-robin, an SLA policy) and whose client carries the credential
// cache's hooks, as the application's does.
func TestImportGoesThroughTheHooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		sys := viewer.SystemContext(ctx)
		dst := open(t, tg)
		accounts := auth.New(dst.client, auth.Options{SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: 24 * time.Hour,
			Cache: cache.NewMemory(100, time.Minute)})
		dst.client.Group.Create().SetName("Triage").SetIsDefault(true).SetAutoAssign(group.AutoAssignALL_AGENTS).ExecX(sys)
		dst.client.SLAPolicy.Create().SetPriority(priority.High).SetFirstResponseMinutes(60).SetResolutionMinutes(240).ExecX(sys)
		// The file's group is here already, assigning by round-robin: the
		// import updates its name and leaves that setting.
		billing := globalid.New(globalid.PrefixGroup)
		dst.client.Group.Create().SetID(billing).SetName("Old name").SetAutoAssign(group.AutoAssignALL_AGENTS).ExecX(sys)

		const password, phone = "correct horse battery staple", "+44 20 7946 0000"
		hash, err := argon2id.CreateHash(password, &argon2id.Params{Memory: 8 << 10, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
		if err != nil {
			t.Fatal(err)
		}
		created := *at("2025-01-01T09:00:00Z")
		agent := bulk.Record{Type: bulk.TypeUser, ID: globalid.New(globalid.PrefixUser), CreatedAt: created, UpdatedAt: created,
			Email: "Agent.Smith@Example.COM", Name: "Agent Smith", Role: "AGENT", PasswordHash: hash, Groups: []globalid.ID{billing}}
		customer := bulk.Record{Type: bulk.TypeUser, ID: globalid.New(globalid.PrefixUser), CreatedAt: created, UpdatedAt: created,
			Email: "carla@example.com", Name: "Carla", Role: "CUSTOMER", Phone: phone}
		unplaced := bulk.Record{Type: bulk.TypeTicket, ID: globalid.New(globalid.PrefixTicket), CreatedAt: created, UpdatedAt: created,
			Number: 500, Subject: "Nobody placed me", Status: "OPEN", Priority: "HIGH", Channel: "EMAIL", Requester: customer.ID,
			FirstResponseDueAt: at("2025-01-01T17:00:00Z"), ResolutionDueAt: at("2025-01-04T09:00:00Z")}
		// Nanoseconds, as SQLite keeps them: PostgreSQL keeps microseconds.
		solved := bulk.Record{Type: bulk.TypeTicket, ID: globalid.New(globalid.PrefixTicket), CreatedAt: created, UpdatedAt: *at("2025-01-03T10:00:00.123456789Z"),
			Number: 7, Subject: "Solved long ago", Status: "SOLVED", Priority: "HIGH", Channel: "WEB", Requester: customer.ID, Group: &billing,
			SolvedAt: at("2025-01-03T10:00:00Z")}
		reply := bulk.Record{Type: bulk.TypeMessage, ID: globalid.New(globalid.PrefixMessage), CreatedAt: created, UpdatedAt: created,
			Ticket: solved.ID, Author: agent.ID, Body: "Fixed, thanks for waiting."}
		billingLine := bulk.Record{Type: bulk.TypeGroup, ID: billing, CreatedAt: created, UpdatedAt: created, Name: "Billing"}
		file := func(users ...bulk.Record) []byte {
			return jsonl(t, append(append([]bulk.Record{billingLine}, users...), unplaced, solved, reply)...)
		}
		importFile := func(t *testing.T, b []byte) {
			t.Helper()
			if _, err := bulk.Import(ctx, dst.client, bytes.NewReader(b), bulk.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		importFile(t, file(agent, customer))

		t.Run("ReImportWritesNothing", func(t *testing.T) {
			// The schema's hooks act on nothing that did not change, and
			// a time stored to the microsecond matches the file's.
			counting := tg.Open(t)
			var writes atomic.Int64
			counting.Use(func(next ent.Mutator) ent.Mutator {
				return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
					writes.Add(1)
					return next.Mutate(ctx, m)
				})
			})
			if _, err := bulk.Import(ctx, counting, bytes.NewReader(file(agent, customer)), bulk.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			if n := writes.Load(); n != 0 {
				t.Fatalf("re-importing an unchanged file wrote %d times", n)
			}
		})
		t.Run("EmailsAreNormalised", func(t *testing.T) {
			if u := dst.client.User.GetX(sys, agent.ID); u.Email != "agent.smith@example.com" {
				t.Fatalf("imported address %q, want it lower-cased", u.Email)
			}
		})
		t.Run("PhonesAreEncryptedUnderTheCurrentKey", func(t *testing.T) {
			var raw string
			if err := dst.db.DB.QueryRow(dst.db.Rebind("SELECT phone FROM users WHERE id = ?"), string(customer.ID)).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			keys := dst.db.Keyring
			if !strings.HasPrefix(raw, "enc:v1:"+keys.CurrentID()+":") {
				t.Fatalf("phone stored as %q, want a ciphertext under the current key %q", raw, keys.CurrentID())
			}
			if got, err := keys.Decrypt(raw, "users.phone"); err != nil || got != phone {
				t.Fatalf("stored phone opens as %q, %v", got, err)
			}
		})
		t.Run("TicketsKeepTheirPlacesAndDueTimes", func(t *testing.T) {
			u := dst.client.Ticket.GetX(sys, unplaced.ID)
			if u.GroupID != nil || u.AssigneeID != nil {
				t.Fatalf("the ticket without a group was routed: group %v, assignee %v", u.GroupID, u.AssigneeID)
			}
			if !u.FirstResponseDueAt.Equal(*unplaced.FirstResponseDueAt) || !u.ResolutionDueAt.Equal(*unplaced.ResolutionDueAt) {
				t.Fatalf("due times %v, %v; want the file's %v, %v", u.FirstResponseDueAt, u.ResolutionDueAt, unplaced.FirstResponseDueAt, unplaced.ResolutionDueAt)
			}
			s := dst.client.Ticket.GetX(sys, solved.ID)
			if s.AssigneeID != nil || s.FirstResponseDueAt != nil {
				t.Fatalf("the unassigned ticket was assigned to %v or given due times %v", s.AssigneeID, s.FirstResponseDueAt)
			}
			if g := dst.client.Group.GetX(sys, billing); g.Name != "Billing" || g.AutoAssign != group.AutoAssignALL_AGENTS {
				t.Fatalf("group %q assigning %s, want the file's name and the setting kept", g.Name, g.AutoAssign)
			}
		})
		t.Run("WritesNoEventsOrNotifications", func(t *testing.T) {
			if n := dst.client.Event.Query().CountX(sys); n != 0 {
				t.Fatalf("%d events written for imported history", n)
			}
			if n := dst.client.Notification.Query().CountX(sys); n != 0 {
				t.Fatalf("%d notifications written for imported history", n)
			}
		})
		t.Run("NewTicketsNumberAfterTheImportedOnes", func(t *testing.T) {
			tx, err := dst.client.Tx(sys)
			if err != nil {
				t.Fatal(err)
			}
			tk, err := tx.Ticket.Create().SetSubject("After the import").SetRequesterID(customer.ID).Save(sys)
			if err != nil {
				_ = tx.Rollback()
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if tk.Number != 501 {
				t.Fatalf("the first ticket after importing number 500 is number %d", tk.Number)
			}
		})
		t.Run("ReImportRestoresTheFilesStatus", func(t *testing.T) {
			tx, err := dst.client.Tx(sys)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Ticket.UpdateOneID(solved.ID).SetStatus(ticket.StatusCLOSED).Exec(sys); err != nil {
				_ = tx.Rollback()
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			events := dst.client.Event.Query().CountX(sys)
			importFile(t, file(agent, customer))
			s := dst.client.Ticket.GetX(sys, solved.ID)
			if s.Status != ticket.StatusSOLVED || !s.SolvedAt.Equal(*solved.SolvedAt) || s.UpdatedAt.Sub(solved.UpdatedAt).Abs() >= time.Microsecond {
				t.Fatalf("re-imported ticket %s solved at %v, updated %v; want the file's", s.Status, s.SolvedAt, s.UpdatedAt)
			}
			if n := dst.client.Event.Query().CountX(sys); n != events {
				t.Fatalf("the re-import wrote %d events", n-events)
			}
		})

		token, _, err := accounts.Login(ctx, agent.Email, password, "test", false)
		if err != nil {
			t.Fatal(err)
		}
		signedIn := func(t *testing.T) (*viewer.Viewer, error) {
			t.Helper()
			return accounts.Authenticate(ctx, token) // cached for a minute
		}
		if v, err := signedIn(t); err != nil || v.Role != viewer.Agent {
			t.Fatalf("the imported agent signs in as %v, %v", v, err)
		}
		t.Run("DropsTheCachedCredentialsOfUsersItChanges", func(t *testing.T) {
			promoted := agent
			promoted.Role = "ADMIN"
			importFile(t, file(promoted, customer))
			if v, err := signedIn(t); err != nil || v.Role != viewer.Admin {
				t.Fatalf("after the import made them an admin, their session is %+v, %v", v, err)
			}
		})
		t.Run("RevokesTheSessionsOfUsersItDeactivates", func(t *testing.T) {
			gone := agent
			gone.Active = new(bool)
			importFile(t, file(gone, customer))
			if _, err := signedIn(t); err == nil {
				t.Fatal("the deactivated agent's session still works")
			}
			if n := dst.client.Session.Query().Where(session.UserID(agent.ID), session.RevokedAtIsNil()).CountX(sys); n != 0 {
				t.Fatalf("%d of the deactivated agent's sessions are not revoked", n)
			}
		})
	})
}

// TestImportManyMemberships writes more group memberships in one run of
// users than SQLite binds in one statement (32,766 values: here 40,000).
func TestImportManyMemberships(t *testing.T) {
	ctx := context.Background()
	dst := open(t, dbtest.NewTarget(t, dbtest.SQLite))
	created := *at("2025-01-01T09:00:00Z")
	var recs []bulk.Record
	var groups []globalid.ID
	for i := range 100 {
		g := bulk.Record{Type: bulk.TypeGroup, ID: globalid.New(globalid.PrefixGroup), CreatedAt: created, UpdatedAt: created, Name: fmt.Sprintf("Group %d", i)}
		recs, groups = append(recs, g), append(groups, g.ID)
	}
	slices.Sort(groups)
	for i := range 200 {
		recs = append(recs, bulk.Record{Type: bulk.TypeUser, ID: globalid.New(globalid.PrefixUser), CreatedAt: created, UpdatedAt: created,
			Email: fmt.Sprintf("agent%d@example.com", i), Name: "Agent", Role: "AGENT", Groups: groups})
	}
	if _, err := bulk.Import(ctx, dst.client, bytes.NewReader(jsonl(t, recs...)), bulk.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dst.db.DB.QueryRow("SELECT COUNT(*) FROM group_members").Scan(&n); err != nil || n != 200*100 {
		t.Fatalf("%d memberships (%v), want 20,000", n, err)
	}
}
