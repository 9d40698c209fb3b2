package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Field-level access: the schema directives of schema/switchboard.graphql,
// whose marks are written on the ent fields (ent/schema/marks.go, which
// also says what each mark means: Mark.Hides). Row-level access is the ent
// privacy policies' job; these decide only which fields of a readable row
// a viewer may see.

// errFieldForbidden is the error of a denied field; the field reads null.
var errFieldForbidden = apierr.Errorf(apierr.Forbidden, "you may not see this field")

// contactData allows the person themself, agents and admins.
func contactData(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
	v := viewer.FromContext(ctx)
	u, isUser := obj.(*ent.User)
	if entschema.ContactData.Hides(v, isUser && v != nil && u.ID == v.UserID) {
		return nil, errFieldForbidden
	}
	return next(ctx)
}

// staffOnly allows agents and admins.
func staffOnly(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	if entschema.StaffOnly.Hides(viewer.FromContext(ctx), false) {
		return nil, errFieldForbidden
	}
	return next(ctx)
}

func directives() DirectiveRoot {
	return DirectiveRoot{ContactData: contactData, StaffOnly: staffOnly}
}

// StaffOnlyFields names the fields of a type marked @staffOnly in the
// schema, so that code outside the resolvers (live updates' change lists)
// follows the same marks.
func StaffOnlyFields(typeName string) map[string]bool {
	out := map[string]bool{}
	if def := parsedSchema.Types[typeName]; def != nil {
		for _, f := range def.Fields {
			if f.Directives.ForName(string(entschema.StaffOnly)) != nil {
				out[f.Name] = true
			}
		}
	}
	return out
}

// staffOnlyTicketFields are Ticket's @staffOnly fields.
var staffOnlyTicketFields = StaffOnlyFields("Ticket")
