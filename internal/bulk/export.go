package bulk

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/attachment"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/message"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/progress"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// PageSize is how many rows an export reads per query.
const PageSize = 1000

// ExportOptions select what to export.
type ExportOptions struct {
	// User, if set, exports only this person's data (a data-subject
	// export): their user record without credentials or group
	// memberships, the tickets they requested and the public messages on
	// them with their attachments — no internal notes (nor their files)
	// and no other customer's personal data.
	User string
	// Files is the directory the attachments' files are written to, each
	// once however many attachments share it, at ab/cd/<sha256> (as the
	// directory store keeps them; see FilePath), read from the store of
	// Attachments. Both are required when there are attachments to
	// export (else ErrFilesRequired); the directory is created as needed.
	Files       string
	Attachments *attachments.Service
	// Progress receives the progress bar (nil: none).
	Progress io.Writer
}

// ErrFilesRequired is an export of attachments without a directory for
// their files.
var ErrFilesRequired = errors.New("the attachments' files need a directory")

// ExportCounts says how many lines of each type were written, and Files
// how many files.
type ExportCounts struct{ Groups, Users, Tickets, Messages, Attachments, Files int }

// FilePath is where the file of the blob key is in a directory of files
// of an export (the directory store's layout).
func FilePath(dir, key string) string {
	return filepath.Join(dir, key[:2], key[2:4], key)
}

// Export writes the database (or one person's data) to w as JSONL, and
// the attachments' files to opts.Files. Confidential fields are written
// decrypted: the file is as sensitive as the database itself. Pending
// uploads (attached to no message yet) are not exported.
func Export(ctx context.Context, client *ent.Client, w io.Writer, opts ExportOptions) (ExportCounts, error) {
	ctx = viewer.SystemContext(ctx)
	out := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	var counts ExportCounts
	write := func(r *Record) error { return enc.Encode(r) }

	userQ := client.User.Query()
	ticketQ := client.Ticket.Query()
	messageQ := client.Message.Query()
	attachmentQ := client.Attachment.Query().Where(attachment.MessageIDNotNil())
	subject := opts.User != ""
	if subject {
		u, err := client.User.Query().Where(user.EmailEQ(entschema.NormalizeEmail(opts.User))).Only(ctx)
		if ent.IsNotFound(err) {
			return counts, fmt.Errorf("no user with email %q", opts.User)
		}
		if err != nil {
			return counts, err
		}
		userQ.Where(user.ID(u.ID))
		ticketQ.Where(ticket.RequesterID(u.ID))
		messageQ.Where(message.Internal(false), message.HasTicketWith(ticket.RequesterID(u.ID)))
		// The files of the messages exported, and no others: a note's
		// files stay with the note.
		attachmentQ.Where(attachment.HasMessageWith(message.Internal(false), message.HasTicketWith(ticket.RequesterID(u.ID))))
	}
	// Before anything is written: a file without its files is incomplete.
	if opts.Files == "" || opts.Attachments == nil {
		n, err := attachmentQ.Clone().Count(ctx)
		if err != nil {
			return counts, err
		}
		if n > 0 {
			return counts, fmt.Errorf("%d attachments to export: %w", n, ErrFilesRequired)
		}
	}
	var total int64
	if opts.Progress != nil {
		for _, q := range []func() (int, error){
			func() (int, error) { return userQ.Clone().Count(ctx) },
			func() (int, error) { return ticketQ.Clone().Count(ctx) },
			func() (int, error) { return messageQ.Clone().Count(ctx) },
			func() (int, error) { return attachmentQ.Clone().Count(ctx) },
		} {
			n, err := q()
			if err != nil {
				return counts, err
			}
			total += int64(n)
		}
	}
	var bar *progress.Bar // nil: no progress report
	if opts.Progress != nil {
		bar = progress.New(opts.Progress, "exporting", total)
	}
	defer bar.Finish()

	if !subject {
		err := pages(ctx, func(ctx context.Context, after globalid.ID) ([]*ent.Group, error) {
			return client.Group.Query().Where(group.IDGT(after)).Order(ent.Asc(group.FieldID)).Limit(PageSize).All(ctx)
		}, func(g *ent.Group) globalid.ID { return g.ID }, func(g *ent.Group) error {
			counts.Groups++
			r := groupRecord(g)
			return write(&r)
		})
		if err != nil {
			return counts, fmt.Errorf("exporting groups: %w", err)
		}
	}
	err := pages(ctx, func(ctx context.Context, after globalid.ID) ([]*ent.User, error) {
		q := userQ.Clone().Where(user.IDGT(after)).Order(ent.Asc(user.FieldID)).Limit(PageSize)
		if !subject {
			q.WithGroups(func(q *ent.GroupQuery) { q.Select(group.FieldID) })
		}
		return q.All(ctx)
	}, func(u *ent.User) globalid.ID { return u.ID }, func(u *ent.User) error {
		counts.Users++
		bar.Add(1)
		r := userRecord(u)
		if subject {
			r.PasswordHash, r.Groups = "", nil
			redact(&r)
		}
		return write(&r)
	})
	if err != nil {
		return counts, fmt.Errorf("exporting users: %w", err)
	}
	err = pages(ctx, func(ctx context.Context, after globalid.ID) ([]*ent.Ticket, error) {
		return ticketQ.Clone().Where(ticket.IDGT(after)).Order(ent.Asc(ticket.FieldID)).Limit(PageSize).All(ctx)
	}, func(t *ent.Ticket) globalid.ID { return t.ID }, func(t *ent.Ticket) error {
		counts.Tickets++
		bar.Add(1)
		r := ticketRecord(t)
		if subject {
			// Who handles a ticket is the helpdesk's business.
			r.Assignee = nil
			redact(&r)
		}
		return write(&r)
	})
	if err != nil {
		return counts, fmt.Errorf("exporting tickets: %w", err)
	}
	err = pages(ctx, func(ctx context.Context, after globalid.ID) ([]*ent.Message, error) {
		return messageQ.Clone().Where(message.IDGT(after)).Order(ent.Asc(message.FieldID)).Limit(PageSize).All(ctx)
	}, func(m *ent.Message) globalid.ID { return m.ID }, func(m *ent.Message) error {
		counts.Messages++
		bar.Add(1)
		r := &Record{Type: TypeMessage, ID: m.ID, CreatedAt: utc(m.CreatedAt), UpdatedAt: utc(m.UpdatedAt),
			Ticket: m.TicketID, Author: m.AuthorID, Body: m.Body, Internal: m.Internal}
		if subject {
			redact(r)
		}
		return write(r)
	})
	if err != nil {
		return counts, fmt.Errorf("exporting messages: %w", err)
	}
	files := fileWriter{dir: opts.Files, written: map[string]bool{}}
	if opts.Attachments != nil {
		files.store = opts.Attachments.Store()
	}
	err = pages(ctx, func(ctx context.Context, after globalid.ID) ([]*ent.Attachment, error) {
		return attachmentQ.Clone().Where(attachment.IDGT(after)).Order(ent.Asc(attachment.FieldID)).Limit(PageSize).All(ctx)
	}, func(a *ent.Attachment) globalid.ID { return a.ID }, func(a *ent.Attachment) error {
		counts.Attachments++
		bar.Add(1)
		// The file first: a line never names a file that is not there.
		wrote, err := files.write(ctx, a.Sha256, a.Size)
		if err != nil {
			return fmt.Errorf("attachment %s: %w", a.ID, err)
		}
		if wrote {
			counts.Files++
		}
		r, err := attachmentRecord(ctx, client, a)
		if err != nil {
			return err
		}
		if subject {
			redact(r)
		}
		return write(r)
	})
	if err != nil {
		return counts, fmt.Errorf("exporting attachments: %w", err)
	}
	return counts, out.Flush()
}

// attachmentRecord is the line of an attached file.
func attachmentRecord(ctx context.Context, client *ent.Client, a *ent.Attachment) (*Record, error) {
	size := a.Size
	r := &Record{Type: TypeAttachment, ID: a.ID, CreatedAt: utc(a.CreatedAt), Filename: a.Filename, Size: &size,
		ContentType: a.ContentType, Sha256: a.Sha256, Uploader: a.UploaderID, Message: *a.MessageID}
	if a.TicketID != nil {
		r.Ticket = *a.TicketID
	} else {
		// Set with the message (attachments.Service.Attach); the
		// message's ticket if not.
		m, err := client.Message.Query().Where(message.ID(*a.MessageID)).Select(message.FieldTicketID).Only(ctx)
		if err != nil {
			return nil, fmt.Errorf("attachment %s: its message: %w", a.ID, err)
		}
		r.Ticket = m.TicketID
	}
	return r, nil
}

// fileWriter copies blobs from the store to a directory of files, each
// once, checking its content on the way.
type fileWriter struct {
	store   attachments.Store
	dir     string
	written map[string]bool
}

// write copies the blob key of size bytes, unless it did already; it
// tells whether it did now. A blob missing from the store, or whose
// content is not its key, is an error (the export would not import).
func (fw fileWriter) write(ctx context.Context, key string, size int64) (wrote bool, err error) {
	if fw.written[key] {
		return false, nil
	}
	if fw.store == nil || fw.dir == "" {
		return false, ErrFilesRequired
	}
	if !attachments.ValidKey(key) {
		return false, fmt.Errorf("invalid blob key %q", key)
	}
	dst := FilePath(fw.dir, key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return false, err
	}
	src, err := fw.store.Open(ctx, key)
	if errors.Is(err, attachments.ErrNotExist) {
		return false, fmt.Errorf("its file (%s) is missing from the attachments store", key)
	}
	if err != nil {
		return false, fmt.Errorf("reading its file from the attachments store: %w", err)
	}
	defer src.Close()
	// A temporary file renamed into place: an interrupted export leaves
	// no file that looks complete.
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".export-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("copying its file %s: %w", key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != size || got != key {
		return false, fmt.Errorf("its file in the attachments store is damaged: %d bytes with SHA-256 %s, not %d bytes with SHA-256 %s", n, got, size, key)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return false, err
	}
	fw.written[key] = true
	return true, nil
}

// groupRecord, userRecord and ticketRecord are the lines of stored
// objects: a user's with their password hash and groups (the users'
// query must load the groups' IDs).

func groupRecord(g *ent.Group) Record {
	return Record{Type: TypeGroup, ID: g.ID, CreatedAt: utc(g.CreatedAt), UpdatedAt: utc(g.UpdatedAt), Name: g.Name, Description: g.Description}
}

func userRecord(u *ent.User) Record {
	active := u.Active
	r := Record{Type: TypeUser, ID: u.ID, CreatedAt: utc(u.CreatedAt), UpdatedAt: utc(u.UpdatedAt),
		Email: u.Email, Name: u.Name, Role: string(u.Role), Phone: u.Phone, Active: &active, LastSeenAt: utcp(u.LastSeenAt),
		PasswordHash: u.PasswordHash}
	for _, g := range u.Edges.Groups {
		r.Groups = append(r.Groups, g.ID)
	}
	slices.Sort(r.Groups)
	return r
}

func ticketRecord(t *ent.Ticket) Record {
	return Record{Type: TypeTicket, ID: t.ID, CreatedAt: utc(t.CreatedAt), UpdatedAt: utc(t.UpdatedAt),
		Number: t.Number, Subject: t.Subject, Status: string(t.Status), Priority: t.Priority.String(), Channel: string(t.Channel),
		Tags: t.Tags, Requester: t.RequesterID, Assignee: t.AssigneeID, Group: t.GroupID,
		FirstResponseDueAt: utcp(t.FirstResponseDueAt), ResolutionDueAt: utcp(t.ResolutionDueAt),
		FirstRespondedAt: utcp(t.FirstRespondedAt), SolvedAt: utcp(t.SolvedAt)}
}

// The fields a data-subject export leaves out are those the schema's marks
// (ent/schema/marks.go) hide from the person as a customer would read
// them, found by the Record field's JSON name, which is the ent field's
// or edge's: the SLA due times (@staffOnly) of their tickets, but not the
// contact data of their own user line (@contactData: the person themself
// may see it, and it is theirs). A field marked later is left out without
// a change here.
var subjectRedactions = redactions(map[string]redactFrom{
	TypeUser:       {entschema.Marks(entschema.User{}), true},
	TypeTicket:     {entschema.Marks(entschema.Ticket{}), false},
	TypeMessage:    {entschema.Marks(entschema.Message{}), false},
	TypeAttachment: {entschema.Marks(entschema.Attachment{}), false},
})

// redactFrom is the marks of a line type's ent schema, and whether its
// lines in a data-subject export are the person's own row.
type redactFrom struct {
	marks map[string]entschema.Mark
	own   bool
}

// redactions returns, per line type, the indexes of the Record fields the
// marks hide from the subject.
func redactions(types map[string]redactFrom) map[string][]int {
	subject := &viewer.Viewer{Role: viewer.Customer}
	rt := reflect.TypeFor[Record]()
	out := map[string][]int{}
	for typ, from := range types {
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if m, ok := from.marks[name]; ok && m.Hides(subject, from.own) {
				out[typ] = append(out[typ], i)
			}
		}
	}
	return out
}

// redact clears what the subject of a data-subject export may not see.
func redact(r *Record) {
	v := reflect.ValueOf(r).Elem()
	for _, i := range subjectRedactions[r.Type] {
		v.Field(i).SetZero()
	}
}

// pages reads a table in ID order, one page at a time (keyset pagination:
// constant memory, and each page is an index range scan).
func pages[T any](ctx context.Context, page func(context.Context, globalid.ID) ([]T, error), id func(T) globalid.ID, each func(T) error) error {
	var after globalid.ID
	for {
		rows, err := page(ctx, after)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := each(r); err != nil {
				return err
			}
		}
		if len(rows) < PageSize {
			return nil
		}
		after = id(rows[len(rows)-1])
	}
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
