package confidential_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Each client carries the keyring it was opened with; opening another
// client with other keys, in the same process and on the same database,
// changes nothing for the first (with a keyring installed for the process
// the second opening would have replaced the first client's keys).
func TestDriverKeyringPerClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := viewer.SystemContext(context.Background())
		a := tg.OpenWith(t, newKeyring(t, "ka"))
		b := tg.OpenWith(t, newKeyring(t, "kb"))

		ua := createUser(t, a, "a@example.com", "+1 555 0101", true)
		ub := createUser(t, b, "b@example.com", "+1 555 0202", true)
		stored := map[string]string{}
		for _, p := range rawPhones(t, tg) {
			id, _, _ := strings.Cut(strings.TrimPrefix(p, "enc:v1:"), ":")
			stored[id] = p
		}
		if len(stored) != 2 || stored["ka"] == "" || stored["kb"] == "" {
			t.Fatalf("stored phones %q, want one sealed with ka and one with kb", rawPhones(t, tg))
		}

		// Each reads its own value, and not the other's.
		for _, tc := range []struct {
			name        string
			client      *ent.Client
			own, others *ent.User
		}{{"a", a, ua, ub}, {"b", b, ub, ua}} {
			got, err := tc.client.User.Get(ctx, tc.own.ID)
			if err != nil || got.Phone != tc.own.Phone {
				t.Fatalf("client %s reading its own user = (%v, %v), want phone %q", tc.name, got, err, tc.own.Phone)
			}
			if _, err := tc.client.User.Get(ctx, tc.others.ID); !errors.Is(err, confidential.ErrUnknownKey) {
				t.Fatalf("client %s reading the other's user: err = %v, want ErrUnknownKey", tc.name, err)
			}
		}

		// In transactions too, and at the same time.
		var wg sync.WaitGroup
		errs := make(chan error, 2*20)
		for _, c := range []*ent.Client{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					err := func() error {
						tx, err := c.Tx(ctx)
						if err != nil {
							return err
						}
						defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
						want := fmt.Sprintf("+1 555 %04d", i)
						u, err := tx.User.Create().SetEmail(fmt.Sprintf("tx%d-%p@example.com", i, c)).SetName("T").SetPhone(want).Save(ctx)
						if err != nil {
							return err
						}
						if got, err := tx.User.Get(ctx, u.ID); err != nil || got.Phone != want {
							return fmt.Errorf("read back in the transaction: (%v, %v), want %q", got, err, want)
						}
						return tx.Commit()
					}()
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

// A client given no keyring refuses confidential values rather than
// storing plaintext, and works for everything else.
func TestDriverWithoutKeyring(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := viewer.SystemContext(context.Background())
		keyed := tg.Open(t)
		sealed := createUser(t, keyed, "sealed@example.com", "+1 555 0303", true)
		none := tg.OpenWith(t, nil)

		_, err := none.User.Create().SetEmail("plain@example.com").SetName("P").SetPhone("+1 555 0404").Save(ctx)
		if !errors.Is(err, confidential.ErrNoKeyring) {
			t.Fatalf("writing a phone without a keyring: err = %v, want ErrNoKeyring", err)
		}
		if err := none.User.UpdateOneID(sealed.ID).SetPhone("+1 555 0505").Exec(ctx); !errors.Is(err, confidential.ErrNoKeyring) {
			t.Fatalf("updating a phone without a keyring: err = %v, want ErrNoKeyring", err)
		}
		for _, p := range rawPhones(t, tg) {
			if strings.Contains(p, "555") {
				t.Fatalf("a client without a keyring stored %q", p)
			}
		}
		if _, err := none.User.Get(ctx, sealed.ID); !errors.Is(err, confidential.ErrNoKeyring) {
			t.Fatalf("reading a phone without a keyring: err = %v, want ErrNoKeyring", err)
		}

		// Nor does a client that bypasses Driver altogether: the request
		// the scanner hands database/sql fails the statement.
		c, db, err := database.Open(tg.DatabaseURL, tg.DataDir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		name := dialect.SQLite
		if tg.Dialect == dbtest.Postgres {
			name = dialect.Postgres
		}
		bare := ent.NewClient(ent.Driver(entsql.OpenDB(name, db)))
		_, err = bare.User.Create().SetEmail("bare@example.com").SetName("B").SetPhone("+1 555 0606").Save(ctx)
		if !errors.Is(err, confidential.ErrNoKeyring) {
			t.Fatalf("writing a phone through a bare ent client: err = %v, want ErrNoKeyring", err)
		}
		for _, p := range rawPhones(t, tg) {
			if strings.Contains(p, "555") {
				t.Fatalf("a client without a keyring stored %q", p)
			}
		}

		// Users without a phone need no key.
		u := createUser(t, none, "nophone@example.com", "", false)
		if got, err := none.User.Query().Where(user.ID(u.ID)).Only(ctx); err != nil || got.Phone != "" {
			t.Fatalf("reading a user without a phone = (%v, %v)", got, err)
		}
		if got := phonesByEmail(t, keyed); got["sealed@example.com"] != sealed.Phone {
			t.Fatalf("the keyed client reads %q, want %q", got["sealed@example.com"], sealed.Phone)
		}
	})
}

// ent.Debug prints statement arguments before they reach the driver that
// seals them: the plaintext must not be among them.
func TestDriverDebugLogHidesPlaintext(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	var mu sync.Mutex
	var log strings.Builder
	client := tg.OpenWith(t, tg.Keyring(t), ent.Debug(), ent.Log(func(args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(&log, args...)
	}))
	createUser(t, client, "logged@example.com", phone, true)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(log.String(), "logged@example.com") {
		t.Fatalf("the debug log shows no statement: %q", log.String())
	}
	if strings.Contains(log.String(), phone) {
		t.Fatalf("the debug log holds the phone: %q", log.String())
	}
}
