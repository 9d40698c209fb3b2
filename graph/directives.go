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

// errStaffOnly is the error of a customer at a @staffOnly field.
var errStaffOnly = apierr.Errorf(apierr.Forbidden, "for agents and admins only")

// staffOnly allows agents and admins: the one staff check of the fields
// it marks, Ticket's SLA fields and the root fields of the wallboard and
// of presence alike. Anonymous callers are asked to sign in first, as
// everywhere else.
func staffOnly(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	if entschema.StaffOnly.Hides(v, false) {
		return nil, errStaffOnly
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
