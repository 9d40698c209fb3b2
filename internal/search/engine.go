package search

import (
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/ent/ticket"
)

// engine is the dialect-specific half of a search: how the text part of a
// query is matched against the index and ranked. Everything else (filters,
// access, order, pages) is ent and shared.
type engine interface {
	// match restricts a ticket query to tickets whose text matches t.
	// With positive terms it joins the index, so rank can be selected.
	match(t textQuery, viewerID string) predicate.Ticket
	// rank is the relevance of the joined index row (higher is better);
	// only valid with match of positive terms.
	rank(t textQuery) sql.Querier
}

func engineFor(d, language string) engine {
	if d == dialect.Postgres {
		return postgresEngine{config: language}
	}
	return sqliteEngine{}
}

// postgresEngine matches a tsvector per ticket (search_documents.tsv; the
// subject weighted A, public replies B, internal notes D) with tsqueries
// built by phraseto_tsquery from each term, through the GIN index.
type postgresEngine struct{ config string }

// tsquery writes the terms combined with op (&& or ||), each negated when
// not is set.
func (e postgresEngine) tsquery(b *sql.Builder, terms []string, op string, not bool) {
	b.WriteString("(")
	for i, term := range terms {
		if i > 0 {
			b.WriteString(" " + op + " ")
		}
		if not {
			b.WriteString("!!")
		}
		b.WriteString("phraseto_tsquery('" + e.config + "'::regconfig, ").Arg(term).WriteString(")")
	}
	b.WriteString(")")
}

// full is the whole text query: every positive term, no negative one.
func (e postgresEngine) full(b *sql.Builder, t textQuery) {
	b.WriteString("(")
	e.tsquery(b, t.positive, "&&", false)
	if len(t.negative) > 0 {
		b.WriteString(" && ")
		e.tsquery(b, t.negative, "&&", true)
	}
	b.WriteString(")")
}

// publicTSV is what customers may match: lexemes of the subject (A) and
// public replies (B), never of internal notes (D).
const publicTSV = "ts_filter(sd.tsv, '{a,b}')"

func (e postgresEngine) match(t textQuery, viewerID string) predicate.Ticket {
	if len(t.positive) == 0 {
		// Only exclusions: tickets none of whose text matches any of them.
		return func(s *sql.Selector) {
			s.Where(sql.P(func(b *sql.Builder) {
				b.WriteString(s.C(ticket.FieldID)).WriteString(" NOT IN (SELECT sd.ticket_id FROM search_documents sd WHERE sd.tsv @@ ")
				e.tsquery(b, t.negative, "||", false)
				if t.public {
					b.WriteString(" AND sd.requester_id = ").Arg(viewerID).WriteString(" AND " + publicTSV + " @@ ")
					e.tsquery(b, t.negative, "||", false)
				}
				b.WriteString(")")
			}))
		}
	}
	return func(s *sql.Selector) {
		docs := sql.Table("search_documents").As("sd")
		s.Join(docs).On(s.C(ticket.FieldID), docs.C("ticket_id"))
		s.Where(sql.P(func(b *sql.Builder) {
			if !t.public {
				b.WriteString("sd.tsv @@ ")
				e.full(b, t)
				return
			}
			// The index finds the positive terms anywhere; the exact test
			// on the public part then drops matches that exist only in
			// internal notes, and exclusions apply to the public part only.
			b.WriteString("sd.requester_id = ").Arg(viewerID).WriteString(" AND sd.tsv @@ ")
			e.tsquery(b, t.positive, "&&", false)
			b.WriteString(" AND " + publicTSV + " @@ ")
			e.full(b, t)
		}))
	}
}

func (e postgresEngine) rank(t textQuery) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		tsv := "sd.tsv"
		if t.public {
			tsv = publicTSV
		}
		b.WriteString("ts_rank(" + tsv + ", ")
		e.tsquery(b, t.positive, "&&", false)
		b.WriteString(") AS rank")
	})
}

// sqliteEngine matches the FTS5 table search_index (columns subject,
// public_text, internal_text) over search_documents.
type sqliteEngine struct{}

// publicColumns restricts an FTS5 phrase to what customers may read.
const publicColumns = "{subject public_text} : "

// phrase is one term as an FTS5 string (the tokenizer splits it into a
// phrase), limited to the public columns for customers.
func (sqliteEngine) phrase(t textQuery, term string) string {
	p := `"` + strings.ReplaceAll(term, `"`, `""`) + `"`
	if t.public {
		p = publicColumns + p
	}
	return p
}

func (e sqliteEngine) expr(t textQuery, terms []string, op string) string {
	parts := make([]string, len(terms))
	for i, term := range terms {
		parts[i] = e.phrase(t, term)
	}
	return "(" + strings.Join(parts, " "+op+" ") + ")"
}

func (e sqliteEngine) full(t textQuery) string {
	x := e.expr(t, t.positive, "AND")
	for _, n := range t.negative {
		x = "(" + x + " NOT " + e.phrase(t, n) + ")"
	}
	return x
}

func (e sqliteEngine) match(t textQuery, viewerID string) predicate.Ticket {
	if len(t.positive) == 0 {
		return func(s *sql.Selector) {
			s.Where(sql.P(func(b *sql.Builder) {
				b.WriteString(s.C(ticket.FieldID)).WriteString(" NOT IN (SELECT sd.ticket_id FROM search_index JOIN search_documents sd ON sd.doc_id = search_index.rowid WHERE search_index MATCH ").
					Arg(e.expr(t, t.negative, "OR")).WriteString(")")
			}))
		}
	}
	return func(s *sql.Selector) {
		docs, index := sql.Table("search_documents").As("sd"), sql.Table("search_index").As("search_index")
		s.Join(docs).On(s.C(ticket.FieldID), docs.C("ticket_id"))
		s.Join(index).On(index.C("rowid"), docs.C("doc_id"))
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("search_index MATCH ").Arg(e.full(t))
			if t.public {
				b.WriteString(" AND sd.requester_id = ").Arg(viewerID)
			}
		}))
	}
}

func (sqliteEngine) rank(t textQuery) sql.Querier {
	internal := "1.0"
	if t.public {
		internal = "0.0"
	}
	// bm25 is lower for better matches; the subject counts most.
	return sql.Expr("-bm25(search_index, 10.0, 4.0, " + internal + ") AS rank")
}
