package mail

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func parseFile(t *testing.T, name string) *Inbound {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	in, err := Parse(bytes.NewReader(raw), Limits{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return in
}

func TestParsePlain(t *testing.T) {
	in := parseFile(t, "plain.eml")
	if in.From != (Mailbox{"Ann Example", "ann@example.com"}) {
		t.Errorf("From = %+v", in.From)
	}
	if len(in.To) != 1 || in.To[0].Address != "support@example.com" || in.To[0].Name != "Support" {
		t.Errorf("To = %+v", in.To)
	}
	if len(in.Cc) != 2 || in.Cc[1] != (Mailbox{"Carol C.", "carol@example.org"}) {
		t.Errorf("Cc = %+v", in.Cc)
	}
	if !slices.Equal(in.DeliveredTo, []string{"support@example.com"}) {
		t.Errorf("DeliveredTo = %v", in.DeliveredTo)
	}
	if in.Subject != "Printer on floor 2 is jammed" || in.MessageID != "CAF1234@mail.example.com" {
		t.Errorf("Subject %q, MessageID %q", in.Subject, in.MessageID)
	}
	if want := time.Date(2024, 6, 3, 8, 0, 0, 0, time.UTC); !in.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", in.Date, want)
	}
	if !strings.HasPrefix(in.Text, "Hello,\n\nthe printer") || !strings.HasSuffix(in.Text, "Thanks — Ann") || in.Visible != in.Text || in.FromHTML {
		t.Errorf("Text = %q, Visible = %q", in.Text, in.Visible)
	}
	if in.Automatic != "" || in.Bounce || len(in.Attachments) != 0 {
		t.Errorf("Automatic %q, Bounce %v, %d attachments", in.Automatic, in.Bounce, len(in.Attachments))
	}
}

func TestParseHTMLOnly(t *testing.T) {
	in := parseFile(t, "html_only.eml")
	if in.Subject != "Réservation annulée" {
		t.Errorf("Subject = %q (RFC 2047 not decoded)", in.Subject)
	}
	if !in.FromHTML {
		t.Error("FromHTML = false")
	}
	want := "Hello team,\n\nMy booking #4411 was cancelled & I was charged.\nSee my booking (https://example.org/b/4411) and this.\n\n- first item\n- second item\n\nRegards,\nBob"
	if in.Text != want {
		t.Errorf("Text =\n%s\nwant\n%s", in.Text, want)
	}
	for _, bad := range []string{"<", "alert", "javascript", "Ignored title", "color", "&amp;", "&nbsp;"} {
		if strings.Contains(in.Text, bad) {
			t.Errorf("Text keeps %q: %q", bad, in.Text)
		}
	}
}

func TestParseLatin1QuotedPrintable(t *testing.T) {
	in := parseFile(t, "latin1_qp.eml")
	if in.From != (Mailbox{"Jürgen Müller", "juergen@example.de"}) || in.Subject != "Grüße aus Köln" {
		t.Errorf("From %+v, Subject %q", in.From, in.Subject)
	}
	if !strings.Contains(in.Text, "Grüße, Jürgen Müller") || strings.Contains(in.Text, "\r") {
		t.Errorf("Text = %q", in.Text)
	}
	if !slices.Equal(in.InReplyTo, []string{"sb-17-a@support.example.com"}) ||
		!slices.Equal(in.References, []string{"sb-17-0@support.example.com", "sb-17-a@support.example.com"}) {
		t.Errorf("In-Reply-To %q, References %q", in.InReplyTo, in.References)
	}
}

func TestParseAttachmentsAndInlineImage(t *testing.T) {
	in := parseFile(t, "attachments.eml")
	if in.Text != "The error is in the screenshot below." || in.FromHTML {
		t.Errorf("Text = %q (FromHTML %v): text/plain is preferred", in.Text, in.FromHTML)
	}
	if len(in.Attachments) != 2 {
		t.Fatalf("%d attachments, want 2: %+v", len(in.Attachments), in.Attachments)
	}
	img, pdf := in.Attachments[0], in.Attachments[1]
	if img.Filename != "screen.png" || img.ContentType != "image/png" || !img.Inline || img.ContentID != "img1@example.com" || !bytes.HasPrefix(img.Content, []byte("\x89PNG")) {
		t.Errorf("inline image = %+v", img)
	}
	if pdf.Filename != "Rechnung März.pdf" || pdf.ContentType != "application/pdf" || pdf.Inline || !bytes.HasPrefix(pdf.Content, []byte("%PDF-1.4")) {
		t.Errorf("pdf = %q %q inline=%v %q", pdf.Filename, pdf.ContentType, pdf.Inline, pdf.Content[:8])
	}
}

func TestParseGmailReply(t *testing.T) {
	in := parseFile(t, "gmail_reply.eml")
	if in.Visible != "Thanks, it works again!\n\nErin" {
		t.Errorf("Visible = %q", in.Visible)
	}
	if !strings.Contains(in.Text, "we replaced the roller") {
		t.Errorf("Text lost the quote: %q", in.Text)
	}
	// The HTML alternative alone (as from an HTML-only client): the
	// blockquote becomes "> " lines and is stripped the same way.
	html := `<div dir="ltr">Thanks, it works again!<div><br></div><div>Erin</div></div><br><div class="gmail_quote"><div class="gmail_attr">On Thu, Jun 6, 2024 at 3:12 PM Switchboard Support &lt;<a href="mailto:support@support.example.com">support@support.example.com</a>&gt; wrote:<br></div><blockquote class="gmail_quote">Hello Erin,<br><br>we replaced the roller.</blockquote></div>`
	text, err := HTMLToText(strings.NewReader(html), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "> we replaced the roller.") {
		t.Errorf("HTMLToText = %q: blockquote not quoted", text)
	}
	if got := StripQuoted(text); got != "Thanks, it works again!\n\nErin" {
		t.Errorf("StripQuoted(HTMLToText) = %q (from %q)", got, text)
	}
}

func TestParseOutlookReply(t *testing.T) {
	in := parseFile(t, "outlook_reply.eml")
	if in.Visible != "Hi,\n\nit is still jammed – please send someone.\n\nFrank" {
		t.Errorf("Visible = %q (windows-1252 en dash decoded? Outlook block cut?)", in.Visible)
	}
	// X-Auto-Response-Suppress: All on a person's mail: handled, no
	// acknowledgement.
	if in.Automatic != "" || !in.SuppressAutoReply {
		t.Errorf("Automatic %q, SuppressAutoReply %v", in.Automatic, in.SuppressAutoReply)
	}
}

func TestParseSignature(t *testing.T) {
	in := parseFile(t, "signature.eml")
	if in.Visible != "How do I change my password?" || !strings.Contains(in.Text, "Head of Things") {
		t.Errorf("Visible %q, Text %q", in.Visible, in.Text)
	}
}

func TestParseAutoReply(t *testing.T) {
	in := parseFile(t, "autoreply.eml")
	if in.Automatic != "Auto-Submitted: auto-replied" || in.Bounce {
		t.Errorf("Automatic %q, Bounce %v", in.Automatic, in.Bounce)
	}
}

func TestParseBounce(t *testing.T) {
	in := parseFile(t, "bounce.eml")
	if in.Automatic == "" || !in.Bounce {
		t.Errorf("Automatic %q, Bounce %v", in.Automatic, in.Bounce)
	}
	// Only the failed recipient, not the delayed one.
	if !slices.Equal(in.FailedRecipients, []string{"gone@customer.example"}) {
		t.Errorf("FailedRecipients = %v", in.FailedRecipients)
	}
}

func TestParseListMail(t *testing.T) {
	in := parseFile(t, "list.eml")
	if in.Automatic == "" {
		t.Error("a list mail is not automatic")
	}
}

func TestParseMalformed(t *testing.T) {
	raw, _ := os.ReadFile("testdata/malformed.eml")
	for name, data := range map[string]string{
		"no boundary":   string(raw),
		"no From":       "To: support@example.com\r\nSubject: x\r\n\r\nbody\r\n",
		"broken header": "From: a@example.com\r\nthis is not a header line\r\n\r\nbody",
		"bad base64":    "From: a@example.com\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!not base64!!!!\r\n",
	} {
		_, err := Parse(strings.NewReader(data), Limits{})
		var me *MalformedError
		if !errors.As(err, &me) {
			t.Errorf("%s: err = %T %v, want *MalformedError", name, err, err)
		}
	}
}

func TestParseLimits(t *testing.T) {
	raw, _ := os.ReadFile("testdata/attachments.eml")
	for _, c := range []struct {
		limit  string
		limits Limits
	}{
		{"size", Limits{MaxBytes: 500}},
		{"parts", Limits{MaxParts: 3}},
		{"depth", Limits{MaxDepth: 1}},
		{"attachments", Limits{MaxAttachments: 1}},
		{"attachment size", Limits{MaxAttachmentBytes: 10}},
		{"text size", Limits{MaxTextBytes: 5}},
	} {
		_, err := Parse(bytes.NewReader(raw), c.limits)
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != c.limit {
			t.Errorf("%+v: err = %v, want the %s limit", c.limits, err, c.limit)
		}
	}
	if _, err := Parse(bytes.NewReader(raw), Limits{MaxBytes: int64(len(raw))}); err != nil {
		t.Errorf("exactly MaxBytes: %v", err)
	}
}

func TestStripQuoted(t *testing.T) {
	for name, c := range map[string]struct{ in, want string }{
		"apple mail":       {"Sure, Tuesday works.\n\nOn 6 Jun 2024, at 15:12, Support <support@example.com> wrote:\n\n> Does Tuesday work?\n", "Sure, Tuesday works."},
		"inline answers":   {"> Question one?\nAnswer one.\n\n> Question two?\nAnswer two.", "Answer one.\n\nAnswer two."},
		"original message": {"Done.\n\n-----Original Message-----\nFrom: x\nHello", "Done."},
		"german outlook":   {"Danke!\n\nVon: Support <s@example.com>\nGesendet: Montag, 3. Juni 2024 10:00\nAn: Jürgen\nBetreff: Test\n\nHallo", "Danke!"},
		"sent from phone":  {"Yes please.\n\nSent from my iPhone", "Yes please."},
		"no false from":    {"From: the manual, page 3\nit says to restart.", "From: the manual, page 3\nit says to restart."},
		"wrote mid-text":   {"On Monday I wrote: a letter.\nIt arrived.", "On Monday I wrote: a letter.\nIt arrived."},
	} {
		if got := StripQuoted(c.in); got != c.want {
			t.Errorf("%s: StripQuoted = %q, want %q", name, got, c.want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	for in, want := range map[string]string{
		`<p>a &lt;b&gt; &#233;</p>`:                                       "a <b> é",
		`<a href="https://x.example/">https://x.example/</a>`:             "https://x.example/",
		`<a href="mailto:a@example.com">a@example.com</a>`:                "a@example.com",
		`<a href="data:text/html,x">click</a>`:                            "click",
		`<style>x{}</style><script>evil()</script>ok`:                     "ok",
		`<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>`: "a b\nc",
		`<pre>  two
  lines</pre>`: "two\n  lines",
		`<blockquote>q<blockquote>qq</blockquote></blockquote>`: "> q\n>\n>> qq",
	} {
		got, err := HTMLToText(strings.NewReader(in), 0)
		if err != nil || got != want {
			t.Errorf("HTMLToText(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
