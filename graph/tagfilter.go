package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/tags"
)

// addTagFilter adds a tag predicate to a where input. Subscriptions are
// refused: their where is matched in memory against each event's ticket
// (internal/live/filter.go), which sees the input's GraphQL fields only,
// not predicates added here, so a tag filter would be silently ignored
// and the live list would differ from tickets(where:).
//
// Saved views are refused them too: a view stores its where as JSON of the
// input's fields, which would drop the predicate and save a different
// filter than the one asked for.
func addTagFilter(ctx context.Context, obj *ent.TicketWhereInput, p predicate.Ticket, values int) error {
	field := inputPath(graphql.GetPath(ctx))
	switch {
	case isSubscription(ctx):
		return apierr.Invalid(field, "%s cannot be followed live: subscriptions do not take tag filters; filter the events by ticket or group, or refetch tickets(where:) on events", field)
	case savingView(ctx):
		return apierr.Invalid(field, "%s cannot be saved in a view yet: save the view without it, or list tickets(where:) with it", field)
	case values > tags.MaxPerList:
		return apierr.Invalid(field, "%s takes at most %d tags", field, tags.MaxPerList)
	}
	obj.AddPredicates(p)
	return nil
}

// savingView reports whether ctx is of the arguments of a mutation that
// saves a view.
func savingView(ctx context.Context) bool {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Object == "Mutation" && (fc.Field.Name == "createSavedView" || fc.Field.Name == "updateSavedView") {
			return true
		}
	}
	return false
}

// isSubscription reports whether ctx is of a subscription's operation.
func isSubscription(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	op := graphql.GetOperationContext(ctx).Operation
	return op != nil && op.Operation == ast.Subscription
}

// inputPath names an input field from its argument on, as clients write
// it: where.or[0].hasTag.
func inputPath(path ast.Path) string {
	var b strings.Builder
	started := false
	for _, el := range path {
		switch el := el.(type) {
		case ast.PathName:
			if !started && string(el) != "where" {
				continue
			}
			if started {
				b.WriteByte('.')
			}
			started = true
			b.WriteString(string(el))
		case ast.PathIndex:
			if started {
				fmt.Fprintf(&b, "[%d]", int(el))
			}
		}
	}
	if !started {
		return "where"
	}
	return b.String()
}
