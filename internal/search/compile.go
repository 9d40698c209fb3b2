package search

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/predicate"
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
// it by bisection: SLA due times (is:breached) and staff email addresses
// (assignee:EMAIL) for customers.
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

func forbidden(t Term, format string) error {
	return &apierr.Error{Code: apierr.Forbidden, Field: "query", Message: "at " + strconv.Itoa(t.Pos) + ": " + format}
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
				if v.IsCustomer() {
					return nil, forbidden(t, "customers cannot search by an assignee's email address (staff addresses are not shown to them)")
				}
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
	case FieldIs:
		switch t.Values[0] {
		case "unassigned":
			return ticket.AssigneeIDIsNil(), nil
		case "breached":
			if v.IsCustomer() {
				return nil, forbidden(t, "customers cannot search by SLA state (due times are shown to staff only)")
			}
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
