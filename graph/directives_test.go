package graph

import (
	"context"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func TestStaffOnly(t *testing.T) {
	// The root fields whose staff check is the directive's, not their
	// services' (the access matrix checks them end to end).
	for typ, field := range map[string]string{"Query": "wallboard", "Subscription": "wallboard", "Mutation": "viewTicket"} {
		if !StaffOnlyFields(typ)[field] {
			t.Errorf("%s.%s is not marked @staffOnly", typ, field)
		}
	}
	if !StaffOnlyFields("Subscription")["ticketViewers"] {
		t.Error("Subscription.ticketViewers is not marked @staffOnly")
	}
	as := func(v *viewer.Viewer) context.Context { return viewer.NewContext(context.Background(), v) }
	for _, c := range []struct {
		name string
		ctx  context.Context
		want apierr.Code // "" when the field resolves
	}{
		{"ErrAnonymousSignsInFirst", as(nil), apierr.Unauthenticated},
		{"ErrCustomerIsForbidden", as(&viewer.Viewer{UserID: "US1", Role: viewer.Customer}), apierr.Forbidden},
		{"AgentPasses", as(&viewer.Viewer{UserID: "US2", Role: viewer.Agent}), ""},
		{"AdminPasses", as(&viewer.Viewer{UserID: "US3", Role: viewer.Admin}), ""},
		{"SystemPasses", viewer.SystemContext(context.Background()), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resolved := false
			_, err := staffOnly(c.ctx, nil, func(context.Context) (any, error) { resolved = true; return nil, nil })
			if c.want == "" {
				if err != nil || !resolved {
					t.Fatalf("err %v, resolved %v", err, resolved)
				}
				return
			}
			if apierr.CodeOf(err) != c.want || resolved {
				t.Fatalf("err %v (%s), resolved %v; want %s", err, apierr.CodeOf(err), resolved, c.want)
			}
		})
	}
}
