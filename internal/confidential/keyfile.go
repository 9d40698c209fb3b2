// The key file of an embedded installation: the keys, current first, in
// <data-dir>/encryption.key with mode 0600, created atomically on first use.

package confidential

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeyFileName is the key file's name inside the data directory.
const KeyFileName = "encryption.key"

// KeyFilePath is the key file of an embedded installation.
func KeyFilePath(dataDir string) string { return filepath.Join(dataDir, KeyFileName) }

// LoadOrCreateKeyFile loads the keys stored at path, creating the file with
// a new key "k1" if it does not exist (for the embedded mode).
//
// An existing file is parsed with ParseKeys (surrounding whitespace is
// ignored), so it may hold "k2:...,k1:..." during rotation. A file whose
// permissions allow any group or other access is refused.
//
// A missing file is created atomically with mode 0600 (temp file in the same
// directory, fsync, then moved into place without replacing a file another
// process may have created meanwhile, in which case that file is loaded);
// the parent directory is created with mode 0700 if missing.
func LoadOrCreateKeyFile(path string) (current Key, older []Key, created bool, err error) {
	current, older, err = readKeyFile(path)
	if err == nil {
		return current, older, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Key{}, nil, false, err
	}

	key, err := GenerateKey(defaultID)
	if err != nil {
		return Key{}, nil, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Key{}, nil, false, fmt.Errorf("confidential: create key file directory: %w", err)
	}
	tmp, err := writeTemp(dir, filepath.Base(path), key.Encode()+"\n")
	if err != nil {
		return Key{}, nil, false, err
	}
	defer os.Remove(tmp) // no-op once renamed; removes the extra link otherwise

	// Link fails if path exists, so a key file created concurrently by
	// another process is never overwritten (which would lose its key).
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			current, older, err = readKeyFile(path)
			return current, older, false, err
		}
		// Hard links unsupported on this file system: fall back to rename.
		if err := os.Rename(tmp, path); err != nil {
			return Key{}, nil, false, fmt.Errorf("confidential: install key file: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return Key{}, nil, false, err
	}
	return key, nil, true, nil
}

// WriteKeyFile atomically replaces the key file at path with current
// followed by older (the ParseKeys format), with mode 0600. It is used by key
// rotation. The keys are validated as for NewKeyring. The parent directory
// must exist.
func WriteKeyFile(path string, current Key, older ...Key) error {
	if _, err := NewKeyring(current, older...); err != nil {
		return err
	}
	parts := make([]string, 0, 1+len(older))
	parts = append(parts, current.Encode())
	for _, k := range older {
		parts = append(parts, k.Encode())
	}
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), strings.Join(parts, ",")+"\n")
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("confidential: install key file: %w", err)
	}
	return syncDir(dir)
}

// readKeyFile reads and parses the key file, refusing group/other access.
// A missing file yields an error wrapping fs.ErrNotExist.
func readKeyFile(path string) (Key, []Key, error) {
	f, err := os.Open(path) // #nosec G304 -- the key file path is the operator's setting
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Key{}, nil, err
		}
		return Key{}, nil, fmt.Errorf("confidential: open key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Key{}, nil, fmt.Errorf("confidential: stat key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return Key{}, nil, fmt.Errorf("confidential: key file %s is not a regular file", path)
	}
	// Unix permission bits are not meaningful on Windows.
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return Key{}, nil, fmt.Errorf("confidential: key file %s has permissions %#o, which allow group/other access; run: chmod 600 %s", path, perm, path)
	}
	data, err := readAll(f)
	if err != nil {
		return Key{}, nil, fmt.Errorf("confidential: read key file: %w", err)
	}
	current, older, err := ParseKeys(strings.TrimSpace(string(data)))
	if err != nil {
		return Key{}, nil, fmt.Errorf("confidential: key file %s: %w", path, err)
	}
	return current, older, nil
}

// maxKeyFileSize bounds what is read from a key file; a real one holds a few
// short keys.
const maxKeyFileSize = 64 << 10

func readAll(f *os.File) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", maxKeyFileSize)
	}
	return data, nil
}

// writeTemp writes content to a new 0600 temp file in dir, fsyncs and
// closes it, and returns its name.
func writeTemp(dir, base, content string) (name string, err error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("confidential: create temp key file: %w", err)
	}
	name = f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(name)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return "", fmt.Errorf("confidential: chmod temp key file: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		return "", fmt.Errorf("confidential: write temp key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("confidential: sync temp key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("confidential: close temp key file: %w", err)
	}
	return name, nil
}

// syncDir fsyncs dir so a rename or link into it is durable. Not supported
// on Windows, where it is skipped.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir) // #nosec G304 -- the data directory is the operator's setting
	if err != nil {
		return fmt.Errorf("confidential: open key file directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("confidential: sync key file directory: %w", err)
	}
	return nil
}
