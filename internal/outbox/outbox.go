// Package outbox holds what leaves the process: mails (later webhooks)
// are written to the outbox in the same transaction as their cause, and a
// worker delivers them after commit, with retries and backoff, once across
// instances (see worker.go and docs/email.md).
package outbox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/outboxmessage"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/mail"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// MaxReferences bounds the References header of a reply: the ticket's
// root and the latest mails of its thread.
const MaxReferences = 20

// Outbox writes mails to the outbox in the caller's transaction.
type Outbox struct {
	templates *mail.Templates
	tokens    *mail.Tokens
	// replyAddress is the support address replies carry a token on.
	replyAddress string
	domain       string
	publicURL    string
	wake         func()
}

// Config is what writing mails needs.
type Config struct {
	// From is the sender: "Support <support@example.com>". Its domain
	// names the Message-IDs.
	From string
	// ReplyAddress is the address replies go to, with a ticket token as
	// subaddress (support+<token>@example.com); empty: From's address.
	ReplyAddress string
	Tokens       *mail.Tokens
	// TemplatesDir overrides the embedded templates with its files
	// (SWITCHBOARD_MAIL_TEMPLATES_DIR; empty: none).
	TemplatesDir string
	// PublicURL is where people reach the server, for links in mails
	// (SWITCHBOARD_PUBLIC_URL).
	PublicURL string
}

// New returns an Outbox.
func New(cfg Config) (*Outbox, error) {
	t, err := mail.LoadTemplates(cfg.TemplatesDir)
	if err != nil {
		return nil, err
	}
	reply := cfg.ReplyAddress
	if reply == "" {
		reply = mail.Address(cfg.From)
	}
	domain := mail.Domain(cfg.From)
	if domain == "" {
		return nil, fmt.Errorf("mail from %q: not an address such as Support <support@example.com>", cfg.From)
	}
	return &Outbox{templates: t, tokens: cfg.Tokens, replyAddress: reply, domain: domain, publicURL: strings.TrimSuffix(cfg.PublicURL, "/"), wake: func() {}}, nil
}

// Tokens are the reply address tokens.
func (o *Outbox) Tokens() *mail.Tokens { return o.tokens }

// Domain is the domain of the Message-IDs the outbox makes.
func (o *Outbox) Domain() string { return o.domain }

// ReplyAddress is the support address replies carry their token on.
func (o *Outbox) ReplyAddress() string { return o.replyAddress }

// SetWake sets what is called after a commit that wrote mails (the
// worker's Notify).
func (o *Outbox) SetWake(f func()) { o.wake = f }

// Wake tells the worker that mails may wait (after a commit).
func (o *Outbox) Wake() { o.wake() }

// newMessageID is a fresh Message-ID (without brackets) of this server.
func (o *Outbox) newMessageID(kind string) string {
	return strings.ToLower(string(globalid.New(globalid.PrefixOutbox))+"."+strings.ReplaceAll(kind, "_", "-")) + "@" + o.domain
}

// rootID is the Message-ID every mail of a ticket references first, so
// that mail clients keep the ticket's mails in one thread even when some
// are missing.
func (o *Outbox) rootID(ticketID globalid.ID) string {
	return "ticket." + strings.ToLower(string(ticketID)) + "@" + o.domain
}

// ReplyData is what the TICKET_REPLY templates get.
type ReplyData struct {
	TicketNumber  int
	Subject       string
	Body          string
	AuthorName    string
	RequesterName string
}

// TicketReply writes, in tx, the mail of a public reply msg on ticket t to
// its requester, when msg is public, written by staff, and the requester
// is an active customer. It threads on the ticket's earlier mails.
func (o *Outbox) TicketReply(ctx context.Context, tx *ent.Tx, t *ent.Ticket, msg *ent.Message) error {
	if msg.Internal {
		return nil // an internal note never leaves by mail
	}
	sys := viewer.SystemContext(ctx)
	// Author and requester in one query: the ticket's row is locked
	// meanwhile.
	people, err := tx.User.Query().Where(user.IDIn(msg.AuthorID, t.RequesterID)).All(sys)
	if err != nil {
		return err
	}
	var author, req *ent.User
	for _, u := range people {
		if u.ID == msg.AuthorID {
			author = u
		}
		if u.ID == t.RequesterID {
			req = u
		}
	}
	if author == nil || req == nil {
		// Foreign keys keep both: a row is missing only if the database
		// is damaged.
		return fmt.Errorf("reply %s: its author or its ticket's requester is missing", msg.ID)
	}
	if author.Role == user.RoleCUSTOMER {
		return nil
	}
	return o.ticketMail(sys, tx, outboxmessage.KindTICKET_REPLY, t, msg, author, req)
}

// TicketAck writes, in tx, the acknowledgement of a ticket t opened by the
// customer's mail msg (internal/inbound decides when one is due: never for
// automatic mail or a sender who asks for none).
func (o *Outbox) TicketAck(ctx context.Context, tx *ent.Tx, t *ent.Ticket, msg *ent.Message) error {
	sys := viewer.SystemContext(ctx)
	req, err := tx.User.Get(sys, t.RequesterID)
	if err != nil {
		return err
	}
	return o.ticketMail(sys, tx, outboxmessage.KindTICKET_ACK, t, msg, nil, req)
}

// ticketMail writes a mail of kind about msg on t to t's requester req,
// when an active customer whose address does not bounce, threaded on the
// ticket's earlier mails.
func (o *Outbox) ticketMail(sys context.Context, tx *ent.Tx, kind outboxmessage.Kind, t *ent.Ticket, msg *ent.Message, author, req *ent.User) error {
	if req.Role != user.RoleCUSTOMER || !req.Active || req.EmailBouncedAt != nil || author != nil && req.ID == author.ID {
		return nil
	}
	earlier, err := o.thread(sys, tx, t.ID)
	if err != nil {
		return err
	}
	refs := []string{o.rootID(t.ID)}
	if len(earlier) > MaxReferences-1 {
		earlier = earlier[len(earlier)-(MaxReferences-1):]
	}
	refs = append(refs, earlier...)
	inReplyTo := refs[len(refs)-1]
	data := ReplyData{TicketNumber: t.Number, Subject: t.Subject, Body: msg.Body, RequesterName: req.Name}
	if author != nil {
		data.AuthorName = author.Name
	}
	r, err := o.templates.Render(string(kind), data)
	if err != nil {
		return err
	}
	return tx.OutboxMessage.Create().
		SetKind(kind).
		SetRecipient(req.Email).
		SetMessageID(o.newMessageID(string(kind))).
		SetTicketID(t.ID).SetTicketMessageID(msg.ID).
		SetInReplyTo(inReplyTo).SetReferences(strings.Join(refs, " ")).
		SetReplyTo(o.tokens.ReplyAddress(o.replyAddress, t.ID)).
		SetAutoSubmitted("auto-replied").
		SetSubject(r.Subject).SetTextBody(r.Text).SetHTMLBody(r.HTML).
		Exec(sys)
}

// thread is the Message-IDs of the ticket's mails so far, oldest first:
// those sent, and those the customer sent in (internal/inbound keeps
// them on their messages), so that the customer's mail client shows the
// customer's mails and our replies as one thread.
func (o *Outbox) thread(sys context.Context, tx *ent.Tx, ticketID globalid.ID) ([]string, error) {
	sent, err := tx.OutboxMessage.Query().
		Where(outboxmessage.TicketID(ticketID), outboxmessage.KindIn(outboxmessage.KindTICKET_REPLY, outboxmessage.KindTICKET_ACK)).
		Order(ent.Asc(outboxmessage.FieldCreatedAt), ent.Asc(outboxmessage.FieldID)).All(sys)
	if err != nil {
		return nil, err
	}
	received, err := tx.Message.Query().
		Where(message.TicketID(ticketID), message.EmailMessageIDNotNil()).
		Order(ent.Asc(message.FieldCreatedAt), ent.Asc(message.FieldID)).All(sys)
	if err != nil {
		return nil, err
	}
	type mailAt struct {
		id string
		at time.Time
	}
	all := make([]mailAt, 0, len(sent)+len(received))
	for _, m := range sent {
		all = append(all, mailAt{m.MessageID, m.CreatedAt})
	}
	for _, m := range received {
		all = append(all, mailAt{*m.EmailMessageID, m.CreatedAt})
	}
	slices.SortStableFunc(all, func(a, b mailAt) int { return a.at.Compare(b.at) })
	ids := make([]string, len(all))
	for i, m := range all {
		ids[i] = m.id
	}
	return ids, nil
}

// ResetData is what the PASSWORD_RESET templates get.
type ResetData struct {
	Name     string
	Link     string
	ValidFor string
}

// PasswordReset renders the password reset mail to address. Write it with
// Write; rendering apart lets the caller do the same work for an unknown
// address (and write nothing).
func (o *Outbox) PasswordReset(address string, data ResetData) (*Pending, error) {
	r, err := o.templates.Render(entschema.OutboxKindPasswordReset, data)
	if err != nil {
		return nil, err
	}
	return &Pending{kind: outboxmessage.KindPASSWORD_RESET, to: address, r: r, messageID: o.newMessageID(entschema.OutboxKindPasswordReset), autoSubmitted: "auto-generated"}, nil
}

// Pending is a rendered mail not yet written.
type Pending struct {
	kind          outboxmessage.Kind
	to            string
	r             mail.Rendered
	messageID     string
	autoSubmitted string
}

// Write writes p in tx (or, with tx nil, through client).
func (p *Pending) Write(ctx context.Context, client *ent.OutboxMessageClient) error {
	return client.Create().
		SetKind(p.kind).SetRecipient(p.to).SetMessageID(p.messageID).
		SetAutoSubmitted(p.autoSubmitted).
		SetSubject(p.r.Subject).SetTextBody(p.r.Text).SetHTMLBody(p.r.HTML).
		SetNextAttemptAt(time.Now()).
		Exec(viewer.SystemContext(ctx))
}
