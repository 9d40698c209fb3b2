package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Mention records an @name in an internal note: who was named, where.
type Mention struct{ ent.Schema }

// Mixin of the Mention.
func (Mention) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixMention}}
}

// Fields of the Mention.
func (Mention) Fields() []ent.Field {
	return []ent.Field{
		field.String("message_id").GoType(globalid.ID("")).Immutable(),
		field.String("user_id").GoType(globalid.ID("")).Immutable(),
		field.String("ticket_id").GoType(globalid.ID("")).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Edges of the Mention.
func (Mention) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("message", Message.Type).Ref("mentions").Field("message_id").Unique().Required().Immutable(),
		edge.From("user", User.Type).Ref("mentions").Field("user_id").Unique().Required().Immutable(),
		edge.From("ticket", Ticket.Type).Ref("mentions").Field("ticket_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Mention.
func (Mention) Indexes() []ent.Index {
	return []ent.Index{index.Fields("message_id", "user_id").Unique(), index.Fields("user_id")}
}

// Annotations of the Mention.
func (Mention) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
