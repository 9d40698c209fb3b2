package search

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent/attachment"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/message"
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
	"has:attachment", "filename:report",
}

func TestEveryWordIsListed(t *testing.T) {
	var fields []Field
	var is, has []string
	for _, w := range everyWord {
		q, err := Parse(w)
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, q.Terms[0].Field)
		switch q.Terms[0].Field {
		case FieldIs:
			is = append(is, q.Terms[0].Values...)
		case FieldHas:
			has = append(has, q.Terms[0].Values...)
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
	for _, v := range hasValues {
		if !slices.Contains(has, v) {
			t.Errorf("has:%s is not in everyWord", v)
		}
	}
}

// column finds the table and column of each qualified column name in SQL
// written for PostgreSQL ("tickets"."assignee_id").
var column = regexp.MustCompile(`"(\w+)"\."(\w+)"`)

// TestWordsReadWhatTheySay checks readsOf against the SQL of each word's
// predicate, as an agent's and as a customer's: every column the predicate
// reads is declared, so a mark added to any of them is found by mayUse.
func TestWordsReadWhatTheySay(t *testing.T) {
	agent := &viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M7", Role: viewer.Agent}
	customer := &viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M8", Role: viewer.Customer}
	for _, w := range everyWord {
		q, err := Parse(w)
		if err != nil {
			t.Fatal(err)
		}
		term := q.Terms[0]
		for _, v := range []*viewer.Viewer{agent, customer} {
			p, err := filter(term, v, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			sel := entsql.Dialect(dialect.Postgres).Select(ticket.FieldID).From(entsql.Table(ticket.Table))
			p(sel)
			query, _ := sel.Query()
			r := readsOf(term.Field, first(term.Values))
			declared := map[string][]string{ticket.Table: r.ticket, user.Table: r.user, group.Table: r.group,
				attachment.Table: r.attachment, message.Table: r.message}
			for _, m := range column.FindAllStringSubmatch(query, -1) {
				table, col := m[1], m[2]
				if col == "id" {
					continue // keys say nothing of a row
				}
				if !slices.Contains(declared[table], col) {
					t.Errorf("%s (%s) reads %s.%s, which readsOf does not declare (SQL: %s)", w, v.Role, table, col, query)
				}
			}
		}
	}
}

// TestAttachmentWordsHideNotesFromCustomers: has: and filename: look into
// attachments with plain SQL, so they write the rule on internal notes
// themselves; a customer's subquery keeps to public messages, staff's
// does not, and a viewer of no known role gets the customer's.
func TestAttachmentWordsHideNotesFromCustomers(t *testing.T) {
	internal := regexp.MustCompile(`NOT "messages"\."internal"`)
	for _, w := range []string{"has:attachment", "-filename:report", `filename:"annual report"`, "filename:scan,report"} {
		q, err := Parse(w)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			v      *viewer.Viewer
			public bool
		}{
			{&viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M8", Role: viewer.Customer}, true},
			{&viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M9", Role: "UNKNOWN"}, true},
			{&viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M7", Role: viewer.Agent}, false},
			{&viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M6", Role: viewer.Admin}, false},
		} {
			c, err := compile(q, tc.v, time.Now())
			if err != nil {
				t.Fatalf("%s as %s: %v", w, tc.v.Role, err)
			}
			for _, d := range []string{dialect.Postgres, dialect.SQLite} {
				sel := entsql.Dialect(d).Select(ticket.FieldID).From(entsql.Table(ticket.Table))
				c.filters[0](sel)
				query, _ := sel.Query()
				if d == dialect.SQLite {
					query = strings.ReplaceAll(query, "`", `"`)
				}
				if got := internal.MatchString(query); got != tc.public {
					t.Errorf("%s as %s on %s: public messages only = %v, want %v (SQL: %s)", w, tc.v.Role, d, got, tc.public, query)
				}
			}
		}
	}
}

// TestLikeEscaping: a filename: value is matched literally, its LIKE
// wildcards and escape character escaped.
func TestLikeEscaping(t *testing.T) {
	for in, want := range map[string]string{"report": "report", "100%": `100\%`, "a_b": `a\_b`, `c:\x`: `c:\\x`, `%_\`: `\%\_\\`} {
		if got := likeEscaper.Replace(in); got != want {
			t.Errorf("likeEscaper(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMarkedFieldsAreRefusedWords iterates the marks of the schema: every
// word that reads a field marked @staffOnly on Ticket, a user's
// @contactData other than one's own, or any marked field of the
// attachments and messages has: and filename: look into, is refused to
// customers and allowed to agents; every other word is allowed to
// customers (has:attachment and filename: among them, which keep to
// public messages instead: TestAttachmentWordsHideNotesFromCustomers).
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
		for _, of := range []struct {
			s      ent.Interface
			fields []string
		}{{entschema.Attachment{}, r.attachment}, {entschema.Message{}, r.message}} {
			for f := range entschema.Marks(of.s) {
				if slices.Contains(of.fields, f) {
					return true
				}
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
