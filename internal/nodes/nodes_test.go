package nodes_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/nodes"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func createUser(t *testing.T, client *ent.Client, email string, role user.Role) *ent.User {
	t.Helper()
	u, err := client.User.Create().SetEmail(email).SetName(email).SetRole(role).Save(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("creating user: %v", err)
	}
	return u
}

func TestType(t *testing.T) {
	t.Run("PrefixNamesTheTable", func(t *testing.T) {
		for prefix, table := range map[string]string{globalid.PrefixUser: user.Table} {
			got, err := nodes.Type(context.Background(), globalid.New(prefix))
			if err != nil || got != table {
				t.Fatalf("Type(%s…) = %q, %v; want %q", prefix, got, err, table)
			}
		}
	})
	t.Run("ErrUnknownPrefix", func(t *testing.T) {
		for _, id := range []globalid.ID{globalid.New("ZZ"), globalid.New(globalid.PrefixEvent), globalid.New(globalid.PrefixSequence), "", "U"} {
			if _, err := nodes.Type(context.Background(), id); !errors.Is(err, nodes.ErrNotFound) {
				t.Fatalf("Type(%q) = %v, want ErrNotFound", id, err)
			}
		}
	})
}

func TestGet(t *testing.T) {
	t.Run("ReturnsObjectByID", func(t *testing.T) {
		client := dbtest.Client(t)
		u := createUser(t, client, "ann@example.com", user.RoleCUSTOMER)
		n, err := nodes.Get(viewer.SystemContext(context.Background()), client, u.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", u.ID, err)
		}
		got, ok := n.(*ent.User)
		if !ok || got.ID != u.ID || got.Email != u.Email {
			t.Fatalf("Get(%s) = %#v, want user %s", u.ID, n, u.ID)
		}
	})
	t.Run("ErrUnknownID", func(t *testing.T) {
		client := dbtest.Client(t)
		createUser(t, client, "ann@example.com", user.RoleCUSTOMER)
		_, err := nodes.Get(viewer.SystemContext(context.Background()), client, globalid.New(globalid.PrefixUser))
		if !errors.Is(err, nodes.ErrNotFound) {
			t.Fatalf("Get(unknown user ID) = %v, want ErrNotFound", err)
		}
	})
	t.Run("ErrUnknownPrefix", func(t *testing.T) {
		client := dbtest.Client(t)
		_, err := nodes.Get(viewer.SystemContext(context.Background()), client, globalid.New("ZZ"))
		if !errors.Is(err, nodes.ErrNotFound) {
			t.Fatalf("Get(ZZ…) = %v, want ErrNotFound", err)
		}
	})
	t.Run("ErrTypeThatIsNotANode", func(t *testing.T) {
		client := dbtest.Client(t)
		for _, prefix := range []string{globalid.PrefixEvent, globalid.PrefixSession, globalid.PrefixAPIToken} {
			_, err := nodes.Get(viewer.SystemContext(context.Background()), client, globalid.New(prefix))
			if !errors.Is(err, nodes.ErrNotFound) {
				t.Fatalf("Get(%s…) = %v (code %s), want ErrNotFound", prefix, err, apierr.CodeOf(err))
			}
		}
	})
	t.Run("ErrAnonymousViewer", func(t *testing.T) {
		client := dbtest.Client(t)
		u := createUser(t, client, "bo@example.com", user.RoleAGENT)
		n, err := nodes.Get(viewer.NewContext(context.Background(), nil), client, u.ID)
		if got := apierr.CodeOf(err); got != apierr.Unauthenticated {
			t.Fatalf("anonymous Get(%s) = %v, %v (code %s); want UNAUTHENTICATED", u.ID, n, err, got)
		}
	})
	t.Run("AnonymousCannotProbeExistence", func(t *testing.T) {
		client := dbtest.Client(t)
		u := createUser(t, client, "bo@example.com", user.RoleAGENT)
		ctx := viewer.NewContext(context.Background(), nil)
		_, errExisting := nodes.Get(ctx, client, u.ID)
		_, errMissing := nodes.Get(ctx, client, globalid.New(globalid.PrefixUser))
		if errExisting == nil || errMissing == nil || errExisting.Error() != errMissing.Error() || apierr.CodeOf(errExisting) != apierr.CodeOf(errMissing) {
			t.Fatalf("anonymous: existing user -> %v, missing user -> %v; want the same error", errExisting, errMissing)
		}
	})
	t.Run("HiddenObjectIsNotFound", func(t *testing.T) {
		// Customers do not see other customers: the answer must be the
		// same as for an ID that does not exist.
		client := dbtest.Client(t)
		ann := createUser(t, client, "ann@example.com", user.RoleCUSTOMER)
		cid := createUser(t, client, "cid@example.com", user.RoleCUSTOMER)
		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: ann.ID, Role: viewer.Customer})
		if _, err := nodes.Get(ctx, client, cid.ID); !errors.Is(err, nodes.ErrNotFound) {
			t.Fatalf("customer Get(other customer) = %v, want ErrNotFound", err)
		}
		if n, err := nodes.Get(ctx, client, ann.ID); err != nil || n.(*ent.User).ID != ann.ID {
			t.Fatalf("customer Get(self) = %v, %v", n, err)
		}
	})
}

func TestMustSee(t *testing.T) {
	t.Run("ErrNotFoundNamesTheField", func(t *testing.T) {
		client := dbtest.Client(t)
		err := nodes.MustSee(viewer.SystemContext(context.Background()), client, "groupID", globalid.PrefixGroup, globalid.New(globalid.PrefixGroup))
		var e *apierr.Error
		if !errors.As(err, &e) {
			t.Fatalf("MustSee(unknown) = %v (%T), want *apierr.Error", err, err)
		}
		if e.Code != apierr.NotFound || e.Field != "groupID" {
			t.Fatalf("MustSee(unknown) = {Code: %s, Field: %q}, want NOT_FOUND on groupID", e.Code, e.Field)
		}
	})
	t.Run("ErrUnknownPrefixNamesTheField", func(t *testing.T) {
		client := dbtest.Client(t)
		err := nodes.MustSee(viewer.SystemContext(context.Background()), client, "requesterID", globalid.PrefixUser, globalid.New("ZZ"))
		var e *apierr.Error
		if !errors.As(err, &e) || e.Code != apierr.NotFound || e.Field != "requesterID" {
			t.Fatalf("MustSee(ZZ…) = %v, want NOT_FOUND on requesterID", err)
		}
	})
	t.Run("VisibleObjectPasses", func(t *testing.T) {
		client := dbtest.Client(t)
		u := createUser(t, client, "ann@example.com", user.RoleCUSTOMER)
		if err := nodes.MustSee(viewer.SystemContext(context.Background()), client, "requesterID", globalid.PrefixUser, u.ID); err != nil {
			t.Fatalf("MustSee(existing user) = %v, want nil", err)
		}
	})
}
