package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"

	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Field-level access is written once, as a mark on an ent field or edge of
// this package (an entgql directive annotation). entgql prints the mark
// into schema/ent.graphql, and from there:
//
//   - graph/directives.go enforces it on every read of the field;
//   - graph/filters.go refuses the where filters and orders on it to
//     viewers who are not staff;
//   - live updates leave its changes out of what those viewers are sent
//     (graph.StaffOnlyFields).
//
// Code that reads rows for a person outside GraphQL reads the marks here,
// by ent name, with Marks: the search words (internal/search) and the
// data-subject export (internal/bulk). docs/access-rules.md lists the
// marks and what each drives.

// Mark is a field-level access mark: the name of its GraphQL directive.
type Mark string

// The marks (schema/switchboard.graphql declares their directives).
const (
	// StaffOnly: agents and admins only (SLA due times, routing).
	StaffOnly Mark = "staffOnly"
	// ContactData: the person themself, agents and admins (a user's email
	// and phone).
	ContactData Mark = "contactData"
)

// annotation is the mark as an ent annotation.
func (m Mark) annotation() entgql.Annotation {
	return entgql.Directives(entgql.NewDirective(string(m)))
}

// Hides reports whether m keeps a field from v. own says the field is of
// v's own user row (it matters to ContactData only). The system sees
// everything; an anonymous caller nothing.
func (m Mark) Hides(v *viewer.Viewer, own bool) bool {
	switch {
	case v.IsStaff() || v.IsSystem():
		return false
	case m == ContactData:
		return v == nil || !own
	}
	return true
}

// Marks returns the marked fields and edges of an ent schema (Ticket{},
// User{}, ...) by their ent names (first_response_due_at, routing_rule).
func Marks(s ent.Interface) map[string]Mark {
	out := map[string]Mark{}
	add := func(name string, annotations []schema.Annotation) {
		for _, a := range annotations {
			var ant entgql.Annotation
			switch a := a.(type) {
			case entgql.Annotation:
				ant = a
			case *entgql.Annotation:
				ant = *a
			default:
				continue
			}
			for _, d := range ant.Directives {
				if m := Mark(d.Name); m == StaffOnly || m == ContactData {
					out[name] = m
				}
			}
		}
	}
	var fields []ent.Field
	for _, mx := range s.Mixin() {
		fields = append(fields, mx.Fields()...)
	}
	for _, f := range append(fields, s.Fields()...) {
		add(f.Descriptor().Name, f.Descriptor().Annotations)
	}
	for _, e := range s.Edges() {
		add(e.Descriptor().Name, e.Descriptor().Annotations)
	}
	return out
}
