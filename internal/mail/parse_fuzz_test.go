package mail

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics, and what it returns keeps to the
// limits.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"))
	limits := Limits{MaxBytes: 64 << 10, MaxParts: 20, MaxDepth: 4, MaxAttachments: 3, MaxAttachmentBytes: 4 << 10, MaxTextBytes: 8 << 10}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := Parse(bytes.NewReader(raw), limits)
		if err != nil {
			var me *MalformedError
			var le *LimitError
			if !errors.As(err, &me) && !errors.As(err, &le) {
				t.Fatalf("error neither malformed nor a limit: %T %v", err, err)
			}
			return
		}
		if in.Size != int64(len(raw)) || in.Size > limits.MaxBytes {
			t.Errorf("Size %d of %d bytes", in.Size, len(raw))
		}
		if len(in.Attachments) > limits.MaxAttachments {
			t.Errorf("%d attachments", len(in.Attachments))
		}
		for _, a := range in.Attachments {
			if int64(len(a.Content)) > limits.MaxAttachmentBytes {
				t.Errorf("attachment of %d bytes", len(a.Content))
			}
		}
		if !utf8.ValidString(in.Text) || !utf8.ValidString(in.Visible) || len(in.Visible) > len(in.Text) {
			t.Errorf("Text %q, Visible %q", in.Text, in.Visible)
		}
		if in.From.Address == "" {
			t.Error("no From address, yet no error")
		}
	})
}

// FuzzStripQuoted: the visible body only drops lines: never longer than
// its input, and every line of it is a line of the input.
func FuzzStripQuoted(f *testing.F) {
	for _, s := range []string{
		"Thanks!\n\nOn Mon, Jun 3, 2024 at 10:00 AM Ann <a@example.com> wrote:\n> hi\n",
		"Hi\n\n________________________________\nFrom: x\nSent: y\nTo: z\n\nold",
		"a\n  \n\n b\n-- \nsig",
		"> q\nanswer\r\n>> qq\r\n\r\nSent from my iPhone",
		"On Mon\nwrote:\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := StripQuoted(in)
		if len(out) > len(in) {
			t.Fatalf("longer: %q from %q", out, in)
		}
		lines := map[string]bool{}
		for _, l := range strings.Split(in, "\n") {
			lines[l] = true
		}
		if out == "" {
			return
		}
		for _, l := range strings.Split(out, "\n") {
			if !lines[l] {
				t.Fatalf("line %q is not in the input %q", l, in)
			}
		}
	})
}

// FuzzHTMLToText: the converter never panics nor fails on any input.
func FuzzHTMLToText(f *testing.F) {
	f.Add(`<p>a<script>b</script><a href="javascript:x">c</a></p><blockquote><pre>x`)
	f.Fuzz(func(t *testing.T, in string) {
		if _, err := HTMLToText(strings.NewReader(in), 1<<16); err != nil {
			t.Fatalf("HTMLToText(%q): %v", in, err)
		}
	})
}
