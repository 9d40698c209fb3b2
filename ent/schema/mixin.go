package schema

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/switchboardhq/switchboard/internal/clock"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// IDMixin gives an entity a typed global ID (see internal/globalid).
type IDMixin struct {
	mixin.Schema
	prefix string
}

// Fields of the IDMixin.
func (m IDMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").
			GoType(globalid.ID("")).
			DefaultFunc(func() globalid.ID { return globalid.New(m.prefix) }).
			Immutable(),
	}
}

// TimeMixin records when a row was created and last changed.
type TimeMixin struct{ mixin.Schema }

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entgql.OrderField("UPDATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Hooks of the TimeMixin: under a context with a time of its own
// (internal/clock.At, which only the demo data sets to write history in
// the past) a change is stamped with that time instead of the defaults'
// wall clock. Mixin hooks run before the schema's, so the SLA hook
// (applySLA) counts its due times from this created_at.
func (TimeMixin) Hooks() []ent.Hook {
	return []ent.Hook{stampClockTime}
}

func stampClockTime(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		t, ok := clock.Set(ctx)
		if !ok {
			return next.Mutate(ctx, m)
		}
		if m.Op().Is(ent.OpCreate) {
			if err := m.SetField("created_at", t); err != nil {
				return nil, err
			}
		}
		if err := m.SetField("updated_at", t); err != nil {
			return nil, err
		}
		return next.Mutate(ctx, m)
	})
}

// Indexes of the TimeMixin: lists are ordered by these. A page ordered
// newest first is ORDER BY time DESC, id (entgql breaks ties by id,
// ascending), which these indexes hold exactly: the page reads its rows
// and no more, with no sort, even where many rows share a time (a bulk
// change stamps them all alike).
func (TimeMixin) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created_at", "id").Annotations(entsql.DescColumns("created_at")),
		index.Fields("updated_at", "id").Annotations(entsql.DescColumns("updated_at")),
	}
}

// maxRunes limits a string to n characters (ent's MaxLen counts bytes).
func maxRunes(n int) func(string) error {
	return func(s string) error {
		if utf8.RuneCountInString(s) > n {
			return fmt.Errorf("longer than %d characters", n)
		}
		return nil
	}
}
