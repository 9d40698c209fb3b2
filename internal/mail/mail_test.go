package mail_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/mail"
)

func TestReplyTokens(t *testing.T) {
	tokens, err := mail.NewTokens([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := mail.NewTokens([]byte("fedcba9876543210fedcba9876543210"))
	id := globalid.New(globalid.PrefixTicket)
	addr := tokens.ReplyAddress("support@example.com", id)
	if !strings.HasPrefix(addr, "support+") || !strings.HasSuffix(addr, "@example.com") || addr != strings.ToLower(addr) {
		t.Fatalf("reply address %q", addr)
	}
	if got, ok := tokens.TicketOfAddress(strings.ToUpper(addr)); !ok || got != id {
		t.Fatalf("TicketOfAddress(%q) = %q, %v", addr, got, ok)
	}
	if _, ok := other.TicketOfAddress(addr); ok {
		t.Fatal("a token verified under another key")
	}
	forged := strings.Replace(tokens.Make(id), strings.ToLower(string(id)), strings.ToLower(string(globalid.New(globalid.PrefixTicket))), 1)
	for _, bad := range []string{"", "x", forged, strings.ToLower(string(id)), tokens.Make(id) + "a", "us01-abc"} {
		if _, ok := tokens.Verify(bad); ok {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
	if _, err := mail.NewTokens([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestParseSMTPURL(t *testing.T) {
	s, err := mail.ParseSMTPURL("smtp://u:p%40ss@mail.example.com", time.Second)
	if err != nil || s.Port != 587 || s.StartTLS != "required" || s.Username != "u" || s.Password != "p@ss" || s.ImplicitTLS {
		t.Fatalf("%+v %v", s, err)
	}
	if s, err = mail.ParseSMTPURL("smtps://mail.example.com", time.Second); err != nil || s.Port != 465 || !s.ImplicitTLS {
		t.Fatalf("%+v %v", s, err)
	}
	if s, err = mail.ParseSMTPURL("smtp://127.0.0.1:1025?starttls=none", time.Second); err != nil || s.Addr() != "127.0.0.1:1025" || s.StartTLS != "none" {
		t.Fatalf("%+v %v", s, err)
	}
	for _, bad := range []string{"http://x", "smtp://", "smtp://x?starttls=maybe", "smtp://x?tls=1", "smtp://x:0"} {
		if _, err := mail.ParseSMTPURL(bad, time.Second); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTemplatesRender(t *testing.T) {
	tpl, err := mail.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := tpl.Render("TICKET_REPLY", map[string]any{"TicketNumber": 7, "Subject": "a\nb", "Body": "<script>x</script>", "AuthorName": "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "[#7] a b" || strings.Contains(r.HTML, "<script>") || !strings.Contains(r.Text, "<script>x</script>") {
		t.Fatalf("%+v", r)
	}
}

// TestTemplatesOverride: a file in the templates directory replaces the
// built-in template of its name, the others stay; one that does not parse
// is an error naming it.
func TestTemplatesOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "TICKET_REPLY.subject.txt"), []byte("Acme ticket {{.TicketNumber}}: {{.Subject}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tpl, err := mail.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tpl.Render("TICKET_REPLY", map[string]any{"TicketNumber": 7, "Subject": "Printer", "Body": "hi", "AuthorName": "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Acme ticket 7: Printer" || !strings.Contains(r.Text, "hi") {
		t.Fatalf("%+v", r)
	}
	t.Run("ErrBrokenTemplateIsNamed", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "TICKET_ACK.html"), []byte("<p>{{.Subject</p>"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := mail.LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "TICKET_ACK.html") {
			t.Fatalf("a broken override: %v", err)
		}
	})
}
