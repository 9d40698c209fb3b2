package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/clock"
)

func TestNow(t *testing.T) {
	ctx := context.Background()
	before := time.Now()
	if got := clock.Now(ctx); got.Before(before) || time.Since(got) > time.Minute {
		t.Fatalf("Now without At = %v, want the wall clock", got)
	}
	if _, ok := clock.Set(ctx); ok {
		t.Fatal("Set without At")
	}
	past := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	at := clock.At(ctx, past)
	if got := clock.Now(at); !got.Equal(past) {
		t.Fatalf("Now under At = %v, want %v", got, past)
	}
	type other struct{}
	if got, ok := clock.Set(context.WithValue(at, other{}, 1)); !ok || !got.Equal(past) {
		t.Fatal("a derived context lost the time of At")
	}
}
