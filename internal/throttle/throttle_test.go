package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/throttle"
)

// clock is a fake clock that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	account = "account:ann@example.com"
	ip      = "ip:203.0.113.7"
)

// newMemory returns a Memory with the production policies and a fake clock.
func newMemory() (*throttle.Memory, *clock) {
	c := newClock()
	m := throttle.NewMemory(map[string]throttle.Policy{"ip:": throttle.DefaultIPPolicy}, throttle.DefaultPolicy, c.Now)
	return m, c
}

func fail(t *testing.T, l throttle.Limiter, n int, keys ...string) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := l.Failure(context.Background(), keys...); err != nil {
			t.Fatalf("Failure: %v", err)
		}
	}
}

func wantWait(t *testing.T, l throttle.Limiter, want time.Duration, keys ...string) {
	t.Helper()
	got, err := l.Check(context.Background(), keys...)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if got != want {
		t.Fatalf("Check(%q) = %v, want %v", keys, got, want)
	}
}

func TestMemory(t *testing.T) {
	p := throttle.DefaultPolicy

	t.Run("UnknownKeyMayProceed", func(t *testing.T) {
		m, _ := newMemory()
		wantWait(t, m, 0, account, ip)
		wantWait(t, m, 0)
	})

	t.Run("FreeAttemptsPassAndTheNextWaits", func(t *testing.T) {
		m, _ := newMemory()
		for i := 0; i < p.FreeAttempts; i++ {
			wantWait(t, m, 0, account)
			fail(t, m, 1, account)
		}
		wantWait(t, m, p.BaseDelay, account) // the 6th attempt after 5 failures
	})

	t.Run("WaitIsCountedFromLastFailure", func(t *testing.T) {
		m, c := newMemory()
		fail(t, m, p.FreeAttempts+1, account) // delay 2s
		c.Advance(1500 * time.Millisecond)
		wantWait(t, m, 500*time.Millisecond, account)
	})

	t.Run("DelaysDoubleAndAreCapped", func(t *testing.T) {
		m, c := newMemory()
		fail(t, m, p.FreeAttempts-1, account)
		want := p.BaseDelay
		for i := 0; i < 40; i++ {
			fail(t, m, 1, account)
			wantWait(t, m, want, account)
			c.Advance(want) // wait it out, so the count stays within Forget
			want = min(2*want, p.MaxDelay)
		}
		wantWait(t, m, 0, account)
	})

	t.Run("DelayIsCappedWithoutOverflow", func(t *testing.T) {
		c := newClock()
		pol := throttle.Policy{FreeAttempts: -1, BaseDelay: time.Hour, MaxDelay: time.Duration(math.MaxInt64), Forget: time.Duration(math.MaxInt64)}
		m := throttle.NewMemory(nil, pol, c.Now)
		prev := time.Duration(0)
		for i := 0; i < 100; i++ {
			fail(t, m, 1, account)
			got, err := m.Check(context.Background(), account)
			if err != nil {
				t.Fatal(err)
			}
			if got < prev || got <= 0 {
				t.Fatalf("after %d failures wait = %v, previous %v: overflow", i+1, got, prev)
			}
			prev = got
		}
	})

	t.Run("AfterWaitingCheckPasses", func(t *testing.T) {
		m, c := newMemory()
		fail(t, m, p.FreeAttempts+2, account) // delay 4s
		wantWait(t, m, 4*time.Second, account)
		c.Advance(4*time.Second - time.Nanosecond)
		wantWait(t, m, time.Nanosecond, account)
		c.Advance(time.Nanosecond)
		wantWait(t, m, 0, account)
	})

	t.Run("SuccessClearsAccountButNotIP", func(t *testing.T) {
		m, _ := newMemory()
		fail(t, m, throttle.DefaultIPPolicy.FreeAttempts-1, account, ip)
		if err := m.Success(context.Background(), account); err != nil {
			t.Fatal(err)
		}
		wantWait(t, m, 0, account)
		wantWait(t, m, 0, ip) // one failure short of FreeAttempts
		fail(t, m, 1, ip)
		wantWait(t, m, throttle.DefaultIPPolicy.BaseDelay, ip)
		wantWait(t, m, throttle.DefaultIPPolicy.BaseDelay, account, ip)
	})

	t.Run("CheckReturnsLongestWaitOverKeys", func(t *testing.T) {
		m, _ := newMemory()
		other := "account:bob@example.com"
		fail(t, m, p.FreeAttempts, account) // 1s
		fail(t, m, p.FreeAttempts+2, other) // 4s
		wantWait(t, m, 4*time.Second, account, other)
		wantWait(t, m, 4*time.Second, other, account)
	})

	t.Run("PrefixPolicyApplies", func(t *testing.T) {
		m, _ := newMemory()
		fail(t, m, 19, ip)
		wantWait(t, m, 0, ip)
		fail(t, m, 1, ip)
		wantWait(t, m, time.Second, ip)
		// The same count on a key without a prefix policy uses the fallback.
		fail(t, m, 21, "account:ip:203.0.113.7")
		wantWait(t, m, p.MaxDelay, "account:ip:203.0.113.7")
	})

	t.Run("LongestPrefixWins", func(t *testing.T) {
		c := newClock()
		m := throttle.NewMemory(map[string]throttle.Policy{
			"ip:":          {FreeAttempts: 10},
			"ip:10.":       {FreeAttempts: 100},
			"ip:10.0.0.1x": {FreeAttempts: 1},
		}, throttle.DefaultPolicy, c.Now)
		fail(t, m, 10, "ip:10.0.0.1", "ip:192.0.2.1")
		wantWait(t, m, 0, "ip:10.0.0.1")
		wantWait(t, m, time.Second, "ip:192.0.2.1")
	})

	t.Run("ZeroPolicyFieldsTakeDefaults", func(t *testing.T) {
		c := newClock()
		m := throttle.NewMemory(nil, throttle.Policy{}, c.Now)
		fail(t, m, 4, account)
		wantWait(t, m, 0, account)
		fail(t, m, 1, account)
		wantWait(t, m, time.Second, account)
	})

	t.Run("ForgetWindowResetsCount", func(t *testing.T) {
		m, c := newMemory()
		fail(t, m, p.FreeAttempts+2, account)
		c.Advance(p.Forget - time.Nanosecond)
		fail(t, m, 1, account) // still remembered: now FreeAttempts+3 failures
		wantWait(t, m, 8*time.Second, account)
		c.Advance(p.Forget)
		wantWait(t, m, 0, account)
		fail(t, m, p.FreeAttempts-1, account) // counting starts over
		wantWait(t, m, 0, account)
		fail(t, m, 1, account)
		wantWait(t, m, p.BaseDelay, account)
	})

	t.Run("ExpiredKeysArePruned", func(t *testing.T) {
		m, c := newMemory()
		for i := 0; i < 100; i++ {
			fail(t, m, 1, fmt.Sprintf("account:%d@example.com", i))
		}
		c.Advance(p.Forget)
		for i := 0; i < 10; i++ {
			wantWait(t, m, 0, account)
		}
		if n := m.Len(); n != 0 {
			t.Fatalf("Len = %d after the Forget window, want 0", n)
		}
	})

	t.Run("MemoryIsBounded", func(t *testing.T) {
		m, c := newMemory()
		fail(t, m, p.FreeAttempts+1, account) // the oldest entry
		c.Advance(time.Second)
		for i := 0; i < throttle.MaxKeys+1000; i++ {
			fail(t, m, 1, fmt.Sprintf("ip:%d", i))
			if i%1000 == 0 {
				c.Advance(time.Millisecond)
			}
		}
		if n := m.Len(); n > throttle.MaxKeys {
			t.Fatalf("Len = %d, want <= %d", n, throttle.MaxKeys)
		}
		wantWait(t, m, 0, account) // evicted first, being the oldest
		// The newest keys are still tracked.
		last := fmt.Sprintf("ip:%d", throttle.MaxKeys+999)
		fail(t, m, 19, last)
		wantWait(t, m, time.Second, last)
	})

	t.Run("FullMemoryDropsExpiredBeforeOldest", func(t *testing.T) {
		c := newClock()
		short := throttle.Policy{FreeAttempts: 1, Forget: time.Minute}
		m := throttle.NewMemory(map[string]throttle.Policy{"short:": short}, throttle.DefaultPolicy, c.Now)
		fail(t, m, p.FreeAttempts+9, account) // oldest, but its hour is not over; delay 512s
		c.Advance(time.Second)
		for i := 0; i < throttle.MaxKeys-1; i++ {
			fail(t, m, 1, fmt.Sprintf("short:%d", i))
		}
		c.Advance(time.Minute) // every short: key has expired
		fail(t, m, 1, "account:new@example.com")
		if n := m.Len(); n > throttle.MaxKeys {
			t.Fatalf("Len = %d, want <= %d", n, throttle.MaxKeys)
		}
		wantWait(t, m, 512*time.Second-time.Minute-time.Second, account) // still tracked
	})

	t.Run("LongKeysAreDistinct", func(t *testing.T) {
		m, _ := newMemory()
		long := "account:" + strings.Repeat("a", 10_000)
		fail(t, m, p.FreeAttempts, long+"1")
		wantWait(t, m, p.BaseDelay, long+"1")
		wantWait(t, m, 0, long+"2")
	})

	t.Run("CanceledContextIsAnError", func(t *testing.T) {
		m, _ := newMemory()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := m.Check(ctx, account); !errors.Is(err, context.Canceled) {
			t.Fatalf("Check err = %v, want context.Canceled", err)
		}
		if err := m.Failure(ctx, account); !errors.Is(err, context.Canceled) {
			t.Fatalf("Failure err = %v, want context.Canceled", err)
		}
		if err := m.Success(ctx, account); !errors.Is(err, context.Canceled) {
			t.Fatalf("Success err = %v, want context.Canceled", err)
		}
		if n := m.Len(); n != 0 {
			t.Fatalf("Len = %d, want 0: a canceled Failure must not count", n)
		}
	})

	t.Run("ConcurrentUseIsSafe", func(t *testing.T) {
		m, c := newMemory()
		const goroutines, rounds = 32, 200
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := context.Background()
				own := fmt.Sprintf("account:%d@example.com", g)
				for i := 0; i < rounds; i++ {
					if err := m.Failure(ctx, own, ip); err != nil {
						t.Error(err)
						return
					}
					if _, err := m.Check(ctx, own, ip); err != nil {
						t.Error(err)
						return
					}
					if i%50 == 0 {
						c.Advance(time.Millisecond)
						if err := m.Success(ctx, own); err != nil {
							t.Error(err)
							return
						}
						_ = m.Len()
					}
				}
			}()
		}
		wg.Wait()
		if n := m.Len(); n != goroutines+1 {
			t.Fatalf("Len = %d, want %d", n, goroutines+1)
		}
		// 6400 failures on the IP: capped; the clock may have moved a few
		// milliseconds after the last failure.
		got, err := m.Check(context.Background(), ip)
		if err != nil || got <= throttle.DefaultIPPolicy.MaxDelay-time.Second || got > throttle.DefaultIPPolicy.MaxDelay {
			t.Fatalf("Check(ip) = %v, %v; want about %v", got, err, throttle.DefaultIPPolicy.MaxDelay)
		}
	})
}
