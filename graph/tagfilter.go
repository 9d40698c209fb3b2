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
)

// addTagFilter adds a tag predicate to a where input. Subscriptions are
// refused: their where is matched in memory against each event's ticket
// (internal/live/filter.go), which sees the input's GraphQL fields only,
// not predicates added here, so a tag filter would be silently ignored
// and the live list would differ from tickets(where:).
func addTagFilter(ctx context.Context, obj *ent.TicketWhereInput, p predicate.Ticket) error {
	if isSubscription(ctx) {
		field := inputPath(graphql.GetPath(ctx))
		return apierr.Invalid(field, "%s cannot be followed live: subscriptions do not take tag filters; filter the events by ticket or group, or refetch tickets(where:) on events", field)
	}
	obj.AddPredicates(p)
	return nil
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
