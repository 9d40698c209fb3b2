package graph

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// TestListBatchEitherOrder proves that Ticket.followers costs the same
// statements for a list whether gqlgen resolves its elements one after the
// other or all at once, and shows each ticket what a lone load shows.
func TestListBatchEitherOrder(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	tg.Open(t).Close() // migrated
	db, err := database.OpenSQL(tg.DatabaseURL, tg.DataDir, database.Pool{}, tg.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = seed.Run(context.Background(), db, seed.Options{Tickets: 30, Messages: 60, Seed: 3})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	client := tg.OpenWith(t, tg.Keyring(t), ent.Debug(), ent.Log(func(args ...any) {
		if m, ok := args[0].(string); ok && (strings.Contains(m, "Query") || strings.Contains(m, "Exec")) {
			n.Add(1)
		}
	}))
	ctx := viewer.SystemContext(context.Background())
	tickets, err := client.Ticket.Query().Order(ticket.ByID()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tickets {
		if err := client.Follow.Create().SetTicketID(tk.ID).SetUserID(tk.RequesterID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r := &Resolver{Client: client}
	want := map[int][]*ent.User{}
	for i, tk := range tickets {
		if want[i], err = r.follows().Followers(ctx, tk); err != nil || len(want[i]) != 1 {
			t.Fatalf("followers of %s: %v, %v", tk.ID, want[i], err)
		}
	}
	// page returns, for each ticket, the context its followers resolve in
	// as the node of an edge of one connection.
	page := func() []context.Context {
		edges := make([]*ent.TicketEdge, len(tickets))
		for i, tk := range tickets {
			edges[i] = &ent.TicketEdge{Node: tk}
		}
		field := func(name string) graphql.CollectedField {
			return graphql.CollectedField{Field: &ast.Field{Name: name, Alias: name}}
		}
		list := graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "TicketConnection", Field: field("edges"), Result: edges})
		out := make([]context.Context, len(tickets))
		for i := range tickets {
			c := graphql.WithFieldContext(list, &graphql.FieldContext{Index: &i, Result: &edges[i]})
			c = graphql.WithFieldContext(c, &graphql.FieldContext{Object: "TicketEdge", Field: field("node"), Result: tickets[i]})
			out[i] = graphql.WithFieldContext(c, &graphql.FieldContext{Object: "Ticket", Field: field("followers"), IsResolver: true})
		}
		return out
	}
	check := func(t *testing.T, i int, got []*ent.User, err error) {
		if err != nil || !slices.EqualFunc(got, want[i], func(a, b *ent.User) bool { return a.ID == b.ID }) {
			t.Errorf("ticket %d: followers %v, %v; want %v", i, got, err, want[i])
		}
	}
	t.Run("OneAfterTheOther", func(t *testing.T) {
		before := n.Load()
		for i, c := range page() {
			got, err := r.followers(c, tickets[i])
			check(t, i, got, err)
		}
		if cost := n.Load() - before; cost != 2 {
			t.Fatalf("%d tickets cost %d statements, want 2 (follows, users)", len(tickets), cost)
		}
	})
	t.Run("Concurrently", func(t *testing.T) {
		before := n.Load()
		var wg sync.WaitGroup
		for i, c := range page() {
			wg.Go(func() {
				got, err := r.followers(c, tickets[i])
				check(t, i, got, err)
			})
		}
		wg.Wait()
		if cost := n.Load() - before; cost != 2 {
			t.Fatalf("%d tickets cost %d statements, want 2 (follows, users)", len(tickets), cost)
		}
	})
}
