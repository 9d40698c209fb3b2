//go:build ignore

// Command entc generates the ent client and the GraphQL schema
// (schema/ent.graphql) from ent/schema. Run it through `go generate ./...`.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

// nullableContactData makes every field marked @contactData nullable in
// the GraphQL schema, whatever the ent field's optionality: a reader who
// may not see it gets null and a FORBIDDEN error at the field, not a null
// for the whole object. (entgql has no annotation for nullability.)
func nullableContactData(_ *gen.Graph, s *ast.Schema) error {
	for _, t := range s.Types {
		for _, f := range t.Fields {
			if f.Directives.ForName("contactData") != nil && f.Type.NonNull {
				f.Type = ast.NamedType(f.Type.Name(), f.Type.Position)
			}
		}
	}
	return nil
}

// userTickets documents User.tickets (entgql drops an edge's comment from
// a connection field) and takes its filters out of UserWhereInput: a
// has…With filter is a plain SQL subquery, outside the privacy policies,
// so it would find users by tickets out of the viewer's reach. The edge
// is in the where inputs only so that the connection takes where:.
func userTickets(_ *gen.Graph, s *ast.Schema) error {
	if u := s.Types["User"]; u != nil {
		if f := u.Fields.ForName("tickets"); f != nil {
			f.Description = "The tickets this user requested, as far as the viewer may see them: an\n" +
				"agent only those in their reach (their groups, or assigned to them), a\n" +
				"customer only their own, an admin all. Arguments as Query.tickets."
		}
	}
	if in := s.Types["UserWhereInput"]; in != nil {
		in.Fields = slices.DeleteFunc(in.Fields, func(f *ast.FieldDefinition) bool {
			return strings.HasPrefix(f.Name, "hasRequestedTickets")
		})
	}
	return nil
}

// hasNullableOrder reports a node whose pagination needs the null-aware
// keyset of ent/template/pagination.tmpl: several orders at once
// (MultiOrder) and an order field on a nullable column.
func hasNullableOrder(n *gen.Type) (bool, error) {
	var ant entgql.Annotation
	if err := ant.Decode(n.Annotations[ant.Name()]); err != nil || !ant.MultiOrder {
		return false, err
	}
	for _, f := range n.Fields {
		var fa entgql.Annotation
		if err := fa.Decode(f.Annotations[fa.Name()]); err != nil {
			return false, err
		}
		if fa.OrderField != "" && f.Optional {
			return true, nil
		}
	}
	return false, nil
}

// overrideTemplates loads ent/template/pagination.tmpl and
// where_input.tmpl after entgql's templates, so that their definitions of
// entgql's Paginate body and where input win.
func overrideTemplates(cfg *gen.Config) error {
	t, err := gen.NewTemplate("switchboard_overrides").
		Funcs(entgql.TemplateFuncs).
		Funcs(template.FuncMap{"hasNullableOrder": hasNullableOrder}).
		ParseFiles("./ent/template/pagination.tmpl", "./ent/template/where_input.tmpl")
	if err != nil {
		return err
	}
	cfg.Templates = append(cfg.Templates, t)
	return nil
}

// handWrittenQueries points the generated nested pages at ent/limitperrow.go
// (a LATERAL join on PostgreSQL), and the count of all tickets at
// ent/tally.go, once the files are written. Each rewrite
// must find its pattern, so an ent or entgql upgrade that changes them
// fails here rather than silently going back to the slower form.
func handWrittenQueries(next gen.Generator) gen.Generator {
	return gen.GenerateFunc(func(g *gen.Graph) error {
		if err := next.Generate(g); err != nil {
			return err
		}
		rewrite := func(file string, from *regexp.Regexp, to string) error {
			path := filepath.Join(g.Config.Target, file)
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !from.Match(b) {
				return fmt.Errorf("%s: no %s to rewrite (did ent or entgql change?)", path, from)
			}
			return os.WriteFile(path, from.ReplaceAll(b, []byte(to)), 0o644)
		}
		if err := rewrite("gql_collection.go", regexp.MustCompile(`entgql\.LimitPerRow\(`), "limitPerRow("); err != nil {
			return err
		}
		loaders := regexp.MustCompile(`s\.Where\(sql\.InValues\((s\.C\([a-z]+\.[A-Za-z]+Column\)), fks\.\.\.\)\)`)
		for _, file := range []string{"ticket_query.go", "user_query.go"} {
			if err := rewrite(file, loaders, "whereIn(s, $1, fks)"); err != nil {
				return err
			}
		}
		// An unfiltered count of tickets comes from the tally (ent/tally.go).
		return rewrite("ticket_query.go", regexp.MustCompile(`(func \(_q \*TicketQuery\) sqlCount\(ctx context\.Context\) \(int, error\) \{\n)`),
			"${1}\tif n, ok, err := _q.tallied(ctx); ok || err != nil {\n\t\treturn n, err\n\t}\n")
	})
}

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("schema/ent.graphql"),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithWhereInputs(true),
		entgql.WithNodeDescriptor(false),
		entgql.WithSchemaHook(nullableContactData, userTickets),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/switchboardhq/switchboard/ent",
		Hooks:   []gen.Hook{handWrittenQueries},
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureNamedEdges,
			gen.FeatureUpsert,
			gen.FeatureLock,
			gen.FeatureExecQuery,
		},
	}, entc.Extensions(ex), overrideTemplates)
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
