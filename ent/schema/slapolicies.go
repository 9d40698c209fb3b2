package schema

import (
	"context"

	gen "github.com/switchboardhq/switchboard/ent"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/slapolicy"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// SLAPolicyReader returns the SLA policy of a priority, nil when there is
// none; client is the mutation's (transactional) one.
type SLAPolicyReader func(ctx context.Context, client *gen.Client, p priority.Priority) (*gen.SLAPolicy, error)

type slaPolicyReaderKey struct{}

// WithSLAPolicyReader makes the ticket hooks read SLA policies with r (a
// cache, see internal/ticketing) instead of from the database.
func WithSLAPolicyReader(ctx context.Context, r SLAPolicyReader) context.Context {
	return context.WithValue(ctx, slaPolicyReaderKey{}, r)
}

// readSLAPolicy reads with the context's reader, else from the database.
func readSLAPolicy(ctx context.Context, client *gen.Client, p priority.Priority) (*gen.SLAPolicy, error) {
	if r, ok := ctx.Value(slaPolicyReaderKey{}).(SLAPolicyReader); ok {
		return r(ctx, client, p)
	}
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	policy, err := client.SLAPolicy.Query().Where(slapolicy.PriorityEQ(p)).Only(sys)
	if gen.IsNotFound(err) {
		return nil, nil
	}
	return policy, err
}
