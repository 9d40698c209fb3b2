package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Group is a team and its queue: agents belong to groups, tickets to one group.
type Group struct{ ent.Schema }

// Mixin of the Group.
func (Group) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixGroup}, TimeMixin{}}
}

// Fields of the Group.
func (Group) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100).Unique().
			Annotations(entgql.OrderField("NAME")),
		field.String("description").Optional().MaxLen(1000),
		// The group of tickets nothing else places (at most one; set with
		// setDefaultGroup).
		field.Bool("is_default").Default(false).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		// Who gets a new ticket of the group that nobody is assigned to:
		// nobody (OFF), the active agent with the fewest open tickets
		// (ALL_AGENTS), or the same among those online (ONLINE_AGENTS).
		field.Enum("auto_assign").Values("OFF", "ALL_AGENTS", "ONLINE_AGENTS").Default("OFF"),
		// Members hear of new tickets nobody is assigned to.
		field.Bool("notify_unassigned").Default(true),
	}
}

// Edges of the Group.
func (Group) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("members", User.Type),
		edge.To("tickets", Ticket.Type).Annotations(entgql.Skip()),
		edge.To("routing_rules", RoutingRule.Type).Annotations(entgql.Skip()),
		edge.To("macros", Macro.Type).Annotations(entgql.Skip()),
		edge.To("macros_moving_here", Macro.Type).Annotations(entgql.Skip()),
		edge.To("saved_views", SavedView.Type).Annotations(entgql.Skip()),
	}
}

// Annotations of the Group.
func (Group) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
