// Package viewer owns "who is asking": the signed-in user, their role and
// group memberships, carried in the request context from authentication to
// the privacy rules. A context without a viewer is anonymous. The system
// viewer is for the CLI, imports and background jobs, never for requests.
package viewer

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Role is what a user may do, as in the access table of the design.
type Role string

// The roles.
const (
	Customer Role = "CUSTOMER"
	Agent    Role = "AGENT"
	Admin    Role = "ADMIN"
)

// Viewer is the person (or the system) on whose behalf code runs.
type Viewer struct {
	UserID   globalid.ID
	Role     Role
	GroupIDs []globalid.ID
	// SessionID is set when the viewer signed in with a session token.
	SessionID globalid.ID
	// TokenID is set when the viewer is an integration using an API token.
	TokenID globalid.ID
	// ReadOnly viewers (READ-scoped API tokens) may not change anything.
	ReadOnly bool
	system   bool
}

// IsSystem reports whether v is the system viewer.
func (v *Viewer) IsSystem() bool { return v != nil && v.system }

// IsAdmin reports whether v is an admin.
func (v *Viewer) IsAdmin() bool { return v != nil && v.Role == Admin }

// IsAgent reports whether v is an agent (admins are not agents here).
func (v *Viewer) IsAgent() bool { return v != nil && v.Role == Agent }

// IsStaff reports whether v is an agent or an admin.
func (v *Viewer) IsStaff() bool { return v != nil && (v.Role == Agent || v.Role == Admin) }

// IsCustomer reports whether v is a customer.
func (v *Viewer) IsCustomer() bool { return v != nil && v.Role == Customer }

// InGroup reports whether v belongs to the group.
func (v *Viewer) InGroup(id globalid.ID) bool {
	return v != nil && slices.Contains(v.GroupIDs, id)
}

type ctxKey struct{}

// slot holds the viewer of a context. It is a pointer so that signing in
// during a request (login, signup) changes the viewer for the rest of that
// request: the fields of the returned user are then read as that user.
type slot struct{ v atomic.Pointer[Viewer] }

// NewContext returns ctx carrying v (nil: anonymous).
func NewContext(ctx context.Context, v *Viewer) context.Context {
	s := &slot{}
	s.v.Store(v)
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the viewer in ctx, or nil for an anonymous caller.
func FromContext(ctx context.Context) *Viewer {
	if s, ok := ctx.Value(ctxKey{}).(*slot); ok {
		return s.v.Load()
	}
	return nil
}

// Ref is where a context keeps its viewer: FromContext of that context,
// read without walking the context's chain each time (the hub reads each
// subscriber's viewer for every event).
type Ref struct{ s *slot }

// RefOf returns the viewer reference of ctx.
func RefOf(ctx context.Context) Ref {
	s, _ := ctx.Value(ctxKey{}).(*slot)
	return Ref{s}
}

// Load returns the viewer now in the context, as FromContext would.
func (r Ref) Load() *Viewer {
	if r.s == nil {
		return nil
	}
	return r.s.v.Load()
}

// SignIn makes v the viewer of the request that ctx belongs to, from now
// on. It reports false when ctx was not made by NewContext.
func SignIn(ctx context.Context, v *Viewer) bool {
	s, ok := ctx.Value(ctxKey{}).(*slot)
	if ok {
		s.v.Store(v)
	}
	return ok
}

// Replace makes v the viewer of ctx's request if it still is old, and
// reports whether it did: a re-read viewer must not overwrite one that was
// replaced by a fresher read meanwhile.
func Replace(ctx context.Context, old, v *Viewer) bool {
	s, ok := ctx.Value(ctxKey{}).(*slot)
	return ok && s.v.CompareAndSwap(old, v)
}

// SystemContext returns ctx acting as the system: every privacy rule allows
// it. Use it only in the CLI, imports and background work.
func SystemContext(ctx context.Context) context.Context {
	return NewContext(ctx, &Viewer{system: true, Role: Admin})
}

// ErrSignInFirst is the refusal of an anonymous caller: the one "sign in
// first" of the code, from Require, RequireUser and the privacy rules.
var ErrSignInFirst = apierr.Errorf(apierr.Unauthenticated, "sign in first")

// Require returns the viewer, or UNAUTHENTICATED for an anonymous caller.
// The system viewer passes (imports and the CLI act through it).
func Require(ctx context.Context) (*Viewer, error) {
	if v := FromContext(ctx); v != nil {
		return v, nil
	}
	return nil, ErrSignInFirst
}

// RequireUser is Require for what belongs to a user of one's own (an
// inbox, sessions, notifications): the system viewer, which is no user,
// is refused like an anonymous caller.
func RequireUser(ctx context.Context) (*Viewer, error) {
	if v := FromContext(ctx); v != nil && v.UserID != "" && !v.IsSystem() {
		return v, nil
	}
	return nil, ErrSignInFirst
}
