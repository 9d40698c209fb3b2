// Package filetest gives a test an attachments service over a directory
// store of its own, with uploads as the API makes them and the store's
// blobs at hand (their paths, which are stored, how old they look).
package filetest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Files is an attachments service over a directory store.
type Files struct {
	Client *ent.Client
	Svc    *attachments.Service
	Dir    *attachments.Dir
}

// New returns the service of client over a store in a new temporary
// directory.
func New(t testing.TB, client *ent.Client) Files {
	t.Helper()
	return NewIn(t, client, t.TempDir())
}

// NewIn returns the service of client over the store in root (two
// services over one root share their blobs).
func NewIn(t testing.TB, client *ent.Client, root string) Files {
	t.Helper()
	dir, err := attachments.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := attachments.New(client, dir, "", attachments.DefaultLimits, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Files{client, svc, dir}
}

// Upload stores content as a pending upload of u, as the API does (the
// content type sniffed, the blob stored once per content).
func (f Files) Upload(t testing.TB, u *ent.User, name, content string) *ent.Attachment {
	t.Helper()
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Role: viewer.Role(u.Role)})
	a, err := f.Svc.Upload(ctx, graphql.Upload{File: bytes.NewReader([]byte(content)), Filename: name, Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Attach attaches a to m, as the system (the API's Attach checks whose
// upload it is first), and returns it as stored.
func (f Files) Attach(t testing.TB, a *ent.Attachment, m *ent.Message) *ent.Attachment {
	t.Helper()
	a, err := f.Client.Attachment.UpdateOneID(a.ID).SetMessageID(m.ID).SetTicketID(m.TicketID).Save(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Path is where the store keeps the blob key.
func (f Files) Path(key string) string {
	return filepath.Join(f.Dir.Root(), key[:2], key[2:4], key)
}

// Stored tells whether the store holds the blob key.
func (f Files) Stored(t testing.TB, key string) bool {
	t.Helper()
	_, err := f.Dir.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, attachments.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// Blobs are the stored blobs' modification times, by key.
func (f Files) Blobs(t testing.TB) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	err := f.Dir.Walk(context.Background(), func(b attachments.BlobInfo) error {
		out[b.Key] = b.ModTime
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SetTime sets the blob's modification time: a blob written long ago is
// one that the sweeper and PruneBlobs may delete once nothing references
// it, and one an upload or import writes again rather than trust.
func (f Files) SetTime(t testing.TB, key string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(f.Path(key), at, at); err != nil {
		t.Fatal(err)
	}
}

// Age makes the blob look written two days ago: older than the default
// PendingTTL.
func (f Files) Age(t testing.TB, key string) {
	t.Helper()
	f.SetTime(t, key, time.Now().Add(-48*time.Hour))
}
