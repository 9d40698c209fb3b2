package auth

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/passwordreset"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/outbox"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// PasswordResetTokenPrefix marks password reset tokens.
const PasswordResetTokenPrefix = "sbr_"

// DefaultPasswordResetTTL is how long a reset link works by default.
const DefaultPasswordResetTTL = time.Hour

// Limits of password reset requests, per address asked for and per
// client address, checked before the address is looked up (so they tell
// nothing about whether it has an account).
var (
	ResetLimitPerEmail = ratelimit.Limit{Rate: 3, Burst: 3, Period: time.Hour}
	ResetLimitPerIP    = ratelimit.Limit{Rate: 20, Burst: 20, Period: time.Hour}
)

// ResetOptions are what password resets need.
type ResetOptions struct {
	// Outbox writes the reset mail (nil: resets are refused as UNAVAILABLE).
	Outbox *outbox.Outbox
	// TTL is how long a link works (0: DefaultPasswordResetTTL).
	TTL time.Duration
	// LinkBase is the link before the token: https://desk.example.com/reset-password?token=
	LinkBase string
	// Limiter counts requests (nil: in memory).
	Limiter ratelimit.Limiter
}

// SetResetOptions configures password resets.
func (s *Service) SetResetOptions(o ResetOptions) {
	if o.TTL <= 0 {
		o.TTL = DefaultPasswordResetTTL
	}
	if o.Limiter == nil {
		o.Limiter = ratelimit.NewMemory()
	}
	s.reset = o
}

// SetResetLimiter counts reset requests with l: Redis when scaled out, so
// that the limits hold across instances (set before serving).
func (s *Service) SetResetLimiter(l ratelimit.Limiter) { s.reset.Limiter = l }

// RequestPasswordReset writes a reset mail for the account of email, if
// there is an active one. The answer, and the work done (a token made,
// hashed, the mail rendered), are the same for an unknown address, which
// gets no mail.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	o := s.reset
	if o.Outbox == nil {
		return apierr.Errorf(apierr.Unavailable, "this server sends no mail")
	}
	email = entschema.NormalizeEmail(email)
	for key, limit := range map[string]ratelimit.Limit{"reset:email:" + email: ResetLimitPerEmail, "reset:ip:" + ClientFromContext(ctx).IP: ResetLimitPerIP} {
		r, err := o.Limiter.Allow(ctx, key, limit, 1)
		if err != nil {
			return err
		}
		if !r.Allowed {
			return apierr.TooMany(r.RetryAfter, "too many password reset requests")
		}
	}
	sys := viewer.SystemContext(ctx)
	u, err := s.client.User.Query().Where(user.Email(email)).Only(sys)
	if err != nil && !ent.IsNotFound(err) {
		return fmt.Errorf("looking up user: %w", err)
	}
	tok := newToken(PasswordResetTokenPrefix)
	hash := HashToken(tok)
	name := "there"
	if u != nil {
		name = u.Name
	}
	pending, err := o.Outbox.PasswordReset(email, outbox.ResetData{
		Name: name, Link: o.LinkBase + url.QueryEscape(tok), ValidFor: friendly(o.TTL),
	})
	if err != nil {
		return err
	}
	if u == nil || !u.Active {
		return nil
	}
	tx, err := s.client.Tx(sys)
	if err != nil {
		return err
	}
	err = tx.PasswordReset.Create().SetTokenHash(hash).SetUserID(u.ID).SetExpiresAt(s.now().Add(o.TTL)).Exec(sys)
	if err == nil {
		err = pending.Write(sys, tx.OutboxMessage)
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	o.Outbox.Wake()
	return nil
}

// ErrBadResetToken answers a reset token that is unknown, used or expired.
var ErrBadResetToken = &apierr.Error{Code: apierr.BadUserInput, Field: "token", Message: "this password reset link is invalid, expired or already used"}

// ResetPassword sets a new password with a reset token: once, before it
// expires. Every session of the account ends, and its other reset links
// stop working.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	sys := viewer.SystemContext(ctx)
	now := s.now()
	r, err := s.client.PasswordReset.Query().
		Where(passwordreset.TokenHash(HashToken(token)), passwordreset.UsedAtIsNil(), passwordreset.ExpiresAtGT(now)).
		Only(sys)
	if ent.IsNotFound(err) {
		return ErrBadResetToken
	} else if err != nil {
		return err
	}
	u, err := s.client.User.Get(sys, r.UserID)
	if ent.IsNotFound(err) || err == nil && !u.Active {
		return ErrBadResetToken
	} else if err != nil {
		return err
	}
	if err := ValidatePassword(password, u.Email, u.Name); err != nil {
		if e, ok := err.(*apierr.Error); ok {
			e.Field = "newPassword"
		}
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	tx, err := s.client.Tx(sys)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	// Single use: the first to mark it used wins.
	n, err := tx.PasswordReset.Update().
		Where(passwordreset.ID(r.ID), passwordreset.UsedAtIsNil(), passwordreset.ExpiresAtGT(now)).
		SetUsedAt(now).Save(sys)
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrBadResetToken
	}
	if err := tx.PasswordReset.Update().Where(passwordreset.UserID(u.ID), passwordreset.UsedAtIsNil()).SetUsedAt(now).Exec(sys); err != nil {
		return err
	}
	if err := tx.User.UpdateOneID(u.ID).SetPasswordHash(hash).Exec(sys); err != nil {
		return err
	}
	if err := tx.Session.Update().Where(session.UserID(u.ID), session.RevokedAtIsNil()).SetRevokedAt(now).Exec(sys); err != nil {
		return err
	}
	return tx.Commit()
}

// friendly writes a validity period as people read it: 1h, 30m, 1h30m.
func friendly(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
