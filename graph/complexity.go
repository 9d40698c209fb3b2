package graph

import (
	"math"
	"reflect"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// DefaultPageSize is the page size of connections when none is configured
// (SWITCHBOARD_DEFAULT_PAGE_SIZE's default).
const DefaultPageSize = 20

// setConnectionComplexity gives every connection field (a field with
// first/last arguments returning a *Connection type) a complexity
// function that multiplies its children's cost by the page asked for:
// first, else last, else defaultPageSize; and every field returning a list
// fetched by a list of IDs (nodes(ids:)) one that multiplies them by the
// number of IDs. Fields are found by walking the
// schema, so a connection added later is covered without touching this.
// The rate limiter weighs operations by the same number.
func setConnectionComplexity(cfg *Config, schema *ast.Schema, defaultPageSize int) {
	root := reflect.ValueOf(&cfg.Complexity).Elem()
	for _, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		typ := fieldByGraphQLName(root, def.Name)
		if !typ.IsValid() {
			continue
		}
		for _, f := range def.Fields {
			firstArg, lastArg, idsArg := -1, -1, -1
			for i, a := range f.Arguments {
				switch {
				case a.Name == "first":
					firstArg = i
				case a.Name == "last":
					lastArg = i
				case a.Type.Elem != nil && a.Type.Elem.Name() == "ID" && f.Type.Elem != nil:
					idsArg = i
				}
			}
			var cost func([]reflect.Value) []reflect.Value
			switch {
			case firstArg >= 0 && strings.HasSuffix(f.Type.Name(), "Connection"):
				cost = connectionCost(firstArg, lastArg, defaultPageSize)
			case idsArg >= 0:
				cost = listCost(idsArg)
			default:
				continue
			}
			fn := fieldByGraphQLName(typ, goName(f))
			if !fn.IsValid() || fn.Kind() != reflect.Func || fn.Type().NumIn() != len(f.Arguments)+1 {
				continue
			}
			fn.Set(reflect.MakeFunc(fn.Type(), cost))
		}
	}
}

// connectionCost is the complexity function of a connection field whose
// first and last arguments are at the given positions (after the
// children's complexity).
func connectionCost(firstArg, lastArg, defaultPageSize int) func([]reflect.Value) []reflect.Value {
	return func(in []reflect.Value) []reflect.Value {
		child := int(in[0].Int())
		n := defaultPageSize
		if p, ok := pageArg(in, firstArg); ok {
			n = p
		} else if p, ok := pageArg(in, lastArg); ok {
			n = p
		}
		return []reflect.Value{reflect.ValueOf(saturatingAdd(1, saturatingMul(max(n, 1), child)))}
	}
}

// listCost is the complexity function of a field returning one object
// per element of the ID list at the given position (nodes(ids:)): its
// children cost once per ID.
func listCost(idsArg int) func([]reflect.Value) []reflect.Value {
	return func(in []reflect.Value) []reflect.Value {
		child := int(in[0].Int())
		n := 0
		if v := in[idsArg+1]; v.Kind() == reflect.Slice {
			n = v.Len()
		}
		return []reflect.Value{reflect.ValueOf(saturatingAdd(1, saturatingMul(max(n, 1), child)))}
	}
}

func pageArg(in []reflect.Value, i int) (int, bool) {
	if i < 0 {
		return 0, false
	}
	v := in[i+1]
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return 0, false
	}
	return int(v.Elem().Int()), true
}

// goName is the name gqlgen gives a field in Go: its @goField(name:), as
// entgql sets on an edge exposed under another name (User.tickets), or its
// GraphQL name.
func goName(f *ast.FieldDefinition) string {
	if d := f.Directives.ForName("goField"); d != nil {
		if a := d.Arguments.ForName("name"); a != nil && a.Value != nil && a.Value.Raw != "" {
			return a.Value.Raw
		}
	}
	return f.Name
}

// fieldByGraphQLName finds the ComplexityRoot entry of a GraphQL name:
// gqlgen's Go names differ only in the case of initialisms (apiTokens is
// APITokens).
func fieldByGraphQLName(v reflect.Value, name string) reflect.Value {
	if v.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.FieldByNameFunc(func(goName string) bool { return strings.EqualFold(goName, name) })
}

func saturatingMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

func saturatingAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}
