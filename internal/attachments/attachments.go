package attachments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/attachment"
	"github.com/switchboardhq/switchboard/ent/privacy"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Limits are the attachment settings (docs/configuration.md).
type Limits struct {
	// MaxFileBytes bounds one file (SWITCHBOARD_ATTACHMENTS_MAX_FILE_BYTES).
	MaxFileBytes int64
	// MaxFiles bounds the files of one message and of one upload request
	// (SWITCHBOARD_ATTACHMENTS_MAX_FILES).
	MaxFiles int
	// MaxRequestBytes bounds a whole multipart request
	// (SWITCHBOARD_ATTACHMENTS_MAX_REQUEST_BYTES).
	MaxRequestBytes int64
	// MaxPendingBytes bounds one person's uploads not yet attached
	// (SWITCHBOARD_ATTACHMENTS_MAX_PENDING_BYTES).
	MaxPendingBytes int64
	// PendingTTL is how long an upload may wait to be attached, and how
	// old an unreferenced blob must be before the sweeper deletes it
	// (SWITCHBOARD_ATTACHMENTS_PENDING_TTL).
	PendingTTL time.Duration
}

// DefaultLimits are the limits when no setting changes them.
var DefaultLimits = Limits{MaxFileBytes: 25 << 20, MaxFiles: 10, MaxRequestBytes: 100 << 20, MaxPendingBytes: 250 << 20, PendingTTL: 24 * time.Hour}

// Service stores uploads and attaches them to messages.
type Service struct {
	client   *ent.Client
	store    Store
	limits   Limits
	spoolDir string
	log      *slog.Logger
	now      func() time.Time
}

// New returns the Service over store. Uploads are spooled in spoolDir
// (the store's own when it has one, so that they are renamed into place).
func New(client *ent.Client, store Store, spoolDir string, limits Limits, log *slog.Logger) (*Service, error) {
	if d, ok := store.(*Dir); ok {
		spoolDir = d.SpoolDir()
	}
	if err := os.MkdirAll(spoolDir, 0o750); err != nil {
		return nil, fmt.Errorf("attachments spool directory: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{client: client, store: store, limits: limits, spoolDir: spoolDir, log: log, now: time.Now}, nil
}

// Limits are the service's limits.
func (s *Service) Limits() Limits { return s.limits }

// Store is where the blobs are.
func (s *Service) Store() Store { return s.store }

// Spooled is an upload read to a local file while hashing it: the File of
// the graphql.Upload the multipart transport hands to resolvers. Its
// bytes are never all in memory.
type Spooled struct {
	*os.File
	Size int64
	// Hash is the hex SHA-256 of the bytes, the blob's key.
	Hash string
	// ContentType is sniffed from the first bytes (never the client's).
	ContentType string
	// stored is set once the blob is in the store (a file given at two
	// paths of one request is stored once).
	stored bool
}

// Remove closes and deletes the spooled file (after the request).
func (f *Spooled) Remove() {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// ErrTooLarge is a file over MaxFileBytes.
func (s *Service) errTooLarge(field string) *apierr.Error {
	e := apierr.Errorf(apierr.PayloadTooLarge, "%s is larger than %d bytes (SWITCHBOARD_ATTACHMENTS_MAX_FILE_BYTES)", field, s.limits.MaxFileBytes)
	e.Field = field
	return e
}

// Spool reads r (at most MaxFileBytes) into a file of the spool
// directory, hashing and sniffing it on the way. field names the input in
// errors.
func (s *Service) Spool(r io.Reader, field string) (*Spooled, error) {
	sp, err := s.spool(r, s.limits.MaxFileBytes)
	var create *createError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &create):
		return nil, apierr.Wrap(apierr.Unavailable, create.err, "cannot store uploads right now; try again shortly")
	case errors.As(err, &tooLarge):
		return nil, apierr.Errorf(apierr.PayloadTooLarge, "the request is larger than %d bytes (SWITCHBOARD_ATTACHMENTS_MAX_REQUEST_BYTES)", tooLarge.Limit)
	case err != nil:
		return nil, apierr.Wrap(apierr.BadUserInput, err, "reading %s: the upload was cut off or malformed", field)
	case sp.Size > s.limits.MaxFileBytes:
		sp.Remove()
		return nil, s.errTooLarge(field)
	}
	return sp, nil
}

// createError is a spool file that could not be created.
type createError struct{ err error }

func (e *createError) Error() string { return e.err.Error() }

// spool reads r, at most limit+1 bytes (so that a longer content shows as
// longer), into a file of the spool directory, hashing and sniffing it on
// the way, and rewinds the file. The Spooled's Size is the bytes read,
// Hash their SHA-256.
func (s *Service) spool(r io.Reader, limit int64) (*Spooled, error) {
	f, err := os.CreateTemp(s.spoolDir, "upload-*")
	if err != nil {
		return nil, &createError{err}
	}
	sp := &Spooled{File: f}
	h := sha256.New()
	head := &sniffer{}
	if limit < math.MaxInt64 {
		limit++
	}
	n, err := io.Copy(io.MultiWriter(f, hashWriter{h}, head), io.LimitReader(r, limit))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		sp.Remove()
		return nil, err
	}
	sp.Size, sp.Hash, sp.ContentType = n, hex.EncodeToString(h.Sum(nil)), http.DetectContentType(head.b)
	return sp, nil
}

type hashWriter struct{ hash.Hash }

// sniffer keeps the first 512 bytes, all http.DetectContentType reads.
type sniffer struct{ b []byte }

func (s *sniffer) Write(p []byte) (int, error) {
	if room := 512 - len(s.b); room > 0 {
		s.b = append(s.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// Upload stores an upload as a pending attachment of the viewer: the blob
// first (so a row never names a missing blob), then the row.
func (s *Service) Upload(ctx context.Context, up graphql.Upload) (*ent.Attachment, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	create := s.client.Attachment.Create().
		SetFilename(SanitizeFilename(up.Filename)).
		SetUploaderID(v.UserID).
		SetCreatedAt(s.now())
	// The privacy rules decide before any byte is stored (a READ token,
	// say, must not leave files behind), then the quota of pending bytes.
	if err := (entschema.Attachment{}).Policy().EvalMutation(ctx, create.Mutation()); err != nil && !errors.Is(err, privacy.Allow) {
		return nil, err
	}
	sp, ok := up.File.(*Spooled)
	if !ok {
		if sp, err = s.Spool(up.File, "file"); err != nil {
			return nil, err
		}
		defer sp.Remove()
	}
	if err := s.checkPending(ctx, v, sp.Size); err != nil {
		return nil, err
	}
	if err := s.storeBlob(ctx, sp); err != nil {
		return nil, err
	}
	return create.SetSize(sp.Size).SetContentType(sp.ContentType).SetSha256(sp.Hash).Save(ctx)
}

// checkPending refuses an upload that would take the viewer's pending
// (not yet attached) uploads over MaxPendingBytes: without it one account
// could fill the disk with uploads it never attaches, for a whole TTL.
func (s *Service) checkPending(ctx context.Context, v *viewer.Viewer, size int64) error {
	if s.limits.MaxPendingBytes <= 0 {
		return nil
	}
	sizes, err := s.client.Attachment.Query().
		Where(attachment.UploaderID(v.UserID), attachment.MessageIDIsNil()).
		Select(attachment.FieldSize).Ints(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	total := size
	for _, n := range sizes {
		total += int64(n)
	}
	if total > s.limits.MaxPendingBytes {
		e := apierr.Errorf(apierr.PayloadTooLarge, "your uploads waiting to be attached would exceed %d bytes (SWITCHBOARD_ATTACHMENTS_MAX_PENDING_BYTES): attach or wait for them to expire", s.limits.MaxPendingBytes)
		e.Field = "file"
		return e
	}
	return nil
}

// storeBlob puts the spooled file in the store, unless a blob of the same
// content is there and recent (a blob older than half the TTL is written
// again, which renews its time, so the sweeper cannot take it from under
// the row about to reference it).
func (s *Service) storeBlob(ctx context.Context, sp *Spooled) error {
	if sp.stored {
		return nil
	}
	info, err := s.store.Stat(ctx, sp.Hash)
	switch {
	case err == nil && info.Size == sp.Size && s.now().Sub(info.ModTime) < s.limits.PendingTTL/2:
		sp.stored = true
		return nil
	case err != nil && !errors.Is(err, ErrNotExist):
		return unavailable(err)
	}
	if d, ok := s.store.(*Dir); ok && filepath.Dir(sp.Name()) == d.SpoolDir() {
		err = d.PutFile(ctx, sp.Hash, sp.Name())
	} else {
		if _, err = sp.Seek(0, io.SeekStart); err == nil {
			err = s.store.Put(ctx, sp.Hash, sp.File, sp.Size)
		}
	}
	if err != nil {
		return unavailable(err)
	}
	sp.stored = true
	return nil
}

func unavailable(err error) error {
	e := apierr.Wrap(apierr.Unavailable, err, "file storage is unavailable; try again shortly")
	e.RetryAfter = 5 * time.Second
	return e
}

// Attach attaches the viewer's pending uploads ids to msg, in tx: the
// message and its files are committed together or not at all. Each must
// be the viewer's, not yet attached, and its blob must be in the store
// (storage unreachable: UNAVAILABLE, and the message is not written).
func (s *Service) Attach(ctx context.Context, tx *ent.Tx, msg *ent.Message, ids []globalid.ID) error {
	if len(ids) == 0 {
		return nil
	}
	const field = "attachmentIDs"
	if len(ids) > s.limits.MaxFiles {
		return apierr.Invalid(field, "a message takes at most %d files (SWITCHBOARD_ATTACHMENTS_MAX_FILES)", s.limits.MaxFiles)
	}
	// Errors name the position, never the ID: echoing an ID back would
	// tell nothing new to its owner, but the same words for every ID keep
	// foreign ones from being told apart.
	seen := map[globalid.ID]bool{}
	for i, id := range ids {
		if seen[id] {
			return apierr.Invalid(field, "attachmentIDs[%d] is listed twice", i)
		}
		seen[id] = true
	}
	v := viewer.FromContext(ctx)
	sys := viewer.SystemContext(ctx)
	pending, err := tx.Attachment.Query().
		Where(attachment.IDIn(ids...), attachment.UploaderID(v.UserID), attachment.MessageIDIsNil()).
		All(sys)
	if err != nil {
		return err
	}
	if len(pending) != len(ids) {
		found := map[globalid.ID]bool{}
		for _, a := range pending {
			found[a.ID] = true
		}
		for i, id := range ids {
			if !found[id] {
				return apierr.Invalid(field, "attachmentIDs[%d] is not an upload of yours waiting to be attached", i)
			}
		}
	}
	for _, a := range pending {
		if _, err := s.store.Stat(ctx, a.Sha256); errors.Is(err, ErrNotExist) {
			return apierr.Invalid(field, "the file of %s (%s) is gone; upload it again", a.ID, a.Filename)
		} else if err != nil {
			return unavailable(err)
		}
	}
	n, err := tx.Attachment.Update().
		Where(attachment.IDIn(ids...), attachment.MessageIDIsNil()).
		SetMessageID(msg.ID).SetTicketID(msg.TicketID).
		Save(sys)
	if err != nil {
		return err
	}
	if n != len(ids) {
		// Attached elsewhere meanwhile (two replies racing with one upload).
		return apierr.Errorf(apierr.Conflict, "an attachment was attached to another message meanwhile")
	}
	return nil
}

// SanitizeFilename makes a client's filename safe to store and to send
// back in a Content-Disposition header: the base name only (no
// directories, either separator), no control or format characters (no
// bidirectional overrides), valid UTF-8, no leading dots or surrounding
// space, at most MaxFilenameLen bytes with the extension kept; "file" if
// nothing is left.
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError:
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	name = strings.TrimSpace(name)
	if len(name) > entschema.MaxFilenameLen {
		ext := filepath.Ext(name)
		if len(ext) > 32 || !utf8.ValidString(ext) {
			ext = ""
		}
		stem := name[:entschema.MaxFilenameLen-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = stem + ext
	}
	if name == "" {
		return "file"
	}
	return name
}
