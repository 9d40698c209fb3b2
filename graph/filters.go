package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Field-level access for filters and orders: a viewer who may not see a
// field may not filter on it either, or they could read it by bisection,
// nor order by it, or they could read it off the order of the list.
//
// Which fields those are is read from the schema's marks (@staffOnly,
// @contactData; see ent/schema/marks.go), not listed here: every marked
// field of an object type is refused, to viewers who are not staff, in
// that type's where input (TicketWhereInput for Ticket) and order. A where
// key matches when it is the field's name or extends it (an operator
// suffix: firstResponseDueAtGT; an edge's filters: hasRoutingRuleWith), an
// order when its enum value is the name in upper snake case
// (FIRST_RESPONSE_DUE_AT). Contact data is refused even though a person
// may see their own: a filter ranges over everyone's rows.
//
// One filter is refused for a reason of rows, not of a field: internal
// notes (notesFilter).

// restricted maps an object type to its marked fields.
var restricted = markedFields(parsedSchema)

// markedFields reads the marks of every object type of s.
func markedFields(s *ast.Schema) map[string][]string {
	out := map[string][]string{}
	for name, def := range s.Types {
		if def.Kind != ast.Object {
			continue
		}
		for _, f := range def.Fields {
			if f.Directives.ForName(string(entschema.StaffOnly)) != nil || f.Directives.ForName(string(entschema.ContactData)) != nil {
				out[name] = append(out[name], f.Name)
			}
		}
	}
	return out
}

// notesFilter reaches internal notes: a has…With filter runs as a plain
// SQL subquery, outside the privacy policies, so a customer could find
// their tickets by the words of the internal notes on them, which do not
// exist for customers.
const notesInput, notesFilter = "TicketWhereInput", "hasMessagesWith"

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
			if r := forbiddenArgument(s, vars); r != nil {
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

// forbiddenArgument checks one field's where and orderBy arguments, by
// their types in the schema (the validator has resolved the field's
// definition before any middleware runs).
func forbiddenArgument(f *ast.Field, vars map[string]any) *apierr.Error {
	if f.Definition == nil {
		return nil
	}
	for _, arg := range f.Arguments {
		if arg.Value == nil || arg.Name != "where" && arg.Name != "orderBy" {
			continue
		}
		def := f.Definition.Arguments.ForName(arg.Name)
		if def == nil {
			continue
		}
		val, err := arg.Value.Value(vars)
		if err != nil {
			continue // the executor reports bad values itself
		}
		if arg.Name == "orderBy" {
			if name := forbiddenOrder(def.Type.Name(), val); name != "" {
				return &apierr.Error{Code: apierr.Forbidden, Field: name, Message: "you may not order by " + name}
			}
		} else if name := forbiddenKey(def.Type.Name(), val); name != "" {
			return &apierr.Error{Code: apierr.Forbidden, Field: name, Message: "you may not filter on " + name}
		}
	}
	return nil
}

// forbiddenOrder returns the first marked field of an orderBy value of the
// input type orderType (TicketOrder orders Ticket): one {field, direction}
// or a list of them.
func forbiddenOrder(orderType string, v any) string {
	object := strings.TrimSuffix(orderType, "Order")
	switch v := v.(type) {
	case map[string]any:
		field, _ := v["field"].(string)
		if field != "" && restrictedKey(object, upperSnakeToCamel(field)) {
			return field
		}
	case []any:
		for _, sub := range v {
			if name := forbiddenOrder(orderType, sub); name != "" {
				return name
			}
		}
	}
	return ""
}

// restrictedKey reports a where key or order field of the object type
// that is, or filters on, one of its marked fields.
func restrictedKey(object, key string) bool {
	for _, f := range restricted[object] {
		if strings.HasPrefix(key, f) || strings.HasPrefix(key, "has"+strings.ToUpper(f[:1])+f[1:]) {
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

// forbiddenKey walks a where value of the input type whereType (nested
// inputs, and/or/not lists, edges' has…With filters of their own types)
// and returns its first refused key.
func forbiddenKey(whereType string, v any) string {
	switch v := v.(type) {
	case map[string]any:
		def := parsedSchema.Types[whereType]
		object := strings.TrimSuffix(whereType, "WhereInput")
		for k, sub := range v {
			if restrictedKey(object, k) || whereType == notesInput && k == notesFilter {
				return k
			}
			var field *ast.FieldDefinition
			if def != nil {
				field = def.Fields.ForName(k)
			}
			if field == nil {
				continue // not an input field: the executor refuses it
			}
			if t := parsedSchema.Types[field.Type.Name()]; t != nil && t.Kind == ast.InputObject {
				if name := forbiddenKey(t.Name, sub); name != "" {
					return name
				}
			}
		}
	case []any:
		for _, sub := range v {
			if name := forbiddenKey(whereType, sub); name != "" {
				return name
			}
		}
	}
	return ""
}
