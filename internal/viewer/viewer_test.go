package viewer_test

import (
	"context"
	"testing"

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
