package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Message is one entry in a ticket's conversation: a public reply or an
// internal note, which customers never see.
type Message struct{ ent.Schema }

// Mixin of the Message.
func (Message) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixMessage}, TimeMixin{}}
}

// MaxBodyLen bounds a message's body, in characters: the validator below,
// a macro's body (which becomes a message), and internal/ticketing's check
// of an input before it writes.
const MaxBodyLen = 65536

// MaxEmailOriginalLen bounds the text kept of a mail as received, in
// characters (internal/inbound cuts longer ones).
const MaxEmailOriginalLen = 4 * MaxBodyLen

// Fields of the Message.
func (Message) Fields() []ent.Field {
	return []ent.Field{
		field.Text("body").NotEmpty().Validate(maxRunes(MaxBodyLen)),
		field.Bool("internal").Default(false).Immutable(),
		field.String("ticket_id").GoType(globalid.ID("")).Immutable(),
		field.String("author_id").GoType(globalid.ID("")).Immutable(),
		// A message that came by mail: its Message-ID (so that a mail the
		// listener stored but could not confirm is not stored twice when
		// the sender's server sends it again) and the whole text as
		// received, quoted replies and signature included, for staff (the
		// body is the visible part).
		field.String("email_message_id").Optional().Nillable().Immutable().MaxLen(998).Annotations(entgql.Skip()),
		field.Text("email_original").Optional().Nillable().Immutable().Validate(maxRunes(MaxEmailOriginalLen)).
			Annotations(staffOnly, entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the Message.
func (Message) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("ticket", Ticket.Type).Ref("messages").Field("ticket_id").Unique().Required().Immutable(),
		edge.From("author", User.Type).Ref("messages").Field("author_id").Unique().Required().Immutable(),
		edge.To("mentions", Mention.Type).Annotations(entgql.Skip()),
		edge.To("notifications", Notification.Type).Annotations(entgql.Skip()),
		// The message's files, in upload order.
		edge.To("attachments", Attachment.Type),
	}
}

// Indexes of the Message. (ticket_id, id) serves a ticket's page of
// messages in their default order: a list of tickets with each one's
// messages(last: 3) reads three rows per ticket from it (ent/limitperrow.go).
func (Message) Indexes() []ent.Index {
	return []ent.Index{index.Fields("ticket_id", "created_at"), index.Fields("ticket_id", "id"), index.Fields("author_id"), index.Fields("email_message_id")}
}

// Annotations of the Message.
func (Message) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
