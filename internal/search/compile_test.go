package search

import (
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent/group"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// everyWord is one query per filter word: each filter and each kind of
// value it takes. TestEveryWordIsListed keeps it complete.
var everyWord = []string{
	"status:open", "priority:high",
	"assignee:me", "assignee:none", "assignee:ada@example.com",
	"requester:me", "requester:carl@example.com",
	"group:billing", "group:none", "tag:vip",
	"created:>7d", "updated:2025-01-01",
	"is:unassigned", "is:breached",
}

func TestEveryWordIsListed(t *testing.T) {
	var fields []Field
	var is []string
	for _, w := range everyWord {
		q, err := Parse(w)
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, q.Terms[0].Field)
		if q.Terms[0].Field == FieldIs {
			is = append(is, q.Terms[0].Values...)
		}
	}
	for _, f := range fieldNames {
		if f != FieldSort && !slices.Contains(fields, f) {
			t.Errorf("no word of %s: in everyWord", f)
		}
	}
	for _, v := range isValues {
		if !slices.Contains(is, v) {
			t.Errorf("is:%s is not in everyWord", v)
		}
	}
}

// column finds the table and column of each qualified column name in SQL
// written for PostgreSQL ("tickets"."assignee_id").
var column = regexp.MustCompile(`"(\w+)"\."(\w+)"`)

// TestWordsReadWhatTheySay checks readsOf against the SQL of each word's
// predicate: every column the predicate reads is declared, so a mark added
// to any of them is found by mayUse.
func TestWordsReadWhatTheySay(t *testing.T) {
	agent := &viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M7", Role: viewer.Agent}
	for _, w := range everyWord {
		q, err := Parse(w)
		if err != nil {
			t.Fatal(err)
		}
		term := q.Terms[0]
		p, err := filter(term, agent, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		sel := entsql.Dialect(dialect.Postgres).Select(ticket.FieldID).From(entsql.Table(ticket.Table))
		p(sel)
		query, _ := sel.Query()
		r := readsOf(term.Field, first(term.Values))
		declared := map[string][]string{ticket.Table: r.ticket, user.Table: r.user, group.Table: r.group}
		for _, m := range column.FindAllStringSubmatch(query, -1) {
			table, col := m[1], m[2]
			if col == "id" {
				continue // keys say nothing of a row
			}
			if !slices.Contains(declared[table], col) {
				t.Errorf("%s reads %s.%s, which readsOf does not declare (SQL: %s)", w, table, col, query)
			}
		}
	}
}

// TestMarkedFieldsAreRefusedWords iterates the marks of the schema: every
// word that reads a field marked @staffOnly on Ticket, or a user's
// @contactData other than one's own, is refused to customers and allowed
// to agents; every other word is allowed to customers.
func TestMarkedFieldsAreRefusedWords(t *testing.T) {
	customer := &viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M8", Role: viewer.Customer}
	agent := &viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M7", Role: viewer.Agent}
	hidden := func(r reads) bool {
		for f, m := range entschema.Marks(entschema.Ticket{}) {
			if m == entschema.StaffOnly && slices.Contains(r.ticket, f) {
				return true
			}
		}
		for f, m := range entschema.Marks(entschema.User{}) {
			if slices.Contains(r.user, f) && (m == entschema.StaffOnly || !r.own) {
				return true
			}
		}
		return false
	}
	refused := 0
	for _, w := range everyWord {
		q, err := Parse(w)
		if err != nil {
			t.Fatal(err)
		}
		_, err = compile(q, customer, time.Now())
		var ae *apierr.Error
		if hidden(readsOf(q.Terms[0].Field, first(q.Terms[0].Values))) {
			refused++
			if !errors.As(err, &ae) || ae.Code != apierr.Forbidden || ae.Field != "query" {
				t.Errorf("%s as a customer: %v, want FORBIDDEN", w, err)
			}
		} else if err != nil {
			t.Errorf("%s as a customer: %v", w, err)
		}
		if _, err := compile(q, agent, time.Now()); err != nil {
			t.Errorf("%s as an agent: %v", w, err)
		}
	}
	// is:breached (SLA due times) and assignee:EMAIL (staff addresses).
	if refused != 2 {
		t.Fatalf("%d words refused to customers, want 2", refused)
	}
}

// first is a term's first value ("" for a date).
func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}
