package search_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/search"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// fixture is a helpdesk with two customers, an agent of the Billing
// group, an agent of no group, an admin and their tickets.
type fixture struct {
	client  *ent.Client
	dialect string
	svc     *search.Service
	tickets *ticketing.Service
	sys     context.Context

	ann, bob, alice, zed, admin context.Context
	ids                         map[string]globalid.ID // by subject
	billing                     globalid.ID
	aliceID                     globalid.ID
}

func newFixture(t *testing.T, tg dbtest.Target) *fixture {
	t.Helper()
	client := tg.Open(t)
	d := dialect.SQLite
	if tg.Dialect == dbtest.Postgres {
		d = dialect.Postgres
	}
	f := &fixture{client: client, dialect: d, svc: search.New(client, d, search.Options{}), tickets: ticketing.New(client, ticketing.Options{}),
		sys: viewer.SystemContext(context.Background()), ids: map[string]globalid.ID{}}
	mkUser := func(email string, role user.Role) *ent.User {
		u, err := client.User.Create().SetEmail(email).SetName(strings.Split(email, "@")[0]).SetRole(role).Save(f.sys)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	ann, bob := mkUser("ann@example.com", user.RoleCUSTOMER), mkUser("bob@example.com", user.RoleCUSTOMER)
	alice, zed, admin := mkUser("alice@example.com", user.RoleAGENT), mkUser("zed@example.com", user.RoleAGENT), mkUser("root@example.com", user.RoleADMIN)
	g, err := client.Group.Create().SetName("Billing").AddMemberIDs(alice.ID).Save(f.sys)
	if err != nil {
		t.Fatal(err)
	}
	f.billing, f.aliceID = g.ID, alice.ID
	as := func(u *ent.User, role viewer.Role, groups ...globalid.ID) context.Context {
		return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Role: role, GroupIDs: groups})
	}
	f.ann, f.bob = as(ann, viewer.Customer), as(bob, viewer.Customer)
	f.alice, f.zed, f.admin = as(alice, viewer.Agent, g.ID), as(zed, viewer.Agent), as(admin, viewer.Admin)
	return f
}

// open creates a ticket as the customer in ctx, in the Billing group.
func (f *fixture) open(t *testing.T, ctx context.Context, subject, body string) globalid.ID {
	t.Helper()
	tk, err := f.tickets.Create(ctx, ticketing.NewTicket{Subject: subject, Body: body})
	if err != nil {
		t.Fatalf("creating %q: %v", subject, err)
	}
	if _, err := f.tickets.Update(f.admin, tk.ID, ent.UpdateTicketInput{GroupID: &f.billing}); err != nil {
		t.Fatal(err)
	}
	f.ids[subject] = tk.ID
	return tk.ID
}

func (f *fixture) reply(t *testing.T, ctx context.Context, id globalid.ID, body string, internal bool) {
	t.Helper()
	if _, err := f.tickets.Reply(ctx, id, body, internal); err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
}

// exec runs raw SQL written with ? placeholders on either database.
func (f *fixture) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if f.dialect == dialect.Postgres {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	if _, err := f.client.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// checkIndex fails the test when SQLite's FTS5 index disagrees with its
// content table (a trigger that deleted the wrong values).
func (f *fixture) checkIndex(t *testing.T) {
	t.Helper()
	if f.dialect != dialect.SQLite {
		return
	}
	if _, err := f.client.ExecContext(context.Background(), "INSERT INTO search_index (search_index, rank) VALUES ('integrity-check', 1)"); err != nil {
		t.Fatalf("FTS5 index inconsistent: %v", err)
	}
}

// subjects runs a search as ctx and returns the subjects of all results,
// following the pages.
func (f *fixture) subjects(t *testing.T, ctx context.Context, query string) []string {
	t.Helper()
	got, err := f.search(ctx, query, 100)
	if err != nil {
		t.Fatalf("search %q: %v", query, err)
	}
	return got
}

func (f *fixture) search(ctx context.Context, query string, pageSize int) ([]string, error) {
	var out []string
	var after *ent.Cursor
	for page := 0; page < 100; page++ {
		conn, err := f.svc.Search(ctx, query, after, pageSize)
		if err != nil {
			return nil, err
		}
		for _, e := range conn.Edges {
			out = append(out, e.Node.Subject)
		}
		if !conn.PageInfo.HasNextPage {
			return out, nil
		}
		after = conn.PageInfo.EndCursor
	}
	return nil, fmt.Errorf("%q: more than 100 pages: %q", query, out[:10])
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func wantSet(t *testing.T, query string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("search %q = %q, want (any order) %q", query, got, want)
	}
}

func wantOrder(t *testing.T, query string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("search %q = %q, want in this order %q", query, got, want)
	}
}

func wantCode(t *testing.T, err error, code apierr.Code, contains string) {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Message, contains) {
		t.Fatalf("error = %v, want %s containing %q", err, code, contains)
	}
}

func TestSearch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg)
		printer := f.open(t, f.ann, "Printer on fire", "The office printer is smoking")
		f.reply(t, f.alice, printer, "Escalated to the facilities team", false)
		f.reply(t, f.alice, printer, "customer seems grumpy about the invoice", true)
		refund := f.open(t, f.ann, "Refund for order 1234", "Please refund my last invoice")
		f.open(t, f.bob, "Cannot log in", "My password reset email never arrives")
		bobPrinter := f.open(t, f.bob, "Printer jams daily", "The paper printer jams every morning")
		f.open(t, f.bob, "Billing address change", "Please update the address on my invoice")

		t.Run("CustomerFindsOnlyOwnTickets", func(t *testing.T) {
			wantSet(t, "printer", f.subjects(t, f.ann, "printer"), "Printer on fire")
			wantSet(t, "printer", f.subjects(t, f.bob, "printer"), "Printer jams daily")
			wantSet(t, "invoice", f.subjects(t, f.bob, "invoice"), "Billing address change")
		})
		t.Run("InternalNotesNeverMatchForCustomers", func(t *testing.T) {
			wantSet(t, "grumpy", f.subjects(t, f.ann, "grumpy"))
			wantSet(t, "grumpy printer", f.subjects(t, f.ann, "printer grumpy"))
			wantSet(t, `"grumpy about"`, f.subjects(t, f.ann, `"grumpy about"`))
			// Excluding a word of an internal note excludes nothing for them.
			wantSet(t, "printer -grumpy", f.subjects(t, f.ann, "printer -grumpy"), "Printer on fire")
			wantSet(t, "-grumpy", f.subjects(t, f.ann, "-grumpy"), "Printer on fire", "Refund for order 1234")
		})
		t.Run("InternalNotesMatchForStaff", func(t *testing.T) {
			wantSet(t, "grumpy", f.subjects(t, f.alice, "grumpy"), "Printer on fire")
			wantSet(t, "grumpy", f.subjects(t, f.admin, "grumpy"), "Printer on fire")
			wantSet(t, "printer -grumpy", f.subjects(t, f.alice, "printer -grumpy"), "Printer jams daily")
			// Words may come from different messages of the ticket.
			wantSet(t, "facilities grumpy", f.subjects(t, f.alice, "facilities grumpy"), "Printer on fire")
		})
		t.Run("AgentsFindOnlyTicketsInReach", func(t *testing.T) {
			wantSet(t, "printer", f.subjects(t, f.zed, "printer"))
			wantSet(t, "", f.subjects(t, f.zed, ""))
		})
		t.Run("Stemming", func(t *testing.T) {
			wantSet(t, "jamming", f.subjects(t, f.alice, "jam"), "Printer jams daily")
			wantSet(t, "PRINTERS", f.subjects(t, f.alice, "PRINTERS"), "Printer on fire", "Printer jams daily")
		})
		t.Run("Phrases", func(t *testing.T) {
			wantSet(t, `"office printer"`, f.subjects(t, f.alice, `"office printer"`), "Printer on fire")
			wantSet(t, `"printer office"`, f.subjects(t, f.alice, `"printer office"`))
			wantSet(t, `"paper printer" jams`, f.subjects(t, f.alice, `"paper printer" jams`), "Printer jams daily")
			wantSet(t, `-"office printer" printer`, f.subjects(t, f.alice, `-"office printer" printer`), "Printer jams daily")
		})
		t.Run("Negation", func(t *testing.T) {
			wantSet(t, "invoice -refund", f.subjects(t, f.alice, "invoice -refund"), "Billing address change", "Printer on fire")
			wantSet(t, "-invoice", f.subjects(t, f.alice, "-invoice"), "Cannot log in", "Printer jams daily")
			wantSet(t, "-invoice -password", f.subjects(t, f.alice, "-invoice -password"), "Printer jams daily")
		})
		t.Run("EngineSyntaxInWordsIsJustText", func(t *testing.T) {
			// Words are handed to FTS5 and tsquery as quoted text, never as
			// their query syntax.
			for _, q := range []string{`AND OR NOT`, `NEAR(printer fire)`, `printer*`, `^printer`, `ab"cd`, `{subject}`,
				`'printer'`, `\\`, `!!printer`, `printer & fire | x`, `<->`, `"printer:*"`, `"a"" b"`, `-"NOT printer"`, `- -x`} {
				if q == `- -x` || q == `"a"" b"` {
					if _, err := f.svc.Search(f.alice, q, nil, 10); apierr.CodeOf(err) != apierr.BadUserInput {
						t.Errorf("search %q: %v, want BAD_USER_INPUT", q, err)
					}
					continue
				}
				if _, err := f.svc.Search(f.alice, q, nil, 10); err != nil {
					t.Errorf("search %q: %v", q, err)
				}
			}
			wantSet(t, "^printer", f.subjects(t, f.alice, "^printer* 'fire'"), "Printer on fire")
		})
		t.Run("EmptyQueryListsEverythingInReachNewestFirst", func(t *testing.T) {
			wantOrder(t, "", f.subjects(t, f.ann, ""), "Refund for order 1234", "Printer on fire")
		})
		t.Run("PunctuationOnlyMatchesAsNoText", func(t *testing.T) {
			wantOrder(t, "!!!", f.subjects(t, f.ann, "!!! ..."), "Refund for order 1234", "Printer on fire")
		})

		// Filters.
		tk := func(subject string) globalid.ID { return f.ids[subject] }
		high, urgent := priority.High, priority.Urgent
		open, pending := "OPEN", "PENDING"
		_, _ = open, pending
		mustUpdate := func(id globalid.ID, in ent.UpdateTicketInput) {
			t.Helper()
			if _, err := f.tickets.Update(f.admin, id, in); err != nil {
				t.Fatal(err)
			}
		}
		mustUpdate(refund, ent.UpdateTicketInput{Priority: &high, AssigneeID: &f.aliceID, AppendTags: []string{"refund", "vip"}})
		mustUpdate(bobPrinter, ent.UpdateTicketInput{Priority: &urgent, ClearGroup: true, AssigneeID: &f.aliceID, AppendTags: []string{"hardware"}})
		if err := f.tickets.SetStatus(f.admin, tk("Cannot log in"), "PENDING"); err != nil {
			t.Fatal(err)
		}

		t.Run("FilterStatus", func(t *testing.T) {
			wantSet(t, "status:pending", f.subjects(t, f.alice, "status:pending"), "Cannot log in")
			wantSet(t, "status:pending,open", f.subjects(t, f.alice, "status:pending,open"), "Cannot log in", "Printer on fire")
			wantSet(t, "-status:new", f.subjects(t, f.alice, "-status:new"), "Cannot log in", "Printer on fire")
		})
		t.Run("FilterPriority", func(t *testing.T) {
			wantSet(t, "priority:high,urgent", f.subjects(t, f.alice, "priority:high,urgent"), "Refund for order 1234", "Printer jams daily")
			wantSet(t, "priority:urgent printer", f.subjects(t, f.alice, "priority:urgent printer"), "Printer jams daily")
		})
		t.Run("FilterAssignee", func(t *testing.T) {
			wantSet(t, "assignee:me", f.subjects(t, f.alice, "assignee:me"), "Refund for order 1234", "Printer jams daily")
			wantSet(t, "assignee:alice@example.com", f.subjects(t, f.admin, "assignee:Alice@Example.com"), "Refund for order 1234", "Printer jams daily")
			wantSet(t, "assignee:none", f.subjects(t, f.alice, "assignee:none"), "Printer on fire", "Cannot log in", "Billing address change")
			wantSet(t, "is:unassigned", f.subjects(t, f.alice, "is:unassigned"), "Printer on fire", "Cannot log in", "Billing address change")
			wantSet(t, "-is:unassigned", f.subjects(t, f.alice, "-is:unassigned"), "Refund for order 1234", "Printer jams daily")
			wantSet(t, "assignee:me (customer)", f.subjects(t, f.ann, "assignee:me"))
		})
		t.Run("FilterGroup", func(t *testing.T) {
			wantSet(t, `group:"billing"`, f.subjects(t, f.admin, `group:"billing"`), "Printer on fire", "Refund for order 1234", "Cannot log in", "Billing address change")
			wantSet(t, "group:none", f.subjects(t, f.admin, "group:none"), "Printer jams daily")
		})
		t.Run("FilterRequester", func(t *testing.T) {
			wantSet(t, "requester:bob@example.com", f.subjects(t, f.alice, "requester:bob@example.com"), "Cannot log in", "Printer jams daily", "Billing address change")
			wantSet(t, "requester:me", f.subjects(t, f.ann, "requester:me"), "Printer on fire", "Refund for order 1234")
			wantSet(t, "requester:bob (as ann)", f.subjects(t, f.ann, "requester:bob@example.com"))
		})
		t.Run("FilterTag", func(t *testing.T) {
			wantSet(t, "tag:refund", f.subjects(t, f.alice, "tag:refund"), "Refund for order 1234")
			wantSet(t, "tag:vip,hardware", f.subjects(t, f.alice, "tag:vip,hardware"), "Refund for order 1234", "Printer jams daily")
			wantSet(t, "tag:refund tag:hardware", f.subjects(t, f.alice, "tag:refund tag:hardware"))
			wantSet(t, "-tag:refund invoice", f.subjects(t, f.alice, "-tag:refund invoice"), "Printer on fire", "Billing address change")
		})
		t.Run("FilterDates", func(t *testing.T) {
			now := time.Now().UTC().Truncate(time.Second)
			day := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
			f.exec(t, "UPDATE tickets SET created_at = ?, updated_at = ? WHERE id = ?", day, day, tk("Printer on fire"))
			f.exec(t, "UPDATE tickets SET created_at = ?, updated_at = ? WHERE id = ?", day.AddDate(0, 0, 1), now.Add(-10*24*time.Hour), tk("Refund for order 1234"))
			wantSet(t, "created:2026-01-15", f.subjects(t, f.ann, "created:2026-01-15"), "Printer on fire")
			wantSet(t, "created:>2026-01-15", f.subjects(t, f.ann, "created:>2026-01-15"), "Refund for order 1234")
			wantSet(t, "created:>=2026-01-15", f.subjects(t, f.ann, "created:>=2026-01-15"), "Printer on fire", "Refund for order 1234")
			wantSet(t, "created:<2026-01-16", f.subjects(t, f.ann, "created:<2026-01-16"), "Printer on fire")
			wantSet(t, "created:<=2026-01-16", f.subjects(t, f.ann, "created:<=2026-01-16"), "Printer on fire", "Refund for order 1234")
			wantSet(t, "updated:<7d", f.subjects(t, f.ann, "updated:<7d"))
			wantSet(t, "updated:<2w", f.subjects(t, f.ann, "updated:<2w"), "Refund for order 1234")
			wantSet(t, "updated:>7d", f.subjects(t, f.ann, "updated:>7d"), "Printer on fire", "Refund for order 1234")
			wantSet(t, "updated:>239h", f.subjects(t, f.ann, "updated:>239h"), "Printer on fire", "Refund for order 1234")
			wantSet(t, "updated:>241h", f.subjects(t, f.ann, "updated:>241h"), "Printer on fire")
			wantSet(t, "updated:<241h", f.subjects(t, f.ann, "updated:<241h"), "Refund for order 1234")
			wantSet(t, "updated:<239h", f.subjects(t, f.ann, "updated:<239h"))
		})
		t.Run("FilterBreached", func(t *testing.T) {
			past := time.Now().Add(-time.Hour)
			f.exec(t, "UPDATE tickets SET first_response_due_at = ?, first_responded_at = NULL WHERE id = ?", past, tk("Cannot log in"))
			f.exec(t, "UPDATE tickets SET resolution_due_at = ?, solved_at = ? WHERE id = ?", past.Add(-time.Hour), past, tk("Billing address change"))
			f.exec(t, "UPDATE tickets SET resolution_due_at = ?, solved_at = ? WHERE id = ?", past, past.Add(-time.Hour), tk("Printer jams daily"))
			wantSet(t, "is:breached", f.subjects(t, f.alice, "is:breached"), "Cannot log in", "Billing address change")
			_, err := f.svc.Search(f.ann, "is:breached", nil, 10)
			wantCode(t, err, apierr.Forbidden, "at 1:")
			_, err = f.svc.Search(f.ann, "printer assignee:alice@example.com", nil, 10)
			wantCode(t, err, apierr.Forbidden, "at 9:")
		})

		t.Run("RelevanceOrder", func(t *testing.T) {
			// Subject beats body; more occurrences beat fewer.
			wantOrder(t, "invoice", f.subjects(t, f.bob, "invoice"), "Billing address change")
			f.open(t, f.bob, "Invoice missing", "Where is my invoice? The invoice should have arrived")
			f.open(t, f.bob, "Question", "About an invoice")
			got := f.subjects(t, f.bob, "invoice")
			if len(got) != 3 || got[0] != "Invoice missing" {
				t.Errorf("search invoice = %q, want the ticket with it in the subject first", got)
			}
			f.open(t, f.bob, "Printer noise", "The printer makes noise")
			f.open(t, f.bob, "Scanner noise", "The scanner makes noise, printer printer printer")
			wantOrder(t, "printer", f.subjects(t, f.bob, "printer -jams"), "Printer noise", "Scanner noise")
			wantOrder(t, "noise scanner", f.subjects(t, f.bob, "noise scanner"), "Scanner noise")
			conn, err := f.svc.Search(f.bob, "invoice", nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			if conn.Edges[0].Rank == nil || *conn.Edges[0].Rank <= *conn.Edges[2].Rank {
				t.Errorf("ranks not decreasing: %v, %v", conn.Edges[0].Rank, conn.Edges[2].Rank)
			}
		})
		t.Run("SortNewestOldest", func(t *testing.T) {
			wantOrder(t, "invoice sort:newest", f.subjects(t, f.bob, "invoice sort:newest"), "Question", "Invoice missing", "Billing address change")
			wantOrder(t, "sort:newest", f.subjects(t, f.bob, "sort:newest -invoice -noise"), "Printer jams daily", "Cannot log in")
			wantOrder(t, "invoice sort:oldest", f.subjects(t, f.bob, "sort:oldest invoice"), "Billing address change", "Invoice missing", "Question")
			conn, err := f.svc.Search(f.bob, "invoice sort:newest", nil, 10)
			if err != nil || conn.Edges[0].Rank != nil {
				t.Fatalf("sort:newest edges carry a rank: %v %v", conn, err)
			}
		})
		t.Run("CursorPaginationWithoutGapsOrDuplicates", func(t *testing.T) {
			for i := 0; i < 7; i++ {
				f.open(t, f.ann, fmt.Sprintf("Paging %d", i), strings.Repeat("paging ", i+1))
			}
			// Equal ranks too: ties are broken by id.
			f.open(t, f.ann, "Tie one", "paging")
			f.open(t, f.ann, "Tie two", "paging")
			for _, q := range []string{"paging", "paging sort:newest", "paging sort:oldest", "sort:oldest"} {
				all, err := f.search(f.ann, q, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, size := range []int{1, 2, 4} {
					paged, err := f.search(f.ann, q, size)
					if err != nil {
						t.Fatal(err)
					}
					wantOrder(t, fmt.Sprintf("%s (pages of %d)", q, size), paged, all...)
				}
			}
			if got := f.subjects(t, f.ann, "paging"); len(got) != 9 || got[0] != "Paging 6" {
				t.Errorf("paging results = %q", got)
			}
		})
		t.Run("ErrCursorOfAnotherSort", func(t *testing.T) {
			conn, err := f.svc.Search(f.ann, "paging", nil, 1)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.Search(f.ann, "paging sort:newest", conn.PageInfo.EndCursor, 1)
			wantCode(t, err, apierr.BadUserInput, "cursor")
		})
		t.Run("ErrMalformedQuery", func(t *testing.T) {
			_, err := f.svc.Search(f.ann, "status:open created:>", nil, 10)
			wantCode(t, err, apierr.BadUserInput, `at 22: expected a date`)
			_, err = f.svc.Search(f.ann, strings.Repeat("a", search.DefaultMaxQueryLength+1), nil, 10)
			wantCode(t, err, apierr.BadUserInput, fmt.Sprintf("at %d:", search.DefaultMaxQueryLength+1))
		})
		t.Run("ErrMalformedQueryKeepsTheParseError", func(t *testing.T) {
			_, err := f.svc.Search(f.ann, "status:open created:>", nil, 10)
			var pe *search.ParseError
			if !errors.As(err, &pe) || pe.Pos != 22 {
				t.Fatalf("errors.As(%v, *ParseError) = %+v, want the parser's error at 22", err, pe)
			}
			var e *apierr.Error
			if !errors.As(err, &e) || e.Message != pe.Error() || e.Field != "query" {
				t.Fatalf("client error %+v, want the parser's words alone, at query", e)
			}
		})
		t.Run("ErrAnonymous", func(t *testing.T) {
			_, err := f.svc.Search(context.Background(), "printer", nil, 10)
			wantCode(t, err, apierr.Unauthenticated, "")
		})
	})
}

func TestIndexFollowsTransactions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg)
		id := f.open(t, f.ann, "Original subject", "first words")

		t.Run("SubjectChangeSearchableAfterCommit", func(t *testing.T) {
			subject := "Renamed zeppelin"
			if _, err := f.tickets.Update(f.admin, id, ent.UpdateTicketInput{Subject: &subject}); err != nil {
				t.Fatal(err)
			}
			wantSet(t, "zeppelin", f.subjects(t, f.ann, "zeppelin"), "Renamed zeppelin")
			wantSet(t, "original", f.subjects(t, f.ann, "original"))
			// The messages are still indexed after the rebuild of the document.
			wantSet(t, "first", f.subjects(t, f.ann, "first words"), "Renamed zeppelin")
			f.checkIndex(t)
		})
		t.Run("MessageSearchableAfterCommit", func(t *testing.T) {
			f.reply(t, f.ann, id, "a late hippopotamus", false)
			wantSet(t, "hippopotamus", f.subjects(t, f.ann, "hippopotamus"), "Renamed zeppelin")
			f.checkIndex(t)
		})
		t.Run("RolledBackChangesAreNot", func(t *testing.T) {
			tx, err := f.client.Tx(f.sys)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Ticket.UpdateOneID(id).SetSubject("Rolled back armadillo").Exec(f.sys); err != nil {
				t.Fatal(err)
			}
			if err := tx.Message.Create().SetTicketID(id).SetAuthorID(f.aliceID).SetBody("rolled back platypus").Exec(f.sys); err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			wantSet(t, "armadillo", f.subjects(t, f.admin, "armadillo"))
			wantSet(t, "platypus", f.subjects(t, f.admin, "platypus"))
			wantSet(t, "zeppelin", f.subjects(t, f.admin, "zeppelin"), "Renamed zeppelin")
			f.checkIndex(t)
		})
		t.Run("RawInsertsAreIndexed", func(t *testing.T) {
			// A bulk seed writes with plain SQL, past ent's hooks.
			var requester string
			for _, u := range f.client.User.Query().Where(user.Email("bob@example.com")).AllX(f.sys) {
				requester = string(u.ID)
			}
			now := time.Now()
			tid, mid := string(globalid.New(globalid.PrefixTicket)), string(globalid.New(globalid.PrefixMessage))
			f.exec(t, `INSERT INTO tickets (id, created_at, updated_at, number, subject, status, priority, channel, tags, requester_id)
				VALUES (?, ?, ?, 999, 'Seeded walrus', 'NEW', 2, 'API', '[]', ?)`, tid, now, now, requester)
			mid2 := string(globalid.New(globalid.PrefixMessage))
			// Two messages in one statement, as a batched import sends them.
			f.exec(t, `INSERT INTO messages (id, created_at, updated_at, body, internal, ticket_id, author_id)
				VALUES (?, ?, ?, 'seeded narwhal', ?, ?, ?), (?, ?, ?, 'seeded manatee', ?, ?, ?)`,
				mid, now, now, false, tid, requester, mid2, now, now, true, tid, requester)
			wantSet(t, "walrus narwhal", f.subjects(t, f.bob, "walrus narwhal"), "Seeded walrus")
			wantSet(t, "manatee (internal, customer)", f.subjects(t, f.bob, "manatee"))
			wantSet(t, "manatee (internal, admin)", f.subjects(t, f.admin, "manatee narwhal"), "Seeded walrus")
			f.checkIndex(t)
		})
		t.Run("ReindexAndLanguageChange", func(t *testing.T) {
			if err := search.Reindex(f.sys, f.client); err != nil {
				t.Fatal(err)
			}
			wantSet(t, "hippopotamus", f.subjects(t, f.ann, "hippopotamus"), "Renamed zeppelin")
			wantSet(t, "walrus narwhal", f.subjects(t, f.bob, "walrus narwhal"), "Seeded walrus")
			// "simple" does not stem: "zeppelins" no longer finds "zeppelin".
			if err := search.Install(f.sys, f.client, "simple"); err != nil {
				t.Fatal(err)
			}
			f.svc = search.New(f.client, f.dialect, search.Options{Language: "simple"})
			wantSet(t, "zeppelins (simple)", f.subjects(t, f.ann, "zeppelins"))
			wantSet(t, "zeppelin (simple)", f.subjects(t, f.ann, "zeppelin"), "Renamed zeppelin")
			if err := search.Install(f.sys, f.client, search.DefaultLanguage); err != nil {
				t.Fatal(err)
			}
			f.svc = search.New(f.client, f.dialect, search.Options{})
			wantSet(t, "zeppelins (english)", f.subjects(t, f.ann, "zeppelins"), "Renamed zeppelin")
			f.checkIndex(t)
		})
		t.Run("InstallAgainChangesNothing", func(t *testing.T) {
			for range 2 {
				if err := search.Install(f.sys, f.client, search.DefaultLanguage); err != nil {
					t.Fatal(err)
				}
			}
			f.reply(t, f.ann, id, "a second capybara", false)
			wantSet(t, "capybara zeppelins", f.subjects(t, f.ann, "capybara zeppelins"), "Renamed zeppelin")
			f.checkIndex(t)
		})
		t.Run("InstallReplacesChangedTriggers", func(t *testing.T) {
			// An index installed by an older version, whose trigger on new
			// messages differs: Install sees the statements changed and
			// puts the current trigger in its place.
			if f.dialect == dialect.Postgres {
				f.exec(t, `CREATE OR REPLACE FUNCTION search_messages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`)
			} else {
				f.exec(t, `DROP TRIGGER search_messages_insert`)
				f.exec(t, `CREATE TRIGGER search_messages_insert AFTER INSERT ON messages BEGIN SELECT 1; END`)
			}
			f.exec(t, `UPDATE search_settings SET value = 'older' WHERE name = 'schema'`)
			if err := search.Install(f.sys, f.client, search.DefaultLanguage); err != nil {
				t.Fatal(err)
			}
			f.reply(t, f.ann, id, "a returning quokka", false)
			wantSet(t, "quokka", f.subjects(t, f.ann, "quokka"), "Renamed zeppelin")
			f.checkIndex(t)
		})
		t.Run("RawMessageEditsAndDeletesAreIndexed", func(t *testing.T) {
			// The API never edits or deletes messages; SQL may.
			other := f.open(t, f.ann, "Edited kestrel", "original marmot")
			f.exec(t, `UPDATE messages SET body = 'edited ocelot' WHERE ticket_id = ?`, other)
			wantSet(t, "marmot", f.subjects(t, f.ann, "marmot"))
			wantSet(t, "ocelot", f.subjects(t, f.ann, "ocelot"), "Edited kestrel")
			f.exec(t, `UPDATE messages SET internal = ? WHERE ticket_id = ?`, true, other)
			wantSet(t, "ocelot (now internal, customer)", f.subjects(t, f.ann, "ocelot"))
			wantSet(t, "ocelot (now internal, admin)", f.subjects(t, f.admin, "ocelot"), "Edited kestrel")
			f.exec(t, `UPDATE messages SET ticket_id = ? WHERE ticket_id = ?`, id, other)
			wantSet(t, "ocelot (moved)", f.subjects(t, f.admin, "ocelot"), "Renamed zeppelin")
			f.exec(t, `DELETE FROM messages WHERE body = 'edited ocelot'`)
			wantSet(t, "ocelot (deleted)", f.subjects(t, f.admin, "ocelot"))
			wantSet(t, "kestrel", f.subjects(t, f.admin, "kestrel"), "Edited kestrel")
			f.checkIndex(t)
		})
		t.Run("RequesterChangedByImportMovesTheTicket", func(t *testing.T) {
			// An import upserts tickets with plain SQL and may give one to
			// another customer: only the new requester finds it then.
			moved := f.open(t, f.ann, "Moved heron", "a wandering heron")
			var bob string
			for _, u := range f.client.User.Query().Where(user.Email("bob@example.com")).AllX(f.sys) {
				bob = string(u.ID)
			}
			f.exec(t, `UPDATE tickets SET requester_id = ? WHERE id = ?`, bob, moved)
			wantSet(t, "heron (old requester)", f.subjects(t, f.ann, "heron"))
			wantSet(t, "heron (new requester)", f.subjects(t, f.bob, "heron"), "Moved heron")
			f.checkIndex(t)
		})
		t.Run("ErrUnknownLanguage", func(t *testing.T) {
			err := search.Install(f.sys, f.client, "klingon")
			if f.dialect == dialect.Postgres && (err == nil || !strings.Contains(err.Error(), "klingon")) {
				t.Fatalf("search.Install(klingon) = %v, want an error naming it", err)
			}
			if err := search.Install(f.sys, f.client, "Robert'); DROP TABLE tickets; --"); err == nil {
				t.Fatal("a malformed language was accepted")
			}
		})
		t.Run("OversizedDocumentDoesNotFailWrites", func(t *testing.T) {
			// More distinct words than a PostgreSQL tsvector holds (1 MB):
			// the message is stored; what does not fit is not indexed.
			var body strings.Builder
			for i := range 100000 {
				fmt.Fprintf(&body, "w%06d ", i)
			}
			now := time.Now()
			f.exec(t, `INSERT INTO messages (id, created_at, updated_at, body, internal, ticket_id, author_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				string(globalid.New(globalid.PrefixMessage)), now, now, body.String(), false, id, f.aliceID)
			f.reply(t, f.ann, id, "after the flood", false)
			wantSet(t, "hippopotamus", f.subjects(t, f.ann, "hippopotamus"), "Renamed zeppelin")
			f.checkIndex(t)
		})
	})
}

// attach puts a file on a message, as internal/attachments does once a
// message is written (the blob itself is not needed to search).
func (f *fixture) attach(t *testing.T, msg *ent.Message, filename string) {
	t.Helper()
	err := f.client.Attachment.Create().SetFilename(filename).SetSize(1).SetContentType("application/octet-stream").
		SetSha256(strings.Repeat("ab", 32)).SetUploaderID(msg.AuthorID).
		SetMessageID(msg.ID).SetTicketID(msg.TicketID).Exec(f.sys)
	if err != nil {
		t.Fatalf("attaching %q: %v", filename, err)
	}
}

// opening is the first message of a ticket.
func (f *fixture) opening(t *testing.T, id globalid.ID) *ent.Message {
	t.Helper()
	m, err := f.client.Message.Query().Where(message.TicketID(id)).Order(ent.Asc(message.FieldCreatedAt)).First(f.sys)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) note(t *testing.T, ctx context.Context, id globalid.ID, body string, internal bool) *ent.Message {
	t.Helper()
	m, err := f.tickets.Reply(ctx, id, body, internal)
	if err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
	return m
}

func TestSearchAttachments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg)
		// Ann's tickets: a file on her opening message; a file only on an
		// internal note; no file; a public file and a note's file.
		invoice := f.open(t, f.ann, "Invoice dispute", "The amount is wrong")
		f.attach(t, f.opening(t, invoice), "Invoice_2026-03.PDF")
		noteOnly := f.open(t, f.ann, "Note only", "Something is off")
		f.attach(t, f.note(t, f.alice, noteOnly, "see the audit", true), "secret-audit_notes.txt")
		f.open(t, f.ann, "No files", "Nothing attached here")
		mixed := f.open(t, f.ann, "Mixed files", "A photo follows")
		f.attach(t, f.note(t, f.ann, mixed, "here it is", false), "photo 100%.jpg")
		f.attach(t, f.note(t, f.ann, mixed, "and another", false), "Über-Bericht.pdf")
		f.attach(t, f.note(t, f.alice, mixed, "plan for the escalation", true), "escalation_plan.docx")
		// Bob's ticket: not in Ann's reach.
		bobs := f.open(t, f.bob, "Bob's invoice", "Attached")
		f.attach(t, f.opening(t, bobs), "invoice_bob.pdf")
		// A pending upload of Ann's, on no message yet.
		var annID globalid.ID
		for _, u := range f.client.User.Query().Where(user.Email("ann@example.com")).AllX(f.sys) {
			annID = u.ID
		}
		if err := f.client.Attachment.Create().SetFilename("pending-draft.txt").SetSize(1).SetContentType("text/plain").
			SetSha256(strings.Repeat("cd", 32)).SetUploaderID(annID).Exec(f.sys); err != nil {
			t.Fatal(err)
		}
		all := []string{"Invoice dispute", "Note only", "No files", "Mixed files", "Bob's invoice"}

		t.Run("HasAttachmentForStaff", func(t *testing.T) {
			wantSet(t, "has:attachment", f.subjects(t, f.alice, "has:attachment"), "Invoice dispute", "Note only", "Mixed files", "Bob's invoice")
			wantSet(t, "has:attachment (admin)", f.subjects(t, f.admin, "HAS:Attachment"), "Invoice dispute", "Note only", "Mixed files", "Bob's invoice")
			wantSet(t, "-has:attachment", f.subjects(t, f.alice, "-has:attachment"), "No files")
			// Zed's reach holds no ticket: files do not widen it.
			wantSet(t, "has:attachment (zed)", f.subjects(t, f.zed, "has:attachment"))
		})
		t.Run("HasAttachmentForCustomersOnlyOnPublicMessages", func(t *testing.T) {
			// Note only's file is on an internal note: Ann's ticket has no
			// file she may see, with or without the minus.
			wantSet(t, "has:attachment", f.subjects(t, f.ann, "has:attachment"), "Invoice dispute", "Mixed files")
			wantSet(t, "-has:attachment", f.subjects(t, f.ann, "-has:attachment"), "Note only", "No files")
			wantSet(t, "has:attachment (bob)", f.subjects(t, f.bob, "has:attachment"), "Bob's invoice")
		})
		t.Run("FilenameSubstringAnyCase", func(t *testing.T) {
			for _, q := range []string{"filename:invoice", "filename:INVOICE", "filename:Voic", "filename:e_2026-03.pdf"} {
				wantSet(t, q+" (ann)", f.subjects(t, f.ann, q), "Invoice dispute")
			}
			wantSet(t, "filename:.PDF (ann)", f.subjects(t, f.ann, "filename:.PDF"), "Invoice dispute", "Mixed files")
			wantSet(t, "filename:invoice (alice)", f.subjects(t, f.alice, "filename:invoice"), "Invoice dispute", "Bob's invoice")
			wantSet(t, "filename:2026-03.pdf", f.subjects(t, f.alice, "filename:2026-03.pdf"), "Invoice dispute")
			wantSet(t, "filename:invoices", f.subjects(t, f.alice, "filename:invoices"))
			// Letters beyond ASCII match as written on both databases (and
			// ASCII letters around them in any case).
			wantSet(t, "filename:Über-BERICHT", f.subjects(t, f.ann, "filename:Über-BERICHT"), "Mixed files")
		})
		t.Run("FilenameQuotedAndLists", func(t *testing.T) {
			wantSet(t, `filename:"photo 100"`, f.subjects(t, f.ann, `filename:"photo 100"`), "Mixed files")
			wantSet(t, `filename:"photo  100"`, f.subjects(t, f.ann, `filename:"photo  100"`))
			wantSet(t, "filename:bob,photo", f.subjects(t, f.alice, "filename:bob,photo"), "Bob's invoice", "Mixed files")
			wantSet(t, "filename:secret,photo", f.subjects(t, f.alice, "filename:secret,photo"), "Note only", "Mixed files")
			wantSet(t, "filename:secret,photo (ann)", f.subjects(t, f.ann, "filename:secret,photo"), "Mixed files")
		})
		t.Run("FilenameOfInternalNoteNeverFindsForCustomers", func(t *testing.T) {
			// Staff find the tickets by their notes' files...
			wantSet(t, "filename:secret (alice)", f.subjects(t, f.alice, "filename:secret"), "Note only")
			wantSet(t, "filename:escalation (alice)", f.subjects(t, f.alice, "filename:escalation"), "Mixed files")
			// ...the requester never: not alone, not with other words or
			// filters, not by exclusion, not by a list, not by bisecting
			// the name letter by letter.
			for _, q := range []string{"filename:secret", "filename:secret-audit_notes.txt", "filename:AUDIT", "filename:escalation",
				"filename:escalation_plan", "filename:.docx", "filename:.txt", "filename:secret,escalation", "filename:secret has:attachment",
				"off filename:audit", "filename:escalation status:new", "filename:escalation sort:oldest", "filename:s filename:e filename:c"} {
				wantSet(t, q+" (ann)", f.subjects(t, f.ann, q))
			}
			// Excluding a note's file excludes nothing for her.
			wantSet(t, "-filename:secret (ann)", f.subjects(t, f.ann, "-filename:secret"), "Invoice dispute", "Note only", "No files", "Mixed files")
			wantSet(t, "-filename:escalation (ann)", f.subjects(t, f.ann, "-filename:escalation"), "Invoice dispute", "Note only", "No files", "Mixed files")
			wantSet(t, "-filename:escalation (alice)", f.subjects(t, f.alice, "-filename:escalation"), "Invoice dispute", "Note only", "No files", "Bob's invoice")
		})
		t.Run("FilenameWildcardsAreLiteral", func(t *testing.T) {
			wantSet(t, "filename:%", f.subjects(t, f.alice, "filename:%"), "Mixed files")
			wantSet(t, "filename:100%", f.subjects(t, f.alice, "filename:100%"), "Mixed files")
			wantSet(t, "filename:%.jpg", f.subjects(t, f.alice, "filename:%.jpg"), "Mixed files")
			wantSet(t, "filename:%%", f.subjects(t, f.alice, "filename:%%"))
			wantSet(t, "filename:i%e", f.subjects(t, f.alice, "filename:i%e"))
			// _ is one character for LIKE: matched literally, it finds the
			// names with an underscore (photo 100%.jpg and Über-Bericht.pdf
			// have none), and Invoice_ but not Invoice-.
			wantSet(t, "filename:_ (ann)", f.subjects(t, f.ann, "filename:_"), "Invoice dispute")
			wantSet(t, "filename:_ (alice)", f.subjects(t, f.alice, "filename:_"), "Invoice dispute", "Note only", "Mixed files", "Bob's invoice")
			wantSet(t, "filename:invoice_2", f.subjects(t, f.alice, "filename:invoice_2"), "Invoice dispute")
			wantSet(t, "filename:photo_100", f.subjects(t, f.alice, "filename:photo_100"))
			wantSet(t, "filename:__", f.subjects(t, f.alice, "filename:__"))
			wantSet(t, `filename:\`, f.subjects(t, f.alice, `filename:\`))
			wantSet(t, `filename:\%`, f.subjects(t, f.alice, `filename:\%`))
			wantSet(t, `filename:0\%`, f.subjects(t, f.alice, `filename:0\%`))
			wantSet(t, `filename:'`, f.subjects(t, f.alice, `filename:'`))
		})
		t.Run("PendingUploadsAreOnNoTicket", func(t *testing.T) {
			wantSet(t, "filename:pending (ann)", f.subjects(t, f.ann, "filename:pending"))
			wantSet(t, "filename:pending (admin)", f.subjects(t, f.admin, "filename:pending"))
		})
		t.Run("CombinedWithTextAndFilters", func(t *testing.T) {
			wantSet(t, "amount filename:pdf", f.subjects(t, f.ann, "amount filename:pdf"), "Invoice dispute")
			wantSet(t, "amount -filename:pdf", f.subjects(t, f.ann, "amount -filename:pdf"))
			wantSet(t, "photo has:attachment", f.subjects(t, f.ann, "photo has:attachment"), "Mixed files")
			wantSet(t, "has:attachment -filename:invoice", f.subjects(t, f.ann, "has:attachment -filename:invoice"), "Mixed files")
			wantSet(t, "filename:pdf requester:bob@example.com", f.subjects(t, f.alice, "filename:pdf requester:bob@example.com"), "Bob's invoice")
			wantSet(t, "filename:pdf filename:photo", f.subjects(t, f.alice, "filename:pdf filename:photo"), "Mixed files")
			wantSet(t, "status:new,open filename:pdf -invoice", f.subjects(t, f.alice, "status:new,open filename:pdf -invoice"), "Mixed files")
			wantSet(t, "-has:attachment nothing", f.subjects(t, f.alice, "-has:attachment nothing"), "No files")
			// Words search the text, not file names.
			wantSet(t, "bericht (as a word)", f.subjects(t, f.alice, "bericht"))
			wantOrder(t, "filename:pdf sort:oldest", f.subjects(t, f.alice, "filename:pdf sort:oldest"), "Invoice dispute", "Mixed files", "Bob's invoice")
			wantOrder(t, "has:attachment (newest first)", f.subjects(t, f.alice, "has:attachment"), "Bob's invoice", "Mixed files", "Note only", "Invoice dispute")
			wantSet(t, "-has:attachment has:attachment", f.subjects(t, f.alice, "-has:attachment has:attachment"))
			wantSet(t, "(everything)", f.subjects(t, f.alice, ""), all...)
		})
		t.Run("RankedByTheWordsOnly", func(t *testing.T) {
			// The filter keeps tickets; the words rank them as without it.
			conn, err := f.svc.Search(f.ann, "photo filename:jpg", nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := f.svc.Search(f.ann, "photo", nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(conn.Edges) != 1 || len(plain.Edges) != 1 || conn.Edges[0].Rank == nil || *conn.Edges[0].Rank != *plain.Edges[0].Rank {
				t.Fatalf("photo filename:jpg = %+v, photo = %+v: want one ticket ranked alike", conn.Edges, plain.Edges)
			}
		})
		t.Run("MovedMessageTakesItsFilesAlong", func(t *testing.T) {
			// SQL may move a message (an import's upsert) without its
			// attachments' ticket_id: the file is then found through
			// neither ticket rather than through the wrong one.
			moved := f.open(t, f.ann, "Moved file", "one")
			f.attach(t, f.note(t, f.ann, moved, "with a file", false), "wandering-walrus.png")
			wantSet(t, "filename:walrus", f.subjects(t, f.ann, "filename:walrus"), "Moved file")
			f.exec(t, `UPDATE messages SET ticket_id = ? WHERE body = 'with a file'`, bobs)
			wantSet(t, "filename:walrus (ann)", f.subjects(t, f.ann, "filename:walrus"))
			wantSet(t, "filename:walrus (bob)", f.subjects(t, f.bob, "filename:walrus"))
			wantSet(t, "filename:walrus (admin)", f.subjects(t, f.admin, "filename:walrus"))
		})
		t.Run("ErrMalformedFilename", func(t *testing.T) {
			for _, tc := range []struct{ q, msg string }{
				{"filename:", `at 10: expected a file name or part of one (in quotes if it has spaces) after "filename:"`},
				{"invoice filename: pdf", `at 18: expected a file name or part of one`},
				{"filename:pdf,", `at 14: expected a file name or part of one`},
				{`filename:""`, `at 10: expected text between the quotes`},
				{"filename:" + strings.Repeat("x", 256), `at 10: expected a file name of at most 255 bytes after "filename:"`},
				{"has:file", `at 5: expected what the ticket has (attachment) after "has:"`},
				{"has:attachments", `at 5: expected what the ticket has (attachment) after "has:"`},
				{"has:", `at 5: expected what the ticket has (attachment)`},
				{"has:attachment,attachment", `at 15: expected one value after "has:"`},
			} {
				for _, ctx := range []context.Context{f.ann, f.alice} {
					_, err := f.svc.Search(ctx, tc.q, nil, 10)
					wantCode(t, err, apierr.BadUserInput, tc.msg)
					var e *apierr.Error
					if errors.As(err, &e) && e.Field != "query" {
						t.Errorf("%q: error at %q, want query", tc.q, e.Field)
					}
				}
			}
			// The longest file name is a value still.
			long := strings.Repeat("x", 255)
			wantSet(t, "filename:x*255", f.subjects(t, f.alice, "filename:"+long))
		})
	})
}
