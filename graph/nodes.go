package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/nodes"
)

// getNodes answers nodes(ids:): one query per type, and for each ID the
// viewer cannot see a null in its place with a NOT_FOUND error at its index.
func getNodes(ctx context.Context, client *ent.Client, ids []globalid.ID, max int) ([]ent.Noder, error) {
	if max > 0 && len(ids) > max {
		return nil, apierr.Invalid("ids", "at most %d IDs at once", max)
	}
	if len(ids) == 1 {
		n, err := nodes.Get(ctx, client, ids[0])
		if err != nil {
			graphql.AddError(graphql.WithPathContext(ctx, graphql.NewPathWithIndex(0)), err)
		}
		return []ent.Noder{n}, nil
	}
	return client.Noders(ctx, ids, ent.WithNodeType(nodes.Type))
}
