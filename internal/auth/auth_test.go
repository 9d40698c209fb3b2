package auth_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

const (
	annEmail    = "ann@example.com"
	annPassword = "correct horse battery"
	userAgent   = "switchboard-test/1"
)

func options(signup bool) auth.Options {
	return auth.Options{SignupEnabled: signup, SessionIdleTimeout: 30 * time.Minute, SessionAbsoluteTimeout: 12 * time.Hour}
}

// newService returns a Service on a fresh database, with signup enabled.
func newService(t *testing.T) (*ent.Client, *auth.Service) {
	t.Helper()
	client := dbtest.Client(t)
	return client, auth.New(client, options(true))
}

// request returns the context of a fresh, anonymous request.
func request() context.Context { return viewer.NewContext(context.Background(), nil) }

// wantCode fails unless err is an *apierr.Error with the code (and, when
// field is not empty, the field).
func wantCode(t *testing.T, err error, code apierr.Code, field string) *apierr.Error {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *apierr.Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%q), want %s", e.Code, e.Message, code)
	}
	if field != "" && e.Field != field {
		t.Fatalf("field = %q, want %q", e.Field, field)
	}
	return e
}

// signUpAnn creates Ann's customer account and returns her session token.
func signUpAnn(t *testing.T, svc *auth.Service) (string, *ent.User) {
	t.Helper()
	tok, u, err := svc.Signup(request(), annEmail, annPassword, "Ann", userAgent, false)
	if err != nil {
		t.Fatalf("Signup: %v", err)
	}
	return tok, u
}

func userCount(t *testing.T, client *ent.Client) int {
	t.Helper()
	n, err := client.User.Query().Count(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("counting users: %v", err)
	}
	return n
}

func TestValidateEmail(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"PlainAddress", "ann@example.com"},
		{"SubdomainAndPlus", "ann+tickets@mail.example.co.uk"},
		{"SurroundingSpaceIgnored", "  ann@example.com "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := auth.ValidateEmail(tc.in); err != nil {
				t.Fatalf("ValidateEmail(%q) = %v", tc.in, err)
			}
		})
	}
	for _, tc := range []struct{ name, in string }{
		{"ErrDisplayName", "A <a@b.com>"},
		{"ErrQuotedDisplayName", `"Ann" <ann@example.com>`},
		{"ErrNoDotInDomain", "ann@localhost"},
		{"ErrEmpty", ""},
		{"ErrNoAt", "ann.example.com"},
		{"ErrNoLocalPart", "@example.com"},
		{"ErrTwoAddresses", "ann@example.com, bob@example.com"},
		{"ErrTooLong", strings.Repeat("a", 250) + "@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, auth.ValidateEmail(tc.in), apierr.BadUserInput, "email")
		})
	}
}

func TestSignup(t *testing.T) {
	t.Run("ReturnsSessionTokenAndCustomer", func(t *testing.T) {
		_, svc := newService(t)
		ctx := request()
		tok, u, err := svc.Signup(ctx, annEmail, annPassword, "Ann", userAgent, false)
		if err != nil {
			t.Fatalf("Signup: %v", err)
		}
		if !strings.HasPrefix(tok, auth.SessionTokenPrefix) || len(tok) <= len(auth.SessionTokenPrefix)+32 {
			t.Fatalf("token %q: want %q followed by a long random part", tok, auth.SessionTokenPrefix)
		}
		if u.Role != user.RoleCUSTOMER || u.Email != annEmail || u.Name != "Ann" || !u.Active {
			t.Fatalf("user = %+v, want active customer Ann", u)
		}
		v, err := svc.Authenticate(request(), tok)
		if err != nil || v.UserID != u.ID || v.Role != viewer.Customer {
			t.Fatalf("Authenticate(signup token) = %+v, %v; want customer %s", v, err, u.ID)
		}
	})
	t.Run("SignsTheViewerIn", func(t *testing.T) {
		_, svc := newService(t)
		ctx := request()
		_, u, err := svc.Signup(ctx, annEmail, annPassword, "Ann", userAgent, false)
		if err != nil {
			t.Fatalf("Signup: %v", err)
		}
		v := viewer.FromContext(ctx)
		if v == nil || v.UserID != u.ID || v.Role != viewer.Customer || v.SessionID == "" {
			t.Fatalf("viewer after Signup = %+v, want customer %s with a session", v, u.ID)
		}
	})
	t.Run("EmailStoredLowerCase", func(t *testing.T) {
		_, svc := newService(t)
		_, u, err := svc.Signup(request(), "Ann@Example.COM", annPassword, "Ann", userAgent, false)
		if err != nil {
			t.Fatalf("Signup: %v", err)
		}
		if u.Email != annEmail {
			t.Fatalf("email = %q, want %q", u.Email, annEmail)
		}
	})
	t.Run("ErrDuplicateEmailAnyCase", func(t *testing.T) {
		client, svc := newService(t)
		if _, _, err := svc.Signup(request(), "Ann@Example.com", annPassword, "Ann", userAgent, false); err != nil {
			t.Fatalf("first Signup: %v", err)
		}
		ctx := request()
		_, _, err := svc.Signup(ctx, "ann@example.com", "amber canyon whistle", "Other Ann", userAgent, false)
		wantCode(t, err, apierr.Conflict, "email")
		if n := userCount(t, client); n != 1 {
			t.Fatalf("%d users, want 1", n)
		}
		if v := viewer.FromContext(ctx); v != nil {
			t.Fatalf("failed signup signed in %+v", v)
		}
	})
	t.Run("ErrSignupDisabled", func(t *testing.T) {
		client := dbtest.Client(t)
		svc := auth.New(client, options(false))
		ctx := request()
		tok, _, err := svc.Signup(ctx, annEmail, annPassword, "Ann", userAgent, false)
		wantCode(t, err, apierr.Forbidden, "")
		if tok != "" || userCount(t, client) != 0 || viewer.FromContext(ctx) != nil {
			t.Fatalf("disabled signup left a token %q, a user or a viewer", tok)
		}
	})
	t.Run("ErrPasswordTooShort", func(t *testing.T) {
		client, svc := newService(t)
		_, _, err := svc.Signup(request(), annEmail, "short", "Ann", userAgent, false)
		wantCode(t, err, apierr.BadUserInput, "password")
		if n := userCount(t, client); n != 0 {
			t.Fatalf("%d users, want 0", n)
		}
	})
	t.Run("ErrInvalidEmail", func(t *testing.T) {
		_, svc := newService(t)
		_, _, err := svc.Signup(request(), "Ann <ann@example.com>", annPassword, "Ann", userAgent, false)
		wantCode(t, err, apierr.BadUserInput, "email")
	})
	t.Run("ErrNameRequired", func(t *testing.T) {
		_, svc := newService(t)
		_, _, err := svc.Signup(request(), annEmail, annPassword, "   ", userAgent, false)
		wantCode(t, err, apierr.BadUserInput, "name")
	})
	t.Run("LongUserAgentTruncatedToValidUTF8", func(t *testing.T) {
		client, svc := newService(t)
		ua := "x" + strings.Repeat("é", 600) // 1201 bytes; byte 512 is mid-character
		if _, _, err := svc.Signup(request(), annEmail, annPassword, "Ann", ua, false); err != nil {
			t.Fatalf("Signup with a long user agent: %v", err)
		}
		s, err := client.Session.Query().Only(viewer.SystemContext(context.Background()))
		if err != nil {
			t.Fatalf("reading session: %v", err)
		}
		if len(s.UserAgent) > 512 || !utf8.ValidString(s.UserAgent) || !strings.HasPrefix(ua, s.UserAgent) {
			t.Fatalf("stored user agent: %d bytes, valid UTF-8 %v", len(s.UserAgent), utf8.ValidString(s.UserAgent))
		}
	})
}

func TestCreateUser(t *testing.T) {
	t.Run("ErrOnlyAdminsCreateUsers", func(t *testing.T) {
		_, svc := newService(t)
		asAgent := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: "US01", Role: viewer.Agent})
		_, err := svc.CreateUser(asAgent, auth.NewUser{Email: "bo@example.com", Name: "Bo", Password: annPassword, Role: user.RoleADMIN})
		if err == nil {
			t.Fatal("an agent created an admin")
		}
	})
	t.Run("AgentRole", func(t *testing.T) {
		_, svc := newService(t)
		u, err := svc.CreateUser(viewer.SystemContext(request()), auth.NewUser{Email: "bo@example.com", Name: "Bo", Password: annPassword, Role: user.RoleAGENT})
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if u.Role != user.RoleAGENT {
			t.Fatalf("role = %s, want AGENT", u.Role)
		}
		ctx := request()
		tok, _, err := svc.Login(ctx, "bo@example.com", annPassword, userAgent, false)
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		if v := viewer.FromContext(ctx); v == nil || v.Role != viewer.Agent {
			t.Fatalf("viewer after Login = %+v, want an agent", v)
		}
		v, err := svc.Authenticate(request(), tok)
		if err != nil || v.UserID != u.ID || v.Role != viewer.Agent || !v.IsStaff() {
			t.Fatalf("Authenticate = %+v, %v; want agent %s", v, err, u.ID)
		}
	})
	t.Run("PasswordStoredHashed", func(t *testing.T) {
		client, svc := newService(t)
		_, u := signUpAnn(t, svc)
		stored, err := client.User.Get(viewer.SystemContext(context.Background()), u.ID)
		if err != nil {
			t.Fatalf("reading user: %v", err)
		}
		if stored.PasswordHash == "" || strings.Contains(stored.PasswordHash, annPassword) || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
			t.Fatalf("stored password hash %q: want an argon2id hash", stored.PasswordHash)
		}
	})
	t.Run("ErrInvalidRole", func(t *testing.T) {
		client, svc := newService(t)
		_, err := svc.CreateUser(viewer.SystemContext(request()), auth.NewUser{Email: "bo@example.com", Name: "Bo", Password: annPassword, Role: user.Role("BOSS")})
		wantCode(t, err, apierr.BadUserInput, "role")
		if n := userCount(t, client); n != 0 {
			t.Fatalf("%d users, want 0", n)
		}
	})
	t.Run("ErrEmptyRole", func(t *testing.T) {
		_, svc := newService(t)
		_, err := svc.CreateUser(viewer.SystemContext(request()), auth.NewUser{Email: "bo@example.com", Name: "Bo", Password: annPassword})
		wantCode(t, err, apierr.BadUserInput, "role")
	})
}

func TestLogin(t *testing.T) {
	t.Run("RightPasswordSignsIn", func(t *testing.T) {
		_, svc := newService(t)
		_, u := signUpAnn(t, svc)
		ctx := request()
		tok, got, err := svc.Login(ctx, annEmail, annPassword, userAgent, false)
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		if got.ID != u.ID || !strings.HasPrefix(tok, auth.SessionTokenPrefix) {
			t.Fatalf("Login = %q, %s; want a session token for %s", tok, got.ID, u.ID)
		}
		if v := viewer.FromContext(ctx); v == nil || v.UserID != u.ID || v.SessionID == "" {
			t.Fatalf("viewer after Login = %+v, want %s with a session", v, u.ID)
		}
		v, err := svc.Authenticate(request(), tok)
		if err != nil {
			t.Fatalf("Authenticate(login token): %v", err)
		}
		if v.UserID != u.ID || v.Role != viewer.Customer || v.SessionID == "" {
			t.Fatalf("Authenticate = %+v, want customer %s", v, u.ID)
		}
	})
	t.Run("EmailMatchedIgnoringCaseAndSpace", func(t *testing.T) {
		_, svc := newService(t)
		_, u := signUpAnn(t, svc)
		_, got, err := svc.Login(request(), "  ANN@Example.com ", annPassword, userAgent, false)
		if err != nil || got.ID != u.ID {
			t.Fatalf("Login with differently cased email = %v, %v", got, err)
		}
	})
	t.Run("EachLoginHasItsOwnSession", func(t *testing.T) {
		_, svc := newService(t)
		tok1, _ := signUpAnn(t, svc)
		tok2, _, err := svc.Login(request(), annEmail, annPassword, userAgent, false)
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		if tok1 == tok2 {
			t.Fatal("two sign-ins got the same token")
		}
		v1, err1 := svc.Authenticate(request(), tok1)
		v2, err2 := svc.Authenticate(request(), tok2)
		if err1 != nil || err2 != nil || v1.SessionID == v2.SessionID {
			t.Fatalf("sessions: %+v, %v / %+v, %v; want two distinct valid sessions", v1, err1, v2, err2)
		}
	})
	t.Run("UnknownEmailSameErrorAsWrongPassword", func(t *testing.T) {
		_, svc := newService(t)
		signUpAnn(t, svc)
		ctx := request()
		_, _, wrong := svc.Login(ctx, annEmail, "wrong password 1", userAgent, false)
		_, _, unknown := svc.Login(ctx, "nobody@example.com", annPassword, userAgent, false)
		a := wantCode(t, wrong, apierr.Unauthenticated, "")
		b := wantCode(t, unknown, apierr.Unauthenticated, "")
		if *a != *b {
			t.Fatalf("wrong password: %+v; unknown email: %+v; want identical", *a, *b)
		}
		if v := viewer.FromContext(ctx); v != nil {
			t.Fatalf("failed logins signed in %+v", v)
		}
	})
	t.Run("ErrAccountWithoutPassword", func(t *testing.T) {
		client, svc := newService(t)
		if err := client.User.Create().SetEmail("nopass@example.com").SetName("No Pass").Exec(viewer.SystemContext(context.Background())); err != nil {
			t.Fatalf("creating user: %v", err)
		}
		_, _, err := svc.Login(request(), "nopass@example.com", "", userAgent, false)
		if !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("Login with empty password = %v, want ErrInvalidCredentials", err)
		}
	})
	t.Run("ErrInactiveUser", func(t *testing.T) {
		client, svc := newService(t)
		tok, u := signUpAnn(t, svc)
		ctx := request()
		if err := client.User.UpdateOneID(u.ID).SetActive(false).Exec(viewer.SystemContext(ctx)); err != nil {
			t.Fatalf("deactivating: %v", err)
		}
		_, _, err := svc.Login(ctx, annEmail, annPassword, userAgent, false)
		e := wantCode(t, err, apierr.Unauthenticated, "")
		_, _, wrong := svc.Login(ctx, "nobody@example.com", annPassword, userAgent, false)
		if w := wantCode(t, wrong, apierr.Unauthenticated, ""); *e != *w {
			t.Fatalf("inactive: %+v; unknown email: %+v; want identical", *e, *w)
		}
		if v := viewer.FromContext(ctx); v != nil {
			t.Fatalf("inactive user signed in as %+v", v)
		}
		if v, err := svc.Authenticate(request(), tok); err == nil {
			t.Fatalf("token of an inactive user still authenticates as %+v", v)
		} else {
			wantCode(t, err, apierr.Unauthenticated, "")
		}
	})
}

func TestLogout(t *testing.T) {
	t.Run("RevokesTheSession", func(t *testing.T) {
		_, svc := newService(t)
		tok, _ := signUpAnn(t, svc)
		v, err := svc.Authenticate(request(), tok)
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		if err := svc.Logout(viewer.NewContext(context.Background(), v)); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		_, err = svc.Authenticate(request(), tok)
		wantCode(t, err, apierr.Unauthenticated, "")
	})
	t.Run("OtherSessionsStayValid", func(t *testing.T) {
		_, svc := newService(t)
		phone, _ := signUpAnn(t, svc)
		laptop, _, err := svc.Login(request(), annEmail, annPassword, userAgent, false)
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		v, err := svc.Authenticate(request(), laptop)
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		if err := svc.Logout(viewer.NewContext(context.Background(), v)); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		if _, err := svc.Authenticate(request(), phone); err != nil {
			t.Fatalf("logging out the laptop ended the phone's session: %v", err)
		}
	})
	t.Run("ErrAnonymous", func(t *testing.T) {
		_, svc := newService(t)
		wantCode(t, svc.Logout(request()), apierr.Unauthenticated, "")
	})
	t.Run("ErrViewerWithoutSession", func(t *testing.T) {
		_, svc := newService(t)
		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M7", Role: viewer.Customer})
		wantCode(t, svc.Logout(ctx), apierr.Forbidden, "")
	})
}

func TestAuthenticate(t *testing.T) {
	t.Run("ErrUnknownToken", func(t *testing.T) {
		_, svc := newService(t)
		for _, tok := range []string{"", auth.SessionTokenPrefix, auth.SessionTokenPrefix + "not-a-real-token"} {
			_, err := svc.Authenticate(request(), tok)
			wantCode(t, err, apierr.Unauthenticated, "")
		}
	})
	t.Run("ErrTamperedToken", func(t *testing.T) {
		_, svc := newService(t)
		tok, _ := signUpAnn(t, svc)
		last := tok[len(tok)-1]
		flipped := byte('A')
		if last == 'A' {
			flipped = 'B'
		}
		_, err := svc.Authenticate(request(), tok[:len(tok)-1]+string(flipped))
		wantCode(t, err, apierr.Unauthenticated, "")
	})
	t.Run("ErrIdleSession", func(t *testing.T) {
		client, svc := newService(t)
		tok, _ := signUpAnn(t, svc)
		sys := viewer.SystemContext(context.Background())
		if err := client.Session.Update().SetLastUsedAt(time.Now().Add(-time.Hour)).Exec(sys); err != nil {
			t.Fatalf("ageing session: %v", err)
		}
		_, err := svc.Authenticate(request(), tok)
		wantCode(t, err, apierr.Unauthenticated, "")
	})
	t.Run("UseKeepsSessionAlive", func(t *testing.T) {
		client, svc := newService(t)
		tok, u := signUpAnn(t, svc)
		sys := viewer.SystemContext(context.Background())
		lastUsed := time.Now().Add(-20 * time.Minute) // within the 30 minute idle timeout
		if err := client.Session.Update().SetLastUsedAt(lastUsed).Exec(sys); err != nil {
			t.Fatalf("ageing session: %v", err)
		}
		v, err := svc.Authenticate(request(), tok)
		if err != nil || v.UserID != u.ID {
			t.Fatalf("Authenticate within the idle timeout = %+v, %v", v, err)
		}
		s, err := client.Session.Query().Only(sys)
		if err != nil {
			t.Fatalf("reading session: %v", err)
		}
		if !s.LastUsedAt.After(lastUsed.Add(15 * time.Minute)) {
			t.Fatalf("last_used_at = %v, not moved forward from %v", s.LastUsedAt, lastUsed)
		}
	})
	t.Run("ErrExpiredSession", func(t *testing.T) {
		client, svc := newService(t)
		tok, _ := signUpAnn(t, svc)
		sys := viewer.SystemContext(context.Background())
		// Used just now, but past its absolute lifetime.
		if err := client.Session.Update().SetExpiresAt(time.Now().Add(-time.Minute)).Exec(sys); err != nil {
			t.Fatalf("expiring session: %v", err)
		}
		_, err := svc.Authenticate(request(), tok)
		wantCode(t, err, apierr.Unauthenticated, "")
	})
	t.Run("AbsoluteLifetimeFromOptions", func(t *testing.T) {
		client, svc := newService(t)
		before := time.Now()
		signUpAnn(t, svc)
		s, err := client.Session.Query().Only(viewer.SystemContext(context.Background()))
		if err != nil {
			t.Fatalf("reading session: %v", err)
		}
		lifetime := s.ExpiresAt.Sub(before)
		if lifetime < 12*time.Hour-time.Minute || lifetime > 12*time.Hour+time.Minute {
			t.Fatalf("session expires %v after sign-in, want 12h", lifetime)
		}
	})
	t.Run("ViewerCarriesGroups", func(t *testing.T) {
		client, svc := newService(t)
		tok, u := signUpAnn(t, svc)
		sys := viewer.SystemContext(context.Background())
		g, err := client.Group.Create().SetName("Support").AddMemberIDs(u.ID).Save(sys)
		if err != nil {
			t.Fatalf("creating group: %v", err)
		}
		v, err := svc.Authenticate(request(), tok)
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		if !v.InGroup(g.ID) {
			t.Fatalf("viewer %+v not in group %s", v, g.ID)
		}
	})
}

func TestSessionStorage(t *testing.T) {
	t.Run("StoresOnlyTokenHash", func(t *testing.T) {
		target := dbtest.NewTarget(t, dbtest.SQLite)
		client := target.Open(t)
		svc := auth.New(client, options(true))
		tok, u := signUpAnn(t, svc)

		sessions, err := client.Session.Query().All(viewer.SystemContext(context.Background()))
		if err != nil {
			t.Fatalf("reading sessions: %v", err)
		}
		if len(sessions) != 1 {
			t.Fatalf("%d sessions, want 1", len(sessions))
		}
		s := sessions[0]
		if !bytes.Equal(s.TokenHash, auth.HashToken(tok)) {
			t.Fatalf("token_hash = %x, want SHA-256 of the token %x", s.TokenHash, auth.HashToken(tok))
		}
		for name, v := range map[string]string{"token_hash": string(s.TokenHash), "id": string(s.ID), "user_id": string(s.UserID), "user_agent": s.UserAgent} {
			if strings.Contains(v, tok) || strings.Contains(v, strings.TrimPrefix(tok, auth.SessionTokenPrefix)) {
				t.Fatalf("session %s holds the raw token", name)
			}
		}
		if s.UserID != u.ID {
			t.Fatalf("session user = %s, want %s", s.UserID, u.ID)
		}

		// Nothing in the database files holds the token, while the hash is
		// there (which shows the files were read).
		secret := []byte(strings.TrimPrefix(tok, auth.SessionTokenPrefix))
		files, err := filepath.Glob(filepath.Join(target.DataDir, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no database files in %s: %v", target.DataDir, err)
		}
		foundHash := false
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("reading %s: %v", f, err)
			}
			if bytes.Contains(data, secret) {
				t.Fatalf("%s contains the raw token", filepath.Base(f))
			}
			foundHash = foundHash || bytes.Contains(data, s.TokenHash)
		}
		if !foundHash {
			t.Fatal("token hash not found in the database files: the check read the wrong files")
		}
	})
}
