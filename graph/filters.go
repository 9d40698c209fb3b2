package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Field-level access for filters: a viewer who may not see a field may not
// filter on it either, or they could read it by bisection. Internal notes
// are not fields but rows, yet the same holds: a `hasMessagesWith` filter
// runs as a plain SQL subquery, outside the privacy policies, so a
// customer could find tickets by the words of their internal notes.
//
// staffOnlyFilters lists, by the GraphQL names of where-input fields, what
// only agents and admins may filter on. A key matches when it equals a
// prefix or extends it with an operator suffix (emailHasPrefix, ...).
var staffOnlyFilters = []string{
	"email",              // @contactData
	"phone",              // @contactData
	"firstResponseDueAt", // @staffOnly
	"resolutionDueAt",    // @staffOnly
	"hasMessagesWith",    // reaches internal notes
}

// RestrictFilters refuses a root field whose subtree uses, in a where
// argument, a filter the viewer may not (FORBIDDEN, naming it). It runs per
// root field, before its resolver, with the viewer of that moment: a
// mutation that signs in (login) changes who the later fields run as, and
// nested connections are loaded by their root field's resolver.
func RestrictFilters() graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		// Anonymous callers are refused by the privacy rules anyway.
		if v := viewer.FromContext(ctx); v == nil || v.IsStaff() || v.IsSystem() {
			return next(ctx)
		}
		oc, rf := graphql.GetOperationContext(ctx), graphql.GetRootFieldContext(ctx)
		if oc == nil || rf == nil || rf.Field.Field == nil {
			return next(ctx)
		}
		root := ast.SelectionSet{rf.Field.Field}
		if name := forbiddenFilter(root, oc.Variables, map[string]bool{}); name != "" {
			graphql.AddError(ctx, &apierr.Error{Code: apierr.Forbidden, Field: name, Message: "you may not filter on " + name})
			return graphql.Null
		}
		return next(ctx)
	}
}

// RestrictSubscriptionFilters is RestrictFilters for subscriptions, whose
// root field gqlgen runs outside root field middleware: the operation is
// refused before it starts (a subscription has one root field, and no
// sign-in happens during it).
func RestrictSubscriptionFilters() graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		if v := viewer.FromContext(ctx); v == nil || v.IsStaff() || v.IsSystem() || oc == nil ||
			oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
			return next(ctx)
		}
		if name := forbiddenFilter(oc.Operation.SelectionSet, oc.Variables, map[string]bool{}); name != "" {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
				Message:    "you may not filter on " + name,
				Extensions: map[string]any{"code": string(apierr.Forbidden), "field": name},
			}}})
		}
		return next(ctx)
	}
}

// forbiddenFilter returns the first staff-only filter used by a `where`
// argument anywhere in the selection set, fragments included.
func forbiddenFilter(set ast.SelectionSet, vars map[string]any, seen map[string]bool) string {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, arg := range s.Arguments {
				if arg.Name != "where" || arg.Value == nil {
					continue
				}
				val, err := arg.Value.Value(vars)
				if err != nil {
					continue // the executor reports bad values itself
				}
				if name := forbiddenKey(val); name != "" {
					return name
				}
			}
			if name := forbiddenFilter(s.SelectionSet, vars, seen); name != "" {
				return name
			}
		case *ast.InlineFragment:
			if name := forbiddenFilter(s.SelectionSet, vars, seen); name != "" {
				return name
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			if name := forbiddenFilter(s.Definition.SelectionSet, vars, seen); name != "" {
				return name
			}
		}
	}
	return ""
}

// forbiddenKey walks a where value (nested inputs, and/or/not lists).
func forbiddenKey(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			for _, f := range staffOnlyFilters {
				if strings.HasPrefix(k, f) {
					return k
				}
			}
			if name := forbiddenKey(sub); name != "" {
				return name
			}
		}
	case []any:
		for _, sub := range v {
			if name := forbiddenKey(sub); name != "" {
				return name
			}
		}
	}
	return ""
}
