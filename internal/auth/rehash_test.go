package auth

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func TestLoginUpgradesOutdatedHash(t *testing.T) {
	client := dbtest.Client(t)
	svc := New(client, Options{SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: time.Hour})
	sys := viewer.SystemContext(context.Background())
	weak := *DefaultParams
	weak.Memory, weak.Iterations = 4*1024, 1
	old, err := argon2id.CreateHash("xyzzy plover 42", &weak)
	if err != nil {
		t.Fatal(err)
	}
	u := client.User.Create().SetEmail("old@example.com").SetName("Old").SetPasswordHash(old).SaveX(sys)
	if _, _, err := svc.Login(viewer.NewContext(context.Background(), nil), "old@example.com", "xyzzy plover 42", "test", false); err != nil {
		t.Fatalf("login with an old hash: %v", err)
	}
	stored := client.User.GetX(sys, u.ID).PasswordHash
	if stored == old || svc.hasher.NeedsRehash(stored) {
		t.Fatal("the outdated hash was not upgraded at login")
	}
	if _, _, err := svc.Login(viewer.NewContext(context.Background(), nil), "old@example.com", "xyzzy plover 42", "test", false); err != nil {
		t.Fatalf("login after the upgrade: %v", err)
	}
}
