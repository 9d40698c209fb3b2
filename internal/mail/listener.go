package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Envelope is what the sending MTA said in the SMTP dialogue, as opposed
// to what the mail's headers claim.
type Envelope struct {
	// MailFrom is MAIL FROM's reverse path, "" for the null sender <>
	// (bounces and other notifications).
	MailFrom string
	// RcptTo are the accepted recipients (addresses ours said yes to),
	// each once, in order.
	RcptTo []string
	// RemoteAddr is the sending MTA's address.
	RemoteAddr string
}

// Deliverer stores an accepted inbound mail: a new ticket, a reply, a
// bounce marking addresses undeliverable, or nothing (an auto-reply). It
// must have committed what it stores before it returns nil: the listener
// answers 250 only then, and the sending MTA forgets the mail on 250. An
// error that is a *PermanentError makes the listener refuse the mail for
// good (5xx: the MTA bounces it to its sender); any other error is
// temporary (451 4.3.0: the MTA tries again later), so a Deliverer must be
// idempotent for a mail it stored but could not confirm (match on
// Message-ID).
type Deliverer interface {
	Deliver(ctx context.Context, env Envelope, msg *Inbound) error
}

// PermanentError is a refusal the sender should hear about: the listener
// answers 550 5.7.1 with Reason.
type PermanentError struct {
	// Reason is shown to the sender (in the bounce their MTA writes);
	// it must not reveal anything internal.
	Reason string
	Err    error
}

func (e *PermanentError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *PermanentError) Unwrap() error { return e.Err }

// ListenerOptions are the listener's settings (docs/configuration.md,
// Inbound mail).
type ListenerOptions struct {
	// Domain is the host name the listener announces in its greeting
	// (SWITCHBOARD_SMTP_DOMAIN).
	Domain string
	// LMTP speaks LMTP (RFC 2033) instead of SMTP (SWITCHBOARD_SMTP_LMTP).
	LMTP bool
	// MaxMessageBytes bounds DATA (SWITCHBOARD_SMTP_MAX_MESSAGE_BYTES);
	// larger: 552 5.3.4. It is also Limits.MaxBytes.
	MaxMessageBytes int64
	// MaxRecipients bounds RCPT TO per mail (SWITCHBOARD_SMTP_MAX_RECIPIENTS).
	MaxRecipients int
	// MaxLineLength bounds a line of the dialogue and of DATA
	// (SWITCHBOARD_SMTP_MAX_LINE_LENGTH).
	MaxLineLength int
	// ReadTimeout and WriteTimeout bound each read and write of a
	// connection (SWITCHBOARD_SMTP_READ_TIMEOUT, SWITCHBOARD_SMTP_WRITE_TIMEOUT).
	ReadTimeout, WriteTimeout time.Duration
	// DeliverTimeout bounds one Deliver call; past it the mail is
	// answered 451 (and the MTA retries).
	DeliverTimeout time.Duration
	// Limits bound parsing; MaxBytes is MaxMessageBytes.
	Limits Limits
	// Log receives the listener's errors (nil: slog.Default()).
	Log *slog.Logger
}

// DefaultListenerOptions are the options when no setting changes them.
func DefaultListenerOptions() ListenerOptions {
	return ListenerOptions{
		Domain:          "localhost",
		MaxMessageBytes: DefaultLimits.MaxBytes,
		MaxRecipients:   50,
		MaxLineLength:   2000,
		ReadTimeout:     time.Minute,
		WriteTimeout:    time.Minute,
		DeliverTimeout:  time.Minute,
		Limits:          DefaultLimits,
	}
}

// Listener is the inbound SMTP (or LMTP) server, meant to sit behind the
// organisation's MTA.
type Listener struct {
	opts    ListenerOptions
	d       Deliverer
	ours    func(addr string) bool
	server  *smtp.Server
	ctx     context.Context
	cancel  context.CancelFunc
	closing sync.Once
}

// NewListener makes a listener that accepts RCPT TO only for the
// addresses ours says yes to, and hands each accepted mail to d.
func NewListener(opts ListenerOptions, d Deliverer, ours func(addr string) bool) *Listener {
	def := DefaultListenerOptions()
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = def.MaxMessageBytes
	}
	if opts.DeliverTimeout <= 0 {
		opts.DeliverTimeout = def.DeliverTimeout
	}
	if opts.Domain == "" {
		opts.Domain = def.Domain
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	opts.Limits.MaxBytes = opts.MaxMessageBytes
	l := &Listener{opts: opts, d: d, ours: ours}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	s := smtp.NewServer(smtp.BackendFunc(l.newSession))
	s.Domain = opts.Domain
	s.LMTP = opts.LMTP
	s.MaxMessageBytes = opts.MaxMessageBytes
	s.MaxRecipients = opts.MaxRecipients
	if opts.MaxLineLength > 0 {
		s.MaxLineLength = opts.MaxLineLength
	}
	s.ReadTimeout = opts.ReadTimeout
	s.WriteTimeout = opts.WriteTimeout
	s.ErrorLog = slogPrinter{opts.Log}
	l.server = s
	return l
}

// Serve accepts connections on ln until Close; it returns nil after
// Close.
func (l *Listener) Serve(ln net.Listener) error {
	return l.server.Serve(ln)
}

// Close stops accepting, closes open connections (a mail whose DATA was
// not answered yet is not answered: the MTA retries it) and cancels the
// Deliver calls under way.
func (l *Listener) Close() {
	l.closing.Do(func() {
		_ = l.server.Close()
		l.cancel()
	})
}

// Shutdown stops accepting and waits for the open connections to end, or
// for ctx; then it closes them as Close does.
func (l *Listener) Shutdown(ctx context.Context) error {
	err := l.server.Shutdown(ctx)
	l.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Warn("smtp listener: " + fmt.Sprintf(format, v...))
}

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("smtp listener: " + strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

func (l *Listener) newSession(c *smtp.Conn) (smtp.Session, error) {
	s := &session{l: l}
	if addr := c.Conn().RemoteAddr(); addr != nil {
		s.remote = addr.String()
	}
	return s, nil
}

type session struct {
	l      *Listener
	remote string
	from   string
	hasMsg bool
	rcpts  []string
}

var (
	errUnknownRecipient = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	errBadRecipient     = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Bad recipient address syntax"}
	errMalformed        = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Malformed message"}
	errTemporary        = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
)

func (s *session) Reset() {
	s.from, s.hasMsg, s.rcpts = "", false, nil
}

func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.Reset()
	s.from, s.hasMsg = from, true
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	to = strings.TrimSpace(to)
	if !strings.Contains(to, "@") {
		return errBadRecipient
	}
	if !s.l.ours(to) {
		return errUnknownRecipient
	}
	if !containsFold(s.rcpts, to) {
		s.rcpts = append(s.rcpts, to)
	}
	return nil
}

// Data reads the whole mail (bounded by MaxMessageBytes: go-smtp's reader
// fails with 552 5.3.4 past it) before parsing, so that nothing is
// delivered of a mail cut short, then parses and delivers it. Its error
// is the SMTP answer; nil is 250.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se // 552 5.3.4 too large, from go-smtp
		}
		return errTemporary
	}
	msg, err := Parse(bytes.NewReader(raw), s.l.opts.Limits)
	if err != nil {
		return s.parseError(err)
	}
	if msg.Automatic == "" && s.from == "" {
		msg.Automatic = "null reverse path (MAIL FROM:<>)"
	}
	env := Envelope{MailFrom: s.from, RcptTo: append([]string(nil), s.rcpts...), RemoteAddr: s.remote}
	ctx, cancel := context.WithTimeout(s.l.ctx, s.l.opts.DeliverTimeout)
	defer cancel()
	if err := s.deliver(ctx, env, msg); err != nil {
		var pe *PermanentError
		if errors.As(err, &pe) {
			s.l.opts.Log.Info("inbound mail refused", "from", s.from, "message_id", msg.MessageID, "reason", pe.Reason, "err", pe.Err)
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: oneLine(pe.Reason)}
		}
		s.l.opts.Log.Error("inbound mail not delivered; the MTA will retry", "from", s.from, "message_id", msg.MessageID, "err", err)
		return errTemporary
	}
	return nil
}

// deliver calls Deliver, turning a panic into a temporary failure (the
// connection and the listener stay up).
func (s *session) deliver(ctx context.Context, env Envelope, msg *Inbound) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in Deliver: %v", p)
		}
	}()
	return s.l.d.Deliver(ctx, env, msg)
}

func (s *session) parseError(err error) error {
	var le *LimitError
	var me *MalformedError
	switch {
	case errors.As(err, &le):
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: oneLine(le.Error())}
	case errors.As(err, &me):
		s.l.opts.Log.Info("inbound mail malformed", "from", s.from, "err", err)
		return errMalformed
	}
	s.l.opts.Log.Error("inbound mail not read", "from", s.from, "err", err)
	return errTemporary
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.Map(dropControl, s)), " ")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
