package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// User is a person who signs in: a customer, an agent or an admin.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixUser}, TimeMixin{}}
}

// Limits of a user's contact data, which internal/auth also checks (with
// its own wording) before it writes: the email's in bytes (MaxLen), the
// phone's in characters.
const (
	MaxEmailLen = 254
	MaxPhoneLen = 50
)

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		// Stored lower-cased (see the hook), so the unique index makes
		// addresses unique regardless of case in every database. Contact
		// data: ent/entc.go makes the GraphQL field nullable, so that a
		// denied read is null plus FORBIDDEN rather than nulling the whole
		// user.
		field.String("email").NotEmpty().MaxLen(MaxEmailLen).Unique().
			Annotations(ContactData.annotation()),
		field.String("name").NotEmpty().MaxLen(200),
		field.Enum("role").Values("CUSTOMER", "AGENT", "ADMIN").Default("CUSTOMER"),
		field.String("password_hash").Optional().Sensitive().
			Annotations(entgql.Skip()),
		// Encrypted at rest; ciphertexts cannot be compared, so no filters.
		field.String("phone").Optional().Validate(maxRunes(MaxPhoneLen)).
			ValueScanner(confidential.String("users.phone")).
			Annotations(ContactData.annotation(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField)),
		field.Bool("active").Default(true),
		// When mail to the address last bounced (internal/inbound reads
		// the bounces): replies and acknowledgements are not mailed to it
		// until a mail from the address clears it.
		field.Time("email_bounced_at").Optional().Nillable().Annotations(entgql.Skip()),
		// Out of office: round-robin assignment skips them.
		field.Bool("away").Default(false),
		// The notification kinds the user turned off.
		field.Strings("muted_notifications").Optional().Default([]string{}).Annotations(entgql.Skip()),
		field.Time("last_seen_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("groups", Group.Type).Ref("members").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		// User.tickets (ent/entc.go documents it): a connection on the
		// edge, so that a list of users loads the tickets of all of them at
		// once (entgql's windowed eager loading), run as the viewer
		// (TicketPolicy).
		edge.To("requested_tickets", Ticket.Type).
			Annotations(entgql.RelayConnection(), entgql.MapsTo("tickets"),
				entgql.Directives(entgql.NewDirective("personal")),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("assigned_tickets", Ticket.Type).Annotations(entgql.Skip()),
		edge.To("messages", Message.Type).Annotations(entgql.Skip()),
		edge.To("attachments", Attachment.Type).Annotations(entgql.Skip()),
		edge.To("sessions", Session.Type).Annotations(entgql.Skip()),
		edge.To("api_tokens", APIToken.Type).Annotations(entgql.Skip()),
		edge.To("notifications", Notification.Type).Annotations(entgql.Skip()),
		edge.To("caused_notifications", Notification.Type).Annotations(entgql.Skip()),
		edge.To("follows", Follow.Type).Annotations(entgql.Skip()),
		edge.To("mentions", Mention.Type).Annotations(entgql.Skip()),
		edge.To("saved_views", SavedView.Type).Annotations(entgql.Skip()),
		edge.To("macros_assigning", Macro.Type).Annotations(entgql.Skip()),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{index.Fields("role"), index.Fields("name")}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationUpdate()),
	}
}
