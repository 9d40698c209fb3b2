package schema

import (
	"context"

	"entgo.io/ent"

	gen "github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/hook"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Who a ticket's people may be, checked by ent hooks so that every way a
// ticket is written obeys them (the GraphQL mutations, macros, routing,
// imports and anything later), as BAD_USER_INPUT naming the input field.
// Whether the viewer may see the person they name is not asked here: the
// privacy rules and the callers' NOT_FOUND (internal/ticketing) answer it.

// staff reports whether a role can be given tickets: agents and admins.
func staff(role user.Role) bool { return role == user.RoleAGENT || role == user.RoleADMIN }

// checkAssignee refuses to give a ticket to anyone but staff, whoever
// assigns it: a person, a macro, round-robin or the system. (Deactivated
// staff may keep and be given tickets this way, as an import restores
// them; macros refuse them when saved and applied, CheckAssignable.)
func checkAssignee(next ent.Mutator) ent.Mutator {
	return hook.TicketFunc(func(ctx context.Context, m *gen.TicketMutation) (gen.Value, error) {
		id, ok := m.AssigneeID()
		if !ok {
			return next.Mutate(ctx, m)
		}
		// Staff taking a ticket themselves need no lookup.
		if v := viewer.FromContext(ctx); v == nil || v.UserID != id || !v.IsStaff() {
			u, err := person(ctx, m.Client(), "assigneeID", id)
			if err != nil {
				return nil, err
			}
			if !staff(u.Role) {
				return nil, apierr.Invalid("assigneeID", "tickets can only be assigned to agents and admins")
			}
		}
		return next.Mutate(ctx, m)
	})
}

// checkRequester refuses a ticket a person opens whose requester is not a
// customer, unless it is the opener's own ticket (OwnTicket): staff open
// tickets for themselves by naming no requester, while a requester they
// name, even themselves, is a customer. The system is not refused: it
// carries tickets whose opener was checked when they were opened (an
// import of agents' own tickets). Customers naming someone else are
// refused before this, by the privacy rules.
func checkRequester(next ent.Mutator) ent.Mutator {
	return hook.TicketFunc(func(ctx context.Context, m *gen.TicketMutation) (gen.Value, error) {
		id, ok := m.RequesterID()
		v := viewer.FromContext(ctx)
		if ok && v != nil && !v.IsSystem() && (id != v.UserID || ctx.Value(ownTicketKey{}) == nil) {
			u, err := person(ctx, m.Client(), "requesterID", id)
			if err != nil {
				return nil, err
			}
			if u.Role != user.RoleCUSTOMER {
				return nil, apierr.Invalid("requesterID", "tickets are opened for customers")
			}
		}
		return next.Mutate(ctx, m)
	})
}

type ownTicketKey struct{}

// OwnTicket marks ctx as opening a ticket for its opener, who named no
// requester (createTicket without requesterID): then its requester may be
// staff, the opener themself.
func OwnTicket(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownTicketKey{}, true)
}

// person reads the user an input field names, as the system: what their
// role is matters here, not whether the viewer may see them.
func person(ctx context.Context, client *gen.Client, field string, id globalid.ID) (*gen.User, error) {
	if id.Prefix() != globalid.PrefixUser {
		return nil, apierr.Invalid(field, "%s is not a user", field)
	}
	u, err := client.User.Query().Where(user.ID(id)).Select(user.FieldRole, user.FieldActive).
		Only(entprivacy.DecisionContext(ctx, entprivacy.Allow))
	if gen.IsNotFound(err) {
		return nil, apierr.Invalid(field, "%s is not a user", field)
	}
	return u, err
}
