package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// RoutingRule decides where a new ticket goes: when every condition that
// is set matches the ticket (within one condition, any of its values),
// its actions apply. Rules are tried by position; the first that matches
// wins (internal/routing).
type RoutingRule struct{ ent.Schema }

// Mixin of the RoutingRule.
func (RoutingRule) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixRule}, TimeMixin{}}
}

// Fields of the RoutingRule.
func (RoutingRule) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Validate(maxRunes(100)),
		// Lower positions are tried first; ties by creation.
		field.Int("position").Default(0).Annotations(entgql.OrderField("POSITION")),
		field.Bool("enabled").Default(true),
		// Conditions: an empty list does not restrict.
		field.Strings("channels").Optional().Default([]string{}).
			Comment("WEB, EMAIL or API"),
		field.Strings("words").Optional().Default([]string{}).
			Comment("any of the words in the subject or the first message, case-insensitive"),
		field.Strings("email_domains").Optional().Default([]string{}).
			Comment("the requester's email domain, e.g. example.com"),
		field.JSON("priorities", []priority.Priority{}).Optional().Default([]priority.Priority{}).
			Annotations(entgql.Type("[TicketPriority!]")),
		field.Strings("tags").Optional().Default([]string{}).
			Comment("any of the ticket's tags"),
		// Actions.
		field.String("group_id").GoType(globalid.ID("")).Optional().Nillable(),
		field.Int("set_priority").GoType(priority.Priority(0)).Optional().Nillable().
			Validate(func(p int) error { return priorityValid(p) }).
			Annotations(entgql.Type("TicketPriority")),
		field.Strings("add_tags").Optional().Default([]string{}),
		// Assign round-robin in the ticket's group, whatever the group's
		// own setting.
		field.Bool("round_robin").Default(false),
	}
}

// Edges of the RoutingRule.
func (RoutingRule) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("group", Group.Type).Ref("routing_rules").Field("group_id").Unique(),
		edge.To("tickets", Ticket.Type).Annotations(entgql.Skip()),
	}
}

// Indexes of the RoutingRule.
func (RoutingRule) Indexes() []ent.Index {
	return []ent.Index{index.Fields("position")}
}

// Annotations of the RoutingRule.
func (RoutingRule) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
