package attachments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ContentMismatchError is content that is not the blob it was given as:
// another length or another SHA-256. Nothing of it is stored.
type ContentMismatchError struct {
	// Key and Size are what the content should be.
	Key  string
	Size int64
	// GotKey and GotSize are what it is; Longer says that it goes on past
	// Size + 1 bytes (then GotKey is of the first Size + 1 only).
	GotKey  string
	GotSize int64
	Longer  bool
}

func (e *ContentMismatchError) Error() string {
	switch {
	case e.Longer:
		return fmt.Sprintf("it is longer than %d bytes", e.Size)
	case e.GotSize != e.Size:
		return fmt.Sprintf("it has %d bytes, not %d", e.GotSize, e.Size)
	}
	return fmt.Sprintf("its SHA-256 is %s, not %s", e.GotKey, e.Key)
}

// Restored says what Restore did.
type Restored struct {
	// ContentType is sniffed from the content, as for an upload (a type
	// given with the content is never taken).
	ContentType string
	// Wrote is set when the blob was written to the store.
	Wrote bool
}

// Restore makes sure the store holds the blob key, of size bytes, for a
// row about to be committed that references it (an import): a blob stored
// with that size and written in the last half of PendingTTL is left as
// it is, as for an upload (see storeBlob: the sweeper cannot take it from
// under the row); otherwise the content open returns is read into the
// spool directory, hashed, and stored only if its SHA-256 is key and its
// length size — else *ContentMismatchError, and nothing is stored. open is
// called only when the blob is to be written, and its error is returned
// as it is.
func (s *Service) Restore(ctx context.Context, key string, size int64, open func() (io.ReadCloser, error)) (Restored, error) {
	if !ValidKey(key) {
		return Restored{}, fmt.Errorf("invalid blob key %q", key)
	}
	info, err := s.store.Stat(ctx, key)
	switch {
	case err == nil && info.Size == size && s.now().Sub(info.ModTime) < s.limits.PendingTTL/2:
		ct, err := s.sniffStored(ctx, key)
		return Restored{ContentType: ct}, err
	case err != nil && !errors.Is(err, ErrNotExist):
		return Restored{}, unavailable(err)
	}
	r, err := open()
	if err != nil {
		return Restored{}, err
	}
	defer r.Close()
	sp, err := s.spool(r, size)
	if err != nil {
		var create *createError
		if errors.As(err, &create) {
			return Restored{}, unavailable(create.err)
		}
		return Restored{}, err
	}
	defer sp.Remove() // once renamed into place, there is nothing to remove
	if sp.Size != size || sp.Hash != key {
		return Restored{}, &ContentMismatchError{Key: key, Size: size, GotKey: sp.Hash, GotSize: sp.Size, Longer: sp.Size > size}
	}
	if err := s.storeBlob(ctx, sp); err != nil {
		return Restored{}, err
	}
	return Restored{ContentType: sp.ContentType, Wrote: true}, nil
}

// sniffStored is the content type of a stored blob, from its first bytes.
func (s *Service) sniffStored(ctx context.Context, key string) (string, error) {
	r, err := s.store.Open(ctx, key)
	if err != nil {
		return "", unavailable(err)
	}
	defer r.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", unavailable(err)
	}
	return http.DetectContentType(head[:n]), nil
}
