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
	byTicket, err := s.FollowersOf(ctx, []globalid.ID{t.ID})
	return byTicket[t.ID], err
}

// FollowersOf are the followers of each of the tickets the viewer may know
// of, in two statements however many tickets: the follows, as the viewer
// (FollowPolicy: a customer's own, staff's of tickets in reach), and their
// users (UserPolicy). Every ticket asked for has an entry, empty for none.
func (s *Service) FollowersOf(ctx context.Context, ticketIDs []globalid.ID) (map[globalid.ID][]*ent.User, error) {
	out := make(map[globalid.ID][]*ent.User, len(ticketIDs))
	for _, id := range ticketIDs {
		out[id] = []*ent.User{}
	}
	if len(out) == 0 {
		return out, nil
	}
	follows, err := s.client.Follow.Query().
		Where(follow.TicketIDIn(ticketIDs...)).
		Order(follow.ByCreatedAt(), follow.ByID()).
		WithUser().
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range follows {
		if f.Edges.User != nil {
			out[f.TicketID] = append(out[f.TicketID], f.Edges.User)
		}
	}
	return out, nil
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
	byMessage, err := s.MentionsOf(ctx, []globalid.ID{m.ID})
	return byMessage[m.ID], err
}

// MentionsOf are the users each of the messages mentions, as Mentions
// shows them, in two statements however many messages: the mentions, as
// the viewer (MentionPolicy: staff's of tickets in reach, a customer's
// none), and their users (UserPolicy). Every message asked for has an
// entry, empty for none.
func (s *Service) MentionsOf(ctx context.Context, messageIDs []globalid.ID) (map[globalid.ID][]*ent.User, error) {
	out := make(map[globalid.ID][]*ent.User, len(messageIDs))
	for _, id := range messageIDs {
		out[id] = []*ent.User{}
	}
	if len(out) == 0 {
		return out, nil
	}
	mentions, err := s.client.Mention.Query().
		Where(mention.MessageIDIn(messageIDs...)).
		Order(mention.ByCreatedAt(), mention.ByID()).
		WithUser().
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range mentions {
		if m.Edges.User != nil {
			out[m.MessageID] = append(out[m.MessageID], m.Edges.User)
		}
	}
	return out, nil
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
