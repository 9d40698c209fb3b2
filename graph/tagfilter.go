package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/tags"
)

// checkTagFilter refuses a tag filter naming more than tags.MaxPerList
// tags, naming the field. The filter itself is a field of the input
// (internal/tags), read by P(), by a saved view's JSON and by a live
// filter alike; a resolver of it only sets it.
func checkTagFilter(ctx context.Context, values int) error {
	if values > tags.MaxPerList {
		field := inputPath(graphql.GetPath(ctx))
		return apierr.Invalid(field, "%s takes at most %d tags", field, tags.MaxPerList)
	}
	return nil
}

// inputPath names an input field from its argument on, as clients write
// it: where.or[0].hasTag.
func inputPath(path ast.Path) string {
	var b strings.Builder
	started := false
	for _, el := range path {
		switch el := el.(type) {
		case ast.PathName:
			if !started && string(el) != "where" {
				continue
			}
			if started {
				b.WriteByte('.')
			}
			started = true
			b.WriteString(string(el))
		case ast.PathIndex:
			if started {
				fmt.Fprintf(&b, "[%d]", int(el))
			}
		}
	}
	if !started {
		return "where"
	}
	return b.String()
}
