package attachments

import (
	"context"
	"errors"
	"io"
	"net/url"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// errNotFound is every refused download: a file the viewer may not read,
// or reads without being signed in, answers exactly like one that does
// not exist.
var errNotFound = apierr.Errorf(apierr.NotFound, "attachment not found")

// Open returns the attachment id with its content, if the viewer may read
// it (the privacy rules decide) and it is called filename; anything else
// is NOT_FOUND.
func (s *Service) Open(ctx context.Context, id, filename string) (*ent.Attachment, io.ReadSeekCloser, error) {
	gid := globalid.ID(id)
	if gid.Validate() != nil || gid.Prefix() != globalid.PrefixAttachment || viewer.FromContext(ctx) == nil {
		return nil, nil, errNotFound
	}
	a, err := s.client.Attachment.Get(ctx, gid)
	switch {
	case ent.IsNotFound(err):
		return nil, nil, errNotFound
	case err != nil:
		return nil, nil, err
	case a.Filename != filename:
		return nil, nil, errNotFound
	}
	r, err := s.store.Open(ctx, a.Sha256)
	if errors.Is(err, ErrNotExist) {
		s.log.ErrorContext(ctx, "attachments: a stored attachment's blob is missing", "attachment", a.ID, "sha256", a.Sha256)
		return nil, nil, errNotFound
	}
	if err != nil {
		return nil, nil, unavailable(err)
	}
	return a, r, nil
}

// URL is the path an attachment is downloaded from.
func URL(a *ent.Attachment) string {
	return "/attachments/" + string(a.ID) + "/" + url.PathEscape(a.Filename)
}
