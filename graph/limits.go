package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

// PageLimits sets the page size of every connection field: `first`
// defaults to def when neither `first` nor `last` is given, and a page
// larger than max is refused with BAD_USER_INPUT naming the argument.
//
// gqlgen runs a field middleware around every field, so the test that
// lets all others through comes first and costs a few loads: a connection
// is resolved by a method or a resolver and has arguments, while most
// fields of a page (the columns of a ticket, of its people and messages)
// are struct fields without.
func PageLimits(def, max int) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || !fc.IsMethod && !fc.IsResolver || len(fc.Args) == 0 {
			return next(ctx)
		}
		first, hasFirst := fc.Args["first"]
		last, hasLast := fc.Args["last"]
		if !hasFirst && !hasLast {
			return next(ctx)
		}
		for _, arg := range []struct {
			name string
			v    any
		}{{"first", first}, {"last", last}} {
			name := arg.name
			n, ok := arg.v.(*int)
			if !ok || n == nil {
				continue
			}
			if *n < 0 || *n > max {
				return nil, apierr.Invalid(name, "%s must be between 0 and %d", name, max)
			}
		}
		if f, _ := first.(*int); f == nil {
			if l, _ := last.(*int); l == nil {
				d := def
				fc.Args["first"] = &d
			}
		}
		return next(ctx)
	}
}
