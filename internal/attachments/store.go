package attachments

import (
	"context"
	"errors"
	"io"
	"regexp"
	"time"
)

// Store keeps blobs: the content of attachments, each under its key, the
// hex SHA-256 of its bytes, so that identical files are stored once. The
// database says which attachments reference a blob; a Store knows nothing
// of them. Two implementations: Dir (the embedded default) and S3.
type Store interface {
	// Put stores size bytes read from r under key, replacing any blob of
	// that key (which, keyed by content, holds the same bytes). A Put
	// that fails leaves no partial blob under key. It sets the blob's
	// ModTime to now: the sweeper deletes only unreferenced blobs older
	// than its TTL, so a blob a new upload is about to reference must
	// look new.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open returns the blob's content for reading and seeking (Range
	// requests). A missing blob is ErrNotExist.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Stat tells a blob's size and modification time; a missing blob is
	// ErrNotExist.
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes the blob; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// Walk calls fn with every stored blob, in no particular order,
	// until fn returns an error (which Walk returns).
	Walk(ctx context.Context, fn func(BlobInfo) error) error
	// Check tells whether the storage can be reached (for /readyz).
	Check(ctx context.Context) error
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// ErrNotExist is a blob that is not stored.
var ErrNotExist = errors.New("blob does not exist")

// validKey is the form of every key: the hex SHA-256 of the content.
var validKey = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidKey tells whether key is a blob key (64 lowercase hex digits);
// stores refuse any other key, so a key can never name a path outside
// the store.
func ValidKey(key string) bool { return validKey.MatchString(key) }
