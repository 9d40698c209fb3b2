package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/throttle"
)

func TestLoginFailedIsTold(t *testing.T) {
	var (
		mu      sync.Mutex
		reasons []string
	)
	opts := options(true)
	opts.LoginFailed = func(reason string) {
		mu.Lock()
		defer mu.Unlock()
		reasons = append(reasons, reason)
	}
	svc := auth.New(dbtest.Client(t), opts)
	signUpAnn(t, svc)
	if _, _, err := svc.Login(request(), annEmail, annPassword, userAgent, false); err != nil {
		t.Fatal(err)
	}
	// Wrong passwords until the throttle answers (5 free per account).
	for i := 0; ; i++ {
		_, _, err := svc.Login(request(), annEmail, "wrong "+annPassword, userAgent, false)
		if apierr.CodeOf(err) == apierr.RateLimited {
			break
		}
		wantCode(t, err, apierr.Unauthenticated, "")
		if i > 20 {
			t.Fatal("never throttled")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(reasons, ",")
	if !strings.HasPrefix(got, "invalid_credentials,") || !strings.HasSuffix(got, ",throttled") || strings.Count(got, "throttled") != 1 {
		t.Fatalf("reasons told: %s (a success told nothing, each wrong password invalid_credentials, then throttled)", got)
	}
}

// countingLimiter is a throttle that counts the failures recorded.
type countingLimiter struct {
	throttle.Limiter
	mu       sync.Mutex
	failures int
}

func (c *countingLimiter) Failure(ctx context.Context, keys ...string) error {
	c.mu.Lock()
	c.failures++
	c.mu.Unlock()
	return c.Limiter.Failure(ctx, keys...)
}

func TestThrottledLogins(t *testing.T) {
	limiter := &countingLimiter{Limiter: throttle.NewMemory(map[string]throttle.Policy{"ip:": throttle.DefaultIPPolicy}, throttle.DefaultPolicy, nil)}
	opts := options(true)
	opts.Throttle = limiter
	svc := auth.New(dbtest.Client(t), opts)
	signUpAnn(t, svc)
	var refused error
	for i := 0; i < 100; i++ {
		_, _, err := svc.Login(request(), annEmail, "wrong "+annPassword, userAgent, false)
		if i < throttle.DefaultPolicy.FreeAttempts {
			wantCode(t, err, apierr.Unauthenticated, "")
		} else {
			wantCode(t, err, apierr.RateLimited, "")
			refused = err
		}
	}
	t.Run("RefusalsAreNotFailures", func(t *testing.T) {
		if limiter.failures != throttle.DefaultPolicy.FreeAttempts {
			t.Fatalf("%d failures recorded for 100 attempts of which 95 were refused unchecked, want %d", limiter.failures, throttle.DefaultPolicy.FreeAttempts)
		}
	})
	t.Run("RefusalCarriesTheWait", func(t *testing.T) {
		var e *apierr.Error
		if !errors.As(refused, &e) || e.RetryAfter <= 0 || e.RetryAfter > throttle.DefaultPolicy.BaseDelay {
			t.Fatalf("refusal %+v, want a RetryAfter of at most %s", e, throttle.DefaultPolicy.BaseDelay)
		}
	})
}
