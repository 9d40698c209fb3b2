package attachments

import (
	"fmt"
	"path/filepath"
	"strings"
)

// DefaultDir is the directory of the blobs within the data directory when
// SWITCHBOARD_ATTACHMENTS_URL is empty.
const DefaultDir = "attachments"

// OpenStore opens the store SWITCHBOARD_ATTACHMENTS_URL names: empty for
// <dataDir>/attachments, a directory path or file://PATH, or s3://….
// spoolDir is where uploads are spooled before they go to a store
// without a directory of its own.
func OpenStore(rawURL, dataDir string) (store Store, spoolDir string, err error) {
	spoolDir = filepath.Join(dataDir, "spool")
	switch {
	case rawURL == "":
		store, err = NewDir(filepath.Join(dataDir, DefaultDir))
	case strings.HasPrefix(rawURL, "s3://"):
		// NewS3's errors name the setting already.
		s3, err := NewS3(rawURL)
		if err != nil {
			return nil, "", err
		}
		return s3, spoolDir, nil
	case strings.HasPrefix(rawURL, "file://"):
		store, err = NewDir(strings.TrimPrefix(rawURL, "file://"))
	default:
		store, err = NewDir(rawURL)
	}
	if err != nil {
		return nil, "", fmt.Errorf("SWITCHBOARD_ATTACHMENTS_URL: %w", err)
	}
	return store, spoolDir, nil
}
