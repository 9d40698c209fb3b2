package wallboard

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBoard(t *testing.T) {
	t.Run("WaitersShareOneComputation", func(t *testing.T) {
		b := &board{}
		var computed atomic.Int64
		release := make(chan struct{})
		compute := func(context.Context) (*Wallboard, error) {
			computed.Add(1)
			<-release
			return &Wallboard{New: 1}, nil
		}
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if w, err := b.get(context.Background(), 7, 0, 0, compute); err != nil || w.New != 1 {
					t.Errorf("get = %v, %v", w, err)
				}
			}()
		}
		time.Sleep(50 * time.Millisecond) // let them all wait
		close(release)
		wg.Wait()
		if n := computed.Load(); n != 1 {
			t.Fatalf("20 screens waiting for one change cost %d computations", n)
		}
		if _, err := b.get(context.Background(), 7, 0, 0, compute); err != nil || computed.Load() != 1 {
			t.Fatalf("a change already included was computed again (%d, %v)", computed.Load(), err)
		}
	})
	t.Run("AFailedComputationIsRetriedByTheNextScreen", func(t *testing.T) {
		b := &board{}
		first := make(chan struct{})
		var calls atomic.Int64
		compute := func(ctx context.Context) (*Wallboard, error) {
			if calls.Add(1) == 1 {
				close(first)
				<-ctx.Done() // the screen that computes goes away
				return nil, ctx.Err()
			}
			return &Wallboard{Open: 3}, nil
		}
		gone, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := b.get(gone, 1, 0, 0, compute); done <- err }()
		<-first
		other := make(chan *Wallboard, 1)
		go func() { w, _ := b.get(context.Background(), 1, 0, 0, compute); other <- w }()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("the departed screen got %v", err)
		}
		select {
		case w := <-other:
			if w == nil || w.Open != 3 {
				t.Fatalf("the waiting screen got %+v", w)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the waiting screen never got a board")
		}
	})
	t.Run("OldBoardsAreComputedAgain", func(t *testing.T) {
		b := &board{}
		var computed atomic.Int64
		compute := func(context.Context) (*Wallboard, error) { computed.Add(1); return &Wallboard{}, nil }
		b.get(context.Background(), 0, 0, 0, compute)
		time.Sleep(20 * time.Millisecond)
		b.get(context.Background(), 0, time.Hour, 0, compute)
		if computed.Load() != 1 {
			t.Fatal("a fresh board was computed again")
		}
		b.get(context.Background(), 0, 10*time.Millisecond, 0, compute)
		if computed.Load() != 2 {
			t.Fatal("a board older than maxAge was served")
		}
	})
}
