package config

import (
	"fmt"
	"net"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/internal/mail"
)

// MailInbound are the settings of the inbound SMTP listener
// (internal/mail, docs/email.md#inbound-mail).
type MailInbound struct {
	// SMTPAddr is where the listener listens; empty: no listener.
	SMTPAddr string
	// InboundAddresses are the support addresses the listener takes mail
	// for, each with the group its new tickets go to ("": the routing
	// rules and the default group). Empty: the reply address alone.
	InboundAddresses map[string]string
	// Listener are the inbound listener's options; Listener.Limits.MaxAttachmentBytes is
	// the attachments' MaxFileBytes (set by validateMailInbound).
	Listener mail.ListenerOptions
}

var mailInboundDefaults = mail.DefaultListenerOptions()

var mailInboundSettings = []Setting{
	{"mail-inbound-addresses", "SWITCHBOARD_MAIL_INBOUND_ADDRESSES", "", "comma-separated support addresses the inbound listener takes mail for, each optionally =GROUP (the group new tickets to it go to when no routing rule places them), e.g. support@example.com,billing@example.com=Billing; empty: the reply address (SWITCHBOARD_MAIL_REPLY_TO or SWITCHBOARD_MAIL_FROM's)", func(c *Config, v string) error {
		c.InboundAddresses = map[string]string{}
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			addr, group, _ := strings.Cut(item, "=")
			addr = strings.ToLower(strings.TrimSpace(addr))
			if a, err := netmail.ParseAddress(addr); err != nil || a.Address != addr || strings.Contains(addr, "+") {
				return fmt.Errorf("%q is not a bare address such as support@example.com (without +)", addr)
			}
			c.InboundAddresses[addr] = strings.TrimSpace(group)
		}
		return nil
	}},
	{"smtp-addr", "SWITCHBOARD_SMTP_ADDR", "", "address of the inbound SMTP (or LMTP) listener that the organisation's MTA forwards the support addresses to, e.g. 127.0.0.1:2525; empty: off", func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("%q is not HOST:PORT", v)
			}
		}
		c.SMTPAddr = v
		return nil
	}},
	{"smtp-domain", "SWITCHBOARD_SMTP_DOMAIN", mailInboundDefaults.Domain, "host name the inbound listener announces in its greeting", func(c *Config, v string) error { c.Listener.Domain = v; return nil }},
	{"smtp-lmtp", "SWITCHBOARD_SMTP_LMTP", "false", "speak LMTP instead of SMTP on SWITCHBOARD_SMTP_ADDR", boolSetter(func(c *Config, b bool) { c.Listener.LMTP = b })},
	{"smtp-max-message-bytes", "SWITCHBOARD_SMTP_MAX_MESSAGE_BYTES", itoa(mailInboundDefaults.MaxMessageBytes), "largest inbound mail, in bytes (larger: 552 5.3.4)", int64Setter(func(c *Config, n int64) { c.Listener.MaxMessageBytes = n })},
	{"smtp-max-recipients", "SWITCHBOARD_SMTP_MAX_RECIPIENTS", itoa(mailInboundDefaults.MaxRecipients), "most RCPT TO of one inbound mail (more: 452 4.5.3)", intSetter(func(c *Config, n int) { c.Listener.MaxRecipients = n })},
	{"smtp-max-line-length", "SWITCHBOARD_SMTP_MAX_LINE_LENGTH", itoa(mailInboundDefaults.MaxLineLength), "longest line of the SMTP dialogue and of a mail, in bytes (RFC 5321 asks for 1000)", intSetter(func(c *Config, n int) { c.Listener.MaxLineLength = n })},
	{"smtp-max-parts", "SWITCHBOARD_SMTP_MAX_PARTS", itoa(mailInboundDefaults.Limits.MaxParts), "most MIME parts of one inbound mail (more: 552 5.3.4)", intSetter(func(c *Config, n int) { c.Listener.Limits.MaxParts = n })},
	{"smtp-max-attachments", "SWITCHBOARD_SMTP_MAX_ATTACHMENTS", itoa(mailInboundDefaults.Limits.MaxAttachments), "most attachments and inline images of one inbound mail (more: 552 5.3.4); each at most SWITCHBOARD_ATTACHMENTS_MAX_FILE_BYTES", intSetter(func(c *Config, n int) { c.Listener.Limits.MaxAttachments = n })},
	{"smtp-read-timeout", "SWITCHBOARD_SMTP_READ_TIMEOUT", duration(mailInboundDefaults.ReadTimeout), "inbound listener: longest wait for the client's next command or piece of data", durationSetter(func(c *Config, d time.Duration) { c.Listener.ReadTimeout = d })},
	{"smtp-write-timeout", "SWITCHBOARD_SMTP_WRITE_TIMEOUT", duration(mailInboundDefaults.WriteTimeout), "inbound listener: longest wait for the client to take an answer", durationSetter(func(c *Config, d time.Duration) { c.Listener.WriteTimeout = d })},
	{"smtp-deliver-timeout", "SWITCHBOARD_SMTP_DELIVER_TIMEOUT", duration(mailInboundDefaults.DeliverTimeout), "inbound listener: longest time to store one mail before answering 451 4.3.0 (the MTA retries)", durationSetter(func(c *Config, d time.Duration) { c.Listener.DeliverTimeout = d })},
}

func (c *Config) validateMailInbound() error {
	o := &c.Listener
	switch {
	case o.MaxMessageBytes < 1024:
		return fmt.Errorf("SWITCHBOARD_SMTP_MAX_MESSAGE_BYTES: must be at least 1024")
	case o.MaxRecipients < 1:
		return fmt.Errorf("SWITCHBOARD_SMTP_MAX_RECIPIENTS: must be at least 1")
	case o.MaxLineLength < 1000:
		return fmt.Errorf("SWITCHBOARD_SMTP_MAX_LINE_LENGTH: must be at least 1000 (RFC 5321)")
	case o.Limits.MaxParts < 1:
		return fmt.Errorf("SWITCHBOARD_SMTP_MAX_PARTS: must be at least 1")
	case o.Limits.MaxAttachments < 1:
		return fmt.Errorf("SWITCHBOARD_SMTP_MAX_ATTACHMENTS: must be at least 1")
	case o.ReadTimeout <= 0 || o.WriteTimeout <= 0 || o.DeliverTimeout <= 0:
		return fmt.Errorf("SWITCHBOARD_SMTP_READ_TIMEOUT, SWITCHBOARD_SMTP_WRITE_TIMEOUT and SWITCHBOARD_SMTP_DELIVER_TIMEOUT: must be positive durations")
	case o.Domain == "":
		return fmt.Errorf("SWITCHBOARD_SMTP_DOMAIN: must not be empty")
	}
	d := mail.DefaultLimits
	o.Limits.MaxBytes = o.MaxMessageBytes
	o.Limits.MaxDepth = d.MaxDepth
	o.Limits.MaxTextBytes = d.MaxTextBytes
	o.Limits.MaxAttachmentBytes = c.AttachmentLimits.MaxFileBytes
	return nil
}
