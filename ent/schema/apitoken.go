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

// APIToken lets an integration act for its owner. Like sessions, only the
// hash of the token is stored.
type APIToken struct{ ent.Schema }

// Mixin of the APIToken.
func (APIToken) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixAPIToken}, TimeMixin{}}
}

// MaxAPITokenNameLen bounds a token's name: in bytes here (MaxLen), in
// characters in internal/auth's check before it writes, so that a name of
// few characters but many bytes is refused by this validator.
const MaxAPITokenNameLen = 100

// Fields of the APIToken.
func (APIToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(MaxAPITokenNameLen),
		field.Bytes("token_hash").Unique().Immutable().Sensitive().Annotations(entgql.Skip()),
		// READ tokens can only read; READ_WRITE act with the owner's rights.
		field.Enum("scope").Values("READ", "READ_WRITE").Default("READ").Immutable(),
		field.String("user_id").GoType(globalid.ID("")).Immutable().Annotations(entgql.Skip()),
		field.Time("expires_at").Optional().Nillable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Edges of the APIToken.
func (APIToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("api_tokens").Field("user_id").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
	}
}

// Indexes of the APIToken.
func (APIToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id")}
}

// Annotations of the APIToken.
func (APIToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Type("APIToken"), entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}
