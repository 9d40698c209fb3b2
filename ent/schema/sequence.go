package schema

import (
	"context"
	"fmt"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	gen "github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/sequence"
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

// nextInSequence advances the named sequence by one inside tx and returns
// its new value, in one statement: the row stays locked (PostgreSQL) until
// tx ends, and the lock is what keeps the numbers in commit order, so the
// fewer round trips it is held across, the more writers a second.
func nextInSequence(ctx context.Context, tx *gen.Tx, name string) (int, error) {
	q := "UPDATE " + sequence.Table + " SET " + sequence.FieldValue + " = " + sequence.FieldValue + " + 1 WHERE " +
		sequence.FieldName + " = $1 RETURNING " + sequence.FieldValue
	rows, err := tx.QueryContext(ctx, q, name)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("sequence %q missing: run the migrations", name)
	}
	var v int
	if err := rows.Scan(&v); err != nil {
		return 0, err
	}
	return v, rows.Close()
}
