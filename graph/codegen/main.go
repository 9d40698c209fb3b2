// Command codegen is `gqlgen generate` for this module (go generate runs
// it from the repository root): gqlgen's own generation with gqlgen.yml,
// except that below the root operation types the executor resolves a
// selection on one goroutine.
//
// gqlgen starts a goroutine for every element of a list of objects
// (graphql.MarshalSliceConcurrently) and one for every field but the first
// that has a resolver or a context argument (FieldSet.Dispatch): on a page
// of 50 tickets with their people and last messages, several hundred per
// request, which under load cost more (stack growth, scheduling, and GC
// scanning their stacks) than the work they run. Here that work is
// marshalling of data already loaded: ent edges are eager-loaded by the
// connection resolvers (entgql's field collection) in a constant number of
// statements, so nothing is waiting on I/O that concurrency could overlap.
// Root fields of a query still run concurrently, and mutations stay
// sequential as gqlgen makes them. gqlgen has no setting for either
// (exec.worker_limit only caps the goroutines of a list, still starting
// one per element); see 99designs/gqlgen#3202.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"regexp"
	"strings"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

const configFile = "gqlgen.yml"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "codegen:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.LoadConfig(configFile)
	if err != nil {
		return err
	}
	if err := api.Generate(cfg, api.AddPlugin(sequential{})); err != nil {
		return err
	}
	return sequentialLists(cfg.Exec.Filename)
}

// sequential resolves the fields of every object but the root operation
// types on the goroutine of the object.
type sequential struct{}

func (sequential) Name() string { return "sequential" }

// GenerateCode runs before gqlgen writes the executor, on the data it
// writes it from.
func (sequential) GenerateCode(data *codegen.Data) error {
	for _, o := range data.Objects {
		if !o.Root {
			o.DisableConcurrency = true
		}
	}
	return nil
}

// concurrentList is how the generated executor marshals a list of
// objects; marshalList (graph/lists.go) does the same on one goroutine.
var (
	concurrentList = []byte("graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(")
	sequentialList = []byte("marshalList(ctx, len(v), func(")
)

// deferredGroup is what the executor does for @defer in every object it
// marshals: a group (the object's path, a field set and a map, allocated
// each time) of the fields resolved concurrently under @defer. No field is
// resolved so, and the schema declares no @defer, so the group stays
// empty: the lines go.
var deferredGroup = [][]byte{
	[]byte("\tdeferred := graphql.NewDeferredGroup(ctx)\n"),
	[]byte("\tif n := len(deferred.Defers); n > 0 {\n" +
		"\t\tatomic.AddInt32(&ec.Deferred, int32(min(n, math.MaxInt32)))\n" +
		"\t\tec.ProcessDeferredGroup(deferred)\n" +
		"\t}\n"),
}

// Objects whose fields are all resolved on their goroutine keep them in
// objectFields (graph/fieldset.go) rather than a graphql.FieldSet.
var (
	fieldSet     = []byte("\tout := graphql.NewFieldSet(fields)\n")
	objectFields = []byte("\tout := newObjectFields(fields)\n")
	dispatch     = []byte("\tout.Dispatch(ctx)\n")
)

// sequentialLists makes the executor in file marshal lists with
// marshalList, drops its deferred groups, and keeps the fields of objects
// resolved on one goroutine in objectFields.
func sequentialLists(file string) error {
	src, err := os.ReadFile(file) // #nosec G304 -- gqlgen.yml's executor file, written just before
	if err != nil {
		return err
	}
	for _, b := range append([][]byte{concurrentList}, deferredGroup...) {
		if !bytes.Contains(src, b) {
			return fmt.Errorf("%s: no %q: has gqlgen changed its executor?", file, b)
		}
	}
	src = bytes.ReplaceAll(src, concurrentList, sequentialList)
	if bytes.Contains(src, []byte("MarshalSliceConcurrently")) {
		return fmt.Errorf("%s: a MarshalSliceConcurrently call of another form is left", file)
	}
	for _, b := range deferredGroup {
		src = bytes.ReplaceAll(src, b, nil)
	}
	funcs := bytes.Split(src, []byte("\nfunc "))
	for i, f := range funcs {
		if bytes.Contains(f, fieldSet) && !bytes.Contains(f, []byte("Concurrently(")) {
			f = bytes.Replace(f, fieldSet, objectFields, 1)
			funcs[i] = bytes.Replace(f, dispatch, nil, 1)
		}
	}
	direct := directFields(funcs)
	src = bytes.Join(funcs, []byte("\nfunc "))
	if direct == 0 {
		return fmt.Errorf("%s: no struct field marshalled directly: has gqlgen changed how it resolves fields?", file)
	}
	// Imports only the dropped lines used.
	for _, pkg := range []string{"math", "sync/atomic"} {
		name := pkg[strings.LastIndex(pkg, "/")+1:]
		if !bytes.Contains(src, []byte(name+".")) {
			src = bytes.Replace(src, []byte("\t\""+pkg+"\"\n"), nil, 1)
		}
	}
	if src, err = format.Source(src); err != nil {
		return err
	}
	return os.WriteFile(file, src, 0o644) // #nosec G306 G703 -- a source file of the repository, named by gqlgen.yml
}

// structField is the executor's function for a field read from a struct
// field of its object: a field context and a context made for it, the
// value boxed and passed through the field middleware (none of which
// touches a field without arguments, graph/limits.go), then marshalled.
var structField = regexp.MustCompile(`^\(ec \*executionContext\) _\w+\(ctx context.Context, field graphql.CollectedField, obj \S+\) \(ret graphql.Marshaler\) \{
	return graphql.ResolveField\(
		ctx,
		ec.OperationContext,
		field,
		func\(ctx context.Context, field graphql.CollectedField\) \(\*graphql.FieldContext, error\) \{
			return ec.(fieldContext_\w+)\(ctx, field\)
		\},
		func\(ctx context.Context\) \(any, error\) \{
			return obj.(\w+), nil
		\},
		nil,
		func\(ctx context.Context, selections ast.SelectionSet, v \S+\) graphql.Marshaler \{
			return ec.(marshal[^(]+)\(ctx, selections, v\)
		\},
		true,
		(?:true|false),
	\)
\}`)

// neverNull are the marshallers of non-null scalars whose value cannot
// marshal to null, though their code checks for it.
var neverNull = map[string]bool{"marshalNString2string": true, "marshalNBoolean2bool": true, "marshalNInt2int": true}

// directFields rewrites the functions of scalar struct fields to marshal
// the value at once, where nothing of the field context can be needed: a
// scalar has no child fields (whose paths would go through it), and the
// marshaller reports no error (which would be located with it). It
// returns how many it rewrote.
func directFields(funcs [][]byte) int {
	byName := map[string][]byte{}
	name := regexp.MustCompile(`^\(ec \*executionContext\) ([^(]+)\(`)
	for _, f := range funcs {
		if m := name.FindSubmatch(f); m != nil {
			byName[string(m[1])] = f
		}
	}
	quiet := func(marshal string) bool {
		if neverNull[marshal] {
			return true
		}
		body, ok := byName[marshal]
		if !ok {
			return false
		}
		for _, s := range []string{"AddErrorf", "AddInvalidNullError", "ec.Error", "WrapContextMarshaler", "GetFieldContext"} {
			if bytes.Contains(body, []byte(s)) {
				return false
			}
		}
		return true
	}
	n := 0
	for i, f := range funcs {
		loc := structField.FindSubmatchIndex(f)
		if loc == nil {
			continue
		}
		field, marshal := string(f[loc[4]:loc[5]]), string(f[loc[6]:loc[7]])
		if !bytes.Contains(byName[string(f[loc[2]:loc[3]])], []byte("graphql.NewScalarFieldContext(")) || !quiet(marshal) {
			continue
		}
		head, _, _ := bytes.Cut(f, []byte("\n"))
		body := fmt.Sprintf("\n\treturn ec.%s(ctx, field.Selections, obj.%s)\n}", marshal, field)
		funcs[i] = append(append(append([]byte{}, head...), body...), f[loc[1]:]...)
		n++
	}
	return n
}
