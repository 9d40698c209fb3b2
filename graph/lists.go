package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalList is graphql.MarshalSliceConcurrently on the caller's
// goroutine, which the generated executor calls instead (graph/codegen
// says why): each element gets its field context (its index, for the
// paths of errors), and a panic in one is that element's error and null,
// the others marshalled.
func marshalList(ctx context.Context, n int, marshal func(context.Context, int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, n)
	for i := range n {
		ctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		ret[i] = marshalElement(ctx, i, marshal)
	}
	return ret
}

func marshalElement(ctx context.Context, i int, marshal func(context.Context, int) graphql.Marshaler) (m graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			m = graphql.Null
		}
	}()
	return marshal(ctx, i)
}
