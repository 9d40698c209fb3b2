package live_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

func TestAgentsOnline(t *testing.T) {
	w := newWorld(t, dbtest.NewTarget(t, dbtest.SQLite))
	const ttl = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	hub := live.New(w.client, broker.NewMemory(), presence.NewMemory(), allowAll{}, live.Options{PresenceTTL: ttl}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	online := func() []globalid.ID {
		ids, err := hub.AgentsOnline(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	waitFor := func(what string, cond func([]globalid.ID) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(online()); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: online = %v", what, online())
			}
		}
	}
	_, agentConn, err := hub.Connect(as(w.agent), func(int, string) {})
	if err != nil {
		t.Fatal(err)
	}
	_, custConn, err := hub.Connect(as(w.customer), func(int, string) {})
	if err != nil {
		t.Fatal(err)
	}
	defer custConn.Close()
	t.Run("AStaffConnectionIsOnlineAtOnce", func(t *testing.T) {
		waitFor("the agent connected", func(ids []globalid.ID) bool { return slices.Contains(ids, w.agent.UserID) })
	})
	t.Run("StaysOnlineWhileConnected", func(t *testing.T) {
		time.Sleep(3 * ttl) // renewed, not lapsed
		if ids := online(); !slices.Contains(ids, w.agent.UserID) {
			t.Fatalf("after %v connected: online = %v", 3*ttl, ids)
		}
	})
	t.Run("CustomersAreNotAgentsOnline", func(t *testing.T) {
		if slices.Contains(online(), w.customer.UserID) {
			t.Fatal("a customer's connection made them an agent online")
		}
	})
	t.Run("LapsesAfterTheLastConnectionClosed", func(t *testing.T) {
		agentConn.Close()
		waitFor("the agent disconnected", func(ids []globalid.ID) bool { return !slices.Contains(ids, w.agent.UserID) })
	})
}
