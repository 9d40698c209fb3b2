package auth_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/database/dbtest"
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
