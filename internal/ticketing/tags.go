package ticketing

import (
	"context"
	"slices"

	"github.com/switchboardhq/switchboard/ent"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/tags"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// AddTags adds tags to a ticket, keeping those it has: two agents adding
// different tags at the same time both keep theirs.
func (s *Service) AddTags(ctx context.Context, id globalid.ID, tags []string) (*ent.Ticket, error) {
	ctx = s.mailing(ctx)
	return s.changeTags(ctx, id, tags, nil)
}

// RemoveTags removes tags from a ticket; tags it does not have are no
// error.
func (s *Service) RemoveTags(ctx context.Context, id globalid.ID, tags []string) (*ent.Ticket, error) {
	ctx = s.mailing(ctx)
	return s.changeTags(ctx, id, nil, tags)
}

// changeTags is a read-modify-write of the ticket's tags under its row
// lock (PostgreSQL: SELECT … FOR UPDATE; SQLite: the IMMEDIATE write
// transaction), so that no concurrent change of the tags is lost, as a
// plain "set tags to what I read plus mine" would lose it.
func (s *Service) changeTags(ctx context.Context, id globalid.ID, add, remove []string) (*ent.Ticket, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsStaff() {
		return nil, apierr.Errorf(apierr.Forbidden, "only agents and admins change tags")
	}
	if _, err := tags.Normalize("tags", append(slices.Clone(add), remove...)); err != nil {
		return nil, err
	}
	var out *ent.Ticket
	err = s.withTx(ctx, func(tx *ent.Tx) error {
		if _, err := entschema.LockTicket(ctx, tx, id); err != nil && !ent.IsNotFound(err) {
			return err
		}
		t, err := s.readableTicket(ctx, tx.Client(), id)
		if err != nil {
			return err
		}
		next, err := applyTagChange(t.Tags, add, remove, "tags")
		if err != nil {
			return err
		}
		if slices.Equal(next, t.Tags) {
			// Nothing changes: nothing is written, no event.
			out = t
			return nil
		}
		out, err = tx.Ticket.UpdateOneID(id).SetTags(next).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// applyTagChange returns current with add appended (those not there yet)
// and remove taken out, refusing more than tags.MaxPerTicket in all.
func applyTagChange(current, add, remove []string, field string) ([]string, error) {
	add, err := tags.Normalize(field, add)
	if err != nil {
		return nil, err
	}
	remove, err = tags.Normalize(field, remove)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(current)
	for _, tag := range add {
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	out = slices.DeleteFunc(out, func(tag string) bool { return slices.Contains(remove, tag) })
	// A change that does not add to a ticket over the limit (one that
	// came from before the limit) is let through, so it can shrink.
	if len(out) > tags.MaxPerTicket && len(out) > len(current) {
		return nil, apierr.Invalid(field, "a ticket has at most %d tags", tags.MaxPerTicket)
	}
	return out, nil
}
