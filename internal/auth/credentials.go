package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/apitoken"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// APITokenPrefix marks API tokens (sessions use SessionTokenPrefix).
const APITokenPrefix = "sbt_"

// MySessions lists the viewer's own sessions, newest first.
func (s *Service) MySessions(ctx context.Context) ([]*ent.Session, error) {
	v, err := viewer.RequireUser(ctx)
	if err != nil {
		return nil, err
	}
	return s.client.Session.Query().Where(session.UserID(v.UserID)).Order(ent.Desc(session.FieldCreatedAt)).All(ctx)
}

// RevokeSession ends one of the viewer's sessions (privacy: own ones only).
func (s *Service) RevokeSession(ctx context.Context, id globalid.ID) (*ent.Session, error) {
	if _, err := viewer.RequireUser(ctx); err != nil {
		return nil, err
	}
	return s.client.Session.UpdateOneID(id).Where(session.RevokedAtIsNil()).SetRevokedAt(s.now()).Save(ctx)
}

// ChangePassword replaces the viewer's password after checking the current
// one, and ends every other session of theirs.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	v, err := viewer.RequireUser(ctx)
	if err != nil {
		return err
	}
	if v.SessionID == "" {
		return apierr.Errorf(apierr.Forbidden, "the password can only be changed from a signed-in session, not with an API token")
	}
	sys := viewer.SystemContext(ctx)
	u, err := s.client.User.Get(sys, v.UserID)
	if err != nil {
		return err
	}
	keys := []string{"account:" + u.Email}
	if wait, err := s.opts.Throttle.Check(ctx, keys...); err != nil {
		return err
	} else if wait > 0 {
		return apierr.TooMany(wait, "too many failed attempts")
	}
	ok, err := s.hasher.Check(ctx, current, u.PasswordHash)
	if err != nil || !ok {
		_ = s.opts.Throttle.Failure(ctx, keys...)
		return &apierr.Error{Code: apierr.BadUserInput, Field: "currentPassword", Message: "the current password is wrong"}
	}
	if err := ValidatePassword(next, u.Email, u.Name); err != nil {
		err.(*apierr.Error).Field = "newPassword"
		return err
	}
	if err := s.setPassword(ctx, u.ID, next); err != nil {
		return err
	}
	return s.client.Session.Update().
		Where(session.UserID(u.ID), session.IDNEQ(v.SessionID), session.RevokedAtIsNil()).
		SetRevokedAt(s.now()).Exec(sys)
}

// NewAPIToken describes a token to create.
type NewAPIToken struct {
	Name      string
	Scope     apitoken.Scope
	ExpiresAt *time.Time
}

// CreateAPIToken makes a token for the viewer; the plain token is returned
// only here.
func (s *Service) CreateAPIToken(ctx context.Context, in NewAPIToken) (string, *ent.APIToken, error) {
	v, err := viewer.RequireUser(ctx)
	if err != nil {
		return "", nil, err
	}
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return "", nil, apierr.Invalid("name", "name is required")
	case utf8.RuneCountInString(name) > entschema.MaxAPITokenNameLen:
		return "", nil, apierr.Invalid("name", "name is longer than %d characters", entschema.MaxAPITokenNameLen)
	case in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()):
		return "", nil, apierr.Invalid("expiresAt", "expiresAt must be in the future")
	}
	tok := newToken(APITokenPrefix)
	t, err := s.client.APIToken.Create().
		SetName(name).SetScope(in.Scope).SetUserID(v.UserID).SetTokenHash(HashToken(tok)).
		SetNillableExpiresAt(in.ExpiresAt).
		Save(ctx)
	if err != nil {
		return "", nil, err
	}
	return tok, t, nil
}

// MyAPITokens lists the viewer's own API tokens, newest first.
func (s *Service) MyAPITokens(ctx context.Context) ([]*ent.APIToken, error) {
	v, err := viewer.RequireUser(ctx)
	if err != nil {
		return nil, err
	}
	return s.client.APIToken.Query().Where(apitoken.UserID(v.UserID)).Order(ent.Desc(apitoken.FieldCreatedAt)).All(ctx)
}

// RevokeAPIToken ends an API token (privacy: own ones, or any for admins).
func (s *Service) RevokeAPIToken(ctx context.Context, id globalid.ID) (*ent.APIToken, error) {
	if _, err := viewer.RequireUser(ctx); err != nil {
		return nil, err
	}
	return s.client.APIToken.UpdateOneID(id).Where(apitoken.RevokedAtIsNil()).SetRevokedAt(s.now()).Save(ctx)
}

// authenticateAPIToken turns an API token into its owner as a viewer,
// read-only for READ tokens.
func (s *Service) authenticateAPIToken(ctx context.Context, token string) (*credential, error) {
	sys := viewer.SystemContext(ctx)
	t, err := s.client.APIToken.Query().
		Where(apitoken.TokenHash(HashToken(token))).
		WithUser(credentialColumns).
		Only(sys)
	if ent.IsNotFound(err) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("looking up API token: %w", err)
	}
	now := s.now()
	if t.RevokedAt != nil || t.ExpiresAt != nil && now.After(*t.ExpiresAt) || !t.Edges.User.Active {
		return nil, ErrInvalidToken
	}
	var lastUsed time.Time
	if t.LastUsedAt != nil {
		lastUsed = *t.LastUsedAt
	}
	if now.Sub(lastUsed) > lastUsedGranularity {
		if err := s.client.APIToken.UpdateOneID(t.ID).SetLastUsedAt(now).Exec(sys); err != nil {
			return nil, fmt.Errorf("recording API token use: %w", err)
		}
		lastUsed = now
	}
	cred := credentialOf(t.Edges.User)
	cred.TokenID, cred.ReadOnly, cred.ExpiresAt, cred.LastUsedAt = t.ID, t.Scope == apitoken.ScopeREAD, t.ExpiresAt, lastUsed
	return cred, nil
}

// UpdateUser changes an account (privacy: admins only). Deactivating it ends
// its sessions and tokens (an ent hook).
func (s *Service) UpdateUser(ctx context.Context, id globalid.ID, in ent.UpdateUserInput) (*ent.User, error) {
	if in.Email != nil {
		if err := ValidateEmail(*in.Email); err != nil {
			return nil, err
		}
	}
	if in.Phone != nil {
		phone := strings.TrimSpace(*in.Phone)
		if !validPhone(phone) {
			return nil, apierr.Invalid("phone", "a phone number has up to %d digits, spaces and + - ( ) . characters", entschema.MaxPhoneLen)
		}
		in.Phone = &phone
	}
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" {
			return nil, apierr.Invalid("name", "name is required")
		}
		in.Name = &name
	}
	u, err := s.client.User.UpdateOneID(id).SetInput(in).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, &apierr.Error{Code: apierr.Conflict, Field: "email", Message: "an account with this email already exists"}
	}
	return u, err
}

func validPhone(s string) bool {
	if s == "" || len(s) > entschema.MaxPhoneLen {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789 +-().", r) {
			return false
		}
	}
	return true
}

// UpdateProfile changes the viewer's own name and phone (privacy: only
// those fields of their own account). An empty phone removes it.
func (s *Service) UpdateProfile(ctx context.Context, name, phone *string) (*ent.User, error) {
	v, err := viewer.RequireUser(ctx)
	if err != nil {
		return nil, err
	}
	in := ent.UpdateUserInput{Name: name}
	if phone != nil {
		if p := strings.TrimSpace(*phone); p == "" {
			in.ClearPhone = true
		} else {
			in.Phone = &p
		}
	}
	return s.UpdateUser(ctx, v.UserID, in)
}

// SetAway marks the signed-in agent or admin away (out of office) or back.
func (s *Service) SetAway(ctx context.Context, away bool) (*ent.User, error) {
	v, err := viewer.RequireUser(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsStaff() {
		return nil, apierr.Errorf(apierr.Forbidden, "only agents and admins are assigned tickets")
	}
	return s.UpdateUser(ctx, v.UserID, ent.UpdateUserInput{Away: &away})
}
