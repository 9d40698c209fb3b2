// Package bulk exports and imports a helpdesk as JSONL: one JSON object
// per line, each with a "type" (group, user, ticket, message, attachment),
// in an order where every line only refers to lines before it, and the
// attachments' files beside it in a directory, each named by its SHA-256. Export streams each
// table by keyset pagination, so memory stays constant however large the
// database. Import validates line by line (errors name the line), writes
// through ent by the exported ID — the objects' own global IDs, which are
// unique across databases, so no extra external-ID column is needed and
// re-running an import changes nothing: what is stored is updated, what is
// new is created — and commits in batches, each fully or not at all, so an
// interrupted import is resumed by running it again. The schema's hooks
// act on imported lines as on every write, but for the few an import turns
// off (see Import).
package bulk

import (
	"fmt"
	"mime"
	"time"

	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// The line types, in the order an export writes them.
const (
	TypeGroup      = "group"
	TypeUser       = "user"
	TypeTicket     = "ticket"
	TypeMessage    = "message"
	TypeAttachment = "attachment"
)

// Record is one line. Fields belong to one type or another; the tags keep
// each line to its type's fields.
type Record struct {
	Type      string      `json:"type"`
	ID        globalid.ID `json:"id"`
	CreatedAt time.Time   `json:"created_at"`
	// UpdatedAt of every type but attachment (which never changes).
	UpdatedAt time.Time `json:"updated_at,omitzero"`

	// group and user
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`

	// user
	Email        string        `json:"email,omitempty"`
	Role         string        `json:"role,omitempty"`
	Phone        string        `json:"phone,omitempty"`
	Active       *bool         `json:"active,omitempty"`
	PasswordHash string        `json:"password_hash,omitempty"`
	LastSeenAt   *time.Time    `json:"last_seen_at,omitempty"`
	Groups       []globalid.ID `json:"groups,omitempty"`

	// ticket
	Number             int          `json:"number,omitempty"`
	Subject            string       `json:"subject,omitempty"`
	Status             string       `json:"status,omitempty"`
	Priority           string       `json:"priority,omitempty"`
	Channel            string       `json:"channel,omitempty"`
	Tags               []string     `json:"tags,omitempty"`
	Requester          globalid.ID  `json:"requester,omitempty"`
	Assignee           *globalid.ID `json:"assignee,omitempty"`
	Group              *globalid.ID `json:"group,omitempty"`
	FirstResponseDueAt *time.Time   `json:"first_response_due_at,omitempty"`
	ResolutionDueAt    *time.Time   `json:"resolution_due_at,omitempty"`
	FirstRespondedAt   *time.Time   `json:"first_responded_at,omitempty"`
	SolvedAt           *time.Time   `json:"solved_at,omitempty"`

	// message and attachment
	Ticket globalid.ID `json:"ticket,omitempty"`

	// message
	Author   globalid.ID `json:"author,omitempty"`
	Body     string      `json:"body,omitempty"`
	Internal bool        `json:"internal,omitempty"`

	// attachment: its file is in the files directory at
	// sha256[0:2]/sha256[2:4]/sha256.
	Filename    string      `json:"filename,omitempty"`
	Size        *int64      `json:"size,omitempty"`
	ContentType string      `json:"content_type,omitempty"`
	Sha256      string      `json:"sha256,omitempty"`
	Uploader    globalid.ID `json:"uploader,omitempty"`
	Message     globalid.ID `json:"message,omitempty"`
}

var prefixOf = map[string]string{
	TypeGroup: globalid.PrefixGroup, TypeUser: globalid.PrefixUser,
	TypeTicket: globalid.PrefixTicket, TypeMessage: globalid.PrefixMessage,
	TypeAttachment: globalid.PrefixAttachment,
}

// ref is a reference from a record to another object.
type ref struct {
	field, typ string
	id         globalid.ID
}

// refs are the objects r refers to, which must exist before it.
func (r *Record) refs() []ref {
	var out []ref
	switch r.Type {
	case TypeUser:
		for _, g := range r.Groups {
			out = append(out, ref{"group", TypeGroup, g})
		}
	case TypeTicket:
		out = append(out, ref{"requester", TypeUser, r.Requester})
		if r.Assignee != nil {
			out = append(out, ref{"assignee", TypeUser, *r.Assignee})
		}
		if r.Group != nil {
			out = append(out, ref{"group", TypeGroup, *r.Group})
		}
	case TypeMessage:
		out = append(out, ref{"ticket", TypeTicket, r.Ticket}, ref{"author", TypeUser, r.Author})
	case TypeAttachment:
		out = append(out, ref{"uploader", TypeUser, r.Uploader}, ref{"message", TypeMessage, r.Message}, ref{"ticket", TypeTicket, r.Ticket})
	}
	return out
}

// validate checks r on its own (references are checked against the batch
// and the database by the importer).
func (r *Record) validate() error {
	prefix, ok := prefixOf[r.Type]
	if !ok {
		return fmt.Errorf("unknown type %q (want group, user, ticket, message or attachment)", r.Type)
	}
	if err := r.ID.Validate(); err != nil || r.ID.Prefix() != prefix {
		return fmt.Errorf("%s: id %q is not a%s %s ID", r.Type, r.ID, article(r.Type), r.Type)
	}
	switch {
	case r.Type == TypeAttachment && r.CreatedAt.IsZero():
		return fmt.Errorf("%s: created_at is required", r.Type)
	case r.Type != TypeAttachment && (r.CreatedAt.IsZero() || r.UpdatedAt.IsZero()):
		return fmt.Errorf("%s: created_at and updated_at are required", r.Type)
	}
	for _, f := range r.refs() {
		if err := f.id.Validate(); err != nil || f.id.Prefix() != prefixOf[f.typ] {
			return fmt.Errorf("%s: %s %q is not a%s %s ID", r.Type, f.field, f.id, article(f.typ), f.typ)
		}
	}
	// The schema's own validators, which ent runs again on writing: here
	// first, so that every invalid line of a batch is named by its number
	// before any of the batch is written.
	text := func(field, s string, required bool, valid func(string) error) error {
		if s == "" {
			if required {
				return fmt.Errorf("%s: %s is required", r.Type, field)
			}
			return nil
		}
		if err := valid(s); err != nil {
			return fmt.Errorf("%s: %s is not valid: %v", r.Type, field, err)
		}
		return nil
	}
	switch r.Type {
	case TypeGroup:
		if err := text("name", r.Name, true, group.NameValidator); err != nil {
			return err
		}
		return text("description", r.Description, false, group.DescriptionValidator)
	case TypeUser:
		if auth.ValidateEmail(r.Email) != nil {
			return fmt.Errorf("user: email %q is not a valid address", r.Email)
		}
		if err := text("name", r.Name, true, user.NameValidator); err != nil {
			return err
		}
		if user.RoleValidator(user.Role(r.Role)) != nil {
			return fmt.Errorf("user: role %q is not CUSTOMER, AGENT or ADMIN", r.Role)
		}
		return text("phone", r.Phone, false, user.PhoneValidator)
	case TypeTicket:
		if ticket.NumberValidator(r.Number) != nil {
			return fmt.Errorf("ticket: number must be a positive integer")
		}
		if err := text("subject", r.Subject, true, ticket.SubjectValidator); err != nil {
			return err
		}
		if ticket.StatusValidator(ticket.Status(r.Status)) != nil {
			return fmt.Errorf("ticket: status %q is not NEW, OPEN, PENDING, SOLVED or CLOSED", r.Status)
		}
		if _, err := priority.Parse(r.Priority); err != nil {
			return fmt.Errorf("ticket: priority %q is not LOW, NORMAL, HIGH or URGENT", r.Priority)
		}
		if ticket.ChannelValidator(ticket.Channel(r.Channel)) != nil {
			return fmt.Errorf("ticket: channel %q is not WEB, EMAIL or API", r.Channel)
		}
	case TypeMessage:
		return text("body", r.Body, true, message.BodyValidator)
	case TypeAttachment:
		// The filename is stored sanitised (attachments.SanitizeFilename)
		// and the content type sniffed from the file, as for an upload.
		if r.Filename == "" {
			return fmt.Errorf("attachment: filename is required")
		}
		if r.Size == nil || *r.Size < 0 {
			return fmt.Errorf("attachment: size is required, a number of bytes (0 or more)")
		}
		if !attachments.ValidKey(r.Sha256) {
			return fmt.Errorf("attachment: sha256 %q is not a SHA-256 in hex (64 digits 0-9, a-f)", r.Sha256)
		}
		if _, _, err := mime.ParseMediaType(r.ContentType); err != nil {
			return fmt.Errorf("attachment: content_type %q is not a media type", r.ContentType)
		}
	}
	return nil
}

// article is what goes before a type's name in a sentence ("an").
func article(typ string) string {
	if typ == TypeAttachment {
		return "n"
	}
	return ""
}
