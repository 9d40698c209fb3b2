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

// Follow records that a user follows a ticket: they hear of its replies.
// Staff follow when they reply, are assigned or mentioned, or choose to;
// a customer follows the tickets they open.
type Follow struct{ ent.Schema }

// Mixin of the Follow.
func (Follow) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixFollow}}
}

// Fields of the Follow.
func (Follow) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(globalid.ID("")).Immutable(),
		field.String("ticket_id").GoType(globalid.ID("")).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Edges of the Follow.
func (Follow) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("follows").Field("user_id").Unique().Required().Immutable(),
		edge.From("ticket", Ticket.Type).Ref("follows").Field("ticket_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Follow.
func (Follow) Indexes() []ent.Index {
	return []ent.Index{index.Fields("ticket_id", "user_id").Unique(), index.Fields("user_id")}
}

// Annotations of the Follow.
func (Follow) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
