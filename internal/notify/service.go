package notify

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/follow"
	"github.com/switchboardhq/switchboard/ent/mention"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Service answers the API's questions about following and mentions. Every
// read runs as the viewer, so the privacy policies decide what it shows.
type Service struct{ client *ent.Client }

// NewService returns a Service.
func NewService(client *ent.Client) *Service { return &Service{client: client} }

// FollowTicket makes the viewer follow a ticket they can see.
func (s *Service) FollowTicket(ctx context.Context, ticketID globalid.ID) (*ent.Ticket, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.client.Ticket.Get(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	if err := lockTicket(ctx, tx, t.ID); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := Follow(ctx, tx, t.ID, v.UserID); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return t, tx.Commit()
}

// UnfollowTicket stops the viewer following a ticket.
func (s *Service) UnfollowTicket(ctx context.Context, ticketID globalid.ID) (*ent.Ticket, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.client.Ticket.Get(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	_, err = s.client.Follow.Delete().Where(follow.TicketID(t.ID), follow.UserID(v.UserID)).Exec(ctx)
	return t, err
}

// Followers are the followers of t the viewer may know of.
func (s *Service) Followers(ctx context.Context, t *ent.Ticket) ([]*ent.User, error) {
	return s.client.Follow.Query().Where(follow.TicketID(t.ID)).QueryUser().All(ctx)
}

// FollowedByMe reports whether the viewer follows t.
func (s *Service) FollowedByMe(ctx context.Context, t *ent.Ticket) (bool, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return false, err
	}
	return s.client.Follow.Query().Where(follow.TicketID(t.ID), follow.UserID(v.UserID)).Exist(ctx)
}

// Mentions are the users m mentions, for those who may read its mentions
// (staff; the policy shows customers none).
func (s *Service) Mentions(ctx context.Context, m *ent.Message) ([]*ent.User, error) {
	return s.client.Mention.Query().Where(mention.MessageID(m.ID)).QueryUser().All(ctx)
}

// MentionCandidates are whom an internal note on the ticket may mention,
// for an autocomplete (staff only).
func (s *Service) MentionCandidates(ctx context.Context, ticketID globalid.ID, prefix string, first int) ([]*ent.User, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsStaff() {
		return nil, apierr.Errorf(apierr.Forbidden, "only agents and admins write internal notes")
	}
	if first < 0 || first > MaxMentionCandidates {
		return nil, apierr.Invalid("first", "first must be between 0 and %d", MaxMentionCandidates)
	}
	t, err := s.client.Ticket.Get(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	return Candidates(ctx, s.client, t, prefix, first)
}

// MaxMentionCandidates bounds one autocomplete answer.
const MaxMentionCandidates = 50
