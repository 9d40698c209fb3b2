package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/httpserver"
	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
)

// BenchmarkTicketPage is the list page of issue 15 (50 tickets with their
// people and last 3 messages, as an admin) through the whole HTTP handler
// in-process on SQLite, for the executor's time and allocations per
// request apart from the network and PostgreSQL (bench/ measures those):
//
//	go test ./graph -run '^$' -bench TicketPage -benchmem
func BenchmarkTicketPage(b *testing.B) {
	tg := dbtest.NewTarget(b, dbtest.SQLite)
	client := tg.Open(b) // migrated
	db, err := database.OpenSQL(tg.DatabaseURL, tg.DataDir, database.Pool{}, tg.Keyring(b))
	if err != nil {
		b.Fatal(err)
	}
	res, err := seed.Run(context.Background(), db, seed.Options{Tickets: 200, Messages: 1000, Seed: 7})
	db.Close()
	if err != nil {
		b.Fatal(err)
	}
	accounts := auth.New(client, auth.Options{SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: 24 * time.Hour})
	resolver := &graph.Resolver{Client: client, Auth: accounts, Tickets: ticketing.New(client, ticketing.Options{}), MaxPageSize: 100}
	h := httpserver.Handler(slog.New(slog.NewTextHandler(io.Discard, nil)), resolver, httpserver.Options{DefaultPageSize: 20, MaxPageSize: 100})
	do := func(token, query string, vars map[string]any) []byte {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("status %d: %.500s", rec.Code, rec.Body.Bytes())
		}
		return rec.Body.Bytes()
	}
	var login struct {
		Data struct{ Login struct{ Token string } }
	}
	_ = json.Unmarshal(do("", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": res.Admin, "p": seed.Password}), &login)
	token := login.Data.Login.Token
	const page = `{ tickets(first: 50, orderBy: {field: UPDATED_AT, direction: DESC}) { edges { node { id number subject status priority updatedAt
		requester { name email } assignee { name } group { name }
		messages(last: 3) { edges { node { body createdAt } } } } } } }`
	do(token, page, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		do(token, page, nil)
	}
}
