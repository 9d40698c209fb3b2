package schema

import (
	"encoding/json"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// SavedView is a named ticket list: a filter and an order as tickets(where:,
// orderBy:) takes them, personal, or shared with the members of a group.
type SavedView struct{ ent.Schema }

// Mixin of the SavedView.
func (SavedView) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixView}, TimeMixin{}}
}

// Fields of the SavedView.
func (SavedView) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Validate(maxRunes(100)),
		field.String("owner_id").GoType(globalid.ID("")).Immutable(),
		// Shared with this group's members; none: the owner's alone.
		field.String("group_id").GoType(globalid.ID("")).Optional().Nillable(),
		// TicketWhereInput and []TicketOrder as JSON.
		field.JSON("ticket_filter", json.RawMessage{}).Optional().Annotations(entgql.Skip()),
		field.JSON("ticket_order", json.RawMessage{}).Optional().Annotations(entgql.Skip()),
	}
}

// Edges of the SavedView.
func (SavedView) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("owner", User.Type).Ref("saved_views").Field("owner_id").Unique().Required().Immutable(),
		edge.From("group", Group.Type).Ref("saved_views").Field("group_id").Unique(),
	}
}

// Indexes of the SavedView.
func (SavedView) Indexes() []ent.Index {
	return []ent.Index{index.Fields("owner_id"), index.Fields("group_id")}
}

// Annotations of the SavedView.
func (SavedView) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipOrderField)}
}
