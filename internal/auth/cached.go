package auth

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	entgo "entgo.io/ent"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/apitoken"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/hook"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// A request's token is looked up in the cache under "token:<sha256>"; the
// entry is what the database said about the token, its user and the user's
// groups. Every change that could alter that answer (a session or token
// revoked, expired early or deleted; a user's role, activity or password
// changed; a group membership added or removed; a user or group deleted)
// invalidates the keys of every live token of the users concerned, through
// hooks on the ent client, so that GraphQL, the CLI and background work
// all do it. The hooks compute the keys before the change (rows may be
// gone after it) and invalidate after the commit.

// credential is a token's cache entry.
type credential struct {
	SessionID  globalid.ID   `json:"s,omitempty"`
	TokenID    globalid.ID   `json:"t,omitempty"`
	ReadOnly   bool          `json:"ro,omitempty"`
	UserID     globalid.ID   `json:"u"`
	Role       viewer.Role   `json:"r"`
	GroupIDs   []globalid.ID `json:"g,omitempty"`
	ExpiresAt  *time.Time    `json:"x,omitempty"`
	LastUsedAt time.Time     `json:"l"`
}

// credentialColumns loads what a credential holds of its user, and nothing
// else: not the password hash, nor the phone, which would be decrypted.
func credentialColumns(q *ent.UserQuery) {
	q.Select(user.FieldRole, user.FieldActive).WithGroups(func(g *ent.GroupQuery) { g.Select(group.FieldID) })
}

func credentialOf(u *ent.User) *credential {
	c := &credential{UserID: u.ID, Role: viewer.Role(u.Role)}
	for _, g := range u.Edges.Groups {
		c.GroupIDs = append(c.GroupIDs, g.ID)
	}
	return c
}

func (c *credential) viewer() *viewer.Viewer {
	return &viewer.Viewer{
		UserID: c.UserID, Role: c.Role, GroupIDs: c.GroupIDs,
		SessionID: c.SessionID, TokenID: c.TokenID, ReadOnly: c.ReadOnly,
	}
}

func credentialKey(token string) string { return tokenHashKey(HashToken(token)) }

func tokenHashKey(hash []byte) string { return "token:" + hex.EncodeToString(hash) }

// cachedViewer answers from a cache entry; fresh is false when the
// database must be asked: its last use is due to be recorded (see
// sessionRenewal, which also keeps the idle timeout exact), or it is
// unreadable.
func (s *Service) cachedViewer(raw []byte) (v *viewer.Viewer, fresh bool, err error) {
	var c credential
	if json.Unmarshal(raw, &c) != nil {
		return nil, false, nil
	}
	now := s.now()
	idle := now.Sub(c.LastUsedAt)
	renewal := lastUsedGranularity
	if c.SessionID != "" {
		renewal = s.sessionRenewal()
	}
	switch {
	case c.ExpiresAt != nil && now.After(*c.ExpiresAt):
		return nil, true, ErrInvalidToken
	case idle > renewal,
		c.SessionID != "" && s.opts.SessionIdleTimeout > 0 && idle > s.opts.SessionIdleTimeout:
		return nil, false, nil
	}
	return c.viewer(), true, nil
}

// ForgetUsers drops the cached credentials of the users' live sessions and
// API tokens. Every write through the client drops them itself (see
// invalidateOnChange); this is for an instance that hears of a change to
// their groups from the event log (the live hub) before the instance that
// made it has: call it after the change has committed, so that what is
// read again is the new state.
func (s *Service) ForgetUsers(ctx context.Context, users []globalid.ID) error {
	if s.opts.Cache == nil || len(users) == 0 {
		return nil
	}
	keys, err := liveTokenKeys(allowAll(ctx), s.client, users)
	if err != nil {
		return fmt.Errorf("finding the cached credentials to drop: %w", err)
	}
	if len(keys) > 0 {
		s.opts.Cache.Invalidate(context.WithoutCancel(ctx), keys...)
	}
	return nil
}

// invalidateOnChange makes every mutation through client that changes a
// credential's answer invalidate its cache keys.
func invalidateOnChange(client *ent.Client, c cache.Cache) {
	client.Session.Use(invalidateTokens(c, func(ctx context.Context, m *ent.SessionMutation, ids []globalid.ID) ([]string, error) {
		rows, err := m.Client().Session.Query().Where(session.IDIn(ids...)).Select(session.FieldTokenHash).All(ctx)
		return hashKeys(rows, func(r *ent.Session) []byte { return r.TokenHash }), err
	}))
	client.APIToken.Use(invalidateTokens(c, func(ctx context.Context, m *ent.APITokenMutation, ids []globalid.ID) ([]string, error) {
		rows, err := m.Client().APIToken.Query().Where(apitoken.IDIn(ids...)).Select(apitoken.FieldTokenHash).All(ctx)
		return hashKeys(rows, func(r *ent.APIToken) []byte { return r.TokenHash }), err
	}))
	client.User.Use(func(next ent.Mutator) ent.Mutator {
		return hook.UserFunc(func(ctx context.Context, m *ent.UserMutation) (ent.Value, error) {
			if m.Op().Is(entgo.OpCreate) || !m.Op().Is(entgo.OpDelete|entgo.OpDeleteOne) &&
				!touches(m, user.FieldRole, user.FieldActive, user.FieldPasswordHash) && !touchesEdge(m, user.EdgeGroups) {
				return next.Mutate(ctx, m)
			}
			ids, err := m.IDs(allowAll(ctx))
			if err != nil {
				return nil, err
			}
			return invalidating(ctx, c, m, next, func(ctx context.Context) ([]string, error) {
				return liveTokenKeys(ctx, m.Client(), ids)
			})
		})
	})
	client.Group.Use(func(next ent.Mutator) ent.Mutator {
		return hook.GroupFunc(func(ctx context.Context, m *ent.GroupMutation) (ent.Value, error) {
			whole := m.Op().Is(entgo.OpDelete|entgo.OpDeleteOne) || m.MembersCleared()
			if !whole && !touchesEdge(m, group.EdgeMembers) {
				return next.Mutate(ctx, m)
			}
			users := append(m.MembersIDs(), m.RemovedMembersIDs()...)
			if whole {
				ids, err := m.IDs(allowAll(ctx))
				if err != nil {
					return nil, err
				}
				members, err := m.Client().Group.Query().Where(group.IDIn(ids...)).QueryMembers().IDs(allowAll(ctx))
				if err != nil {
					return nil, fmt.Errorf("reading the group's members: %w", err)
				}
				users = append(users, members...)
			}
			return invalidating(ctx, c, m, next, func(ctx context.Context) ([]string, error) {
				return liveTokenKeys(ctx, m.Client(), users)
			})
		})
	})
}

// invalidateTokens is the hook of sessions or API tokens (M): a mutation
// that changes a credential invalidates the keys that keysOf reads for the
// ids it changes.
func invalidateTokens[M interface {
	entgo.Mutation
	Tx() (*ent.Tx, error)
	IDs(context.Context) ([]globalid.ID, error)
}](c cache.Cache, keysOf func(context.Context, M, []globalid.ID) ([]string, error)) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, mu ent.Mutation) (ent.Value, error) {
			m, ok := mu.(M)
			if !ok || !changesCredential(m) {
				return next.Mutate(ctx, mu)
			}
			ids, err := m.IDs(allowAll(ctx))
			if err != nil {
				return nil, err
			}
			return invalidating(ctx, c, m, next, func(ctx context.Context) ([]string, error) {
				return keysOf(ctx, m, ids)
			})
		})
	}
}

// hashKeys returns the cache keys of rows' token hashes.
func hashKeys[T any](rows []T, hash func(T) []byte) []string {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = tokenHashKey(hash(r))
	}
	return keys
}

// invalidating computes the keys before the change, makes it, and
// invalidates them once it has committed (at once outside a transaction,
// where ent has committed when next returns).
func invalidating(ctx context.Context, c cache.Cache, m interface {
	entgo.Mutation
	Tx() (*ent.Tx, error)
}, next ent.Mutator, keysOf func(context.Context) ([]string, error)) (ent.Value, error) {
	keys, err := keysOf(allowAll(ctx))
	if err != nil {
		return nil, fmt.Errorf("finding the cached credentials the change ends: %w", err)
	}
	v, err := next.Mutate(ctx, m)
	if err == nil {
		cache.InvalidateAfterCommit(ctx, c, m, keys...)
	}
	return v, err
}

// liveTokenKeys returns the cache keys of the users' unrevoked sessions and
// API tokens (revoked ones are never cached).
func liveTokenKeys(ctx context.Context, client *ent.Client, users []globalid.ID) ([]string, error) {
	if len(users) == 0 {
		return nil, nil
	}
	var keys []string
	err := inBatches(slices.Compact(slices.Sorted(slices.Values(users))), func(ids []globalid.ID) error {
		sessions, err := client.Session.Query().
			Where(session.UserIDIn(ids...), session.RevokedAtIsNil()).Select(session.FieldTokenHash).All(ctx)
		if err != nil {
			return err
		}
		keys = append(keys, hashKeys(sessions, func(s *ent.Session) []byte { return s.TokenHash })...)
		tokens, err := client.APIToken.Query().
			Where(apitoken.UserIDIn(ids...), apitoken.RevokedAtIsNil()).Select(apitoken.FieldTokenHash).All(ctx)
		keys = append(keys, hashKeys(tokens, func(t *ent.APIToken) []byte { return t.TokenHash })...)
		return err
	})
	return keys, err
}

// changesCredential reports whether a session or token mutation changes
// more than its bookkeeping (recording a use must not invalidate the entry
// that the same request is about to store).
func changesCredential(m entgo.Mutation) bool {
	switch {
	case m.Op().Is(entgo.OpCreate):
		return false
	case m.Op().Is(entgo.OpDelete | entgo.OpDeleteOne):
		return true
	}
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		if f != session.FieldLastUsedAt && f != session.FieldUpdatedAt {
			return true
		}
	}
	return false
}

func touches(m entgo.Mutation, fields ...string) bool {
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		if slices.Contains(fields, f) {
			return true
		}
	}
	return false
}

func touchesEdge(m entgo.Mutation, edge string) bool {
	return len(m.AddedIDs(edge)) > 0 || len(m.RemovedIDs(edge)) > 0 || m.EdgeCleared(edge)
}

func allowAll(ctx context.Context) context.Context {
	return entprivacy.DecisionContext(ctx, entprivacy.Allow)
}
