package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Field-level access for filters and orders: a viewer who may not see a
// field may not filter on it either, or they could read it by bisection,
// nor order by it, or they could read it off the order of the list.
// Internal notes are not fields but rows, yet the same holds: a
// `hasMessagesWith` filter runs as a plain SQL subquery, outside the
// privacy policies, so a customer could find tickets by the words of their
// internal notes.
//
// staffOnlyFilters lists, by the GraphQL names of where-input fields, what
// only agents and admins may filter on or order by. A where key matches
// when it equals a prefix or extends it with an operator suffix
// (emailHasPrefix, ...); an orderBy field when its enum value is the name
// in upper snake case (FIRST_RESPONSE_DUE_AT), so that one list holds the
// rule for both.
var staffOnlyFilters = []string{
	"email",              // @contactData
	"phone",              // @contactData
	"firstResponseDueAt", // @staffOnly
	"resolutionDueAt",    // @staffOnly
	"hasMessagesWith",    // reaches internal notes
}

// RestrictFilters refuses a root field whose subtree uses, in a where
// argument, a filter the viewer may not, or in an orderBy argument, an
// order (FORBIDDEN, naming it as the client wrote it). It runs per
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
		if r := forbiddenFilter(root, oc.Variables, map[string]bool{}); r != nil {
			graphql.AddError(ctx, r)
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
		if r := forbiddenFilter(oc.Operation.SelectionSet, oc.Variables, map[string]bool{}); r != nil {
			return graphql.OneShot(errorResponse(r))
		}
		return next(ctx)
	}
}

// forbiddenFilter returns the refusal of the first staff-only filter used
// by a `where` argument, or order by an `orderBy` argument, anywhere in the
// selection set, fragments included; nil when there is none.
func forbiddenFilter(set ast.SelectionSet, vars map[string]any, seen map[string]bool) *apierr.Error {
	for _, sel := range set {
		var sub ast.SelectionSet
		switch s := sel.(type) {
		case *ast.Field:
			if r := forbiddenArgument(s.Arguments, vars); r != nil {
				return r
			}
			sub = s.SelectionSet
		case *ast.InlineFragment:
			sub = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition == nil || seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			sub = s.Definition.SelectionSet
		}
		if r := forbiddenFilter(sub, vars, seen); r != nil {
			return r
		}
	}
	return nil
}

// forbiddenArgument checks one field's where and orderBy arguments.
func forbiddenArgument(args ast.ArgumentList, vars map[string]any) *apierr.Error {
	for _, arg := range args {
		if arg.Value == nil || arg.Name != "where" && arg.Name != "orderBy" {
			continue
		}
		val, err := arg.Value.Value(vars)
		if err != nil {
			continue // the executor reports bad values itself
		}
		if arg.Name == "orderBy" {
			if name := forbiddenOrder(val); name != "" {
				return &apierr.Error{Code: apierr.Forbidden, Field: name, Message: "you may not order by " + name}
			}
		} else if name := forbiddenKey(val); name != "" {
			return &apierr.Error{Code: apierr.Forbidden, Field: name, Message: "you may not filter on " + name}
		}
	}
	return nil
}

// forbiddenOrder returns the first staff-only field of an orderBy value:
// one {field, direction} or a list of them.
func forbiddenOrder(v any) string {
	switch v := v.(type) {
	case map[string]any:
		field, _ := v["field"].(string)
		if field != "" && staffOnlyKey(upperSnakeToCamel(field)) {
			return field
		}
	case []any:
		for _, sub := range v {
			if name := forbiddenOrder(sub); name != "" {
				return name
			}
		}
	}
	return ""
}

// staffOnlyKey reports a where key or field name of staffOnlyFilters.
func staffOnlyKey(key string) bool {
	for _, f := range staffOnlyFilters {
		if strings.HasPrefix(key, f) {
			return true
		}
	}
	return false
}

// upperSnakeToCamel turns an order enum value into the field's GraphQL
// name: FIRST_RESPONSE_DUE_AT is firstResponseDueAt.
func upperSnakeToCamel(s string) string {
	parts := strings.Split(strings.ToLower(s), "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// forbiddenKey walks a where value (nested inputs, and/or/not lists).
func forbiddenKey(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if staffOnlyKey(k) {
				return k
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
