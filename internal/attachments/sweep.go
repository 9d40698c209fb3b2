package attachments

import (
	"context"
	"errors"
	"time"

	"github.com/switchboardhq/switchboard/ent/attachment"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// SweepResult tells what a sweep deleted.
type SweepResult struct {
	Pending, Blobs int
}

// Sweep deletes the uploads left pending longer than PendingTTL, then the
// blobs no attachment references that are older than PendingTTL: those
// of deleted uploads, and those a crash left between writing a blob and
// committing its row. Safe to run on several instances at once.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	sys := viewer.SystemContext(ctx)
	cutoff := s.now().Add(-s.limits.PendingTTL)
	n, err := s.client.Attachment.Delete().Where(attachment.MessageIDIsNil(), attachment.CreatedAtLT(cutoff)).Exec(sys)
	if err != nil {
		return res, err
	}
	res.Pending = n
	var old []string
	err = s.store.Walk(ctx, func(b BlobInfo) error {
		if b.ModTime.Before(cutoff) {
			old = append(old, b.Key)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Blobs, err = s.deleteUnreferenced(ctx, old, cutoff)
	return res, err
}

// PruneBlobs deletes those of keys no attachment references any more
// (after rows were deleted: an erased person's files), unless written in
// the last half of PendingTTL: an upload of the same content may be about
// to reference such a blob without writing it again (see storeBlob); the
// sweep deletes those later.
func (s *Service) PruneBlobs(ctx context.Context, keys []string) (int, error) {
	return s.deleteUnreferenced(ctx, keys, s.now().Add(-s.limits.PendingTTL/2))
}

// deleteUnreferenced deletes the blobs of keys that no row references and
// that were last written before cutoff.
func (s *Service) deleteUnreferenced(ctx context.Context, keys []string, cutoff time.Time) (int, error) {
	sys := viewer.SystemContext(ctx)
	deleted := 0
	const batch = 500
	for len(keys) > 0 {
		chunk := keys[:min(batch, len(keys))]
		keys = keys[len(chunk):]
		used, err := s.client.Attachment.Query().Where(attachment.Sha256In(chunk...)).Unique(true).Select(attachment.FieldSha256).Strings(sys)
		if err != nil {
			return deleted, err
		}
		referenced := make(map[string]bool, len(used))
		for _, k := range used {
			referenced[k] = true
		}
		for _, k := range chunk {
			if referenced[k] || !ValidKey(k) {
				continue
			}
			// Written again since it was listed (a new upload of it):
			// keep it.
			info, err := s.store.Stat(ctx, k)
			if errors.Is(err, ErrNotExist) {
				continue
			}
			if err != nil {
				return deleted, err
			}
			if !info.ModTime.Before(cutoff) {
				continue
			}
			if err := s.store.Delete(ctx, k); err != nil {
				return deleted, err
			}
			deleted++
		}
	}
	return deleted, nil
}

// SweepInterval is how often Run sweeps: often enough that pending
// uploads do not outlive their TTL by much.
func (s *Service) SweepInterval() time.Duration {
	return min(max(s.limits.PendingTTL/4, time.Minute), time.Hour)
}

// Run sweeps at start and then every SweepInterval until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.SweepInterval())
	defer t.Stop()
	for {
		res, err := s.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("attachments: sweeping failed; trying again later", "err", err)
		case res.Pending > 0 || res.Blobs > 0:
			s.log.Info("attachments: swept", "pending_uploads", res.Pending, "blobs", res.Blobs)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
