// Package inbound turns mail the SMTP listener (internal/mail) accepted
// into tickets and replies: who sent it (an unknown sender becomes a
// customer without a password), which ticket it answers (a signed reply
// address, or the Message-IDs it refers to), whether the sender may post
// there (the requester or a follower; anyone else opens a new ticket),
// its files as attachments. Automatic mail (auto-replies, bounces, lists)
// is dropped: it never opens a ticket nor gets a mail back.
package inbound

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/follow"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/outboxmessage"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/mail"
	"github.com/switchboardhq/switchboard/internal/notify"
	"github.com/switchboardhq/switchboard/internal/routing"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Service delivers inbound mail.
type Service struct {
	client  *ent.Client
	tickets *ticketing.Service
	files   *attachments.Service
	tokens  *mail.Tokens
	// addresses are our support addresses (lower case) and the group
	// name each routes to ("" for the routing rules and default group).
	addresses map[string]string
	// domain is the domain of the Message-IDs we send (the ticket root
	// IDs are ticket.<id>@domain).
	domain string
	log    *slog.Logger
	// Received, when set, counts each mail by what became of it (ticket,
	// reply, duplicate, automatic, bounce, refused, failed).
	Received func(outcome string)
}

// New returns the Service. addresses maps each support address to a group
// name ("" when the routing rules decide).
func New(client *ent.Client, tickets *ticketing.Service, files *attachments.Service, tokens *mail.Tokens, addresses map[string]string, domain string, log *slog.Logger) *Service {
	lower := make(map[string]string, len(addresses))
	for a, g := range addresses {
		lower[strings.ToLower(a)] = g
	}
	return &Service{client: client, tickets: tickets, files: files, tokens: tokens, addresses: lower, domain: strings.ToLower(domain), log: log}
}

// base is addr without its subaddress (support+token@x → support@x).
func base(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndex(addr, "@")
	if at < 0 {
		return addr
	}
	local, _, _ := strings.Cut(addr[:at], "+")
	return local + addr[at:]
}

// Ours tells whether addr is one of our support addresses, with or without
// a subaddress: what the listener accepts RCPT TO for.
func (s *Service) Ours(addr string) bool {
	_, ok := s.addresses[base(addr)]
	return ok
}

// Deliver stores msg as a ticket or a reply; it returns once that is
// committed (the listener answers 250 after). A mail whose Message-ID is
// stored already (sent again after a lost 250) is accepted and not stored
// twice.
func (s *Service) Deliver(ctx context.Context, env mail.Envelope, msg *mail.Inbound) error {
	outcome, err := s.deliver(ctx, env, msg)
	if err != nil {
		var pe *mail.PermanentError
		if outcome = "failed"; errors.As(err, &pe) {
			outcome = "refused"
		}
	}
	if s.Received != nil {
		s.Received(outcome)
	}
	return err
}

func (s *Service) deliver(ctx context.Context, env mail.Envelope, msg *mail.Inbound) (string, error) {
	if msg.Automatic != "" {
		if msg.Bounce {
			s.log.WarnContext(ctx, "inbound mail: a bounce", "failed_recipients", msg.FailedRecipients, "message_id", msg.MessageID)
			return "bounce", s.bounced(ctx, msg.FailedRecipients)
		}
		s.log.InfoContext(ctx, "inbound mail: automatic mail dropped", "reason", msg.Automatic, "from", msg.From.Address, "message_id", msg.MessageID)
		return "automatic", nil
	}
	sys := viewer.SystemContext(ctx)
	if msg.MessageID != "" {
		dup, err := s.client.Message.Query().Where(message.EmailMessageID(msg.MessageID)).Exist(sys)
		if err != nil {
			return "", err
		}
		if dup {
			return "duplicate", nil
		}
	}
	sender, err := s.sender(ctx, msg.From)
	if err != nil {
		return "", err
	}
	if sender.EmailBouncedAt != nil {
		// They wrote: the address works again.
		if err := s.client.User.UpdateOne(sender).ClearEmailBouncedAt().Exec(sys); err != nil {
			return "", err
		}
	}
	as := viewer.NewContext(ctx, notify.Viewer(sender))
	origin := ticketing.MailOrigin{MessageID: msg.MessageID, Original: msg.Text}
	body := strings.TrimSpace(msg.Visible)
	if body == "" {
		body = "(no text)"
	}
	if t, ok := s.thread(sys, env, msg); ok && s.mayReply(sys, sender, t) {
		files, err := s.upload(as, msg)
		if err != nil {
			return "", err
		}
		_, err = s.tickets.ReplyByMail(as, t.ID, body, files, origin)
		return "reply", refusal(err)
	}
	subject := strings.TrimSpace(msg.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	if utf8.RuneCountInString(subject) > entschema.MaxSubjectLen {
		subject = string([]rune(subject)[:entschema.MaxSubjectLen])
	}
	if g, ok, err := s.groupOf(sys, env, msg); err != nil {
		return "", err
	} else if ok {
		as = routing.WithFallbackGroup(as, g)
	}
	files, err := s.upload(as, msg)
	if err != nil {
		return "", err
	}
	origin.Acknowledge = !msg.SuppressAutoReply
	_, err = s.tickets.Create(as, ticketing.NewTicket{Subject: subject, Body: body, Channel: ticket.ChannelEMAIL, AttachmentIDs: files, Mail: &origin})
	return "ticket", refusal(err)
}

// refusal makes an input error (a limit, a closed ticket) a permanent
// refusal the sender hears of; other errors are temporary.
func refusal(err error) error {
	var e *apierr.Error
	if errors.As(err, &e) {
		switch e.Code {
		case apierr.BadUserInput, apierr.PayloadTooLarge, apierr.Forbidden, apierr.Conflict:
			return &mail.PermanentError{Reason: e.Message, Err: err}
		}
	}
	return err
}

// bounced marks the accounts of addresses a bounce names: mail to them
// waits until they write again.
func (s *Service) bounced(ctx context.Context, addrs []string) error {
	if len(addrs) == 0 {
		return nil
	}
	lower := make([]string, len(addrs))
	for i, a := range addrs {
		lower[i] = strings.ToLower(strings.TrimSpace(a))
	}
	return s.client.User.Update().Where(user.EmailIn(lower...)).SetEmailBouncedAt(time.Now()).Exec(viewer.SystemContext(ctx))
}

// sender is the user of the From address, made a customer without a
// password when unknown (they can claim the account by resetting the
// password).
func (s *Service) sender(ctx context.Context, from mail.Mailbox) (*ent.User, error) {
	sys := viewer.SystemContext(ctx)
	addr := strings.ToLower(strings.TrimSpace(from.Address))
	if addr == "" || !strings.Contains(addr, "@") {
		return nil, &mail.PermanentError{Reason: "the mail has no sender address"}
	}
	u, err := s.client.User.Query().Where(user.EmailEqualFold(addr)).WithGroups().Only(sys)
	if err == nil {
		if !u.Active {
			return nil, &mail.PermanentError{Reason: "this sender's account is disabled"}
		}
		return u, nil
	}
	if !ent.IsNotFound(err) {
		return nil, err
	}
	name := strings.TrimSpace(from.Name)
	if name == "" {
		name, _, _ = strings.Cut(addr, "@")
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	u, err = s.client.User.Create().SetEmail(addr).SetName(name).SetRole(user.RoleCUSTOMER).Save(sys)
	if ent.IsConstraintError(err) {
		// Created meanwhile by another mail of theirs.
		return s.client.User.Query().Where(user.EmailEqualFold(addr)).WithGroups().Only(sys)
	}
	if err != nil {
		return nil, refusal(apierr.Wrap(apierr.BadUserInput, err, "the sender address cannot be an account"))
	}
	s.log.InfoContext(ctx, "inbound mail: a new customer", "user", u.ID)
	return u, nil
}

// thread is the ticket msg answers: the one a signed reply address names,
// else one whose mails its In-Reply-To or References name.
func (s *Service) thread(sys context.Context, env mail.Envelope, msg *mail.Inbound) (*ent.Ticket, bool) {
	var id globalid.ID
	for _, list := range [][]string{env.RcptTo, addresses(msg.To), addresses(msg.Cc), msg.DeliveredTo} {
		for _, a := range list {
			if t, ok := s.tokens.TicketOfAddress(strings.ToLower(a)); ok {
				id = t
			}
		}
	}
	if id == "" {
		refs := append(append([]string{}, msg.InReplyTo...), msg.References...)
		for i := len(refs) - 1; i >= 0 && id == ""; i-- {
			r := strings.ToLower(refs[i])
			if rest, ok := strings.CutPrefix(r, "ticket."); ok && strings.HasSuffix(rest, "@"+s.domain) {
				id = globalid.ID(strings.ToUpper(strings.TrimSuffix(rest, "@"+s.domain)))
			}
		}
		if id == "" && len(refs) > 0 {
			if o, err := s.client.OutboxMessage.Query().Where(outboxmessage.MessageIDIn(refs...), outboxmessage.TicketIDNotNil()).
				Order(ent.Desc(outboxmessage.FieldCreatedAt)).First(sys); err == nil {
				id = *o.TicketID
			} else if m, err := s.client.Message.Query().Where(message.EmailMessageIDIn(refs...)).First(sys); err == nil {
				id = m.TicketID
			}
		}
	}
	if id == "" {
		return nil, false
	}
	t, err := s.client.Ticket.Get(sys, id)
	if err != nil || t.Status == ticket.StatusCLOSED {
		return nil, false
	}
	return t, true
}

// mayReply: only the requester and the followers of a ticket post to it
// by mail; anyone else's answer opens a ticket of their own.
func (s *Service) mayReply(sys context.Context, u *ent.User, t *ent.Ticket) bool {
	if t.RequesterID == u.ID {
		return true
	}
	ok, err := s.client.Follow.Query().Where(follow.TicketID(t.ID), follow.UserID(u.ID)).Exist(sys)
	return err == nil && ok
}

// groupOf is the group of the first of our addresses the mail was sent
// to that names one.
func (s *Service) groupOf(sys context.Context, env mail.Envelope, msg *mail.Inbound) (globalid.ID, bool, error) {
	for _, list := range [][]string{env.RcptTo, addresses(msg.To), addresses(msg.Cc)} {
		for _, a := range list {
			name := s.addresses[base(a)]
			if name == "" {
				continue
			}
			g, err := s.client.Group.Query().Where(group.Name(name)).Only(sys)
			if ent.IsNotFound(err) {
				s.log.Warn("inbound mail: the group of an address does not exist; routing as usual", "address", base(a), "group", name)
				continue
			}
			if err != nil {
				return "", false, err
			}
			return g.ID, true, nil
		}
	}
	return "", false, nil
}

// upload stores the mail's files as pending attachments of the sender.
func (s *Service) upload(as context.Context, msg *mail.Inbound) ([]globalid.ID, error) {
	var ids []globalid.ID
	for _, a := range msg.Attachments {
		att, err := s.files.Upload(as, graphql.Upload{File: bytes.NewReader(a.Content), Filename: a.Filename, Size: int64(len(a.Content))})
		if err != nil {
			return nil, refusal(err)
		}
		ids = append(ids, att.ID)
	}
	return ids, nil
}

func addresses(boxes []mail.Mailbox) []string {
	out := make([]string, len(boxes))
	for i, b := range boxes {
		out[i] = b.Address
	}
	return out
}
