package mail

import (
	"context"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one mail to deliver.
type Message struct {
	// MessageID is without angle brackets.
	MessageID string
	From      string
	To        string
	ReplyTo   string
	Subject   string
	// InReplyTo and References are Message-IDs without angle brackets.
	InReplyTo  string
	References []string
	// AutoSubmitted is the Auto-Submitted header (RFC 3834): empty for none.
	AutoSubmitted string
	// ListUnsubscribe is the URL of a one-click unsubscribe (RFC 8058):
	// List-Unsubscribe and List-Unsubscribe-Post; empty for none.
	ListUnsubscribe string
	Date            time.Time
	Text, HTML      string
}

// SMTP is the outgoing mail server of SWITCHBOARD_SMTP_URL:
//
//	smtp://[user:password@]host[:port][?starttls=required|opportunistic|none]
//	smtps://[user:password@]host[:port]   (TLS from the first byte, port 465)
//
// smtp:// defaults to port 587 and starttls=required.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	// ImplicitTLS is smtps://.
	ImplicitTLS bool
	// StartTLS is required, opportunistic or none.
	StartTLS string
	Timeout  time.Duration
}

// ParseSMTPURL reads an SMTP URL (see SMTP).
func ParseSMTPURL(raw string, timeout time.Duration) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL such as smtp://user:password@mail.example.com:587")
	}
	s := &SMTP{Host: u.Hostname(), StartTLS: "required", Timeout: timeout}
	switch u.Scheme {
	case "smtp":
		s.Port = 587
	case "smtps":
		s.Port, s.ImplicitTLS = 465, true
	default:
		return nil, fmt.Errorf("scheme %q: use smtp:// or smtps://", u.Scheme)
	}
	if s.Host == "" {
		return nil, fmt.Errorf("no host")
	}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil || s.Port < 1 || s.Port > 65535 {
			return nil, fmt.Errorf("port %q", p)
		}
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "starttls" {
			return nil, fmt.Errorf("unknown parameter %q (only starttls)", k)
		}
	}
	if v := q.Get("starttls"); v != "" {
		switch v {
		case "required", "opportunistic", "none":
			s.StartTLS = v
		default:
			return nil, fmt.Errorf("starttls=%q: use required, opportunistic or none", v)
		}
	}
	return s, nil
}

// Addr is host:port.
func (s *SMTP) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Send delivers m through the server, on a connection of its own. It
// returns once the server answered the message's DATA with 250, or with
// the error (the server's answer when it refused).
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	opts := []gomail.Option{gomail.WithPort(s.Port), gomail.WithTimeout(s.Timeout)}
	switch {
	case s.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case s.StartTLS == "opportunistic":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case s.StartTLS == "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	return c.DialAndSendWithContext(ctx, msg)
}

func (s *SMTP) build(m *Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", m.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("to %q: %w", m.To, err)
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to %q: %w", m.ReplyTo, err)
		}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	if m.InReplyTo != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+m.InReplyTo+">")
	}
	if len(m.References) > 0 {
		// Folded, one ID a line, so that a long thread stays within the
		// line length limit.
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, "<"+strings.Join(m.References, ">\r\n <")+">")
	}
	if m.AutoSubmitted != "" {
		msg.SetGenHeaderPreformatted("Auto-Submitted", m.AutoSubmitted)
	}
	if m.ListUnsubscribe != "" {
		msg.SetGenHeaderPreformatted("List-Unsubscribe", "<"+m.ListUnsubscribe+">")
		msg.SetGenHeaderPreformatted("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// Domain is the domain of an address such as "Support <support@example.com>",
// or "" when it has none.
func Domain(address string) string {
	a, err := mail.ParseAddress(address)
	if err != nil {
		return ""
	}
	if at := strings.LastIndex(a.Address, "@"); at >= 0 {
		return a.Address[at+1:]
	}
	return ""
}

// Address is the bare address of "Support <support@example.com>".
func Address(address string) string {
	a, err := mail.ParseAddress(address)
	if err != nil {
		return ""
	}
	return a.Address
}
