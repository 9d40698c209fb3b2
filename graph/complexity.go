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
// first, else last, else defaultPageSize. Fields are found by walking the
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
			firstArg, lastArg := -1, -1
			for i, a := range f.Arguments {
				switch a.Name {
				case "first":
					firstArg = i
				case "last":
					lastArg = i
				}
			}
			if firstArg < 0 || !strings.HasSuffix(f.Type.Name(), "Connection") {
				continue
			}
			fn := fieldByGraphQLName(typ, f.Name)
			if !fn.IsValid() || fn.Kind() != reflect.Func || fn.Type().NumIn() != len(f.Arguments)+1 {
				continue
			}
			fn.Set(reflect.MakeFunc(fn.Type(), connectionCost(firstArg, lastArg, defaultPageSize)))
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
