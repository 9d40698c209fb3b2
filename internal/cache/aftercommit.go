package cache

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
)

// InvalidateAfterCommit invalidates the keys once the mutation m has
// committed: when its transaction ends, or at once when it runs outside
// one (ent has then committed when the mutation returns). A transaction
// that rolls back, or fails to commit, invalidates them too: what was read
// and cached inside it saw a change that never happened. Call it from an
// ent hook after the mutation succeeded. A request that goes away does not
// stop the invalidation.
func InvalidateAfterCommit(ctx context.Context, c Cache, m interface{ Tx() (*ent.Tx, error) }, keys ...string) {
	if len(keys) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	tx, err := m.Tx()
	if err != nil {
		c.Invalidate(ctx, keys...)
		return
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(cctx context.Context, tx *ent.Tx) error {
			defer c.Invalidate(ctx, keys...)
			return next.Commit(cctx, tx)
		})
	})
	tx.OnRollback(func(next ent.Rollbacker) ent.Rollbacker {
		return ent.RollbackFunc(func(rctx context.Context, tx *ent.Tx) error {
			defer c.Invalidate(ctx, keys...)
			return next.Rollback(rctx, tx)
		})
	})
}
