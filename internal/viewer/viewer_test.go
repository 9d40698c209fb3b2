package viewer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func TestFromContext(t *testing.T) {
	t.Run("AnonymousWhenMissing", func(t *testing.T) {
		if v := viewer.FromContext(context.Background()); v != nil {
			t.Fatalf("FromContext = %+v, want nil", v)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		g := globalid.New(globalid.PrefixGroup)
		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: "u", Role: viewer.Agent, GroupIDs: []globalid.ID{g}})
		v := viewer.FromContext(ctx)
		if !v.IsAgent() || !v.IsStaff() || v.IsAdmin() || v.IsCustomer() || v.IsSystem() {
			t.Fatalf("role predicates wrong for %+v", v)
		}
		if !v.InGroup(g) || v.InGroup(globalid.New(globalid.PrefixGroup)) {
			t.Fatal("InGroup wrong")
		}
	})
	t.Run("SignInChangesTheRequestViewer", func(t *testing.T) {
		ctx := viewer.NewContext(context.Background(), nil)
		if !viewer.SignIn(ctx, &viewer.Viewer{UserID: "u", Role: viewer.Customer}) {
			t.Fatal("SignIn refused a request context")
		}
		if v := viewer.FromContext(ctx); v == nil || v.UserID != "u" {
			t.Fatalf("viewer after SignIn = %+v", v)
		}
		if viewer.SignIn(context.Background(), &viewer.Viewer{}) {
			t.Fatal("SignIn accepted a context without a viewer slot")
		}
	})
	t.Run("RefSeesReplacements", func(t *testing.T) {
		old := &viewer.Viewer{UserID: "u", Role: viewer.Agent}
		ctx := viewer.NewContext(context.Background(), old)
		type otherKey struct{}
		ref := viewer.RefOf(context.WithValue(ctx, otherKey{}, 1))
		if ref.Load() != old {
			t.Fatalf("Ref reads %+v, want %+v", ref.Load(), old)
		}
		revalidated := &viewer.Viewer{UserID: "u", Role: viewer.Customer}
		if !viewer.Replace(ctx, old, revalidated) {
			t.Fatal("Replace refused")
		}
		if ref.Load() != revalidated || viewer.FromContext(ctx) != revalidated {
			t.Fatalf("after Replace Ref reads %+v, FromContext %+v", ref.Load(), viewer.FromContext(ctx))
		}
		if v := viewer.RefOf(context.Background()).Load(); v != nil {
			t.Fatalf("Ref of a context without a viewer reads %+v", v)
		}
	})
	t.Run("SystemIsNotARequestViewer", func(t *testing.T) {
		v := viewer.FromContext(viewer.SystemContext(context.Background()))
		if !v.IsSystem() || v.UserID != "" {
			t.Fatalf("system viewer = %+v", v)
		}
		var nilViewer *viewer.Viewer
		if nilViewer.IsSystem() || nilViewer.IsStaff() {
			t.Fatal("nil viewer must have no rights")
		}
	})
}

func TestRequire(t *testing.T) {
	user := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: "u", Role: viewer.Customer})
	system := viewer.SystemContext(context.Background())
	anonymous := viewer.NewContext(context.Background(), nil)
	t.Run("SignedInPasses", func(t *testing.T) {
		for name, require := range map[string]func(context.Context) (*viewer.Viewer, error){"Require": viewer.Require, "RequireUser": viewer.RequireUser} {
			if v, err := require(user); err != nil || v.UserID != "u" {
				t.Fatalf("%s = %+v, %v", name, v, err)
			}
		}
	})
	t.Run("ErrAnonymousIsAskedToSignIn", func(t *testing.T) {
		for _, ctx := range []context.Context{anonymous, context.Background()} {
			for name, require := range map[string]func(context.Context) (*viewer.Viewer, error){"Require": viewer.Require, "RequireUser": viewer.RequireUser} {
				v, err := require(ctx)
				if v != nil || apierr.CodeOf(err) != apierr.Unauthenticated || !errors.Is(err, viewer.ErrSignInFirst) || err.Error() != "sign in first" {
					t.Fatalf("%s = %+v, %v; want UNAUTHENTICATED sign in first", name, v, err)
				}
			}
		}
	})
	t.Run("SystemIsAViewer", func(t *testing.T) {
		if v, err := viewer.Require(system); err != nil || !v.IsSystem() {
			t.Fatalf("Require(system) = %+v, %v", v, err)
		}
	})
	t.Run("ErrSystemIsNoUser", func(t *testing.T) {
		if _, err := viewer.RequireUser(system); apierr.CodeOf(err) != apierr.Unauthenticated {
			t.Fatalf("RequireUser(system) = %v, want UNAUTHENTICATED", err)
		}
	})
}
