package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/internal/attachments"
)

// Attachments are the settings of files on tickets (internal/attachments).
type Attachments struct {
	// AttachmentsURL is where blobs are kept: empty for
	// <data-dir>/attachments, a directory, or s3://bucket?….
	AttachmentsURL   string
	AttachmentLimits attachments.Limits
}

var attachmentSettings = []Setting{
	{"attachments-url", "SWITCHBOARD_ATTACHMENTS_URL", "", "where attachments' files are kept: empty for the attachments directory in the data directory, a directory path, or s3://BUCKET?endpoint=HOST:PORT&region=REGION for S3-compatible storage (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", func(c *Config, v string) error {
		if strings.Contains(v, "://") && !strings.HasPrefix(v, "s3://") && !strings.HasPrefix(v, "file://") {
			return fmt.Errorf("%q: use a directory path, file://PATH or s3://BUCKET?…", v)
		}
		c.AttachmentsURL = v
		return nil
	}},
	{"attachments-max-file-bytes", "SWITCHBOARD_ATTACHMENTS_MAX_FILE_BYTES", itoa(attachments.DefaultLimits.MaxFileBytes), "largest file a person may upload, in bytes (larger: PAYLOAD_TOO_LARGE)", int64Setter(func(c *Config, n int64) { c.AttachmentLimits.MaxFileBytes = n })},
	{"attachments-max-files", "SWITCHBOARD_ATTACHMENTS_MAX_FILES", itoa(attachments.DefaultLimits.MaxFiles), "most files one message, and one upload request, may carry", intSetter(func(c *Config, n int) { c.AttachmentLimits.MaxFiles = n })},
	{"attachments-max-request-bytes", "SWITCHBOARD_ATTACHMENTS_MAX_REQUEST_BYTES", itoa(attachments.DefaultLimits.MaxRequestBytes), "largest multipart upload request, all its files together, in bytes (larger: 413 PAYLOAD_TOO_LARGE)", int64Setter(func(c *Config, n int64) { c.AttachmentLimits.MaxRequestBytes = n })},
	{"attachments-max-pending-bytes", "SWITCHBOARD_ATTACHMENTS_MAX_PENDING_BYTES", itoa(attachments.DefaultLimits.MaxPendingBytes), "most bytes of one person's uploads not yet attached to a message (more: PAYLOAD_TOO_LARGE)", int64Setter(func(c *Config, n int64) { c.AttachmentLimits.MaxPendingBytes = n })},
	{"attachments-pending-ttl", "SWITCHBOARD_ATTACHMENTS_PENDING_TTL", duration(attachments.DefaultLimits.PendingTTL), "how long an upload waits to be attached to a message before it is deleted; also the age at which a file no attachment references is deleted", durationSetter(func(c *Config, d time.Duration) { c.AttachmentLimits.PendingTTL = d })},
}

func (c *Config) validateAttachments() error {
	l := c.AttachmentLimits
	switch {
	case l.MaxFileBytes < 1:
		return fmt.Errorf("SWITCHBOARD_ATTACHMENTS_MAX_FILE_BYTES: must be at least 1")
	case l.MaxFiles < 1:
		return fmt.Errorf("SWITCHBOARD_ATTACHMENTS_MAX_FILES: must be at least 1")
	case l.MaxPendingBytes < l.MaxFileBytes:
		return fmt.Errorf("SWITCHBOARD_ATTACHMENTS_MAX_PENDING_BYTES: must be at least SWITCHBOARD_ATTACHMENTS_MAX_FILE_BYTES")
	case l.MaxRequestBytes < l.MaxFileBytes:
		return fmt.Errorf("SWITCHBOARD_ATTACHMENTS_MAX_REQUEST_BYTES: must be at least SWITCHBOARD_ATTACHMENTS_MAX_FILE_BYTES")
	case l.PendingTTL < time.Minute:
		return fmt.Errorf("SWITCHBOARD_ATTACHMENTS_PENDING_TTL: must be at least 1m")
	}
	return nil
}

func int64Setter(f func(*Config, int64)) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		f(c, n)
		return nil
	}
}
