package bulk

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/progress"
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
	// Progress receives the progress bar (nil: none).
	Progress io.Writer
	// UsersWritten, when set, is told the users of each batch once it has
	// committed: their role, activity, password and groups may have
	// changed behind the ent hooks that keep cached credentials current,
	// so it drops those. Its error stops the import (the batch stays
	// committed and is counted).
	UsersWritten func(context.Context, []globalid.ID) error
}

// ImportCounts say how many lines were imported.
type ImportCounts struct{ Lines, Groups, Users, Tickets, Messages int }

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

// Import reads JSONL from r into db. Each batch is validated as a whole
// (every line's fields, and every reference against earlier lines and the
// database) before any of it is written, then upserted in one transaction.
// Groups, users and tickets are updated to the file's values; messages,
// which never change once written, are left as they are if present. No
// events are written: imported history is not news to live subscribers.
func Import(ctx context.Context, db *database.SQL, r io.Reader, opts ImportOptions) (ImportCounts, error) {
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
		if errs := checkBatch(ctx, db, batch); len(errs) > 0 {
			return &LineErrors{Errs: errs, Committed: counts.Lines}
		}
		if err := writeBatch(ctx, db, batch); err != nil {
			return fmt.Errorf("lines %d–%d: %w (nothing of these lines was imported)", batch[0].n, batch[len(batch)-1].n, err)
		}
		var users []globalid.ID
		for _, l := range batch {
			switch l.rec.Type {
			case TypeGroup:
				counts.Groups++
			case TypeUser:
				counts.Users++
				users = append(users, l.rec.ID)
			case TypeTicket:
				counts.Tickets++
			case TypeMessage:
				counts.Messages++
			}
		}
		counts.Lines += len(batch)
		bar.Add(len(batch))
		batch = batch[:0]
		if opts.UsersWritten != nil && len(users) > 0 {
			if err := opts.UsersWritten(ctx, users); err != nil {
				return fmt.Errorf("lines up to %d were imported, but their cached credentials could not be dropped: %w", n, err)
			}
		}
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

var tableOf = map[string]string{TypeGroup: `"groups"`, TypeUser: "users", TypeTicket: "tickets", TypeMessage: "messages"}

// checkBatch finds what would make the batch fail: references to objects
// neither earlier in the file nor in the database, and unique values
// (e-mail, group name, ticket number) held by another object.
func checkBatch(ctx context.Context, db *database.SQL, batch []line) []error {
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
		found, err := existingIDs(ctx, db, tableOf[typ], ids)
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
	// Unique values held by another object.
	for _, u := range []struct {
		typ, table, column, what string
		value                    func(*Record) any
	}{
		{TypeUser, "users", "email", "email", func(r *Record) any { return entschema.NormalizeEmail(r.Email) }},
		{TypeGroup, `"groups"`, "name", "name", func(r *Record) any { return r.Name }},
		{TypeTicket, "tickets", "number", "number", func(r *Record) any { return int64(r.Number) }},
	} {
		seen := map[any]line{}
		var values []any
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
		holders, err := holdersOf(ctx, db, u.table, u.column, values)
		if err != nil {
			return []error{err}
		}
		for _, l := range batch {
			if l.rec.Type != u.typ {
				continue
			}
			if id, ok := holders[fmt.Sprint(u.value(&l.rec))]; ok && id != l.rec.ID {
				if add(lineError(l.n, "%s: %s %v already belongs to %s %q", u.typ, u.what, u.value(&l.rec), u.typ, id)) {
					return errs
				}
			}
		}
	}
	return errs
}

// inChunk bounds the values of one IN (...) query: a batch may hold up to
// 100,000 lines, more than SQLite's 32,766 bound parameters.
const inChunk = 1000

// chunks calls fn with consecutive pieces of values, at most inChunk each.
func chunks(values []any, fn func([]any) error) error {
	for start := 0; start < len(values); start += inChunk {
		if err := fn(values[start:min(start+inChunk, len(values))]); err != nil {
			return err
		}
	}
	return nil
}

func existingIDs(ctx context.Context, db *database.SQL, table string, ids []globalid.ID) (map[globalid.ID]bool, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = string(id)
	}
	found := map[globalid.ID]bool{}
	err := chunks(args, func(args []any) error {
		q := "SELECT id FROM " + table + " WHERE id IN (" + database.Placeholders(len(args)) + ")"
		rows, err := db.DB.QueryContext(ctx, db.Rebind(q), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			found[globalid.ID(id)] = true
		}
		return rows.Err()
	})
	return found, err
}

// holdersOf maps each of the values to the ID of the row holding it.
func holdersOf(ctx context.Context, db *database.SQL, table, column string, values []any) (map[string]globalid.ID, error) {
	out := map[string]globalid.ID{}
	err := chunks(values, func(values []any) error {
		q := "SELECT " + column + ", id FROM " + table + " WHERE " + column + " IN (" + database.Placeholders(len(values)) + ")"
		rows, err := db.DB.QueryContext(ctx, db.Rebind(q), values...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v any
			var id string
			if err := rows.Scan(&v, &id); err != nil {
				return err
			}
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			out[fmt.Sprint(v)] = globalid.ID(id)
		}
		return rows.Err()
	})
	return out, err
}

// upsert is how one type is written.
type upsert struct {
	table    string
	columns  []string
	conflict string // the ON CONFLICT action
	values   func(*Record, *confidential.Keyring) ([]any, error)
}

func setAll(columns []string) string {
	var sets []string
	for _, c := range columns[1:] {
		sets = append(sets, c+" = excluded."+c)
	}
	return "DO UPDATE SET " + strings.Join(sets, ", ")
}

var upserts = map[string]upsert{
	TypeGroup: {`"groups"`, []string{"id", "created_at", "updated_at", "name", "description"}, "", func(r *Record, _ *confidential.Keyring) ([]any, error) {
		return []any{string(r.ID), r.CreatedAt, r.UpdatedAt, r.Name, nullString(r.Description)}, nil
	}},
	TypeUser: {"users", []string{"id", "created_at", "updated_at", "email", "name", "role", "password_hash", "phone", "active", "last_seen_at"}, "", func(r *Record, keys *confidential.Keyring) ([]any, error) {
		var phone any
		if r.Phone != "" {
			// Plain SQL bypasses ent's driver, which would seal it.
			v, err := keys.Seal(user.ValueScanner.Phone, r.Phone)
			if err != nil {
				return nil, err
			}
			phone = v
		}
		active := r.Active == nil || *r.Active
		return []any{string(r.ID), r.CreatedAt, r.UpdatedAt, entschema.NormalizeEmail(r.Email), r.Name, r.Role, nullString(r.PasswordHash), phone, active, nullTime(r.LastSeenAt)}, nil
	}},
	TypeTicket: {"tickets", []string{"id", "created_at", "updated_at", "number", "subject", "status", "priority", "channel", "tags",
		"first_response_due_at", "resolution_due_at", "first_responded_at", "solved_at", "group_id", "requester_id", "assignee_id"}, "", func(r *Record, _ *confidential.Keyring) ([]any, error) {
		p, _ := priority.Parse(r.Priority)
		tags := r.Tags
		if tags == nil {
			tags = []string{}
		}
		tagsJSON, _ := json.Marshal(tags)
		return []any{string(r.ID), r.CreatedAt, r.UpdatedAt, r.Number, r.Subject, r.Status, int64(p), r.Channel, string(tagsJSON),
			nullTime(r.FirstResponseDueAt), nullTime(r.ResolutionDueAt), nullTime(r.FirstRespondedAt), nullTime(r.SolvedAt),
			nullID(r.Group), string(r.Requester), nullID(r.Assignee)}, nil
	}},
	TypeMessage: {"messages", []string{"id", "created_at", "updated_at", "body", "internal", "ticket_id", "author_id"}, "DO NOTHING", func(r *Record, _ *confidential.Keyring) ([]any, error) {
		return []any{string(r.ID), r.CreatedAt, r.UpdatedAt, r.Body, r.Internal, string(r.Ticket), string(r.Author)}, nil
	}},
}

// rowsPerStatement keeps multi-row statements well under SQLite's and
// PostgreSQL's parameter limits.
const rowsPerStatement = 200

// writeBatch upserts the batch in one transaction: runs of lines of one
// type go in multi-row statements, in file order, and the ticket number
// sequence is moved past the highest imported number.
func writeBatch(ctx context.Context, db *database.SQL, batch []line) error {
	tx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	maxNumber := 0
	for start := 0; start < len(batch); {
		typ := batch[start].rec.Type
		end := start
		for end < len(batch) && end-start < rowsPerStatement && batch[end].rec.Type == typ {
			end++
		}
		u := upserts[typ]
		conflict := u.conflict
		if conflict == "" {
			conflict = setAll(u.columns)
		}
		var args []any
		for _, l := range batch[start:end] {
			vals, err := u.values(&l.rec, db.Keyring)
			if err != nil {
				return lineError(l.n, "%v", err)
			}
			args = append(args, vals...)
			maxNumber = max(maxNumber, l.rec.Number)
		}
		q := database.InsertSQL(u.table, u.columns, end-start) + " ON CONFLICT (id) " + conflict
		if _, err := tx.ExecContext(ctx, db.Rebind(q), args...); err != nil {
			return err
		}
		if typ == TypeUser {
			if err := writeMemberships(ctx, db, tx, batch[start:end]); err != nil {
				return err
			}
		}
		start = end
	}
	if maxNumber > 0 {
		q := "UPDATE sequences SET value = CASE WHEN value < ? THEN ? ELSE value END WHERE name = ?"
		if _, err := tx.ExecContext(ctx, db.Rebind(q), maxNumber, maxNumber, entschema.TicketNumberSequence); err != nil {
			return fmt.Errorf("advancing the ticket number sequence: %w", err)
		}
	}
	return tx.Commit()
}

// writeMemberships makes the users' group memberships those of the file.
func writeMemberships(ctx context.Context, db *database.SQL, tx *sql.Tx, users []line) error {
	ids := make([]any, len(users))
	var pairs []any
	for i, l := range users {
		ids[i] = string(l.rec.ID)
		for _, g := range l.rec.Groups {
			pairs = append(pairs, string(g), string(l.rec.ID))
		}
	}
	if _, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM group_members WHERE user_id IN ("+database.Placeholders(len(ids))+")"), ids...); err != nil {
		return err
	}
	if len(pairs) == 0 {
		return nil
	}
	// inChunk is even: no pair is split.
	return chunks(pairs, func(pairs []any) error {
		_, err := tx.ExecContext(ctx, db.Rebind(database.InsertSQL("group_members", []string{"group_id", "user_id"}, len(pairs)/2)), pairs...)
		return err
	})
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime[T any](t *T) any {
	if t == nil {
		return nil
	}
	return *t
}

func nullID(id *globalid.ID) any {
	if id == nil {
		return nil
	}
	return string(*id)
}
