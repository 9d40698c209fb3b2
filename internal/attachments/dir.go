package attachments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Dir is a Store in a directory of the local disk (by default
// ./data/attachments): each blob is a file at ab/cd/<key>, written to a
// temporary file first and renamed into place, so a reader never sees a
// half-written blob and a crash leaves at most a stray temporary file
// (which the next start removes).
type Dir struct {
	root string
}

// tmpDir is where blobs are written before they are renamed into place,
// and where uploads are spooled: on the same file system as the blobs,
// so that renaming is atomic.
const tmpDir = "tmp"

// NewDir returns the Store in root, creating the directory if needed.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(root, tmpDir), 0o750); err != nil {
		return nil, fmt.Errorf("attachments directory: %w", err)
	}
	d := &Dir{root: root}
	// Temporary files of a previous process are left overs of a crash.
	entries, _ := os.ReadDir(filepath.Join(root, tmpDir))
	for _, e := range entries {
		_ = os.Remove(filepath.Join(root, tmpDir, e.Name()))
	}
	return d, nil
}

// Root is the store's directory.
func (d *Dir) Root() string { return d.root }

func (d *Dir) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("invalid blob key %q", key)
	}
	return filepath.Join(d.root, key[:2], key[2:4], key), nil
}

// Put writes the blob to a temporary file, syncs it and renames it into
// place.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(d.root, tmpDir), "put-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename there is nothing to remove
	n, err := io.Copy(f, r)
	if err == nil && n != size {
		err = fmt.Errorf("blob %s: read %d bytes, want %d", key, n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return d.place(f.Name(), p)
}

// PutFile moves the file at path (in the store's tmp directory, see
// SpoolDir) into place as the blob key: an upload spooled there is
// stored without a second copy.
func (d *Dir) PutFile(_ context.Context, key, path string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	return d.place(path, p)
}

// SpoolDir is where uploads are spooled, so that PutFile can rename them.
func (d *Dir) SpoolDir() string { return filepath.Join(d.root, tmpDir) }

func (d *Dir) place(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		return err
	}
	if err := os.Rename(from, to); err != nil {
		return err
	}
	now := time.Now()
	return os.Chtimes(to, now, now)
}

// Open opens the blob's file.
func (d *Dir) Open(_ context.Context, key string) (io.ReadSeekCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p) // #nosec G304 -- p is under root, named by a validated hex key
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotExist
	}
	return f, err
}

// Stat stats the blob's file.
func (d *Dir) Stat(_ context.Context, key string) (BlobInfo, error) {
	p, err := d.path(key)
	if err != nil {
		return BlobInfo{}, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return BlobInfo{}, ErrNotExist
	}
	if err != nil {
		return BlobInfo{}, err
	}
	return BlobInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete removes the blob's file.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Walk lists the blobs' files.
func (d *Dir) Walk(ctx context.Context, fn func(BlobInfo) error) error {
	return filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == tmpDir && filepath.Dir(p) == filepath.Clean(d.root) {
				return filepath.SkipDir
			}
			return ctx.Err()
		}
		if !ValidKey(e.Name()) {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		return fn(BlobInfo{Key: e.Name(), Size: fi.Size(), ModTime: fi.ModTime()})
	})
}

// Check tells whether the directory is there and writable.
func (d *Dir) Check(context.Context) error {
	f, err := os.CreateTemp(filepath.Join(d.root, tmpDir), "check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}
