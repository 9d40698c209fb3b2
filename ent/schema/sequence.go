package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Sequence is a named counter incremented inside the transaction that uses
// the number, so a rolled-back transaction gives its number back and the
// numbers stay gap-free (ticket numbers).
type Sequence struct{ ent.Schema }

// Mixin of the Sequence.
func (Sequence) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{prefix: globalid.PrefixSequence}}
}

// Fields of the Sequence.
func (Sequence) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Unique().Immutable(),
		field.Int("value").NonNegative(),
	}
}

// Annotations of the Sequence.
func (Sequence) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
