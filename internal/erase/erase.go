// Package erase anonymises a person on request (the right to erasure):
// their name, e-mail address, phone and password go, their sessions and
// API tokens are revoked, the text they wrote — their messages and the
// subjects of the tickets they opened — is replaced, and the files they
// uploaded are deleted. The other rows stay, with their IDs, timestamps,
// statuses and authorship links, so reports (ticket counts, response and
// resolution times) do not change. Everything happens in one transaction,
// through ent: the schema's hooks act on it (the placeholder address is
// normalised, the deactivation hook finds nothing left to revoke), and so
// do those installed on the client, which drop the cached credentials of
// the revoked sessions and tokens once the erasure has committed
// (internal/auth). Only the files' content comes after the commit, when
// no row references it any more: the blobs no other attachment shares are
// deleted from the store (internal/attachments). It writes no events
// (entschema.SkipEvents says why), so live subscribers see the new text on
// their next read.
package erase

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/apitoken"
	"github.com/switchboardhq/switchboard/ent/attachment"
	"github.com/switchboardhq/switchboard/ent/message"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
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
	// Attachments is how many attachments they uploaded were deleted
	// (pending uploads and attached files), Files how many blobs went
	// with them: those no other attachment references, written before
	// the last half of SWITCHBOARD_ATTACHMENTS_PENDING_TTL (the sweeper
	// deletes the newer ones, see attachments.Service.PruneBlobs).
	Attachments int64
	Files       int
}

// ErrStaff is returned for agents and admins unless forced: erasing staff
// also erases their replies on other people's tickets.
var ErrStaff = errors.New("staff account")

// pageSize is how many messages or tickets are read at a time.
const pageSize = 1000

// ErrFilesLeft is an erasure that committed but could not delete the
// person's blobs from the store afterwards. Nothing references them, so
// the sweeper deletes them once they are older than
// SWITCHBOARD_ATTACHMENTS_PENDING_TTL.
var ErrFilesLeft = errors.New("their files could not be deleted from the attachments store")

// Eraser erases people from the database of Client and, when Files is
// set, their files from its store.
type Eraser struct {
	// Client is the application's client, so that the hooks it carries
	// (cached credentials) act on the erasure.
	Client *ent.Client
	// Files is the attachments service. Without it the erased person's
	// attachment rows are deleted all the same, and their blobs are left
	// to the sweeper.
	Files *attachments.Service
}

// User erases the user with the e-mail address with no attachments
// service (their blobs are left to the sweeper): Eraser.User.
func User(ctx context.Context, client *ent.Client, email string, force bool) (*Result, error) {
	return Eraser{Client: client}.User(ctx, email, force)
}

// User erases the user with the e-mail address. Staff accounts are refused
// unless force is set. Once the erasure has committed, the blobs of their
// files that nothing references any more are deleted; if that fails, the
// Result is returned with an error wrapping ErrFilesLeft.
func (e Eraser) User(ctx context.Context, email string, force bool) (*Result, error) {
	client := e.Client
	email = entschema.NormalizeEmail(email)
	if email == "" {
		return nil, apierr.Invalid("email", "an e-mail address is required")
	}
	ctx = entschema.SkipHooks(viewer.SystemContext(ctx), entschema.SkipEvents)
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	// Two columns: the phone is not decrypted for nothing.
	u, err := tx.User.Query().Where(user.EmailEQ(email)).Select(user.FieldID, user.FieldRole).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apierr.Errorf(apierr.NotFound, "no user with email %q", email)
	}
	if err != nil {
		return nil, err
	}
	res := &Result{UserID: string(u.ID), Role: string(u.Role)}
	if u.Role != user.RoleCUSTOMER && !force {
		return nil, fmt.Errorf("%s is an %s: %w; erasing it also erases their replies on customers' tickets (use --force)", email, strings.ToLower(res.Role), ErrStaff)
	}
	fail := func(what string, err error) (*Result, error) {
		return nil, fmt.Errorf("erasing %s: %s: %w", email, what, err)
	}
	now := time.Now().Round(0)
	// Before the user is deactivated, whose hook would revoke them too:
	// here they are counted, and the sessions' user agents go with them.
	n, err := tx.Session.Update().Where(session.UserID(u.ID), session.RevokedAtIsNil()).
		SetRevokedAt(now).ClearUserAgent().Save(ctx)
	if err != nil {
		return fail("revoking sessions", err)
	}
	res.Sessions = int64(n)
	if n, err = tx.APIToken.Update().Where(apitoken.UserID(u.ID), apitoken.RevokedAtIsNil()).SetRevokedAt(now).Save(ctx); err != nil {
		return fail("revoking API tokens", err)
	}
	res.Tokens = int64(n)
	err = tx.User.UpdateOneID(u.ID).
		SetName(ErasedName).SetEmail("erased-" + string(u.ID) + "@" + ErasedDomain).
		ClearPhone().ClearPasswordHash().SetActive(false).ClearLastSeenAt().SetUpdatedAt(now).
		Exec(ctx)
	if err != nil {
		return fail("the account", err)
	}
	// One row at a time, each keeping its updatedAt: the text changes,
	// not when the conversation last moved (lists ordered by it stay as
	// they were), and messages take no bulk updates (they are append-only).
	err = eachPage(ctx, func(after globalid.ID) ([]*ent.Message, error) {
		return tx.Message.Query().Where(message.AuthorID(u.ID), message.IDGT(after)).
			Order(ent.Asc(message.FieldID)).Limit(pageSize).Select(message.FieldID, message.FieldUpdatedAt).All(ctx)
	}, func(m *ent.Message) (globalid.ID, error) {
		res.Messages++
		return m.ID, tx.Message.UpdateOneID(m.ID).SetBody(ErasedBody).SetUpdatedAt(m.UpdatedAt).
			Select(message.FieldID).Exec(ctx)
	})
	if err != nil {
		return fail("replacing their messages", err)
	}
	err = eachPage(ctx, func(after globalid.ID) ([]*ent.Ticket, error) {
		return tx.Ticket.Query().Where(ticket.RequesterID(u.ID), ticket.IDGT(after)).
			Order(ent.Asc(ticket.FieldID)).Limit(pageSize).Select(ticket.FieldID, ticket.FieldUpdatedAt).All(ctx)
	}, func(t *ent.Ticket) (globalid.ID, error) {
		res.Tickets++
		return t.ID, tx.Ticket.UpdateOneID(t.ID).SetSubject(ErasedSubject).SetUpdatedAt(t.UpdatedAt).
			Select(ticket.FieldID).Exec(ctx)
	})
	if err != nil {
		return fail("replacing their ticket subjects", err)
	}
	// Their uploads, pending or attached (to anyone's messages); files
	// others attached to their tickets stay. The blobs after the commit:
	// until then the rows reference them.
	keys, err := tx.Attachment.Query().Where(attachment.UploaderID(u.ID)).
		Unique(true).Select(attachment.FieldSha256).Strings(ctx)
	if err != nil {
		return fail("listing their files", err)
	}
	if n, err = tx.Attachment.Delete().Where(attachment.UploaderID(u.ID)).Exec(ctx); err != nil {
		return fail("deleting their files", err)
	}
	res.Attachments = int64(n)
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if e.Files != nil && len(keys) > 0 {
		if res.Files, err = e.Files.PruneBlobs(ctx, keys); err != nil {
			return res, fmt.Errorf("erased %s, but %w (nothing references them: the server's sweeper deletes them once older than SWITCHBOARD_ATTACHMENTS_PENDING_TTL): %w", res.UserID, ErrFilesLeft, err)
		}
	}
	return res, nil
}

// eachPage calls each for every row that page returns, a page at a time in
// ID order (each returns the row's ID), until a short page.
func eachPage[T any](ctx context.Context, page func(after globalid.ID) ([]T, error), each func(T) (globalid.ID, error)) error {
	var after globalid.ID
	for {
		rows, err := page(after)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if after, err = each(r); err != nil {
				return err
			}
		}
		if len(rows) < pageSize {
			return ctx.Err()
		}
	}
}
