package bulk

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
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
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/progress"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// DefaultBatch is how many lines an import commits at a time.
const DefaultBatch = 1000

// MaxLine bounds one line of an import file (a message body is at most
// 65,536 characters, up to 256 KiB of UTF-8, plus escaping).
const MaxLine = 1 << 20

// maxErrors bounds the errors reported for one failed batch.
const maxErrors = 20

// ImportOptions configure an import.
type ImportOptions struct {
	// Batch is the number of lines per transaction (0: DefaultBatch).
	Batch int
	// Files is the directory of the attachments' files, as Export
	// writes it (FilePath); Attachments is the service whose store they
	// are put in. An attachment line is refused without Attachments, and
	// without Files unless its file is in the store already.
	Files       string
	Attachments *attachments.Service
	// Progress receives the progress bar (nil: none).
	Progress io.Writer
}

// ImportCounts say how many lines were imported, and Files how many
// files were written to the attachments store.
type ImportCounts struct{ Lines, Groups, Users, Tickets, Messages, Attachments, Files int }

// LineErrors are the invalid lines of the batch that stopped an import.
// Every batch before it was committed; none of this batch was.
type LineErrors struct {
	Errs []error
	// Committed is the number of lines imported before this batch.
	Committed int
}

func (e *LineErrors) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

// lineError is an error on one line.
func lineError(n int, format string, args ...any) error {
	return fmt.Errorf("line %d: "+format, append([]any{n}, args...)...)
}

type line struct {
	n   int
	rec Record
}

// importHooksOff are the ent hooks an import turns off; ent/schema/hooks.go
// says why for each. All the others run on every imported line: emails are
// normalised, confidential fields encrypted under the current key, ticket
// numbers kept with the sequence moved past them, the credentials of
// deactivated users revoked, and the cached credentials of changed users
// dropped after each commit (the client's hooks, internal/auth).
const importHooksOff = entschema.SkipRouting | entschema.SkipSLA | entschema.SkipStatusRules | entschema.SkipEvents

// Import reads JSONL from r into the database of client, through ent: its
// hooks act on every line (but those of importHooksOff), and so do the
// hooks other packages installed on client, so pass the application's
// client. Each batch is validated as a whole (every line's fields, and
// every reference against earlier lines and the database) before any of
// it is written, then written in one transaction: new objects are created,
// groups, users and tickets already present are updated to the file's
// values (but for what never changes: created_at, and a ticket's number,
// channel and requester), and messages and attachments already present,
// which never change once written, are left as they are. No events are
// written (SkipEvents): imported history is not news to live subscribers.
//
// An attachment's file is put in the store before its line's batch is
// written (see restoreFiles), so a row never names a missing file; a
// failed batch leaves at most files nothing references, which are stored
// again at no cost when the import is run again, or deleted by the
// sweeper.
func Import(ctx context.Context, client *ent.Client, r io.Reader, opts ImportOptions) (ImportCounts, error) {
	ctx = viewer.SystemContext(ctx)
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	var counts ImportCounts
	var bar *progress.Bar // nil: no progress report
	if opts.Progress != nil {
		bar = progress.New(opts.Progress, "importing", 0)
	}
	defer bar.Finish()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	var batch []line
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if errs := checkBatch(ctx, client, batch); len(errs) > 0 {
			return &LineErrors{Errs: errs, Committed: counts.Lines}
		}
		stored, errs, err := restoreFiles(ctx, client, opts, batch)
		counts.Files += stored
		if len(errs) > 0 {
			return &LineErrors{Errs: errs, Committed: counts.Lines}
		}
		if err == nil {
			err = writeBatch(ctx, client, batch)
		}
		if err != nil {
			return fmt.Errorf("lines %d–%d: %w (nothing of these lines was imported)", batch[0].n, batch[len(batch)-1].n, err)
		}
		for _, l := range batch {
			switch l.rec.Type {
			case TypeGroup:
				counts.Groups++
			case TypeUser:
				counts.Users++
			case TypeTicket:
				counts.Tickets++
			case TypeMessage:
				counts.Messages++
			case TypeAttachment:
				counts.Attachments++
			}
		}
		counts.Lines += len(batch)
		bar.Add(len(batch))
		batch = batch[:0]
		return nil
	}
	for sc.Scan() {
		n++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var rec Record
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return counts, &LineErrors{Errs: []error{lineError(n, "not a valid record: %v", err)}, Committed: counts.Lines}
		}
		if dec.InputOffset() != int64(len(raw)) {
			return counts, &LineErrors{Errs: []error{lineError(n, "more than one JSON value on the line")}, Committed: counts.Lines}
		}
		if err := rec.validate(); err != nil {
			return counts, &LineErrors{Errs: []error{lineError(n, "%v", err)}, Committed: counts.Lines}
		}
		batch = append(batch, line{n: n, rec: rec})
		if len(batch) == opts.Batch {
			if err := flush(); err != nil {
				return counts, err
			}
		}
		if err := ctx.Err(); err != nil {
			return counts, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return counts, &LineErrors{Errs: []error{lineError(n+1, "longer than %d bytes", MaxLine)}, Committed: counts.Lines}
		}
		return counts, err
	}
	return counts, flush()
}

// checkBatch finds what would make the batch fail: references to objects
// neither earlier in the file nor in the database, and unique values
// (e-mail, group name, ticket number) held by another object.
func checkBatch(ctx context.Context, client *ent.Client, batch []line) []error {
	var errs []error
	add := func(err error) bool {
		errs = append(errs, err)
		return len(errs) >= maxErrors
	}
	// First line of each ID in the batch, by type.
	defined := map[string]map[globalid.ID]int{}
	wanted := map[string][]globalid.ID{}
	for _, l := range batch {
		for _, f := range l.rec.refs() {
			if _, ok := defined[f.typ][f.id]; !ok {
				wanted[f.typ] = append(wanted[f.typ], f.id)
			}
		}
		if defined[l.rec.Type] == nil {
			defined[l.rec.Type] = map[globalid.ID]int{}
		}
		if first, ok := defined[l.rec.Type][l.rec.ID]; ok {
			if add(lineError(l.n, "%s %q appears again (first on line %d)", l.rec.Type, l.rec.ID, first)) {
				return errs
			}
			continue
		}
		defined[l.rec.Type][l.rec.ID] = l.n
	}
	existing := map[string]map[globalid.ID]bool{}
	for typ, ids := range wanted {
		found, err := storedIDs(ctx, client, typ, ids)
		if err != nil {
			return []error{err}
		}
		existing[typ] = found
	}
	for _, l := range batch {
		for _, f := range l.rec.refs() {
			if first, ok := defined[f.typ][f.id]; ok && first < l.n {
				continue
			}
			if existing[f.typ][f.id] {
				continue
			}
			if add(lineError(l.n, "%s: %s %q not found (it must be in the database or on an earlier line)", l.rec.Type, f.field, f.id)) {
				return errs
			}
		}
	}
	// An attachment's ticket is its message's.
	ticketOf := map[globalid.ID]globalid.ID{}
	var lookup []globalid.ID
	for _, l := range batch {
		switch l.rec.Type {
		case TypeMessage:
			if _, ok := ticketOf[l.rec.ID]; !ok {
				ticketOf[l.rec.ID] = l.rec.Ticket
			}
		case TypeAttachment:
			if _, ok := ticketOf[l.rec.Message]; !ok && existing[TypeMessage][l.rec.Message] {
				lookup = append(lookup, l.rec.Message)
			}
		}
	}
	err := chunks(slices.Compact(slices.Sorted(slices.Values(lookup))), func(ids []globalid.ID) error {
		rows, err := client.Message.Query().Where(message.IDIn(ids...)).Select(message.FieldID, message.FieldTicketID).All(ctx)
		for _, m := range rows {
			if _, ok := ticketOf[m.ID]; !ok {
				ticketOf[m.ID] = m.TicketID
			}
		}
		return err
	})
	if err != nil {
		return []error{err}
	}
	for _, l := range batch {
		if l.rec.Type != TypeAttachment {
			continue
		}
		if t, ok := ticketOf[l.rec.Message]; ok && t != l.rec.Ticket {
			if add(lineError(l.n, "attachment: ticket %q is not that of message %q, which is on ticket %q", l.rec.Ticket, l.rec.Message, t)) {
				return errs
			}
		}
	}
	// Unique values held by another object.
	for _, u := range uniques {
		seen := map[string]line{}
		var values []string
		for _, l := range batch {
			if l.rec.Type != u.typ {
				continue
			}
			v := u.value(&l.rec)
			if prev, ok := seen[v]; ok && prev.rec.ID != l.rec.ID {
				if add(lineError(l.n, "%s: %s %v is also used on line %d", u.typ, u.what, v, prev.n)) {
					return errs
				}
				continue
			}
			seen[v] = l
			values = append(values, v)
		}
		if len(values) == 0 {
			continue
		}
		holders := map[string]globalid.ID{}
		err := chunks(values, func(values []string) error { return u.holders(ctx, client, values, holders) })
		if err != nil {
			return []error{err}
		}
		for _, l := range batch {
			if l.rec.Type != u.typ {
				continue
			}
			if id, ok := holders[u.value(&l.rec)]; ok && id != l.rec.ID {
				if add(lineError(l.n, "%s: %s %v already belongs to %s %q", u.typ, u.what, u.value(&l.rec), u.typ, id)) {
					return errs
				}
			}
		}
	}
	return errs
}

// A unique value of a type, as a string, and who holds which.
type unique struct {
	typ, what string
	value     func(*Record) string
	// holders adds to into the holder of each of the values.
	holders func(ctx context.Context, client *ent.Client, values []string, into map[string]globalid.ID) error
}

var uniques = []unique{
	{TypeUser, "email", func(r *Record) string { return entschema.NormalizeEmail(r.Email) },
		func(ctx context.Context, client *ent.Client, values []string, into map[string]globalid.ID) error {
			// Two columns: the phone is not decrypted for nothing.
			rows, err := client.User.Query().Where(user.EmailIn(values...)).Select(user.FieldID, user.FieldEmail).All(ctx)
			for _, u := range rows {
				into[u.Email] = u.ID
			}
			return err
		}},
	{TypeGroup, "name", func(r *Record) string { return r.Name },
		func(ctx context.Context, client *ent.Client, values []string, into map[string]globalid.ID) error {
			rows, err := client.Group.Query().Where(group.NameIn(values...)).Select(group.FieldID, group.FieldName).All(ctx)
			for _, g := range rows {
				into[g.Name] = g.ID
			}
			return err
		}},
	{TypeTicket, "number", func(r *Record) string { return strconv.Itoa(r.Number) },
		func(ctx context.Context, client *ent.Client, values []string, into map[string]globalid.ID) error {
			numbers := make([]int, len(values))
			for i, v := range values {
				numbers[i], _ = strconv.Atoi(v) // written by value above
			}
			rows, err := client.Ticket.Query().Where(ticket.NumberIn(numbers...)).Select(ticket.FieldID, ticket.FieldNumber).All(ctx)
			for _, t := range rows {
				into[strconv.Itoa(t.Number)] = t.ID
			}
			return err
		}},
}

// inChunk bounds the values of one IN (...) query: a batch may hold up to
// 100,000 lines, more than SQLite's 32,766 bound parameters.
const inChunk = 1000

// chunks calls fn with consecutive pieces of values, at most inChunk each.
func chunks[T any](values []T, fn func([]T) error) error {
	for start := 0; start < len(values); start += inChunk {
		if err := fn(values[start:min(start+inChunk, len(values))]); err != nil {
			return err
		}
	}
	return nil
}

// storedIDs returns which of the IDs of objects of typ are in the database.
func storedIDs(ctx context.Context, client *ent.Client, typ string, ids []globalid.ID) (map[globalid.ID]bool, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	found := map[globalid.ID]bool{}
	err := chunks(ids, func(ids []globalid.ID) error {
		var got []globalid.ID
		var err error
		switch typ {
		case TypeGroup:
			got, err = client.Group.Query().Where(group.IDIn(ids...)).IDs(ctx)
		case TypeUser:
			got, err = client.User.Query().Where(user.IDIn(ids...)).IDs(ctx)
		case TypeTicket:
			got, err = client.Ticket.Query().Where(ticket.IDIn(ids...)).IDs(ctx)
		case TypeMessage:
			got, err = client.Message.Query().Where(message.IDIn(ids...)).IDs(ctx)
		case TypeAttachment:
			got, err = client.Attachment.Query().Where(attachment.IDIn(ids...)).IDs(ctx)
		default:
			err = fmt.Errorf("unknown type %q", typ)
		}
		for _, id := range got {
			found[id] = true
		}
		return err
	})
	return found, err
}

// A run is a stretch of lines of one type written together: the new
// objects in one multi-row INSERT (ent's CreateBulk), which these bound
// well under SQLite's and PostgreSQL's parameter limits, with the users'
// group memberships in one more.
const (
	rowsPerStatement        = 200
	membershipsPerStatement = 2000
)

// writeBatch writes the batch in one transaction, in runs of lines of one
// type, in file order (every line refers only to lines before it).
func writeBatch(ctx context.Context, client *ent.Client, batch []line) error {
	ctx = entschema.SkipHooks(ctx, importHooksOff)
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	for start := 0; start < len(batch); {
		typ := batch[start].rec.Type
		end, memberships := start, 0
		for end < len(batch) && end-start < rowsPerStatement && batch[end].rec.Type == typ {
			memberships += len(batch[end].rec.Groups)
			if end > start && memberships > membershipsPerStatement {
				break
			}
			end++
		}
		if err := writeRun(ctx, tx, batch[start:end]); err != nil {
			return err
		}
		start = end
	}
	return tx.Commit()
}

// writeRun creates the objects of run that are new and updates those that
// are stored and differ from the file (messages, which never change, are
// left as they are).
func writeRun(ctx context.Context, tx *ent.Tx, run []line) error {
	ids := make([]globalid.ID, len(run))
	for i, l := range run {
		ids[i] = l.rec.ID
	}
	stored, err := storedIDs(ctx, tx.Client(), run[0].rec.Type, ids)
	if err != nil {
		return err
	}
	var fresh, present []*Record
	for i := range run {
		if r := &run[i].rec; stored[r.ID] {
			present = append(present, r)
		} else {
			fresh = append(fresh, r)
		}
	}
	switch run[0].rec.Type {
	case TypeGroup:
		return writer[*ent.GroupCreate, *ent.Group]{
			create: func(r *Record) *ent.GroupCreate {
				c := tx.Group.Create().SetID(r.ID).SetCreatedAt(r.CreatedAt)
				setGroup(c.Mutation(), r, false)
				return c
			},
			save: func(c []*ent.GroupCreate) error { return tx.Group.CreateBulk(c...).Exec(ctx) },
			load: func(ids []globalid.ID) ([]*ent.Group, error) {
				return tx.Group.Query().Where(group.IDIn(ids...)).All(ctx)
			},
			record: groupRecord,
			update: func(r *Record) error {
				u := tx.Group.UpdateOneID(r.ID)
				setGroup(u.Mutation(), r, true)
				return u.Exec(ctx)
			},
		}.write(fresh, present)
	case TypeUser:
		return writer[*ent.UserCreate, *ent.User]{
			create: func(r *Record) *ent.UserCreate {
				c := tx.User.Create().SetID(r.ID).SetCreatedAt(r.CreatedAt)
				setUser(c.Mutation(), r, false)
				return c
			},
			save: func(c []*ent.UserCreate) error { return tx.User.CreateBulk(c...).Exec(ctx) },
			load: func(ids []globalid.ID) ([]*ent.User, error) {
				return tx.User.Query().Where(user.IDIn(ids...)).
					WithGroups(func(q *ent.GroupQuery) { q.Select(group.FieldID) }).All(ctx)
			},
			record: userRecord,
			update: func(r *Record) error {
				u := tx.User.UpdateOneID(r.ID)
				setUser(u.Mutation(), r, true)
				return u.Exec(ctx)
			},
		}.write(fresh, present)
	case TypeTicket:
		// Highest number first: the numbering hook then moves the ticket
		// number sequence for the first ticket only and finds it past the
		// others' numbers, so PostgreSQL writes one new version of its row
		// per run rather than one per ticket (a chain that every later
		// update of the row in the transaction walks).
		slices.SortFunc(fresh, func(a, b *Record) int { return cmp.Compare(b.Number, a.Number) })
		return writer[*ent.TicketCreate, *ent.Ticket]{
			create: func(r *Record) *ent.TicketCreate {
				c := tx.Ticket.Create().SetID(r.ID).SetCreatedAt(r.CreatedAt).
					SetNumber(r.Number).SetChannel(ticket.Channel(r.Channel)).SetRequesterID(r.Requester)
				setTicket(c.Mutation(), r, false)
				return c
			},
			save: func(c []*ent.TicketCreate) error { return tx.Ticket.CreateBulk(c...).Exec(ctx) },
			load: func(ids []globalid.ID) ([]*ent.Ticket, error) {
				return tx.Ticket.Query().Where(ticket.IDIn(ids...)).All(ctx)
			},
			record: ticketRecord,
			update: func(r *Record) error {
				u := tx.Ticket.UpdateOneID(r.ID)
				setTicket(u.Mutation(), r, true)
				return u.Exec(ctx)
			},
		}.write(fresh, present)
	case TypeMessage:
		return writer[*ent.MessageCreate, *ent.Message]{
			create: func(r *Record) *ent.MessageCreate {
				return tx.Message.Create().SetID(r.ID).SetCreatedAt(r.CreatedAt).SetUpdatedAt(r.UpdatedAt).
					SetBody(r.Body).SetInternal(r.Internal).SetTicketID(r.Ticket).SetAuthorID(r.Author)
			},
			save: func(c []*ent.MessageCreate) error { return tx.Message.CreateBulk(c...).Exec(ctx) },
		}.write(fresh, nil)
	case TypeAttachment:
		// Like messages, never changed once attached. The content type
		// is the one restoreFiles sniffed from the file, the ticket the
		// message's as stored (checkBatch refused a line naming another).
		if len(fresh) == 0 {
			return nil
		}
		msgs := make([]globalid.ID, 0, len(fresh))
		for _, r := range fresh {
			msgs = append(msgs, r.Message)
		}
		ticketOf := map[globalid.ID]globalid.ID{}
		rows, err := tx.Message.Query().Where(message.IDIn(slices.Compact(slices.Sorted(slices.Values(msgs)))...)).
			Select(message.FieldID, message.FieldTicketID).All(ctx)
		if err != nil {
			return err
		}
		for _, m := range rows {
			ticketOf[m.ID] = m.TicketID
		}
		return writer[*ent.AttachmentCreate, *ent.Attachment]{
			create: func(r *Record) *ent.AttachmentCreate {
				return tx.Attachment.Create().SetID(r.ID).SetCreatedAt(r.CreatedAt).
					SetFilename(attachments.SanitizeFilename(r.Filename)).SetSize(*r.Size).SetContentType(r.ContentType).
					SetSha256(r.Sha256).SetUploaderID(r.Uploader).SetMessageID(r.Message).SetTicketID(cmp.Or(ticketOf[r.Message], r.Ticket))
			},
			save: func(c []*ent.AttachmentCreate) error { return tx.Attachment.CreateBulk(c...).Exec(ctx) },
		}.write(fresh, nil)
	}
	return fmt.Errorf("unknown type %q", run[0].rec.Type)
}

// writer writes the lines of one type: C builds a new object, T is a
// stored one.
type writer[C, T any] struct {
	create func(*Record) C
	// save creates the objects in one statement.
	save func([]C) error
	// load reads the stored objects with these IDs.
	load func([]globalid.ID) ([]T, error)
	// record is a stored object as its line.
	record func(T) Record
	update func(*Record) error
}

// write creates fresh, and updates those of present that changed.
func (w writer[C, T]) write(fresh, present []*Record) error {
	if len(fresh) > 0 {
		creates := make([]C, len(fresh))
		for i, r := range fresh {
			creates[i] = w.create(r)
		}
		if err := w.save(creates); err != nil {
			return err
		}
	}
	if len(present) == 0 {
		return nil
	}
	ids := make([]globalid.ID, len(present))
	for i, r := range present {
		ids[i] = r.ID
	}
	rows, err := w.load(ids)
	if err != nil {
		return err
	}
	for _, r := range changed(present, rows, w.record) {
		if err := w.update(r); err != nil {
			return fmt.Errorf("%s %s: %w", r.Type, r.ID, err)
		}
	}
	return nil
}

// changed returns the records of present whose stored object (in rows)
// differs from them in what an update writes. The others are not written:
// re-running an import then writes nothing, and no hook acts on an object
// that did not change (no cached credential is dropped for nothing).
func changed[T any](present []*Record, rows []T, record func(T) Record) []*Record {
	byID := make(map[globalid.ID]Record, len(rows))
	for _, row := range rows {
		r := record(row)
		byID[r.ID] = r
	}
	var out []*Record
	for _, r := range present {
		if stored, ok := byID[r.ID]; !ok || !sameAsStored(r, stored) {
			out = append(out, r)
		}
	}
	return out
}

// sameAsStored compares a line with the line of its stored object, as the
// export would write it, in what an update writes: the fields that never
// change (created_at, a ticket's number, channel and requester) are not
// compared, and the file's values are taken in the form they are stored
// in (the address normalised, groups in order). Times are compared in UTC
// to the microsecond, PostgreSQL's precision: a file written from SQLite,
// which keeps nanoseconds, then matches what PostgreSQL stored of it.
func sameAsStored(r *Record, stored Record) bool {
	f := *r
	f.CreatedAt, f.Number, f.Channel, f.Requester = stored.CreatedAt, stored.Number, stored.Channel, stored.Requester
	toMicroseconds(&f)
	toMicroseconds(&stored)
	if f.Type == TypeUser {
		f.Email = entschema.NormalizeEmail(f.Email)
		active := f.Active == nil || *f.Active
		f.Active = &active
		f.Groups = slices.Compact(slices.Sorted(slices.Values(f.Groups)))
	}
	a, errA := json.Marshal(&f)
	b, errB := json.Marshal(&stored)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// toMicroseconds puts the times of r in UTC, truncated to the microsecond
// (as pgx sends them to PostgreSQL).
func toMicroseconds(r *Record) {
	for _, t := range []*time.Time{&r.CreatedAt, &r.UpdatedAt} {
		*t = t.UTC().Truncate(time.Microsecond)
	}
	for _, t := range []**time.Time{&r.LastSeenAt, &r.FirstResponseDueAt, &r.ResolutionDueAt, &r.FirstRespondedAt, &r.SolvedAt} {
		if *t != nil {
			u := (*t).UTC().Truncate(time.Microsecond)
			*t = &u
		}
	}
}

// setGroup, setUser and setTicket set what may change of an object to the
// record's values; on an update, a value the record lacks clears the
// stored one.

func setGroup(m *ent.GroupMutation, r *Record, update bool) {
	m.SetUpdatedAt(r.UpdatedAt)
	m.SetName(r.Name)
	optional(nonEmpty(r.Description), m.SetDescription, m.ClearDescription, update)
}

func setUser(m *ent.UserMutation, r *Record, update bool) {
	m.SetUpdatedAt(r.UpdatedAt)
	m.SetEmail(r.Email) // normalised by the schema's hook
	m.SetName(r.Name)
	m.SetRole(user.Role(r.Role))
	m.SetActive(r.Active == nil || *r.Active)
	optional(nonEmpty(r.PasswordHash), m.SetPasswordHash, m.ClearPasswordHash, update)
	optional(nonEmpty(r.Phone), m.SetPhone, m.ClearPhone, update) // encrypted by its value scanner
	optional(r.LastSeenAt, m.SetLastSeenAt, m.ClearLastSeenAt, update)
	if update {
		m.ClearGroups()
	}
	m.AddGroupIDs(r.Groups...)
}

func setTicket(m *ent.TicketMutation, r *Record, update bool) {
	p, _ := priority.Parse(r.Priority) // validated
	tags := r.Tags
	if tags == nil {
		tags = []string{} // as ent's default: no tags is [], not null
	}
	m.SetUpdatedAt(r.UpdatedAt)
	m.SetSubject(r.Subject)
	m.SetStatus(ticket.Status(r.Status))
	m.SetPriority(p)
	m.SetTags(tags)
	optional(r.Assignee, m.SetAssigneeID, m.ClearAssigneeID, update)
	optional(r.Group, m.SetGroupID, m.ClearGroupID, update)
	optional(r.FirstResponseDueAt, m.SetFirstResponseDueAt, m.ClearFirstResponseDueAt, update)
	optional(r.ResolutionDueAt, m.SetResolutionDueAt, m.ClearResolutionDueAt, update)
	optional(r.FirstRespondedAt, m.SetFirstRespondedAt, m.ClearFirstRespondedAt, update)
	optional(r.SolvedAt, m.SetSolvedAt, m.ClearSolvedAt, update)
}

// optional sets a value the record has; a value it lacks is cleared on an
// update and left unset (NULL) on a creation.
func optional[T any](v *T, set func(T), clear func(), update bool) {
	switch {
	case v != nil:
		set(*v)
	case update:
		clear()
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// restoreFiles puts the files of the batch's attachment lines in the
// store (attachments.Service.Restore) before the batch is written: each
// read from the files directory and checked against its line (its size
// and SHA-256; a file that differs is a line error, and nothing is stored
// for it), unless the store holds it already. The lines' content types
// become those sniffed from the files, as for an upload. For a line whose
// attachment is in the database already nothing is written, unless its
// file is missing from the store and the directory has it. It returns how
// many files it wrote, the line errors, and an error that is no line's
// (the store unreachable).
func restoreFiles(ctx context.Context, client *ent.Client, opts ImportOptions, batch []line) (int, []error, error) {
	var lines []*line
	var ids []globalid.ID
	for i := range batch {
		if batch[i].rec.Type == TypeAttachment {
			lines = append(lines, &batch[i])
			ids = append(ids, batch[i].rec.ID)
		}
	}
	if len(lines) == 0 {
		return 0, nil, nil
	}
	if opts.Attachments == nil {
		return 0, []error{lineError(lines[0].n, "attachment: there is no attachments store to put its file in")}, nil
	}
	present, err := storedIDs(ctx, client, TypeAttachment, ids)
	if err != nil {
		return 0, nil, err
	}
	store := opts.Attachments.Store()
	type done struct {
		size        int64
		contentType string
	}
	restored := map[string]done{} // by key, in this batch
	wrote := 0
	var errs []error
	for _, l := range lines {
		r := &l.rec
		if d, ok := restored[r.Sha256]; ok {
			if d.size != *r.Size {
				errs = append(errs, lineError(l.n, "attachment: size %d is not that of the file %s (%d bytes, on an earlier line)", *r.Size, r.Sha256, d.size))
			}
			r.ContentType = d.contentType
			continue
		}
		path := ""
		if opts.Files != "" {
			path = FilePath(opts.Files, r.Sha256)
		}
		if present[r.ID] {
			// Stored already: left as it is, but for a missing file that
			// the directory has.
			_, err := store.Stat(ctx, r.Sha256)
			if err == nil {
				continue
			}
			if !errors.Is(err, attachments.ErrNotExist) {
				return wrote, nil, err
			}
			if _, err := os.Stat(path); path == "" || err != nil {
				continue
			}
		}
		res, err := opts.Attachments.Restore(ctx, r.Sha256, *r.Size, func() (io.ReadCloser, error) {
			if path == "" {
				return nil, &fileError{errNoFilesDir}
			}
			f, err := os.Open(path) // #nosec G304 -- under the operator's directory, named by a validated hex key
			if err != nil {
				return nil, &fileError{err}
			}
			return f, nil
		})
		var mismatch *attachments.ContentMismatchError
		var fileErr *fileError
		switch {
		case errors.As(err, &mismatch):
			errs = append(errs, lineError(l.n, "attachment: its file %s does not match the line: %v; nothing was stored for it", path, mismatch))
		case errors.As(err, &fileErr) && errors.Is(fileErr.err, errNoFilesDir):
			errs = append(errs, lineError(l.n, "attachment: its file %s is not in the attachments store, and no directory of files was given", r.Sha256))
		case errors.As(err, &fileErr) && errors.Is(fileErr.err, fs.ErrNotExist):
			errs = append(errs, lineError(l.n, "attachment: its file %s is missing", path))
		case errors.As(err, &fileErr):
			errs = append(errs, lineError(l.n, "attachment: reading its file: %v", fileErr.err))
		case err != nil:
			return wrote, nil, err
		default:
			if res.Wrote {
				wrote++
			}
			r.ContentType = res.ContentType
			restored[r.Sha256] = done{*r.Size, res.ContentType}
		}
		if len(errs) >= maxErrors {
			break
		}
	}
	return wrote, errs, nil
}

// fileError is an attachment's file that could not be read from the
// files directory.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

var errNoFilesDir = errors.New("no directory of files")
