package config

import (
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/mail"
)

func TestMailInboundSettings(t *testing.T) {
	c, err := Read(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := mail.DefaultListenerOptions()
	if c.SMTPAddr != "" || c.Listener.Domain != want.Domain || c.Listener.MaxMessageBytes != want.MaxMessageBytes || c.Listener.ReadTimeout != want.ReadTimeout || c.Listener.LMTP {
		t.Errorf("defaults: addr %q, %+v", c.SMTPAddr, c.SMTP)
	}
	if c.Listener.Limits.MaxBytes != c.Listener.MaxMessageBytes || c.Listener.Limits.MaxAttachmentBytes != c.AttachmentLimits.MaxFileBytes || c.Listener.Limits.MaxDepth == 0 {
		t.Errorf("limits: %+v", c.Listener.Limits)
	}
	env := map[string]string{"SWITCHBOARD_SMTP_ADDR": "127.0.0.1:2525", "SWITCHBOARD_SMTP_MAX_MESSAGE_BYTES": "1048576", "SWITCHBOARD_SMTP_LMTP": "true"}
	c, err = Read(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPAddr != "127.0.0.1:2525" || c.Listener.MaxMessageBytes != 1<<20 || c.Listener.Limits.MaxBytes != 1<<20 || !c.Listener.LMTP {
		t.Errorf("set: addr %q, %+v", c.SMTPAddr, c.SMTP)
	}
	for k, v := range map[string]string{
		"SWITCHBOARD_SMTP_ADDR":              "2525",
		"SWITCHBOARD_SMTP_MAX_MESSAGE_BYTES": "10",
		"SWITCHBOARD_SMTP_MAX_LINE_LENGTH":   "100",
		"SWITCHBOARD_SMTP_READ_TIMEOUT":      "0s",
		"SWITCHBOARD_SMTP_MAX_ATTACHMENTS":   "0",
	} {
		if _, err := Read(func(e string) string { return map[string]string{k: v}[e] }); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: err = %v, want one naming it", k, v, err)
		}
	}
}
