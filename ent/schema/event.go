package schema

import (
	"encoding/json"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Event is one entry of the durable change log that live updates are built
// from: written in the same transaction as the change it describes.
type Event struct{ ent.Schema }

// Mixin of the Event.
func (Event) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixEvent}}
}

// Fields of the Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		// cursor numbers events in commit order without gaps: it is taken
		// from a sequence row inside the writing transaction, so an event
		// with a higher cursor never becomes visible before a lower one.
		field.Int64("cursor").Positive().Unique().Immutable(),
		field.String("type").NotEmpty().Immutable(),
		field.String("ticket_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		field.String("group_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		field.String("requester_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		field.String("assignee_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		field.String("message_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		field.String("actor_id").GoType(globalid.ID("")).Optional().Nillable().Immutable(),
		field.Bool("internal").Default(false).Immutable(),
		// The GraphQL names of the ticket fields the change made different.
		field.JSON("changes", []string{}).Optional().Immutable(),
		// The ticket's columns before and after the change (JSON of the ent
		// ticket), so that every event carries its own old and new values
		// and each subscriber's view is judged on both sides. before is
		// empty for TICKET_CREATED; both are empty for events logged by
		// versions before them.
		field.JSON("before", json.RawMessage{}).Optional().Immutable(),
		field.JSON("after", json.RawMessage{}).Optional().Immutable(),
		// MEMBERSHIP_CHANGED: the users who joined or left group_id.
		field.JSON("members", []globalid.ID{}).Optional().Immutable(),
		// The users this event notified (internal/notify), so that their
		// notifications subscriptions read them.
		field.JSON("notified", []globalid.ID{}).Optional().Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of the Event.
func (Event) Indexes() []ent.Index {
	// Replays read one ticket's or one customer's events in cursor order.
	return []ent.Index{index.Fields("created_at"), index.Fields("ticket_id", "cursor"), index.Fields("requester_id", "cursor")}
}

// Annotations of the Event.
func (Event) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
