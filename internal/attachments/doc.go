// Package attachments owns the files on tickets: where their content is
// kept (a directory, or S3-compatible object storage, behind Store), the
// streaming of uploads into it, attaching uploads to messages, downloads
// under the access rules, and sweeping what nothing references.
package attachments
