// Package ticketing carries out the helpdesk operations that touch more
// than one row: opening a ticket with its first message, and replying
// (which also moves the ticket's status and first-response clock). Each runs
// in one transaction. Who may do what is left to the privacy rules.
package ticketing

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/ent"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/clock"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/nodes"
	"github.com/switchboardhq/switchboard/internal/notify"
	"github.com/switchboardhq/switchboard/internal/outbox"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/privacy"
	"github.com/switchboardhq/switchboard/internal/routing"
	"github.com/switchboardhq/switchboard/internal/tags"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Service runs ticket operations on one database.
type Service struct {
	client *ent.Client
	now    func() time.Time
	// Announce, when set, is called after every commit (which wrote
	// events to the log), so that live subscribers hear of them at once
	// instead of at the next poll of the log.
	Announce func(ctx context.Context)
	// Online, when set, tells round-robin which agents are online.
	Online routing.Online
	// Attachments attaches uploads to messages (nil: messages take none).
	Attachments *attachments.Service
	// Outbox writes the mails of public replies (nil: none).
	Outbox *outbox.Outbox
}

// Options are what the Service tells and asks beyond the database.
type Options struct {
	// Announce, when set, is called after every commit (internal/live's
	// Hub.Announce).
	Announce func(ctx context.Context)
	// Online, when set, tells round-robin which agents are online
	// (internal/live's Hub.AgentsOnline).
	Online routing.Online
	// Attachments attaches uploads to messages (nil: messages take none).
	Attachments *attachments.Service
	// Outbox, when set, mails staff's public replies to the ticket's
	// requester, in the reply's transaction.
	Outbox *outbox.Outbox
}

// New returns a Service.
func New(client *ent.Client, opts Options) *Service {
	return &Service{client: client, now: time.Now, Announce: opts.Announce, Online: opts.Online, Attachments: opts.Attachments, Outbox: opts.Outbox}
}

// changeTime is the time of a change made under ctx: the time internal/clock
// carries (the demo data's history), else s.now.
func (s *Service) changeTime(ctx context.Context) time.Time {
	if t, ok := clock.Set(ctx); ok {
		return t
	}
	return s.now()
}

// NewTicket describes a ticket to open.
type NewTicket struct {
	Subject     string
	Body        string
	Priority    *priority.Priority
	GroupID     *globalid.ID
	RequesterID *globalid.ID
	Channel     ticket.Channel
	// AttachmentIDs are the viewer's pending uploads to attach to the
	// first message.
	AttachmentIDs []globalid.ID
	// Mail, for a ticket opened by mail, is where its first message came
	// from.
	Mail *MailOrigin
}

// MailOrigin is the mail a message came from (internal/inbound).
type MailOrigin struct {
	// MessageID is the mail's Message-ID (without angle brackets).
	MessageID string
	// Original is its whole text as received (for staff).
	Original string
	// Acknowledge, for a new ticket, mails the requester that it is open
	// (not for a sender who asked for no automatic answers).
	Acknowledge bool
}

func (o *MailOrigin) set(c *ent.MessageCreate) *ent.MessageCreate {
	if o == nil {
		return c
	}
	if o.MessageID != "" {
		c.SetEmailMessageID(o.MessageID)
	}
	if o.Original != "" {
		original := o.Original
		if utf8.RuneCountInString(original) > entschema.MaxEmailOriginalLen {
			original = string([]rune(original)[:entschema.MaxEmailOriginalLen])
		}
		c.SetEmailOriginal(original)
	}
	return c
}

// Create opens a ticket; its body becomes the first message.
func (s *Service) Create(ctx context.Context, in NewTicket) (*ent.Ticket, error) {
	ctx = s.mailing(ctx)
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	subject := strings.TrimSpace(in.Subject)
	if err := checkText("subject", subject, entschema.MaxSubjectLen); err != nil {
		return nil, err
	}
	body := strings.TrimSpace(in.Body)
	if err := checkText("body", body, entschema.MaxBodyLen); err != nil {
		return nil, err
	}
	if in.Channel == "" {
		in.Channel = ticket.ChannelWEB
	}
	requester := v.UserID
	if in.RequesterID == nil {
		ctx = entschema.OwnTicket(ctx)
	} else {
		requester = *in.RequesterID
		// That they are a customer is an ent hook's rule (ent/schema);
		// customers asking for someone else are refused by the privacy rules.
		if _, err := s.referencedUser(ctx, "requesterID", requester); err != nil {
			return nil, err
		}
	}
	if in.GroupID != nil {
		if err := nodes.MustSee(ctx, s.client, "groupID", globalid.PrefixGroup, *in.GroupID); err != nil {
			return nil, err
		}
	}
	ctx = routing.WithFirstMessage(ctx, body)
	if s.Online != nil {
		ctx = routing.WithOnline(ctx, s.Online)
	}
	var t *ent.Ticket
	err = s.withTx(ctx, func(tx *ent.Tx) error {
		create := tx.Ticket.Create().
			SetSubject(subject).
			SetRequesterID(requester).
			SetChannel(in.Channel).
			SetNillablePriority(in.Priority).
			SetNillableGroupID(in.GroupID)
		// An agent opening a ticket outside any group keeps it, so that the
		// ticket stays within their reach.
		if v.IsAgent() && in.GroupID == nil {
			create.SetAssigneeID(v.UserID)
		}
		var err error
		if t, err = create.Save(ctx); err != nil {
			return err
		}
		msg, err := in.Mail.set(tx.Message.Create().SetTicketID(t.ID).SetAuthorID(v.UserID).SetBody(body)).Save(notify.Opening(ctx))
		if err != nil {
			return err
		}
		if err := s.attach(ctx, tx, msg, in.AttachmentIDs); err != nil {
			return err
		}
		if s.Outbox != nil && in.Mail != nil && in.Mail.Acknowledge {
			return s.Outbox.TicketAck(ctx, tx, t, msg)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t.Unwrap(), nil
}

// Reply adds a message to a ticket. A staff member's first public reply
// stops the first-response clock and opens a new ticket; a customer's reply
// reopens a pending or solved one.
func (s *Service) Reply(ctx context.Context, ticketID globalid.ID, body string, internal bool) (*ent.Message, error) {
	return s.ReplyWithAttachments(ctx, ticketID, body, internal, nil)
}

// ReplyWithAttachments is Reply with the viewer's pending uploads
// attachmentIDs attached to the message, in the same transaction.
func (s *Service) ReplyWithAttachments(ctx context.Context, ticketID globalid.ID, body string, internal bool, attachmentIDs []globalid.ID) (*ent.Message, error) {
	return s.replyWith(ctx, ticketID, body, internal, attachmentIDs, nil)
}

// ReplyByMail is a public reply that came by mail (internal/inbound).
func (s *Service) ReplyByMail(ctx context.Context, ticketID globalid.ID, body string, attachmentIDs []globalid.ID, origin MailOrigin) (*ent.Message, error) {
	return s.replyWith(ctx, ticketID, body, false, attachmentIDs, &origin)
}

func (s *Service) replyWith(ctx context.Context, ticketID globalid.ID, body string, internal bool, attachmentIDs []globalid.ID, origin *MailOrigin) (*ent.Message, error) {
	ctx = s.mailing(ctx)
	var msg *ent.Message
	err := s.withTx(ctx, func(tx *ent.Tx) error {
		m, bookkeeping, err := s.reply(ctx, tx, ticketID, body, internal, origin)
		msg = m
		if err != nil {
			return err
		}
		if err := s.attach(ctx, tx, m, attachmentIDs); err != nil {
			return err
		}
		if bookkeeping == nil {
			return nil
		}
		// The status bookkeeping is the system's doing, not the author's
		// (customers may not set firstRespondedAt themselves).
		return bookkeeping.Exec(viewer.SystemContext(ctx))
	})
	if err != nil {
		return nil, err
	}
	return msg.Unwrap(), nil
}

// reply writes a message in tx and returns, not yet saved, the change of
// the ticket the reply implies (first response, status), or nil when it
// implies none. Leaving the save to the caller lets a macro add its own
// field changes to the same update: one change, one TICKET_UPDATED event.
func (s *Service) reply(ctx context.Context, tx *ent.Tx, ticketID globalid.ID, body string, internal bool, origin *MailOrigin) (*ent.Message, *ent.TicketUpdateOne, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, nil, err
	}
	body = strings.TrimSpace(body)
	if err := checkText("body", body, entschema.MaxBodyLen); err != nil {
		return nil, nil, err
	}
	// The ticket row is locked first, as every ticket change locks it
	// before numbering its event: taking the event sequence first, for
	// the message, would deadlock with a concurrent update on
	// PostgreSQL. As the system, so reach is decided on the row read
	// (privacy.InReach), not with a query of its own: a ticket out of
	// reach answers as a missing one. What it read is the ticket before
	// the reply, for the reply's event.
	before, err := entschema.LockTicket(ctx, tx, ticketID)
	if err != nil {
		return nil, nil, err
	}
	if !privacy.InReach(v, before) {
		return nil, nil, &ent.NotFoundError{}
	}
	if before.Status == ticket.StatusCLOSED {
		return nil, nil, apierr.Errorf(apierr.Conflict, "ticket #%d is closed; open a new ticket instead", before.Number)
	}
	// At the column's precision (PostgreSQL keeps microseconds), so that
	// the ticket as it is now is what a read would return.
	now := s.changeTime(ctx).Truncate(time.Microsecond)
	if err := entschema.TouchTicket(ctx, tx, ticketID, now); err != nil {
		return nil, nil, err
	}
	t := new(ent.Ticket)
	*t = *before
	t.UpdatedAt = now
	// The message's event, and the message's own check of reach, read the
	// ticket as it was and is: locked.
	ctx = entschema.WithLockedTicket(ctx, before, t)
	msg, err := origin.set(tx.Message.Create().SetTicketID(ticketID).SetAuthorID(v.UserID).SetBody(body).SetInternal(internal)).Save(ctx)
	if err != nil {
		return nil, nil, err
	}
	if internal {
		return msg, nil, nil
	}
	if s.Outbox != nil && v.IsStaff() {
		if err := s.Outbox.TicketReply(ctx, tx, t, msg); err != nil {
			return nil, nil, err
		}
	}
	return msg, replyBookkeeping(tx, t, v, s.changeTime(ctx)), nil
}

// mailing makes the notifications of the changes made under ctx mailed
// to those of their recipients who are not online.
func (s *Service) mailing(ctx context.Context) context.Context {
	if s.Outbox == nil {
		return ctx
	}
	return notify.WithMailer(ctx, s.Outbox.Notifications(s.Online))
}

// attach attaches uploads to msg in tx.
func (s *Service) attach(ctx context.Context, tx *ent.Tx, msg *ent.Message, ids []globalid.ID) error {
	if len(ids) == 0 {
		return nil
	}
	if s.Attachments == nil {
		return apierr.Invalid("attachmentIDs", "this server stores no attachments")
	}
	return s.Attachments.Attach(ctx, tx, msg, ids)
}

// replyBookkeeping is the change a public reply makes to its ticket t, or
// nil when it makes none.
func replyBookkeeping(tx *ent.Tx, t *ent.Ticket, v *viewer.Viewer, now time.Time) *ent.TicketUpdateOne {
	update := tx.Ticket.UpdateOne(t)
	changed := false
	switch {
	case v.IsStaff():
		if t.FirstRespondedAt == nil {
			update.SetFirstRespondedAt(now)
			changed = true
		}
		if t.Status == ticket.StatusNEW {
			update.SetStatus(ticket.StatusOPEN)
			changed = true
		}
	case t.Status == ticket.StatusPENDING || t.Status == ticket.StatusSOLVED:
		update.SetStatus(ticket.StatusOPEN)
		changed = true
	}
	if !changed {
		return nil
	}
	return update
}

func (s *Service) withTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// A panic must not leave the transaction (and SQLite's write lock) open.
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if s.Announce != nil {
		s.Announce(ctx)
	}
	if s.Outbox != nil {
		s.Outbox.Wake()
	}
	return nil
}

func checkText(field, s string, max int) error {
	switch {
	case s == "":
		return apierr.Invalid(field, "%s is required", field)
	case utf8.RuneCountInString(s) > max:
		return apierr.Invalid(field, "%s is longer than %d characters", field, max)
	}
	return nil
}

// Update changes a ticket's fields. Referenced users and groups must be
// visible to the viewer; only staff can be assignees (an ent hook).
func (s *Service) Update(ctx context.Context, id globalid.ID, in ent.UpdateTicketInput) (*ent.Ticket, error) {
	ctx = s.mailing(ctx)
	if in.Subject != nil {
		subject := strings.TrimSpace(*in.Subject)
		if err := checkText("subject", subject, entschema.MaxSubjectLen); err != nil {
			return nil, err
		}
		in.Subject = &subject
	}
	if in.AssigneeID != nil {
		// That they are staff is an ent hook's rule (ent/schema).
		if _, err := s.referencedUser(ctx, "assigneeID", *in.AssigneeID); err != nil {
			return nil, err
		}
	}
	if in.GroupID != nil {
		if err := nodes.MustSee(ctx, s.client, "groupID", globalid.PrefixGroup, *in.GroupID); err != nil {
			return nil, err
		}
	}
	// SQLite cannot append many more tags in one statement.
	for field, list := range map[string][]string{"tags": in.Tags, "appendTags": in.AppendTags} {
		if len(list) > tags.MaxPerList {
			return nil, apierr.Invalid(field, "%s takes at most %d tags", field, tags.MaxPerList)
		}
	}
	// entgql's generated Mutate appends input.Tags instead of
	// input.AppendTags (ent/contrib#639), so appending is done here.
	appendTags := in.AppendTags
	in.AppendTags = nil
	var t *ent.Ticket
	err := s.withTx(ctx, func(tx *ent.Tx) error {
		update := tx.Ticket.UpdateOneID(id).SetInput(in)
		if len(appendTags) > 0 {
			// The limit is of the ticket's tags, not of one list: read
			// them under the row lock the update takes anyway.
			current, err := entschema.LockTicket(ctx, tx, id)
			if err != nil && !ent.IsNotFound(err) {
				return err
			}
			if current != nil {
				base := current.Tags
				if in.Tags != nil || in.ClearTags {
					base = in.Tags
				}
				if _, err := applyTagChange(base, appendTags, nil, "appendTags"); err != nil {
					return err
				}
			}
			update.AppendTags(appendTags)
		}
		var err error
		t, err = update.Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t.Unwrap(), nil
}

// SetStatus moves a ticket to a status.
func (s *Service) SetStatus(ctx context.Context, id globalid.ID, status ticket.Status) error {
	ctx = s.mailing(ctx)
	return s.withTx(ctx, func(tx *ent.Tx) error {
		return tx.Ticket.UpdateOneID(id).SetStatus(status).Exec(ctx)
	})
}

// referencedUser loads the user an input field names, as the viewer sees
// it: one query, and a NOT_FOUND naming the field when it is not a user the
// viewer may see.
func (s *Service) referencedUser(ctx context.Context, field string, id globalid.ID) (*ent.User, error) {
	if id.Prefix() != globalid.PrefixUser {
		return nil, nodes.FieldNotFound(field)
	}
	u, err := s.client.User.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nodes.FieldNotFound(field)
	}
	return u, err
}

// UpdateGroup changes a group; a change of its members is logged with it
// (MEMBERSHIP_CHANGED), so that live subscriptions of the agents who joined
// or left see the change at that point of the log.
func (s *Service) UpdateGroup(ctx context.Context, id globalid.ID, in ent.UpdateGroupInput) (*ent.Group, error) {
	var g *ent.Group
	err := s.withTx(ctx, func(tx *ent.Tx) error {
		var err error
		g, err = tx.Group.UpdateOneID(id).SetInput(in).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return g.Unwrap(), nil
}
