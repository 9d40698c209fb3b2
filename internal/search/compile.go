package search

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/switchboardhq/switchboard/ent/attachment"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/predicate"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// textQuery is the text part of a query: every positive phrase must occur
// in a ticket's text, no negative one may.
type textQuery struct {
	positive, negative []string
	// public restricts matching to what customers may read: the subject
	// and public replies, never internal notes.
	public bool
}

func (t textQuery) empty() bool { return len(t.positive) == 0 && len(t.negative) == 0 }

// compiled is a query ready to run for one viewer.
type compiled struct {
	filters []predicate.Ticket
	text    textQuery
	sort    Sort
}

// compile turns the terms into ent predicates for v at the time now.
// Filters on what v may not read are refused (FORBIDDEN), or v could learn
// it by bisection: which those are follows from the fields each word reads
// (readsOf) and the schema's marks on them (entschema.Marks), such as SLA
// due times (is:breached) and staff email addresses (assignee:EMAIL) for
// customers.
func compile(q *Query, v *viewer.Viewer, now time.Time) (*compiled, error) {
	c := &compiled{sort: q.Sort, text: textQuery{public: v.IsCustomer()}}
	for _, t := range q.Terms {
		if t.Field == FieldText {
			if !hasWordChar(t.Text) {
				continue // nothing an index could match (punctuation only)
			}
			if t.Negated {
				c.text.negative = append(c.text.negative, t.Text)
			} else {
				c.text.positive = append(c.text.positive, t.Text)
			}
			continue
		}
		values := t.Values
		if len(values) == 0 {
			values = []string{""} // a date: one kind of value
		}
		for _, value := range values {
			if err := mayUse(t, readsOf(t.Field, value), v); err != nil {
				return nil, err
			}
		}
		p, err := filter(t, v, now)
		if err != nil {
			return nil, err
		}
		if t.Negated {
			p = ticket.Not(p)
		}
		c.filters = append(c.filters, p)
	}
	return c, nil
}

func hasWordChar(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// reads is what a filter word tests, by ent field and edge names: fields
// of the ticket, of the user or group the word names, and of the
// attachments and messages it looks into.
type reads struct {
	// what names the word in a refusal ("SLA state").
	what       string
	ticket     []string
	user       []string
	group      []string
	attachment []string
	message    []string
	// own says the user is the viewer themself whenever the viewer is not
	// staff: the requester of every ticket a customer may read.
	own bool
}

// Marks of the fields words read (the fields themselves are written once,
// in ent/schema).
var (
	ticketMarks = entschema.Marks(entschema.Ticket{})
	userMarks   = entschema.Marks(entschema.User{})
	groupMarks  = entschema.Marks(entschema.Group{})
	// Marks on attachments and messages hide fields; which rows a viewer
	// may read (no internal notes for customers) is attached's business.
	attachmentMarks = entschema.Marks(entschema.Attachment{})
	messageMarks    = entschema.Marks(entschema.Message{})
)

// readsOf says what one value of a filter term reads. Every word lists what
// its predicate (filter, breached) tests, so that a mark added to any of
// those fields refuses the word to whoever the mark hides the field from.
func readsOf(f Field, value string) reads {
	switch f {
	case FieldStatus:
		return reads{ticket: []string{ticket.FieldStatus}}
	case FieldPriority:
		return reads{ticket: []string{ticket.FieldPriority}}
	case FieldAssignee:
		if value == "me" || value == "none" {
			return reads{ticket: []string{ticket.FieldAssigneeID}}
		}
		// An assignee is staff (an ent hook), never a customer searching.
		return reads{what: "an assignee's email address", ticket: []string{ticket.FieldAssigneeID, ticket.EdgeAssignee}, user: []string{user.FieldEmail}}
	case FieldRequester:
		if value == "me" {
			return reads{ticket: []string{ticket.FieldRequesterID}}
		}
		return reads{what: "a requester's email address", ticket: []string{ticket.FieldRequesterID, ticket.EdgeRequester}, user: []string{user.FieldEmail}, own: true}
	case FieldGroup:
		if strings.EqualFold(value, "none") {
			return reads{ticket: []string{ticket.FieldGroupID}}
		}
		return reads{ticket: []string{ticket.FieldGroupID, ticket.EdgeGroup}, group: []string{group.FieldName}}
	case FieldTag:
		return reads{ticket: []string{ticket.FieldTags}}
	case FieldCreated:
		return reads{ticket: []string{ticket.FieldCreatedAt}}
	case FieldUpdated:
		return reads{ticket: []string{ticket.FieldUpdatedAt}}
	case FieldIs:
		if value == "breached" {
			return reads{what: "SLA state", ticket: []string{ticket.FieldFirstResponseDueAt, ticket.FieldFirstRespondedAt,
				ticket.FieldResolutionDueAt, ticket.FieldSolvedAt, ticket.FieldStatus}}
		}
		return reads{ticket: []string{ticket.FieldAssigneeID}}
	case FieldHas, FieldFilename:
		r := reads{ticket: []string{ticket.EdgeAttachments},
			attachment: []string{attachment.FieldTicketID, attachment.FieldMessageID, attachment.EdgeMessage},
			message:    []string{message.FieldTicketID, message.FieldInternal}}
		if f == FieldFilename {
			r.attachment = append(r.attachment, attachment.FieldFilename)
		}
		return r
	}
	return reads{}
}

// mayUse refuses a word that reads a field the viewer may not see.
func mayUse(t Term, r reads, v *viewer.Viewer) error {
	what := r.what
	if what == "" {
		what = string(t.Field) + ":"
	}
	for _, of := range []struct {
		marks  map[string]entschema.Mark
		fields []string
		own    bool
	}{{ticketMarks, r.ticket, false}, {userMarks, r.user, r.own}, {groupMarks, r.group, false},
		{attachmentMarks, r.attachment, false}, {messageMarks, r.message, false}} {
		for _, f := range of.fields {
			if m, ok := of.marks[f]; ok && m.Hides(v, of.own) {
				return forbidden(t, "customers cannot search by %s (%s)", what, markReason(m))
			}
		}
	}
	return nil
}

// markReason words why a mark hides a field.
func markReason(m entschema.Mark) string {
	if m == entschema.ContactData {
		return "contact data is shown to the person themself and to staff only"
	}
	return "it is shown to staff only"
}

func forbidden(t Term, format string, args ...any) error {
	return &apierr.Error{Code: apierr.Forbidden, Field: "query", Message: "at " + strconv.Itoa(t.Pos) + ": " + fmt.Sprintf(format, args...)}
}

// filter is the predicate of one filter term (values of one term are OR-ed).
func filter(t Term, v *viewer.Viewer, now time.Time) (predicate.Ticket, error) {
	var alts []predicate.Ticket
	switch t.Field {
	case FieldStatus:
		st := make([]ticket.Status, len(t.Values))
		for i, s := range t.Values {
			st[i] = ticket.Status(strings.ToUpper(s))
		}
		return ticket.StatusIn(st...), nil
	case FieldPriority:
		ps := make([]priority.Priority, len(t.Values))
		for i, s := range t.Values {
			ps[i], _ = priority.Parse(strings.ToUpper(s))
		}
		return ticket.PriorityIn(ps...), nil
	case FieldAssignee:
		for _, s := range t.Values {
			switch s {
			case "me":
				alts = append(alts, ticket.AssigneeID(v.UserID))
			case "none":
				alts = append(alts, ticket.AssigneeIDIsNil())
			default:
				alts = append(alts, ticket.HasAssigneeWith(user.Email(s)))
			}
		}
	case FieldRequester:
		for _, s := range t.Values {
			if s == "me" {
				alts = append(alts, ticket.RequesterID(v.UserID))
			} else {
				alts = append(alts, ticket.HasRequesterWith(user.Email(s)))
			}
		}
	case FieldGroup:
		for _, s := range t.Values {
			if strings.EqualFold(s, "none") {
				alts = append(alts, ticket.GroupIDIsNil())
			} else {
				alts = append(alts, ticket.HasGroupWith(group.NameEqualFold(s)))
			}
		}
	case FieldTag:
		for _, s := range t.Values {
			tag := s
			alts = append(alts, func(sel *sql.Selector) {
				sel.Where(sqljson.ValueContains(sel.C(ticket.FieldTags), tag))
			})
		}
	case FieldHas:
		return attached(v, nil), nil
	case FieldFilename:
		return attached(v, t.Values), nil
	case FieldIs:
		switch t.Values[0] {
		case "unassigned":
			return ticket.AssigneeIDIsNil(), nil
		case "breached":
			return breached(now), nil
		}
	case FieldCreated, FieldUpdated:
		from, to := dateRange(t.Op, t.Date, now)
		field := ticket.FieldCreatedAt
		if t.Field == FieldUpdated {
			field = ticket.FieldUpdatedAt
		}
		var ps []predicate.Ticket
		if !from.IsZero() {
			ps = append(ps, predicate.Ticket(sql.FieldGTE(field, from)))
		}
		if !to.IsZero() {
			ps = append(ps, predicate.Ticket(sql.FieldLT(field, to)))
		}
		return ticket.And(ps...), nil
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return ticket.Or(alts...), nil
}

// attached: the ticket has an attachment, on one of its messages that v
// may read, whose file name contains one of names (any attachment when
// names is empty). It is a plain SQL subquery on attachments joined to
// their messages, outside the privacy policies, so it writes
// AttachmentPolicy's rule itself: an attachment is seen by whoever reads
// its message, and customers do not read internal notes. (The ticket
// itself is in reach: results are loaded through the viewer's client.)
//
// attachments.ticket_id is set with message_id and indexed, so it finds a
// ticket's files; the message's own ticket_id must agree, so that a row
// whose message moved (SQL may move messages) is not found through the
// ticket it left. Pending uploads have no message and are never found.
// Negated (-has:attachment), it keeps the tickets without such a file:
// for a customer, a file on an internal note counts as none.
func attached(v *viewer.Viewer, names []string) predicate.Ticket {
	// As MessagePolicy, but closed to any viewer not known to be staff.
	seesNotes := v.IsStaff() || v.IsSystem()
	return func(s *sql.Selector) {
		b := sql.Dialect(s.Dialect())
		// Named as their tables (not t1, as Join would name one), so that
		// no name of the outer query is shadowed.
		a, m := b.Table(attachment.Table).As(attachment.Table), b.Table(message.Table).As(message.Table)
		sub := b.Select(a.C(attachment.FieldID)).From(a).
			Join(m).On(a.C(attachment.FieldMessageID), m.C(message.FieldID))
		where := []*sql.Predicate{
			sql.ColumnsEQ(a.C(attachment.FieldTicketID), s.C(ticket.FieldID)),
			sql.ColumnsEQ(m.C(message.FieldTicketID), s.C(ticket.FieldID)),
		}
		if !seesNotes {
			where = append(where, sql.EQ(m.C(message.FieldInternal), false))
		}
		if len(names) > 0 {
			alts := make([]*sql.Predicate, len(names))
			for i, n := range names {
				alts[i] = filenameMatch(a.C(attachment.FieldFilename), n)
			}
			where = append(where, sql.Or(alts...))
		}
		s.Where(sql.Exists(sub.Where(sql.And(where...))))
	}
}

// filenameMatch: the file name in col contains part, ignoring case as the
// database folds it (lower() on both sides: ASCII letters on SQLite, every
// letter the database's locale knows on PostgreSQL). LIKE's wildcards %
// and _ in part, and the escape character \, are matched literally.
func filenameMatch(col, part string) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		b.WriteString("lower(").Ident(col).WriteString(") LIKE lower(").Arg("%" + likeEscaper.Replace(part) + "%").
			WriteString(") ESCAPE ").Arg(`\`)
	})
}

// likeEscaper escapes LIKE's wildcards and its escape character (\).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// breached: a due time has passed with no first response or resolution
// yet, or the response or resolution came after it. Closed tickets count as
// resolved.
func breached(now time.Time) predicate.Ticket {
	return ticket.Or(
		ticket.And(ticket.FirstResponseDueAtLT(now), ticket.Or(
			ticket.FirstRespondedAtIsNil(),
			predicate.Ticket(sql.FieldsGT(ticket.FieldFirstRespondedAt, ticket.FieldFirstResponseDueAt)))),
		ticket.And(ticket.ResolutionDueAtLT(now), ticket.Or(
			ticket.And(ticket.SolvedAtIsNil(), ticket.StatusNEQ(ticket.StatusCLOSED)),
			predicate.Ticket(sql.FieldsGT(ticket.FieldSolvedAt, ticket.FieldResolutionDueAt)))),
	)
}

// dateRange is the half-open interval [from, to) a date term selects; a
// zero bound is open. Days are UTC. See Op for the meaning of each
// comparison.
func dateRange(op Op, d Date, now time.Time) (from, to time.Time) {
	if d.Age > 0 {
		edge := now.Add(-d.Age)
		switch op {
		case OpGT:
			return time.Time{}, edge
		case OpGE:
			return time.Time{}, edge.Add(time.Nanosecond)
		case OpLE:
			return edge, time.Time{}
		default: // < and none: within the last d.Age
			return edge.Add(time.Nanosecond), time.Time{}
		}
	}
	next := d.Day.AddDate(0, 0, 1)
	switch op {
	case OpGT:
		return next, time.Time{}
	case OpGE:
		return d.Day, time.Time{}
	case OpLT:
		return time.Time{}, d.Day
	case OpLE:
		return time.Time{}, next
	default:
		return d.Day, next
	}
}
