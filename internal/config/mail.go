package config

import (
	"encoding/base64"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/internal/auth"
	smtpmail "github.com/switchboardhq/switchboard/internal/mail"
	"github.com/switchboardhq/switchboard/internal/outbox"
)

// Mail are the settings of outgoing mail (internal/mail, internal/outbox).
type Mail struct {
	// SMTPURL is the outgoing server; empty: mails wait in the outbox.
	SMTPURL     string
	SMTP        *smtpmail.SMTP
	SMTPTimeout time.Duration
	MailFrom    string
	// MailReplyTo is the support address replies carry a ticket token on.
	MailReplyTo string
	// MailTemplatesDir holds templates replacing the built-in ones.
	MailTemplatesDir string
	// MailTokenKey keys the reply tokens; nil: derived from the
	// encryption key.
	MailTokenKey     []byte
	PublicURL        string
	PasswordResetTTL time.Duration
	Outbox           outbox.Options
}

// DefaultMailFrom is the sender when SWITCHBOARD_MAIL_FROM is not set.
const DefaultMailFrom = "Switchboard <switchboard@localhost>"

var mailSettings = []Setting{
	{"smtp-url", "SWITCHBOARD_SMTP_URL", "", "outgoing mail server: smtp://[user:password@]host[:port][?starttls=required|opportunistic|none] (port 587, STARTTLS required by default) or smtps://… (TLS, port 465); empty: no mail is sent, mails wait in the outbox", func(c *Config, v string) error { c.SMTPURL = v; return nil }},
	{"smtp-timeout", "SWITCHBOARD_SMTP_TIMEOUT", "30s", "how long one delivery (connect, TLS, auth, sending) may take", durationSetter(func(c *Config, d time.Duration) { c.SMTPTimeout = d })},
	{"mail-from", "SWITCHBOARD_MAIL_FROM", DefaultMailFrom, "From of every mail, e.g. \"Support <support@example.com>\"; its domain names the Message-IDs", func(c *Config, v string) error {
		if _, err := mail.ParseAddress(v); err != nil {
			return fmt.Errorf("%q is not an address such as Support <support@example.com>", v)
		}
		c.MailFrom = v
		return nil
	}},
	{"mail-templates-dir", "SWITCHBOARD_MAIL_TEMPLATES_DIR", "", "directory of mail templates replacing the built-in ones of the same name (KIND.subject.txt, KIND.txt, KIND.html for TICKET_REPLY, TICKET_ACK, NOTIFICATION, PASSWORD_RESET; see docs/email.md); a template that does not parse stops the start", func(c *Config, v string) error { c.MailTemplatesDir = v; return nil }},
	{"mail-reply-to", "SWITCHBOARD_MAIL_REPLY_TO", "", "support address customers answer to: replies carry Reply-To: local+<ticket token>@domain; empty: the address of SWITCHBOARD_MAIL_FROM", func(c *Config, v string) error {
		if v != "" {
			if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
				return fmt.Errorf("%q is not a bare address such as support@example.com", v)
			}
		}
		c.MailReplyTo = v
		return nil
	}},
	{"", "SWITCHBOARD_MAIL_TOKEN_KEY", "", "base64 of at least 32 bytes keying the HMAC of reply addresses' ticket tokens; empty: derived from the current SWITCHBOARD_ENCRYPTION_KEY (so a key rotation invalidates older reply addresses)", func(c *Config, v string) error {
		c.MailTokenKey = nil
		if v == "" {
			return nil
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(v)
		}
		if err != nil || len(b) < 32 {
			return fmt.Errorf("must be base64 of at least 32 bytes")
		}
		c.MailTokenKey = b
		return nil
	}},
	{"public-url", "SWITCHBOARD_PUBLIC_URL", "http://localhost:8080", "the address people reach Switchboard's web app at, for the links in mails (password reset: PUBLIC_URL/reset-password?token=…)", func(c *Config, v string) error {
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return fmt.Errorf("%q is not a URL such as https://desk.example.com", v)
		}
		c.PublicURL = strings.TrimSuffix(v, "/")
		return nil
	}},
	{"password-reset-ttl", "SWITCHBOARD_PASSWORD_RESET_TTL", duration(auth.DefaultPasswordResetTTL), "how long a password reset link works (once)", durationSetter(func(c *Config, d time.Duration) { c.PasswordResetTTL = d })},
	{"outbox-max-attempts", "SWITCHBOARD_OUTBOX_MAX_ATTEMPTS", itoa(outbox.DefaultOptions().MaxAttempts), "deliveries of a mail tried before it is marked FAILED", intSetter(func(c *Config, n int) { c.Outbox.MaxAttempts = n })},
	{"outbox-backoff", "SWITCHBOARD_OUTBOX_BACKOFF", duration(outbox.DefaultOptions().BackoffBase), "wait after a mail's first failed delivery, doubled after each further one", durationSetter(func(c *Config, d time.Duration) { c.Outbox.BackoffBase = d })},
	{"outbox-backoff-max", "SWITCHBOARD_OUTBOX_BACKOFF_MAX", duration(outbox.DefaultOptions().BackoffMax), "longest wait between two deliveries of a mail", durationSetter(func(c *Config, d time.Duration) { c.Outbox.BackoffMax = d })},
	{"outbox-lease", "SWITCHBOARD_OUTBOX_LEASE", duration(outbox.DefaultOptions().Lease), "how long an instance holds a mail it is sending: one that dies meanwhile leaves it to the others after this (longer than SWITCHBOARD_SMTP_TIMEOUT)", durationSetter(func(c *Config, d time.Duration) { c.Outbox.Lease = d })},
	{"outbox-poll-interval", "SWITCHBOARD_OUTBOX_POLL_INTERVAL", duration(outbox.DefaultOptions().PollInterval), "how often each instance looks for due mails besides right after its own commits", durationSetter(func(c *Config, d time.Duration) { c.Outbox.PollInterval = d })},
}

func (c *Config) validateMail() error {
	switch {
	case c.SMTPTimeout <= 0:
		return fmt.Errorf("SWITCHBOARD_SMTP_TIMEOUT: must be a positive duration")
	case c.PasswordResetTTL < time.Minute:
		return fmt.Errorf("SWITCHBOARD_PASSWORD_RESET_TTL: must be at least 1m")
	case c.Outbox.MaxAttempts < 1:
		return fmt.Errorf("SWITCHBOARD_OUTBOX_MAX_ATTEMPTS: must be at least 1")
	case c.Outbox.BackoffBase <= 0 || c.Outbox.BackoffMax < c.Outbox.BackoffBase:
		return fmt.Errorf("SWITCHBOARD_OUTBOX_BACKOFF and SWITCHBOARD_OUTBOX_BACKOFF_MAX: positive, the maximum at least the first")
	case c.Outbox.Lease <= c.SMTPTimeout:
		return fmt.Errorf("SWITCHBOARD_OUTBOX_LEASE: must be longer than SWITCHBOARD_SMTP_TIMEOUT")
	case c.Outbox.PollInterval <= 0:
		return fmt.Errorf("SWITCHBOARD_OUTBOX_POLL_INTERVAL: must be a positive duration")
	}
	c.SMTP = nil
	if c.SMTPURL != "" {
		s, err := smtpmail.ParseSMTPURL(c.SMTPURL, c.SMTPTimeout)
		if err != nil {
			return fmt.Errorf("SWITCHBOARD_SMTP_URL: %v", err)
		}
		c.SMTP = s
	}
	c.Outbox.From = c.MailFrom
	return nil
}
