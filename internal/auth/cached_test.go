package auth

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/apitoken"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// cachedDesk is a Service with a cache that never expires by itself, so
// that only invalidation can change what it answers, and a second client
// on the same database that changes rows behind the cache's back.
type cachedDesk struct {
	svc    *Service
	client *ent.Client
	direct *ent.Client
	sys    context.Context
	now    time.Time
}

func newCachedDesk(t *testing.T) *cachedDesk {
	t.Helper()
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	d := &cachedDesk{client: tg.Open(t), direct: tg.Open(t), sys: viewer.SystemContext(context.Background()), now: time.Now()}
	d.svc = New(d.client, Options{
		SignupEnabled: true, SessionIdleTimeout: 30 * time.Minute, SessionAbsoluteTimeout: 12 * time.Hour,
		Cache: cache.NewMemory(100, 24*time.Hour),
	})
	d.svc.now = func() time.Time { return d.now }
	return d
}

func (d *cachedDesk) signUp(t *testing.T, email string) (string, *ent.User) {
	t.Helper()
	tok, u, err := d.svc.Signup(viewer.NewContext(context.Background(), nil), email, "correct horse battery", "Ann", "test", false)
	if err != nil {
		t.Fatal(err)
	}
	return tok, u
}

// signUpAgent is signUp promoted to agent (who may create API tokens).
func (d *cachedDesk) signUpAgent(t *testing.T, email string) (string, *ent.User) {
	t.Helper()
	tok, u := d.signUp(t, email)
	if _, err := d.svc.UpdateUser(d.sys, u.ID, ent.UpdateUserInput{Role: ptr(user.RoleAGENT)}); err != nil {
		t.Fatal(err)
	}
	return tok, u
}

func (d *cachedDesk) login(t *testing.T, email string) string {
	t.Helper()
	tok, _, err := d.svc.Login(viewer.NewContext(context.Background(), nil), email, "correct horse battery", "test", false)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// as returns a request context of the token's viewer.
func (d *cachedDesk) as(t *testing.T, token string) context.Context {
	t.Helper()
	v, err := d.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("authenticating: %v", err)
	}
	return viewer.NewContext(context.Background(), v)
}

func (d *cachedDesk) refused(t *testing.T, token, why string) {
	t.Helper()
	if v, err := d.svc.Authenticate(context.Background(), token); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("%s: token still authenticates (viewer %+v, err %v)", why, v, err)
	}
}

func TestCachedAuthentication(t *testing.T) {
	t.Run("CacheAnswersARepeatedToken", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUp(t, "ann@example.com")
		d.as(t, tok)
		if err := d.direct.Session.Update().Where(session.TokenHash(HashToken(tok))).SetRevokedAt(d.now).Exec(d.sys); err != nil {
			t.Fatal(err)
		}
		// Only the cache can still say yes.
		d.as(t, tok)
	})
	t.Run("LogoutEndsTheSessionAtOnce", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUp(t, "ann@example.com")
		if err := d.svc.Logout(d.as(t, tok)); err != nil {
			t.Fatal(err)
		}
		d.refused(t, tok, "after logout")
	})
	t.Run("RevokedSessionEndsAtOnce", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUp(t, "ann@example.com")
		other := d.login(t, "ann@example.com")
		ctx := d.as(t, tok)
		d.as(t, other)
		if _, err := d.svc.RevokeSession(ctx, viewer.FromContext(d.as(t, other)).SessionID); err != nil {
			t.Fatal(err)
		}
		d.refused(t, other, "after revokeSession")
		d.as(t, tok)
	})
	t.Run("PasswordChangeEndsTheOtherSessionsAtOnce", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUp(t, "ann@example.com")
		other := d.login(t, "ann@example.com")
		d.as(t, other)
		if err := d.svc.ChangePassword(d.as(t, tok), "correct horse battery", "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		d.refused(t, other, "after a password change")
		d.as(t, tok)
	})
	t.Run("RoleChangeAppliesAtOnce", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, u := d.signUp(t, "ann@example.com")
		d.as(t, tok)
		if _, err := d.svc.UpdateUser(d.sys, u.ID, ent.UpdateUserInput{Role: ptr(user.RoleAGENT)}); err != nil {
			t.Fatal(err)
		}
		if v := viewer.FromContext(d.as(t, tok)); v.Role != viewer.Agent {
			t.Fatalf("role %s after promotion, want AGENT", v.Role)
		}
	})
	t.Run("ProfileChangeKeepsTheEntry", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUp(t, "ann@example.com")
		ctx := d.as(t, tok)
		if err := d.direct.Session.Update().Where(session.TokenHash(HashToken(tok))).SetRevokedAt(d.now).Exec(d.sys); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.UpdateProfile(ctx, ptr("Annie"), nil); err != nil {
			t.Fatal(err)
		}
		// A name is not part of the entry: still answered from the cache.
		d.as(t, tok)
	})
	t.Run("GroupMembershipsApplyAtOnceFromEitherSide", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, u := d.signUp(t, "ann@example.com")
		groups := func() []string {
			var out []string
			for _, g := range viewer.FromContext(d.as(t, tok)).GroupIDs {
				out = append(out, string(g))
			}
			slices.Sort(out)
			return out
		}
		if len(groups()) != 0 {
			t.Fatal("a new user has groups")
		}
		billing := d.client.Group.Create().SetName("Billing").AddMemberIDs(u.ID).SaveX(d.sys)
		if got := groups(); !slices.Equal(got, []string{string(billing.ID)}) {
			t.Fatalf("groups %v after creating a group with the user", got)
		}
		support := d.client.Group.Create().SetName("Support").SaveX(d.sys)
		d.client.User.UpdateOneID(u.ID).AddGroupIDs(support.ID).ExecX(d.sys)
		if got := groups(); len(got) != 2 {
			t.Fatalf("groups %v after adding the user to Support", got)
		}
		d.client.Group.UpdateOneID(billing.ID).RemoveMemberIDs(u.ID).ExecX(d.sys)
		if got := groups(); !slices.Equal(got, []string{string(support.ID)}) {
			t.Fatalf("groups %v after removing the user from Billing", got)
		}
		d.client.Group.UpdateOneID(support.ID).ClearMembers().ExecX(d.sys)
		if got := groups(); len(got) != 0 {
			t.Fatalf("groups %v after clearing Support's members", got)
		}
		d.client.Group.UpdateOneID(support.ID).AddMemberIDs(u.ID).ExecX(d.sys)
		groups()
		d.client.Group.DeleteOneID(support.ID).ExecX(d.sys)
		if got := groups(); len(got) != 0 {
			t.Fatalf("groups %v after deleting the group", got)
		}
	})
	t.Run("DeactivationEndsSessionsAndTokensAtOnce", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, u := d.signUpAgent(t, "ann@example.com")
		apiTok, _, err := d.svc.CreateAPIToken(d.as(t, tok), NewAPIToken{Name: "ci", Scope: apitoken.ScopeREAD})
		if err != nil {
			t.Fatal(err)
		}
		if v := viewer.FromContext(d.as(t, apiTok)); !v.ReadOnly || v.TokenID == "" {
			t.Fatalf("READ token's viewer %+v", v)
		}
		if v := viewer.FromContext(d.as(t, apiTok)); !v.ReadOnly {
			t.Fatal("READ token's cached viewer may write")
		}
		if _, err := d.svc.UpdateUser(d.sys, u.ID, ent.UpdateUserInput{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		d.refused(t, tok, "after deactivation")
		d.refused(t, apiTok, "API token after deactivation")
	})
	t.Run("RevokedAPITokenEndsAtOnce", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUpAgent(t, "ann@example.com")
		ctx := d.as(t, tok)
		apiTok, created, err := d.svc.CreateAPIToken(ctx, NewAPIToken{Name: "ci", Scope: apitoken.ScopeREAD_WRITE})
		if err != nil {
			t.Fatal(err)
		}
		d.as(t, apiTok)
		if _, err := d.svc.RevokeAPIToken(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		d.refused(t, apiTok, "after revokeAPIToken")
	})
	t.Run("LastUseRecordedOnceAMinute", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUp(t, "ann@example.com")
		lastUsed := func() time.Time {
			return d.client.Session.Query().Where(session.TokenHash(HashToken(tok))).OnlyX(d.sys).LastUsedAt
		}
		start := lastUsed()
		d.now = d.now.Add(30 * time.Second)
		d.as(t, tok)
		if !lastUsed().Equal(start) {
			t.Fatal("last use written within a minute of the previous one")
		}
		d.now = d.now.Add(45 * time.Second)
		d.as(t, tok)
		if got := lastUsed(); !got.Equal(d.now) && got.Sub(d.now).Abs() > time.Millisecond {
			t.Fatalf("last use %v after 75s, want %v: the cache hid the use from the database", got, d.now)
		}
	})
	t.Run("ShortIdleTimeoutRenewsWithinIt", func(t *testing.T) {
		d := newCachedDesk(t)
		d.svc.opts.SessionIdleTimeout = 40 * time.Second // under the minute of lastUsedGranularity
		tok, _ := d.signUp(t, "ann@example.com")
		for i := 0; i < 6; i++ {
			d.now = d.now.Add(30 * time.Second)
			d.as(t, tok) // fails if the use 30s ago was not recorded
		}
	})
	t.Run("RevalidateRenewsSessionsInUseAtTheRequestRate", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUp(t, "ann@example.com")
		v := viewer.FromContext(d.as(t, tok))
		lastUsed := func() time.Time {
			return d.client.Session.Query().Where(session.TokenHash(HashToken(tok))).OnlyX(d.sys).LastUsedAt
		}
		revalidate := func() {
			t.Helper()
			now, err := d.svc.Revalidate(context.Background(), []*viewer.Viewer{v})
			if err != nil || now[0] == nil {
				t.Fatalf("Revalidate = %v, %v", now, err)
			}
		}
		start := lastUsed()
		d.now = d.now.Add(30 * time.Second)
		revalidate()
		if !lastUsed().Equal(start) {
			t.Fatal("last use written by a revalidation within a minute of the previous one")
		}
		// Connected for longer than the idle timeout, with no request.
		for i := 0; i < 40; i++ {
			d.now = d.now.Add(45 * time.Second)
			revalidate()
		}
		if got := lastUsed(); got.Sub(d.now).Abs() > time.Minute {
			t.Fatalf("last use %v, now %v: the open connection did not renew the session", got, d.now)
		}
		d.as(t, tok)
	})
	t.Run("ErrIdleSessionNotServedFromTheCache", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUp(t, "ann@example.com")
		d.as(t, tok)
		d.now = d.now.Add(31 * time.Minute)
		d.refused(t, tok, "after the idle timeout")
	})
	t.Run("ErrExpiredSessionNotServedFromTheCache", func(t *testing.T) {
		d := newCachedDesk(t)
		tok, _ := d.signUp(t, "ann@example.com")
		expires := d.client.Session.Query().Where(session.TokenHash(HashToken(tok))).OnlyX(d.sys).ExpiresAt
		// Stay active (within the idle timeout) until just before the end,
		// so that the cache holds an entry used within the last minute,
		// which it would serve but for the expiry.
		for expires.Sub(d.now) > 20*time.Minute {
			d.now = d.now.Add(20 * time.Minute)
			d.as(t, tok)
		}
		d.now = expires.Add(-10 * time.Second)
		d.as(t, tok)
		d.now = expires.Add(10 * time.Second)
		d.refused(t, tok, "after the absolute timeout")
	})
}

func ptr[T any](v T) *T { return &v }
