package attachments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"
)

func keyOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// testStore is the contract every Store keeps; each implementation's
// test runs it against a real store.
func testStore(t *testing.T, s Store) {
	ctx := context.Background()
	content := bytes.Repeat([]byte("switchboard attachment "), 1000)
	key := keyOf(content)

	t.Run("MissingBlobIsErrNotExist", func(t *testing.T) {
		missing := keyOf([]byte("never stored"))
		if _, err := s.Open(ctx, missing); !errors.Is(err, ErrNotExist) {
			t.Fatalf("Open(missing) = %v, want ErrNotExist", err)
		}
		if _, err := s.Stat(ctx, missing); !errors.Is(err, ErrNotExist) {
			t.Fatalf("Stat(missing) = %v, want ErrNotExist", err)
		}
		if err := s.Delete(ctx, missing); err != nil {
			t.Fatalf("Delete(missing) = %v, want nil", err)
		}
	})
	t.Run("PutThenOpenReadsTheBytes", func(t *testing.T) {
		before := time.Now().Add(-2 * time.Second)
		if err := s.Put(ctx, key, bytes.NewReader(content), int64(len(content))); err != nil {
			t.Fatal(err)
		}
		info, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(content)) || info.Key != key || info.ModTime.Before(before) {
			t.Fatalf("Stat = %+v, want size %d and a fresh time", info, len(content))
		}
		r, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("read %d bytes (%v), want the %d stored", len(got), err, len(content))
		}
	})
	t.Run("OpenSeeks", func(t *testing.T) {
		r, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Seek(100, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		part := make([]byte, 50)
		if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, content[100:150]) {
			t.Fatalf("bytes 100-150 = %q (%v)", part, err)
		}
		end, err := r.Seek(0, io.SeekEnd)
		if err != nil || end != int64(len(content)) {
			t.Fatalf("Seek(end) = %d, %v", end, err)
		}
	})
	t.Run("ShortPutStoresNothing", func(t *testing.T) {
		other := []byte("a blob whose reader ends early")
		k := keyOf(other)
		if err := s.Put(ctx, k, bytes.NewReader(other[:5]), int64(len(other))); err == nil {
			t.Fatal("Put with a short reader succeeded")
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, ErrNotExist) {
			t.Fatalf("after a failed Put, Stat = %v, want ErrNotExist", err)
		}
	})
	t.Run("LongPutStoresNothing", func(t *testing.T) {
		other := []byte("a blob whose reader has more than its size")
		k := keyOf(other[:10])
		if err := s.Put(ctx, k, bytes.NewReader(other), 10); err == nil {
			t.Fatal("Put with a reader longer than size succeeded")
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, ErrNotExist) {
			t.Fatalf("after a failed Put, Stat = %v, want ErrNotExist", err)
		}
	})
	t.Run("EmptyBlob", func(t *testing.T) {
		k := keyOf(nil)
		if err := s.Put(ctx, k, bytes.NewReader(nil), 0); err != nil {
			t.Fatal(err)
		}
		if info, err := s.Stat(ctx, k); err != nil || info.Size != 0 {
			t.Fatalf("Stat = %+v, %v", info, err)
		}
		r, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		_ = r.Close()
		if err != nil || len(got) != 0 {
			t.Fatalf("read %q (%v), want nothing", got, err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("WalkListsBlobs", func(t *testing.T) {
		found := false
		err := s.Walk(ctx, func(b BlobInfo) error {
			if b.Key == key {
				found = b.Size == int64(len(content))
			}
			return nil
		})
		if err != nil || !found {
			t.Fatalf("Walk found the blob: %v (%v)", found, err)
		}
	})
	t.Run("WalkStopsAtError", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := s.Walk(ctx, func(BlobInfo) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("Walk = %v after %d calls, want fn's error after 1", err, calls)
		}
	})
	t.Run("ErrInvalidKey", func(t *testing.T) {
		for _, bad := range []string{"../../etc/passwd", "ABC", key + "0", ""} {
			if err := s.Put(ctx, bad, bytes.NewReader(nil), 0); err == nil {
				t.Errorf("Put(%q) accepted", bad)
			}
			if _, err := s.Open(ctx, bad); err == nil {
				t.Errorf("Open(%q) accepted", bad)
			}
			if _, err := s.Stat(ctx, bad); err == nil {
				t.Errorf("Stat(%q) accepted", bad)
			}
			if err := s.Delete(ctx, bad); err == nil {
				t.Errorf("Delete(%q) accepted", bad)
			}
		}
	})
	t.Run("DeleteRemoves", func(t *testing.T) {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotExist) {
			t.Fatalf("after Delete, Stat = %v", err)
		}
	})
	t.Run("Check", func(t *testing.T) {
		if err := s.Check(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDir(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, d)
}
