package graph

import (
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// objectFields is graphql.FieldSet for the objects the executor resolves
// on one goroutine (graph/codegen puts it there): their values and
// invalid count, without what FieldSet carries for concurrent and
// deferred fields (a mutex, callbacks), and marshalled without the map of
// written aliases and the iterator FieldSet allocates for every object.
type objectFields struct {
	fields   []graphql.CollectedField
	Values   []graphql.Marshaler
	Invalids uint32
}

// newObjectFields makes the field set of an object with its values in one
// allocation for objects of up to 16 fields (a page of 50 tickets has
// some 550 objects).
func newObjectFields(fields []graphql.CollectedField) *objectFields {
	switch n := len(fields); {
	case n <= 4:
		o := &struct {
			objectFields
			values [4]graphql.Marshaler
		}{}
		o.fields, o.Values = fields, o.values[:n]
		return &o.objectFields
	case n <= 8:
		o := &struct {
			objectFields
			values [8]graphql.Marshaler
		}{}
		o.fields, o.Values = fields, o.values[:n]
		return &o.objectFields
	case n <= 16:
		o := &struct {
			objectFields
			values [16]graphql.Marshaler
		}{}
		o.fields, o.Values = fields, o.values[:n]
		return &o.objectFields
	}
	return &objectFields{fields: fields, Values: make([]graphql.Marshaler, len(fields))}
}

// MarshalGQL writes the fields in order, each alias once (as FieldSet
// does: fields of fragments on different types may share one). Aliases
// are GraphQL names, which need no escaping.
func (o *objectFields) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, "{")
	first := true
fields:
	for i := range o.fields {
		alias := o.fields[i].Alias
		for j := range i {
			if o.fields[j].Alias == alias {
				continue fields
			}
		}
		if first {
			_, _ = io.WriteString(w, `"`)
			first = false
		} else {
			_, _ = io.WriteString(w, `,"`)
		}
		_, _ = io.WriteString(w, alias)
		_, _ = io.WriteString(w, `":`)
		o.Values[i].MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}
