package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// OutboxMessage is a mail to send, written in the same transaction as its
// cause and delivered by internal/outbox's worker. It is rendered when
// written: the worker only sends. Its Message-ID is made with the row, so
// that a retry after a crash between the SMTP 250 and the row's update
// sends the same Message-ID again (see docs/email.md, Exactly once).
type OutboxMessage struct{ ent.Schema }

// Kinds of outbox messages.
const (
	OutboxKindTicketReply   = "TICKET_REPLY"
	OutboxKindPasswordReset = "PASSWORD_RESET"
	// OutboxKindTicketAck tells who wrote in by mail that their ticket
	// is open (internal/inbound).
	OutboxKindTicketAck = "TICKET_ACK"
	// OutboxKindNotification tells a user who is not online of a
	// notification (internal/notify decides who is notified).
	OutboxKindNotification = "NOTIFICATION"
)

// Mixin of the OutboxMessage.
func (OutboxMessage) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixOutbox}}
}

// Fields of the OutboxMessage.
func (OutboxMessage) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values(OutboxKindTicketReply, OutboxKindPasswordReset, OutboxKindTicketAck, OutboxKindNotification).Immutable(),
		field.Enum("status").Values("PENDING", "SENT", "FAILED").Default("PENDING"),
		field.String("recipient").NotEmpty().MaxLen(MaxEmailLen).Immutable(),
		// The Message-ID, without angle brackets: unique, made with the row.
		field.String("message_id").NotEmpty().Unique().Immutable(),
		// The ticket a reply mail threads on, and the ticket message it carries.
		field.String("ticket_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		field.String("ticket_message_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		field.String("in_reply_to").Optional().Immutable(),
		// Space-separated Message-IDs (without brackets), oldest first.
		field.Text("references").Optional().Immutable(),
		field.String("reply_to").Optional().Immutable(),
		// Auto-Submitted header value (empty: none).
		field.String("auto_submitted").Optional().Immutable(),
		// list_unsubscribe is the List-Unsubscribe URL of a notification
		// (RFC 8058 one-click).
		field.String("list_unsubscribe").Optional().Immutable(),
		field.String("subject").Immutable(),
		// The rendered bodies are encrypted at rest: a password reset's
		// carries a sign-in link.
		field.Text("text_body").Immutable().Sensitive().ValueScanner(confidential.String("outbox_messages.text_body")),
		field.Text("html_body").Optional().Immutable().Sensitive().ValueScanner(confidential.String("outbox_messages.html_body")),
		field.Int("attempts").Default(0).NonNegative(),
		field.Time("next_attempt_at").Default(time.Now),
		// The worker that holds the row while it sends, and until when.
		field.String("lease_owner").Optional(),
		field.Time("lease_until").Optional().Nillable(),
		field.Time("sent_at").Optional().Nillable(),
		// The last failure: the SMTP server's answer, or the error.
		field.Text("last_error").Optional(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of the OutboxMessage.
func (OutboxMessage) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "next_attempt_at"),
		index.Fields("ticket_id", "created_at"),
	}
}

// Annotations of the OutboxMessage.
func (OutboxMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// PasswordReset is a single-use password reset token, stored only as the
// SHA-256 of the token the mail carries.
type PasswordReset struct{ ent.Schema }

// Mixin of the PasswordReset.
func (PasswordReset) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixPasswordReset}}
}

// Fields of the PasswordReset.
func (PasswordReset) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("token_hash").Unique().Immutable().Sensitive(),
		field.String("user_id").GoType(globalid.ID("")).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of the PasswordReset.
func (PasswordReset) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "created_at")}
}

// Annotations of the PasswordReset.
func (PasswordReset) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
