package schema

// WhereFields are fields of a node's where input beyond entgql's, each a
// predicate of a function outside ent: entgql makes none for a JSON
// column (Ticket's tags). They are rendered by ent/template/where_input.tmpl
// as struct fields, not as AddPredicates, so that whatever reads the
// input's fields (a saved view's JSON, a live filter) sees them as the
// list query does.
type WhereFields []WhereField

// WhereField is one: the input's field is Field *Type (GraphQL name JSON),
// and P() adds Package.Func(*Field) when it is set.
type WhereField struct {
	Field   string
	JSON    string
	Type    string
	Package string
	Func    string
}

// Name implements schema.Annotation.
func (WhereFields) Name() string { return "WhereFields" }
