package wstransport

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// fingerprint identifies how a subscription's results render: the
// document, the operation, the variables that reach the selection, and
// the viewer's share key. Variables used only as arguments of the root
// field (filters, the after: cursor) decide which events arrive, not how
// they render, so subscriptions differing only there share rendering.
func fingerprint(rc *graphql.OperationContext, viewerKey string) string {
	rootOnly := map[string]bool{}
	elsewhere := map[string]bool{}
	for _, sel := range rc.Operation.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			continue
		}
		for _, a := range f.Arguments {
			variablesIn(a.Value, rootOnly)
		}
		variablesInDirectives(f.Directives, elsewhere)
		variablesInSelections(f.SelectionSet, rc.Doc, elsewhere, map[string]bool{})
	}
	vars := map[string]any{}
	for name, v := range rc.Variables {
		if !rootOnly[name] || elsewhere[name] {
			vars[name] = v
		}
	}
	encoded, _ := json.Marshal(vars) // map keys are sorted
	h := sha256.New()
	for _, part := range []string{rc.RawQuery, rc.OperationName, string(encoded), viewerKey} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func variablesInSelections(set ast.SelectionSet, doc *ast.QueryDocument, into, seenFragments map[string]bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				variablesIn(a.Value, into)
			}
			variablesInDirectives(s.Directives, into)
			variablesInSelections(s.SelectionSet, doc, into, seenFragments)
		case *ast.InlineFragment:
			variablesInDirectives(s.Directives, into)
			variablesInSelections(s.SelectionSet, doc, into, seenFragments)
		case *ast.FragmentSpread:
			variablesInDirectives(s.Directives, into)
			if seenFragments[s.Name] || doc == nil {
				continue
			}
			seenFragments[s.Name] = true
			if frag := doc.Fragments.ForName(s.Name); frag != nil {
				variablesInSelections(frag.SelectionSet, doc, into, seenFragments)
			}
		}
	}
}

func variablesInDirectives(ds ast.DirectiveList, into map[string]bool) {
	for _, d := range ds {
		for _, a := range d.Arguments {
			variablesIn(a.Value, into)
		}
	}
}

func variablesIn(v *ast.Value, into map[string]bool) {
	if v == nil {
		return
	}
	if v.Kind == ast.Variable {
		into[v.Raw] = true
	}
	for _, c := range v.Children {
		variablesIn(c.Value, into)
	}
}

// personalDirective marks the schema's fields whose value depends on the
// viewer as a person (see the directive's description).
const personalDirective = "personal"

// personal reports whether the operation selects a field marked @personal,
// through fragments too: its results then render per person.
func personal(rc *graphql.OperationContext) bool {
	return selectsPersonal(rc.Operation.SelectionSet, rc.Doc, map[string]bool{})
}

func selectsPersonal(set ast.SelectionSet, doc *ast.QueryDocument, seenFragments map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			// A field of unknown definition is taken as personal: failing
			// closed costs a rendering, failing open could leak.
			if s.Definition == nil || s.Definition.Directives.ForName(personalDirective) != nil {
				return true
			}
			if selectsPersonal(s.SelectionSet, doc, seenFragments) {
				return true
			}
		case *ast.InlineFragment:
			if selectsPersonal(s.SelectionSet, doc, seenFragments) {
				return true
			}
		case *ast.FragmentSpread:
			if seenFragments[s.Name] || doc == nil {
				continue
			}
			seenFragments[s.Name] = true
			if frag := doc.Fragments.ForName(s.Name); frag != nil && selectsPersonal(frag.SelectionSet, doc, seenFragments) {
				return true
			}
		}
	}
	return false
}
