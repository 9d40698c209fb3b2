package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// Macro is a canned answer an agent applies to a ticket in one step: a
// reply or internal note whose text has placeholders ({{requester.name}},
// {{ticket.number}}, …), and field changes. Usable on every ticket, or on
// those of one group (internal/macro).
type Macro struct{ ent.Schema }

// Mixin of the Macro.
func (Macro) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixMacro}, TimeMixin{}}
}

// Fields of the Macro.
func (Macro) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Unique().Validate(maxRunes(100)).
			Annotations(entgql.OrderField("NAME")),
		// Only tickets of this group may use it; none: every ticket.
		field.String("group_id").GoType(globalid.ID("")).Optional().Nillable(),
		field.Text("body").Optional().Validate(maxRunes(MaxBodyLen)),
		// The body is written as an internal note rather than a public reply.
		field.Bool("internal").Default(false),
		// The same values as the ticket's status (MacroSetStatus in GraphQL).
		field.Enum("set_status").Values("NEW", "OPEN", "PENDING", "SOLVED", "CLOSED").Optional().Nillable(),
		field.Int("set_priority").GoType(priority.Priority(0)).Optional().Nillable().
			Validate(func(p int) error { return priorityValid(p) }).
			Annotations(entgql.Type("TicketPriority")),
		field.String("move_to_group_id").GoType(globalid.ID("")).Optional().Nillable(),
		field.String("assign_to_id").GoType(globalid.ID("")).Optional().Nillable(),
		field.Strings("add_tags").Optional().Default([]string{}),
		field.Strings("remove_tags").Optional().Default([]string{}),
	}
}

// Edges of the Macro.
func (Macro) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("group", Group.Type).Ref("macros").Field("group_id").Unique(),
		edge.From("move_to_group", Group.Type).Ref("macros_moving_here").Field("move_to_group_id").Unique(),
		edge.From("assign_to", User.Type).Ref("macros_assigning").Field("assign_to_id").Unique(),
	}
}

// Annotations of the Macro.
func (Macro) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
