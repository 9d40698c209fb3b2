// Package auth owns accounts and sign-in: password hashing (argon2id in a
// bounded pool), signup, login and logout, and turning a session token
// into the viewer of a request. Tokens are opaque random strings stored
// only as SHA-256 hashes.
package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/ent"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/throttle"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Options are the account and session settings.
type Options struct {
	// SignupEnabled lets anonymous callers create customer accounts.
	SignupEnabled bool
	// SessionIdleTimeout ends a session not used for this long.
	SessionIdleTimeout time.Duration
	// SessionAbsoluteTimeout ends a session this long after sign-in.
	SessionAbsoluteTimeout time.Duration
	// HashWorkers bounds concurrent password hashes (0: number of CPUs).
	HashWorkers int
	// Throttle slows down repeated failed logins (nil: throttle.NewMemory
	// with the default policies).
	Throttle throttle.Limiter
	// Cache keeps authenticated tokens (nil: none); New makes the client
	// invalidate it on every change to them (see cached.go).
	Cache cache.Cache
	// LoginFailed, if set, is told of each refused sign-in, with the
	// reason "invalid_credentials" or "throttled" (for metrics).
	LoginFailed func(reason string)
}

// Service signs people up and in, and authenticates requests.
type Service struct {
	client *ent.Client
	opts   Options
	hasher *Hasher
	now    func() time.Time

	accountLocks keyedMutex
	reset        ResetOptions
}

// New returns a Service.
func New(client *ent.Client, opts Options) *Service {
	if opts.Throttle == nil {
		opts.Throttle = throttle.NewMemory(map[string]throttle.Policy{"ip:": throttle.DefaultIPPolicy}, throttle.DefaultPolicy, nil)
	}
	s := &Service{client: client, opts: opts, hasher: NewHasher(DefaultParams, opts.HashWorkers), now: time.Now}
	if opts.Cache != nil {
		invalidateOnChange(client, opts.Cache)
	}
	return s
}

// ErrInvalidCredentials is the single answer to a failed login, whether the
// email is unknown, the password wrong or the account inactive.
var ErrInvalidCredentials = apierr.Errorf(apierr.Unauthenticated, "invalid email or password")

// ErrInvalidToken answers a missing, revoked or expired token.
var ErrInvalidToken = apierr.Errorf(apierr.Unauthenticated, "invalid or expired token")

// NewUser describes an account to create.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Role     user.Role
}

// ValidateEmail checks that s is a plain address (no display name).
func ValidateEmail(s string) error {
	s = strings.TrimSpace(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > entschema.MaxEmailLen || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		return apierr.Invalid("email", "%q is not a valid email address", s)
	}
	return nil
}

// CreateUser validates and stores a new account, as the viewer in ctx: the
// privacy rules let only admins and the system (signup, the CLI) do it.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*ent.User, error) {
	if err := ValidateEmail(in.Email); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, apierr.Invalid("name", "name is required")
	}
	if err := user.RoleValidator(in.Role); err != nil {
		return nil, apierr.Invalid("role", "role must be CUSTOMER, AGENT or ADMIN")
	}
	if err := ValidatePassword(in.Password, in.Email, name); err != nil {
		return nil, err
	}
	// The row is inserted first (without a password, so it cannot sign in
	// yet), so the privacy rules refuse a caller before the deliberately
	// slow hash runs for them; no transaction is held open while hashing.
	u, err := s.client.User.Create().SetEmail(in.Email).SetName(name).SetRole(in.Role).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, &apierr.Error{Code: apierr.Conflict, Field: "email", Message: "an account with this email already exists"}
	}
	if err != nil {
		return nil, fmt.Errorf("creating user: %w", err)
	}
	sys := viewer.SystemContext(ctx)
	hash, err := s.hasher.Hash(ctx, in.Password)
	var withHash *ent.User
	if err == nil {
		withHash, err = s.client.User.UpdateOne(u).SetPasswordHash(hash).Save(sys)
	}
	if err != nil {
		// Even when the caller went away: no half-made account may stay.
		_ = s.client.User.DeleteOneID(u.ID).Exec(viewer.SystemContext(context.WithoutCancel(ctx)))
		return nil, fmt.Errorf("setting password: %w", err)
	}
	return withHash, nil
}

// Signup creates a customer account and signs it in.
func (s *Service) Signup(ctx context.Context, email, password, name, userAgent string, cookie bool) (string, *ent.User, error) {
	if !s.opts.SignupEnabled {
		return "", nil, apierr.Errorf(apierr.Forbidden, "signup is disabled on this server")
	}
	u, err := s.CreateUser(viewer.SystemContext(ctx), NewUser{Email: email, Name: name, Password: password, Role: user.RoleCUSTOMER})
	if err != nil {
		return "", nil, err
	}
	return s.signIn(ctx, u, userAgent, cookie)
}

// Login checks the credentials and starts a session. Failed attempts are
// throttled per account and per client IP with growing delays; every call
// is an attempt, including each aliased login of one GraphQL request, and
// one the throttle refuses is answered without counting as a failure.
func (s *Service) Login(ctx context.Context, email, password, userAgent string, cookie bool) (string, *ent.User, error) {
	sys := viewer.SystemContext(ctx)
	email = entschema.NormalizeEmail(email)
	keys := []string{"account:" + email, "ip:" + ClientFromContext(ctx).IP}
	// Attempts on one account run one at a time, so that parallel guesses
	// cannot all pass the check before the first failure is counted.
	unlock := s.accountLocks.lock(keys[0])
	defer unlock()
	wait, err := s.opts.Throttle.Check(ctx, keys...)
	if err != nil {
		return "", nil, err
	}
	if wait > 0 {
		s.loginFailed("throttled")
		// Not a failure: the password was not even checked.
		return "", nil, apierr.TooMany(wait, "too many failed attempts")
	}
	u, err := s.client.User.Query().Where(user.Email(email)).Only(sys)
	if err != nil && !ent.IsNotFound(err) {
		return "", nil, fmt.Errorf("looking up user: %w", err)
	}
	hash := ""
	if u != nil && u.Active {
		hash = u.PasswordHash
	}
	ok, err := s.hasher.Check(ctx, password, hash)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return "", nil, ctxErr // the caller went away: not a failed attempt
	}
	// Any other error is a corrupt stored hash: it must read like a wrong
	// password and tell the caller nothing new.
	ok = ok && err == nil
	if !ok {
		s.loginFailed("invalid_credentials")
		if err := s.opts.Throttle.Failure(ctx, keys...); err != nil {
			return "", nil, err
		}
		return "", nil, ErrInvalidCredentials
	}
	if err := s.opts.Throttle.Success(ctx, keys[0]); err != nil {
		return "", nil, err
	}
	if s.hasher.NeedsRehash(hash) {
		if err := s.setPassword(ctx, u.ID, password); err != nil {
			return "", nil, err
		}
	}
	return s.signIn(ctx, u, userAgent, cookie)
}

// signIn starts a session for u and makes u the viewer of the rest of the
// request, so the caller can read the returned user's own fields.
func (s *Service) signIn(ctx context.Context, u *ent.User, userAgent string, cookie bool) (string, *ent.User, error) {
	tok, sessionID, err := s.startSession(ctx, u, userAgent)
	if err != nil {
		return "", nil, err
	}
	if cookie && !SetCookie(ctx, SessionCookie(tok, s.now().Add(s.opts.SessionAbsoluteTimeout))) {
		return "", nil, apierr.Errorf(apierr.BadUserInput, "cookie sessions need an HTTP request")
	}
	groups, err := u.QueryGroups().IDs(viewer.SystemContext(ctx))
	if err != nil {
		return "", nil, fmt.Errorf("loading groups: %w", err)
	}
	viewer.SignIn(ctx, &viewer.Viewer{UserID: u.ID, Role: viewer.Role(u.Role), GroupIDs: groups, SessionID: sessionID})
	return tok, u, nil
}

func (s *Service) startSession(ctx context.Context, u *ent.User, userAgent string) (string, globalid.ID, error) {
	tok := newToken(SessionTokenPrefix)
	now := s.now()
	userAgent = truncateUTF8(strings.ToValidUTF8(userAgent, ""), entschema.MaxUserAgentLen)
	sess, err := s.client.Session.Create().
		SetTokenHash(HashToken(tok)).SetUserID(u.ID).
		SetExpiresAt(now.Add(s.opts.SessionAbsoluteTimeout)).SetLastUsedAt(now).
		SetUserAgent(userAgent).
		Save(viewer.SystemContext(ctx))
	if err != nil {
		return "", "", fmt.Errorf("creating session: %w", err)
	}
	return tok, sess.ID, nil
}

// Logout revokes the session the viewer signed in with.
func (s *Service) Logout(ctx context.Context) error {
	v, err := viewer.Require(ctx)
	if err != nil {
		return err
	}
	if v.SessionID == "" {
		return apierr.Errorf(apierr.Forbidden, "API tokens have no session to log out of; revoke the token instead")
	}
	SetCookie(ctx, ClearedSessionCookie())
	return s.client.Session.UpdateOneID(v.SessionID).SetRevokedAt(s.now()).Exec(ctx)
}

// lastUsedGranularity limits how often a last use is written: at most
// once a minute per session or API token, not on every request.
const lastUsedGranularity = time.Minute

// sessionRenewal is how often a session in use has its last use written:
// once a minute, or four times per idle timeout when that is shorter, so
// that a session in use never idles out between two writes. Requests and
// open live connections (Revalidate) both renew at this rate.
func (s *Service) sessionRenewal() time.Duration {
	if quarter := s.opts.SessionIdleTimeout / 4; quarter > 0 && quarter < lastUsedGranularity {
		return quarter
	}
	return lastUsedGranularity
}

// Authenticate turns a bearer token (a session or an API token) into the
// viewer it stands for: from the cache while it holds the token (see
// cached.go), else from the database.
func (s *Service) Authenticate(ctx context.Context, token string) (*viewer.Viewer, error) {
	c := s.opts.Cache
	if c == nil {
		cred, err := s.loadCredential(ctx, token)
		if err != nil {
			return nil, err
		}
		return cred.viewer(), nil
	}
	raw, ok, ticket := c.Lookup(ctx, credentialKey(token))
	if ok {
		if v, fresh, err := s.cachedViewer(raw); fresh {
			return v, err
		}
	}
	cred, err := s.loadCredential(ctx, token)
	if err != nil {
		return nil, err
	}
	if raw, err := json.Marshal(cred); err == nil {
		c.Store(ctx, ticket, raw)
	}
	return cred.viewer(), nil
}

func (s *Service) loadCredential(ctx context.Context, token string) (*credential, error) {
	if strings.HasPrefix(token, APITokenPrefix) {
		return s.authenticateAPIToken(ctx, token)
	}
	sys := viewer.SystemContext(ctx)
	sess, err := s.client.Session.Query().
		Where(session.TokenHash(HashToken(token))).
		WithUser(credentialColumns).
		Only(sys)
	if ent.IsNotFound(err) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("looking up session: %w", err)
	}
	now := s.now()
	switch {
	case sess.RevokedAt != nil,
		now.After(sess.ExpiresAt),
		s.opts.SessionIdleTimeout > 0 && now.Sub(sess.LastUsedAt) > s.opts.SessionIdleTimeout,
		!sess.Edges.User.Active:
		return nil, ErrInvalidToken
	}
	lastUsed := sess.LastUsedAt
	if now.Sub(sess.LastUsedAt) > s.sessionRenewal() {
		if err := s.client.Session.UpdateOneID(sess.ID).SetLastUsedAt(now).Exec(sys); err != nil {
			return nil, fmt.Errorf("recording session use: %w", err)
		}
		lastUsed = now
	}
	cred := credentialOf(sess.Edges.User)
	cred.SessionID, cred.ExpiresAt, cred.LastUsedAt = sess.ID, &sess.ExpiresAt, lastUsed
	return cred, nil
}

func viewerOf(u *ent.User, sessionID globalid.ID) *viewer.Viewer {
	c := credentialOf(u)
	c.SessionID = sessionID
	return c.viewer()
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// setPassword stores a new hash of password for the user.
func (s *Service) setPassword(ctx context.Context, userID globalid.ID, password string) error {
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.client.User.UpdateOneID(userID).SetPasswordHash(hash).Exec(viewer.SystemContext(ctx))
}

// keyedMutex is a lock per key, kept only while someone holds or waits for it.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

func (s *Service) loginFailed(reason string) {
	if s.opts.LoginFailed != nil {
		s.opts.LoginFailed(reason)
	}
}
