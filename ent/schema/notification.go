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
	"github.com/switchboardhq/switchboard/internal/notify"
)

// Notification is one entry of a user's inbox, written in the same
// transaction as the event that caused it (internal/notify).
type Notification struct{ ent.Schema }

// Mixin of the Notification.
func (Notification) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixNotice}}
}

// Fields of the Notification.
func (Notification) Fields() []ent.Field {
	return []ent.Field{
		field.String("recipient_id").GoType(globalid.ID("")).Immutable().Annotations(entgql.Skip()),
		field.Enum("kind").Values(notify.Kinds...).Immutable(),
		field.String("ticket_id").GoType(globalid.ID("")).Immutable(),
		field.String("message_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		field.String("actor_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		// The cursor of the event that caused it: inboxes are read in this
		// order and the notifications subscription resumes from it.
		field.Int64("event_cursor").Immutable().
			Annotations(entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput), entgql.OrderField("CURSOR")),
		field.Time("read_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Edges of the Notification.
func (Notification) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("recipient", User.Type).Ref("notifications").Field("recipient_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.From("ticket", Ticket.Type).Ref("notifications").Field("ticket_id").Unique().Required().Immutable(),
		edge.From("message", Message.Type).Ref("notifications").Field("message_id").Unique().Immutable(),
		edge.From("actor", User.Type).Ref("caused_notifications").Field("actor_id").Unique().Immutable(),
	}
}

// Indexes of the Notification.
func (Notification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("recipient_id", "event_cursor").Unique(),
		index.Fields("recipient_id", "read_at"),
		index.Fields("ticket_id"),
	}
}

// Annotations of the Notification.
func (Notification) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
