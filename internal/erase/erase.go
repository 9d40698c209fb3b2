// Package erase anonymises a person on request (the right to erasure):
// their name, e-mail address, phone and password go, their sessions and
// API tokens are revoked, and the text they wrote — their messages and the
// subjects of the tickets they opened — is replaced. The rows stay, with
// their IDs, timestamps, statuses and authorship links, so reports (ticket
// counts, response and resolution times) do not change. Everything happens
// in one transaction. It is done with plain SQL because messages are
// append-only through ent (a hook refuses updates); no events are written,
// so live subscribers see the new text on their next read.
package erase

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/database"
)

// Replacement texts.
const (
	ErasedName    = "Erased user"
	ErasedBody    = "[erased at the author's request]"
	ErasedSubject = "[erased at the requester's request]"
	// ErasedDomain is the domain of erased accounts' placeholder addresses
	// (.invalid is reserved: no mail can ever go there).
	ErasedDomain = "erased.invalid"
)

// Result says what was erased.
type Result struct {
	UserID   string
	Role     string
	Messages int64
	Tickets  int64
	Sessions int64
	Tokens   int64
	// TokenHashes are the hashes of the sessions and API tokens revoked:
	// the caller drops their cached credentials once User has returned
	// (the change bypasses the ent hooks that would otherwise).
	TokenHashes [][]byte
}

// ErrStaff is returned for agents and admins unless forced: erasing staff
// also erases their replies on other people's tickets.
var ErrStaff = errors.New("staff account")

// User erases the user with the e-mail address. Staff accounts are refused
// unless force is set.
func User(ctx context.Context, db *database.SQL, email string, force bool) (*Result, error) {
	email = entschema.NormalizeEmail(email)
	if email == "" {
		return nil, apierr.Invalid("email", "an e-mail address is required")
	}
	tx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	res := &Result{}
	err = tx.QueryRowContext(ctx, db.Rebind("SELECT id, role FROM users WHERE email = ?"), email).Scan(&res.UserID, &res.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apierr.Errorf(apierr.NotFound, "no user with email %q", email)
	}
	if err != nil {
		return nil, err
	}
	if res.Role != "CUSTOMER" && !force {
		return nil, fmt.Errorf("%s is an %s: %w; erasing it also erases their replies on customers' tickets (use --force)", email, strings.ToLower(res.Role), ErrStaff)
	}
	now := time.Now().Round(0)
	exec := func(n *int64, q string, args ...any) error {
		r, err := tx.ExecContext(ctx, db.Rebind(q), args...)
		if err != nil {
			return err
		}
		if n != nil {
			*n, err = r.RowsAffected()
		}
		return err
	}
	placeholder := "erased-" + strings.ToLower(res.UserID) + "@" + ErasedDomain
	steps := []struct {
		n    *int64
		q    string
		args []any
	}{
		{nil, "UPDATE users SET name = ?, email = ?, phone = NULL, password_hash = NULL, active = ?, last_seen_at = NULL, updated_at = ? WHERE id = ?",
			[]any{ErasedName, placeholder, false, now, res.UserID}},
		{&res.Messages, "UPDATE messages SET body = ? WHERE author_id = ?", []any{ErasedBody, res.UserID}},
		{&res.Tickets, "UPDATE tickets SET subject = ? WHERE requester_id = ?", []any{ErasedSubject, res.UserID}},
	}
	for _, s := range steps {
		if err := exec(s.n, s.q, s.args...); err != nil {
			return nil, fmt.Errorf("erasing %s: %w", email, err)
		}
	}
	// RETURNING (PostgreSQL, and SQLite since 3.35) names exactly the
	// credentials this transaction revokes.
	revoke := func(n *int64, q string, args ...any) error {
		rows, err := tx.QueryContext(ctx, db.Rebind(q), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var hash []byte
			if err := rows.Scan(&hash); err != nil {
				return err
			}
			res.TokenHashes = append(res.TokenHashes, hash)
			*n++
		}
		return rows.Err()
	}
	if err := revoke(&res.Sessions, "UPDATE sessions SET revoked_at = ?, user_agent = NULL WHERE user_id = ? AND revoked_at IS NULL RETURNING token_hash", now, res.UserID); err != nil {
		return nil, fmt.Errorf("erasing %s: revoking sessions: %w", email, err)
	}
	if err := revoke(&res.Tokens, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING token_hash", now, res.UserID); err != nil {
		return nil, fmt.Errorf("erasing %s: revoking API tokens: %w", email, err)
	}
	return res, tx.Commit()
}
