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

// Attachment is a file on a message. Its content is a blob in
// internal/attachments' store, named by its SHA-256, so identical files
// are stored once; the rows referencing a hash are its reference count.
// Until it is attached to a message an attachment is pending: only its
// uploader sees it, and the sweeper deletes it after a while. Once
// attached it is seen exactly by those who see the message, so a note's
// files never reach customers.
type Attachment struct{ ent.Schema }

// MaxFilenameLen bounds a stored filename, in bytes (internal/attachments
// shortens longer ones, keeping the extension).
const MaxFilenameLen = 255

// Mixin of the Attachment.
func (Attachment) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixAttachment}}
}

// Fields of the Attachment.
func (Attachment) Fields() []ent.Field {
	return []ent.Field{
		field.String("filename").NotEmpty().MaxLen(MaxFilenameLen).Immutable(),
		field.Int64("size").NonNegative().Immutable(),
		field.String("content_type").NotEmpty().Immutable(),
		field.String("sha256").MinLen(64).MaxLen(64).Immutable().Annotations(entgql.Skip()),
		field.String("uploader_id").GoType(globalid.ID("")).Immutable().Annotations(entgql.Skip()),
		field.String("message_id").GoType(globalid.ID("")).Optional().Nillable(),
		// ticket_id is set with message_id: downloads and search find an
		// attachment's ticket without a join through the message.
		field.String("ticket_id").GoType(globalid.ID("")).Optional().Nillable().Annotations(entgql.Skip()),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Edges of the Attachment.
func (Attachment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("uploader", User.Type).Ref("attachments").Field("uploader_id").Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.From("message", Message.Type).Ref("attachments").Field("message_id").Unique().Annotations(entgql.Skip()),
		edge.From("ticket", Ticket.Type).Ref("attachments").Field("ticket_id").Unique().Annotations(entgql.Skip()),
	}
}

// Indexes of the Attachment.
func (Attachment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("message_id"), index.Fields("ticket_id"), index.Fields("sha256"),
		index.Fields("uploader_id", "created_at"),
	}
}

// Annotations of the Attachment.
func (Attachment) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}
