package tags

import (
	"strings"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/ent/ticket"
)

// The tag filters of TicketWhereInput (hasTag, hasAnyTag, hasAllTags).
// They are fields of the generated input (ent/template/where_input.tmpl,
// declared in ent/schema/ticket.go), so that a saved view stores them and
// a live filter (internal/live/filter.go) sees them; these are their SQL,
// and Has, HasAny and HasAll below their in-memory twins, which must agree.

// HasPredicate is the predicate of tickets with the tag, on SQLite
// (json_each) and PostgreSQL (jsonb @>) alike: the whole value, its case
// kept.
func HasPredicate(tag string) predicate.Ticket {
	return func(s *sql.Selector) {
		s.Where(sqljson.ValueContains(s.C(ticket.FieldTags), strings.TrimSpace(tag)))
	}
}

// HasAnyPredicate is the predicate of tickets with at least one of the
// tags (none: no ticket).
func HasAnyPredicate(tags []string) predicate.Ticket {
	if len(tags) == 0 {
		return func(s *sql.Selector) { s.Where(sql.False()) }
	}
	ps := make([]predicate.Ticket, len(tags))
	for i, tag := range tags {
		ps[i] = HasPredicate(tag)
	}
	return ticket.Or(ps...)
}

// HasAllPredicate is the predicate of tickets with every one of the tags
// (none: every ticket).
func HasAllPredicate(tags []string) predicate.Ticket {
	if len(tags) == 0 {
		// Said, not left out: an empty predicate inside an OR would be
		// dropped, and OR(true, x) read as x.
		return func(s *sql.Selector) { s.Where(sql.Not(sql.False())) }
	}
	ps := make([]predicate.Ticket, len(tags))
	for i, tag := range tags {
		ps[i] = HasPredicate(tag)
	}
	return ticket.And(ps...)
}

// Has reports whether a ticket's tags hold tag, as HasPredicate does. The
// tags column is never NULL (it defaults to []), so the answer is never
// SQL's unknown.
func Has(ticketTags []string, tag string) bool {
	tag = strings.TrimSpace(tag)
	for _, t := range ticketTags {
		if t == tag {
			return true
		}
	}
	return false
}

// HasAny reports whether a ticket's tags hold one of tags, as
// HasAnyPredicate does.
func HasAny(ticketTags, tags []string) bool {
	for _, tag := range tags {
		if Has(ticketTags, tag) {
			return true
		}
	}
	return false
}

// HasAll reports whether a ticket's tags hold all of tags, as
// HasAllPredicate does.
func HasAll(ticketTags, tags []string) bool {
	for _, tag := range tags {
		if !Has(ticketTags, tag) {
			return false
		}
	}
	return true
}
