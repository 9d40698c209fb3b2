package schema

import (
	"errors"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// SLAPolicy sets, for one priority, how soon a ticket must get its first
// response and its resolution.
type SLAPolicy struct{ ent.Schema }

// Mixin of the SLAPolicy.
func (SLAPolicy) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixSLAPolicy}, TimeMixin{}}
}

// Fields of the SLAPolicy.
func (SLAPolicy) Fields() []ent.Field {
	return []ent.Field{
		field.Int("priority").GoType(priority.Priority(0)).Unique().
			Validate(func(p int) error { return priorityValid(p) }).
			Annotations(entgql.Type("TicketPriority")),
		field.Int("first_response_minutes").Validate(positive),
		field.Int("resolution_minutes").Validate(positive),
	}
}

// positive is Positive() in words a client reads after the field's name
// (the error presenter shows "firstResponseMinutes must be positive").
func positive(n int) error {
	if n <= 0 {
		return errors.New("must be positive")
	}
	return nil
}

// Annotations of the SLAPolicy.
func (SLAPolicy) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("slaPolicies"),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
