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
		o := new(objectFields4)
		return o.set(fields, o.values[:n])
	case n <= 8:
		o := new(objectFields8)
		return o.set(fields, o.values[:n])
	case n <= 16:
		o := new(objectFields16)
		return o.set(fields, o.values[:n])
	}
	return (&objectFields{}).set(fields, make([]graphql.Marshaler, len(fields)))
}

// Field sets with room for their values.
type (
	objectFields4 struct {
		objectFields
		values [4]graphql.Marshaler
	}
	objectFields8 struct {
		objectFields
		values [8]graphql.Marshaler
	}
	objectFields16 struct {
		objectFields
		values [16]graphql.Marshaler
	}
)

func (o *objectFields) set(fields []graphql.CollectedField, values []graphql.Marshaler) *objectFields {
	o.fields, o.Values = fields, values
	return o
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
