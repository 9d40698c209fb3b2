package schema

import (
	"errors"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// Ticket is one customer request and the conversation about it.
type Ticket struct{ ent.Schema }

// Mixin of the Ticket.
func (Ticket) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixTicket}, TimeMixin{}}
}

// staffOnly marks what only agents and admins may read (see marks.go).
var staffOnly = StaffOnly.annotation()

// MaxSubjectLen bounds a ticket's subject, in characters: the validator
// below, and internal/ticketing's check of an input before it writes.
const MaxSubjectLen = 200

// Fields of the Ticket.
func (Ticket) Fields() []ent.Field {
	noInput := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Field{
		// Assigned by the numbering hook, gap-free and increasing.
		field.Int("number").Positive().Unique().Immutable().
			Annotations(entgql.OrderField("NUMBER"), noInput),
		field.String("subject").NotEmpty().Validate(maxRunes(MaxSubjectLen)),
		field.Enum("status").Values("NEW", "OPEN", "PENDING", "SOLVED", "CLOSED").Default("NEW").
			Annotations(entgql.OrderField("STATUS")),
		field.Int("priority").GoType(priority.Priority(0)).
			DefaultFunc(func() priority.Priority { return priority.Normal }).
			Validate(func(p int) error { return priorityValid(p) }).
			Annotations(entgql.Type("TicketPriority"), entgql.OrderField("PRIORITY")),
		field.Enum("channel").Values("WEB", "EMAIL", "API").Default("WEB").Immutable().
			Annotations(noInput),
		field.Strings("tags").Optional().Default([]string{}),
		field.String("requester_id").GoType(globalid.ID("")).Immutable().Annotations(noInput),
		field.String("assignee_id").GoType(globalid.ID("")).Optional().Nillable(),
		field.String("group_id").GoType(globalid.ID("")).Optional().Nillable(),
		// Which routing rule placed the ticket (none: the default group or
		// the creator did).
		field.String("routing_rule_id").GoType(globalid.ID("")).Optional().Nillable().Immutable().
			Annotations(noInput, staffOnly, entgql.Skip(entgql.SkipWhereInput)),
		field.Time("first_response_due_at").Optional().Nillable().
			Annotations(noInput, staffOnly, entgql.OrderField("FIRST_RESPONSE_DUE_AT")),
		field.Time("resolution_due_at").Optional().Nillable().
			Annotations(noInput, staffOnly, entgql.OrderField("RESOLUTION_DUE_AT")),
		field.Time("first_responded_at").Optional().Nillable().Annotations(noInput),
		field.Time("solved_at").Optional().Nillable().Annotations(noInput),
	}
}

// Edges of the Ticket.
func (Ticket) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("requester", User.Type).Ref("requested_tickets").Field("requester_id").
			Unique().Required().Immutable(),
		edge.From("assignee", User.Type).Ref("assigned_tickets").Field("assignee_id").Unique(),
		edge.From("group", Group.Type).Ref("tickets").Field("group_id").Unique(),
		edge.From("routing_rule", RoutingRule.Type).Ref("tickets").Field("routing_rule_id").Unique().Immutable().
			Annotations(staffOnly, entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		edge.To("notifications", Notification.Type).Annotations(entgql.Skip()),
		edge.To("follows", Follow.Type).Annotations(entgql.Skip()),
		edge.To("mentions", Mention.Type).Annotations(entgql.Skip()),
		edge.To("attachments", Attachment.Type).Annotations(entgql.Skip()),
		edge.To("messages", Message.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Ticket: one per filter and order the API offers.
func (Ticket) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status"),
		index.Fields("priority"),
		index.Fields("requester_id", "created_at"),
		index.Fields("assignee_id", "status"),
		index.Fields("group_id", "status"),
		index.Fields("first_response_due_at"),
		index.Fields("resolution_due_at"),
	}
}

// Annotations of the Ticket.
func (Ticket) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationUpdate()),
		WhereFields{
			{Field: "HasTag", JSON: "hasTag", Type: "string", Package: tagsPackage, Func: "HasPredicate"},
			{Field: "HasAnyTag", JSON: "hasAnyTag", Type: "[]string", Package: tagsPackage, Func: "HasAnyPredicate"},
			{Field: "HasAllTags", JSON: "hasAllTags", Type: "[]string", Package: tagsPackage, Func: "HasAllPredicate"},
		},
	}
}

// tagsPackage holds the tag filters' predicates (schema/tags.graphql).
const tagsPackage = "github.com/switchboardhq/switchboard/internal/tags"

func priorityValid(p int) error {
	if !priority.Priority(p).Valid() {
		return errInvalidPriority
	}
	return nil
}

var errInvalidPriority = errors.New("priority must be one of LOW, NORMAL, HIGH, URGENT")
