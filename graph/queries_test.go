package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/httpserver"
	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
)

// statements counts the SQL statements the ent driver runs, keeping the
// latest ones to show when a test fails.
type statements struct {
	n    atomic.Int64
	mu   sync.Mutex
	seen []string
}

func (s *statements) log(args ...any) {
	if len(args) == 0 {
		return
	}
	if m, ok := args[0].(string); ok && (strings.Contains(m, "Query") || strings.Contains(m, "Exec")) {
		s.n.Add(1)
		s.mu.Lock()
		s.seen = append(s.seen, m)
		if len(s.seen) > 300 {
			s.seen = s.seen[len(s.seen)-300:]
		}
		s.mu.Unlock()
	}
}

// last returns the last n statements.
func (s *statements) last(n int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := max(0, len(s.seen)-int(n))
	return strings.Join(s.seen[from:], "\n")
}

// ticketPage is what a ticket list shows: each ticket with its requester,
// assignee, group and latest messages.
const ticketPage = `query($first: Int!) { tickets(first: $first, orderBy: [{field: CREATED_AT, direction: DESC}]) {
	totalCount
	edges { node { id number subject status priority tags
		requester { id name email }
		assignee { id name }
		group { id name }
		messages(last: 3) { totalCount edges { node { id body internal createdAt author { id name } } } }
	} }
	pageInfo { hasNextPage endCursor }
} }`

// countedServer seeds tg's database with opts, then serves the API over a
// client whose statements counted records.
func countedServer(t *testing.T, tg dbtest.Target, opts seed.Options) (*seed.Result, *ent.Client, *statements, *httptest.Server) {
	t.Helper()
	tg.Open(t) // migrated
	db, err := database.OpenSQL(tg.DatabaseURL, tg.DataDir, database.Pool{}, tg.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := seed.Run(context.Background(), db, opts)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	counted := &statements{}
	client, _, err := database.Open(tg.DatabaseURL, tg.DataDir, tg.Keyring(t), ent.Debug(), ent.Log(counted.log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	accounts := auth.New(client, auth.Options{SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: 24 * time.Hour})
	resolver := &graph.Resolver{Client: client, Auth: accounts, Tickets: ticketing.New(client, ticketing.Options{}), MaxPageSize: 100}
	srv := httptest.NewServer(httpserver.Handler(slog.New(slog.NewTextHandler(io.Discard, nil)), resolver,
		httpserver.Options{DefaultPageSize: 20, MaxPageSize: 100}))
	t.Cleanup(srv.Close)
	return res, client, counted, srv
}

// TestTicketListQueries proves that a ticket list costs a constant number
// of SQL statements, however many tickets the page has (no N+1).
func TestTicketListQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		res, _, counted, srv := countedServer(t, tg, seed.Options{Tickets: 150, Messages: 900, Seed: 7})

		for _, who := range []struct{ role, email string }{{"Admin", res.Admin}, {"Agent", res.Agent}} {
			t.Run(who.role, func(t *testing.T) {
				token := gqlToken(t, srv.URL, who.email)
				cost := func(first int) (int64, int) {
					before := counted.n.Load()
					data := gql(t, srv.URL, token, ticketPage, map[string]any{"first": first})
					var page struct {
						Tickets struct {
							Edges []struct {
								Node struct {
									Requester struct{ Email *string }
									Messages  struct{ Edges []any }
								}
							}
						}
					}
					if err := json.Unmarshal(data, &page); err != nil {
						t.Fatal(err)
					}
					for _, e := range page.Tickets.Edges {
						if len(e.Node.Messages.Edges) == 0 {
							t.Fatalf("a ticket came without its latest messages: %s", data)
						}
					}
					return counted.n.Load() - before, len(page.Tickets.Edges)
				}
				small, n10 := cost(10)
				large, n100 := cost(100)
				if n10 != 10 || n100 < 11 {
					t.Fatalf("pages of %d and %d tickets; the data does not test anything", n10, n100)
				}
				t.Logf("statements: %d for 10 tickets, %d for %d tickets", small, large, n100)
				// A page that is not full is its own count
				// (ent/template/pagination.tmpl): one statement fewer.
				if large > small || large < small && n100 == 100 {
					t.Fatalf("a page of %d tickets costs %d statements, a page of 10 costs %d: something is loaded per ticket (N+1):\n%s", n100, large, small, counted.last(large))
				}
				// 3 to authenticate (session, user, groups) and 8 for the
				// page: count, tickets, requesters, assignees, groups, the
				// latest messages of all tickets (one windowed query), their
				// authors, and the message counts.
				if small > 12 {
					t.Fatalf("a ticket page costs %d statements; want a handful:\n%s", small, counted.last(small))
				}
			})
		}

		// A page reads the columns it shows: not password hashes, and not
		// phones, which would each be decrypted for nothing.
		t.Run("ReadsOnlyTheColumnsAsked", func(t *testing.T) {
			token := gqlToken(t, srv.URL, res.Admin)
			before := counted.n.Load()
			gql(t, srv.URL, token, ticketPage, map[string]any{"first": 20})
			sqls := counted.last(counted.n.Load() - before)
			for _, stmt := range strings.Split(sqls, "\n") {
				if strings.Contains(stmt, "password_hash") || strings.Contains(stmt, "phone") {
					t.Fatalf("the page read a column it does not show:\n%s", stmt)
				}
			}
		})

		// entgql counts every row in reach whenever pageInfo is selected;
		// ent/template/pagination.tmpl counts only for totalCount (or an
		// empty page), since pageInfo comes from the page itself.
		t.Run("CountedOnlyForTotalCount", func(t *testing.T) {
			token := gqlToken(t, srv.URL, res.Admin)
			page := func(fields string) (string, map[string]any) {
				before := counted.n.Load()
				data := gql(t, srv.URL, token, `{ tickets(first: 5) { edges { cursor } `+fields+` } }`, nil)
				var out struct{ Tickets map[string]any }
				if err := json.Unmarshal(data, &out); err != nil {
					t.Fatal(err)
				}
				return counted.last(counted.n.Load() - before), out.Tickets
			}
			sqls, got := page(`pageInfo { hasNextPage endCursor }`)
			if strings.Contains(sqls, "COUNT(") {
				t.Fatalf("a page without totalCount was counted:\n%s", sqls)
			}
			if info, _ := got["pageInfo"].(map[string]any); info["hasNextPage"] != true || info["endCursor"] == nil {
				t.Fatalf("pageInfo of the first 5 of 150 tickets: %v", got["pageInfo"])
			}
			sqls, got = page(`totalCount pageInfo { hasNextPage }`)
			if !strings.Contains(sqls, "COUNT(") || got["totalCount"] != float64(150) {
				t.Fatalf("totalCount = %v; statements:\n%s", got["totalCount"], sqls)
			}
			_, got = page(`pageInfo { hasNextPage }`)
			if info, _ := got["pageInfo"].(map[string]any); info["hasNextPage"] != true {
				t.Fatalf("pageInfo without totalCount: %v", got)
			}
		})

		// A first page with fewer tickets than asked for holds them all:
		// its length is the exact count, and nothing is counted. A full
		// page, or one after a cursor, is counted.
		t.Run("FirstPageNotFullIsItsOwnCount", func(t *testing.T) {
			token := gqlToken(t, srv.URL, res.Admin)
			page := func(args string) (string, int, int, string) {
				before := counted.n.Load()
				data := gql(t, srv.URL, token, `{ tickets(`+args+`) { totalCount edges { cursor } pageInfo { endCursor } } }`, nil)
				var out struct {
					Tickets struct {
						TotalCount int
						Edges      []any
						PageInfo   struct{ EndCursor string }
					}
				}
				if err := json.Unmarshal(data, &out); err != nil {
					t.Fatal(err)
				}
				return counted.last(counted.n.Load() - before), out.Tickets.TotalCount, len(out.Tickets.Edges), out.Tickets.PageInfo.EndCursor
			}
			sqls, total, n, _ := page(`first: 100, where: {status: OPEN}`)
			if strings.Contains(sqls, "COUNT(") || total != n || n == 0 {
				t.Fatalf("totalCount %d of a page of %d open tickets; statements:\n%s", total, n, sqls)
			}
			if sqls, total, n, _ = page(`last: 100, where: {status: OPEN}`); strings.Contains(sqls, "COUNT(") || total != n {
				t.Fatalf("totalCount %d of a last page of %d open tickets; statements:\n%s", total, n, sqls)
			}
			sqls, total, _, end := page(`first: 100`)
			if !strings.Contains(sqls, "COUNT(") || total != 150 {
				t.Fatalf("a full page: totalCount = %d; statements:\n%s", total, sqls)
			}
			if sqls, total, _, _ = page(`first: 100, after: "` + end + `"`); !strings.Contains(sqls, "COUNT(") || total != 150 {
				t.Fatalf("a page after a cursor: totalCount = %d; statements:\n%s", total, sqls)
			}
		})
	})
}

func gqlToken(t *testing.T, url, email string) string {
	t.Helper()
	data := gql(t, url, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": email, "p": seed.Password})
	var out struct{ Login struct{ Token string } }
	if err := json.Unmarshal(data, &out); err != nil || out.Login.Token == "" {
		t.Fatalf("login as %s: %s", email, data)
	}
	return out.Login.Token
}

func gql(t *testing.T, url, token, query string, vars map[string]any) json.RawMessage {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []any
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 || res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, raw)
	}
	return out.Data
}

// TestNestedPages proves that each ticket's page of messages in a list
// (one statement for all tickets: a LATERAL join on PostgreSQL, numbered
// rows on SQLite, ent/limitperrow.go) is that ticket's own page: the same
// messages, in the same order, with the same pageInfo, as the ticket's
// whole thread cut in Go, for every role (customers never see notes).
func TestNestedPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		res, _, _, srv := countedServer(t, tg, seed.Options{Tickets: 60, Messages: 400, Seed: 11})
		type page struct {
			PageInfo struct{ HasNextPage, HasPreviousPage bool }
			Edges    []struct{ Node struct{ ID string } }
		}
		type ticket struct {
			ID                  string
			Last, First, Thread page
		}
		const query = `{ tickets(first: 30, orderBy: {field: UPDATED_AT, direction: DESC}) { edges { node { id
			last: messages(last: 3) { pageInfo { hasNextPage hasPreviousPage } edges { node { id } } }
			first: messages(first: 2) { pageInfo { hasNextPage hasPreviousPage } edges { node { id } } }
			thread: messages(first: 90) { edges { node { id } } }
		} } } }`
		ids := func(p page) []string {
			var out []string
			for _, e := range p.Edges {
				out = append(out, e.Node.ID)
			}
			return out
		}
		for _, who := range []struct{ role, email string }{{"Admin", res.Admin}, {"Agent", res.Agent}, {"Customer", res.Customer}} {
			t.Run(who.role, func(t *testing.T) {
				data := gql(t, srv.URL, gqlToken(t, srv.URL, who.email), query, nil)
				var got struct {
					Tickets struct{ Edges []struct{ Node ticket } }
				}
				if err := json.Unmarshal(data, &got); err != nil {
					t.Fatal(err)
				}
				long := 0
				for _, e := range got.Tickets.Edges {
					tk := e.Node
					thread := ids(tk.Thread)
					if len(thread) == 90 {
						t.Fatalf("ticket %s has 90 messages or more: its whole thread is not known", tk.ID)
					}
					if len(thread) > 3 {
						long++
					}
					wantLast := thread[max(0, len(thread)-3):]
					wantFirst := thread[:min(2, len(thread))]
					if g := ids(tk.Last); !slices.Equal(g, wantLast) {
						t.Errorf("ticket %s: messages(last: 3) = %v, its thread ends %v", tk.ID, g, wantLast)
					}
					if g := ids(tk.First); !slices.Equal(g, wantFirst) {
						t.Errorf("ticket %s: messages(first: 2) = %v, its thread starts %v", tk.ID, g, wantFirst)
					}
					if g, w := tk.Last.PageInfo.HasPreviousPage, len(thread) > 3; g != w {
						t.Errorf("ticket %s: messages(last: 3) hasPreviousPage = %v with %d messages", tk.ID, g, len(thread))
					}
					if g, w := tk.First.PageInfo.HasNextPage, len(thread) > 2; g != w {
						t.Errorf("ticket %s: messages(first: 2) hasNextPage = %v with %d messages", tk.ID, g, len(thread))
					}
				}
				if len(got.Tickets.Edges) == 0 || long == 0 {
					t.Fatalf("%d tickets, %d with more than 3 messages: the data tests nothing", len(got.Tickets.Edges), long)
				}
			})
		}
	})
}

// TestTicketTally proves that an admin's totalCount of all tickets, which
// PostgreSQL answers from the tally (ent/tally.go), is exactly COUNT(*)
// through inserts, deletes, folding of the tally and TRUNCATE, and that
// counts with a filter or an agent's reach are still counted.
func TestTicketTally(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		res, client, counted, srv := countedServer(t, tg, seed.Options{Tickets: 40, Messages: 120, Seed: 5})
		ctx := context.Background()
		admin := gqlToken(t, srv.URL, res.Admin)
		agent := gqlToken(t, srv.URL, res.Agent)
		exec := func(q string) {
			t.Helper()
			if _, err := client.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		countOf := func(q string) int {
			t.Helper()
			rows, err := client.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
			}
			return n
		}
		total := func(token, where string) int {
			t.Helper()
			data := gql(t, srv.URL, token, `{ tickets(first: 5`+where+`) { totalCount } }`, nil)
			var got struct{ Tickets struct{ TotalCount int } }
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			return got.Tickets.TotalCount
		}
		check := func(when string) {
			t.Helper()
			if got, want := total(admin, ""), countOf(`SELECT COUNT(*) FROM tickets`); got != want {
				t.Errorf("%s: an admin's totalCount is %d, COUNT(*) is %d", when, got, want)
			}
			if got, want := total(admin, `, where: {status: OPEN}`), countOf(`SELECT COUNT(*) FROM tickets WHERE status = 'OPEN'`); got != want {
				t.Errorf("%s: an admin's totalCount of open tickets is %d, COUNT(*) is %d", when, got, want)
			}
			if got, all := total(agent, ""), countOf(`SELECT COUNT(*) FROM tickets`); got >= all || got == 0 {
				t.Errorf("%s: an agent's totalCount is %d of %d tickets: the agent's reach is not applied", when, got, all)
			}
		}
		check("after seeding")
		// Rows written with raw SQL, bypassing ent, are counted too: a
		// copy of some tickets under new ids and numbers, then deleted.
		exec(`CREATE TEMP TABLE copied AS SELECT * FROM tickets ORDER BY id LIMIT 7`)
		exec(`UPDATE copied SET id = 'TKCOPY' || number, number = number + 1000000`)
		exec(`INSERT INTO tickets SELECT * FROM copied`)
		check("after inserting 7")
		exec(`DELETE FROM tickets WHERE id IN (SELECT id FROM copied ORDER BY id LIMIT 3)`)
		check("after deleting 3")
		if tg.Dialect != dbtest.Postgres {
			return
		}
		// Many small changes, then a read that folds them: still exact.
		for range 300 {
			exec(`INSERT INTO tickets SELECT * FROM copied WHERE id = (SELECT id FROM copied ORDER BY id LIMIT 1)`)
			exec(`DELETE FROM tickets WHERE id = (SELECT id FROM copied ORDER BY id LIMIT 1)`)
		}
		if parts := countOf(`SELECT COUNT(*) FROM ticket_tally`); parts <= 256 {
			t.Fatalf("the tally holds %d rows after 600 changes; want more than the folding threshold", parts)
		}
		check("after 600 changes")
		deadline := time.Now().Add(10 * time.Second)
		for countOf(`SELECT COUNT(*) FROM ticket_tally`) > 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if parts := countOf(`SELECT COUNT(*) FROM ticket_tally`); parts != 1 {
			t.Errorf("the tally holds %d rows after a read; want them folded into 1", parts)
		}
		check("after folding")
		// The count of all tickets reads the tally, not the tickets.
		before := counted.n.Load()
		total(admin, "")
		ran := counted.last(counted.n.Load() - before)
		if !strings.Contains(ran, "ticket_tally") || strings.Contains(ran, `COUNT(DISTINCT "tickets"`) || strings.Contains(ran, `FROM "tickets"`) {
			t.Errorf("an admin's totalCount did not come from the tally alone:\n%s", ran)
		}
	})
}

// TestReplyStatements bounds the statements of a reply: the ticket's row
// is locked for most of them, and the ticket's other writers wait that
// long (a busy ticket's replies come one at a time).
func TestReplyStatements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		res, _, counted, srv := countedServer(t, tg, seed.Options{Tickets: 5, Messages: 20, Seed: 7})
		token := gqlToken(t, srv.URL, res.Agent)
		data := gql(t, srv.URL, token, `{ tickets(first: 1) { edges { node { id } } } }`, nil)
		var page struct {
			Tickets struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		if err := json.Unmarshal(data, &page); err != nil || len(page.Tickets.Edges) != 1 {
			t.Fatalf("no ticket to reply to: %s (%v)", data, err)
		}
		reply := `mutation($t: ID!) { addMessage(ticketID: $t, body: "On it.") { id } }`
		vars := map[string]any{"t": page.Tickets.Edges[0].Node.ID}
		gql(t, srv.URL, token, reply, vars) // the first reply opens the ticket
		before := counted.n.Load()
		gql(t, srv.URL, token, reply, vars)
		n := counted.n.Load() - before
		t.Logf("a reply: %d statements", n)
		// 3 to authenticate (session, user, groups), then 6 in the
		// transaction: lock the ticket (reach is decided on the locked
		// row), move its updatedAt, the message, its followers, the event
		// cursor (one UPDATE … RETURNING) and the event. It used to be
		// 12: reach read twice more and the cursor read back; and 15
		// before that.
		if n > 9 {
			t.Fatalf("a reply costs %d statements; want at most 9:\n%s", n, counted.last(n))
		}
	})
}
