// Package mail is Switchboard's email channel: the inbound side (an SMTP
// or LMTP listener behind the organisation's MTA, MIME parsing, loop
// protection, the visible part of a reply) and the outbound side.
package mail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // ISO-8859-*, windows-125x, Shift_JIS, GB18030, … decode
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Limits bound what one inbound mail may cost to parse. Past any of them
// Parse returns a *LimitError (the listener answers 552 5.3.4).
type Limits struct {
	// MaxBytes bounds the raw message (SWITCHBOARD_SMTP_MAX_MESSAGE_BYTES).
	MaxBytes int64
	// MaxParts bounds the MIME parts, multipart containers included
	// (SWITCHBOARD_SMTP_MAX_PARTS).
	MaxParts int
	// MaxDepth bounds the nesting of multiparts.
	MaxDepth int
	// MaxAttachments bounds the attachments and inline images
	// (SWITCHBOARD_SMTP_MAX_ATTACHMENTS).
	MaxAttachments int
	// MaxAttachmentBytes bounds one decoded attachment (the attachments'
	// SWITCHBOARD_ATTACHMENTS_MAX_FILE_BYTES, when wired).
	MaxAttachmentBytes int64
	// MaxTextBytes bounds the decoded text of the body, all its text
	// parts together.
	MaxTextBytes int64
}

// DefaultLimits are the limits when no setting changes them.
var DefaultLimits = Limits{
	MaxBytes:           30 << 20,
	MaxParts:           100,
	MaxDepth:           10,
	MaxAttachments:     20,
	MaxAttachmentBytes: 25 << 20,
	MaxTextBytes:       4 << 20,
}

// Mailbox is a parsed address: "Name <address>".
type Mailbox struct {
	Name    string
	Address string
}

func (m Mailbox) String() string {
	if m.Name == "" {
		return m.Address
	}
	return strconv.Quote(m.Name) + " <" + m.Address + ">"
}

// InboundAttachment is a file of an inbound mail: a part with
// Content-Disposition attachment, or inline with a file name, or any part
// that is not the text of the body (an image without a disposition, a
// PDF, a calendar invitation).
type InboundAttachment struct {
	// Filename is the sender's name for the file, decoded (RFC 2047 and
	// RFC 2231); "attachment-N" when the mail gives none. Not sanitised:
	// attachments.SanitizeFilename does that when it is stored.
	Filename string
	// ContentType is the type the mail declares (lower case, no
	// parameters); the server sniffs the bytes itself when it stores them.
	ContentType string
	// Inline is a part shown in the body (an inline image); ContentID is
	// its Content-ID without angle brackets, which cid: URLs of the HTML
	// refer to.
	Inline    bool
	ContentID string
	// Content is the decoded bytes, at most Limits.MaxAttachmentBytes.
	Content []byte
}

// Open reads the attachment's bytes (for attachments.Service.Spool).
func (a *InboundAttachment) Open() io.Reader { return bytes.NewReader(a.Content) }

// Inbound is a parsed inbound mail.
type Inbound struct {
	From    Mailbox
	ReplyTo []Mailbox
	To, Cc  []Mailbox
	// DeliveredTo are the Delivered-To header's addresses (the MTA's
	// record of the mailboxes it delivered to), in order.
	DeliveredTo []string
	Subject     string
	// MessageID, InReplyTo and References are message IDs without their
	// angle brackets.
	MessageID  string
	InReplyTo  []string
	References []string
	// Date is the Date header; zero when missing or unreadable.
	Date time.Time

	// Text is the whole text of the body, quoted replies and signature
	// included: what staff may open. FromHTML says it was converted from
	// an HTML part (HTMLToText) because the mail had no text/plain one.
	Text     string
	FromHTML bool
	// Visible is Text without quoted replies and signature (StripQuoted);
	// Text when stripping would leave nothing.
	Visible string

	Attachments []InboundAttachment

	// Automatic is why the mail was sent by a program (IsAutomatic; the
	// listener adds an empty MAIL FROM), "" for a person's mail. An
	// automatic mail never opens a ticket and never gets a mail back.
	Automatic string
	// SuppressAutoReply: the sender asks for no automatic answer
	// (X-Auto-Response-Suppress, see SuppressesAutoReply). The mail is a
	// person's and is handled, but gets no acknowledgement.
	SuppressAutoReply bool
	// Bounce is a delivery status notification (or an Exim-style bounce
	// with X-Failed-Recipients); FailedRecipients are the addresses whose
	// delivery failed (Action: failed), to mark as undeliverable.
	Bounce           bool
	FailedRecipients []string

	// Header is the top-level header, as received.
	Header message.Header
	// Size is the raw message's size in bytes.
	Size int64
}

// MalformedError is a mail that cannot be read as MIME: a broken header,
// a multipart without its boundary, a corrupt encoding, no From address.
// The listener answers 554 5.6.0.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string { return "malformed mail: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

func malformed(format string, args ...any) error {
	return &MalformedError{fmt.Errorf(format, args...)}
}

// LimitError is a mail past one of the Limits. The listener answers 552
// 5.3.4.
type LimitError struct {
	// Limit names it: "size", "parts", "depth", "attachments",
	// "attachment size", "text size".
	Limit string
	Max   int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("mail exceeds the %s limit (%d)", e.Limit, e.Max)
}

// Parse reads one mail. It returns a *MalformedError for what is not
// MIME, a *LimitError past limits (a zero limit is the default's), and
// whatever reading r returns otherwise.
func Parse(r io.Reader, limits Limits) (*Inbound, error) {
	limits = limits.withDefaults()
	counted := &countingReader{r: r, max: limits.MaxBytes}
	p := &parser{limits: limits}
	e, err := message.Read(counted)
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, p.readErr(counted, err, "header")
	}
	in := &Inbound{Header: e.Header}
	if err := p.headers(in, gomail.Header{Header: e.Header}); err != nil {
		return nil, err
	}
	segs, err := p.walk(e, 0, counted)
	if err != nil {
		return nil, err
	}
	// What is left (an epilogue) is read too, so that Size is the whole.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return nil, p.readErr(counted, err, "message")
	}
	var texts []string
	for _, s := range segs {
		if strings.TrimSpace(s.text) != "" {
			texts = append(texts, strings.Trim(s.text, "\n"))
			in.FromHTML = in.FromHTML || s.html
		}
	}
	in.Text = strings.Join(texts, "\n\n")
	in.Visible = strings.TrimSpace(StripQuoted(in.Text))
	if in.Visible == "" {
		in.Visible = in.Text
	}
	in.Attachments = p.attachments
	in.Size = counted.n
	in.Automatic, _ = IsAutomatic(e.Header)
	in.SuppressAutoReply = SuppressesAutoReply(e.Header)
	if p.dsn || e.Header.Get("X-Failed-Recipients") != "" {
		in.Bounce = true
		in.FailedRecipients = p.failed
		for _, a := range strings.Split(e.Header.Get("X-Failed-Recipients"), ",") {
			if a = strings.TrimSpace(a); a != "" && !containsFold(in.FailedRecipients, a) {
				in.FailedRecipients = append(in.FailedRecipients, a)
			}
		}
	}
	return in, nil
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxParts <= 0 {
		l.MaxParts = d.MaxParts
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxAttachments <= 0 {
		l.MaxAttachments = d.MaxAttachments
	}
	if l.MaxAttachmentBytes <= 0 {
		l.MaxAttachmentBytes = d.MaxAttachmentBytes
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = d.MaxTextBytes
	}
	return l
}

// countingReader counts the raw bytes and stops past max with a
// *LimitError.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, &LimitError{"size", c.max}
	}
	if room := c.max + 1 - c.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, &LimitError{"size", c.max}
	}
	return n, err
}

type parser struct {
	limits      Limits
	parts       int
	textBytes   int64
	attachments []InboundAttachment
	dsn         bool
	failed      []string
}

// readErr keeps limit errors and the reader's own failures as they are;
// anything else the MIME reader says is a malformed mail.
func (p *parser) readErr(c *countingReader, err error, what string) error {
	var le *LimitError
	if errors.As(err, &le) {
		return le
	}
	if c.n > c.max {
		return &LimitError{"size", c.max}
	}
	return &MalformedError{fmt.Errorf("%s: %w", what, err)}
}

// segment is a piece of the body's text.
type segment struct {
	text string
	html bool
}

func (p *parser) walk(e *message.Entity, depth int, c *countingReader) ([]segment, error) {
	p.parts++
	if p.parts > p.limits.MaxParts {
		return nil, &LimitError{"parts", int64(p.limits.MaxParts)}
	}
	if depth > p.limits.MaxDepth {
		return nil, &LimitError{"depth", int64(p.limits.MaxDepth)}
	}
	mediaType, params, _ := e.Header.ContentType()
	if mediaType == "" {
		mediaType = "text/plain"
	}
	if mr := e.MultipartReader(); mr != nil {
		if params["boundary"] == "" {
			return nil, malformed("%s without a boundary", mediaType)
		}
		var children [][]segment
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil && (part == nil || !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
				return nil, p.readErr(c, err, mediaType)
			}
			segs, err := p.walk(part, depth+1, c)
			if err != nil {
				return nil, err
			}
			children = append(children, segs)
		}
		if mediaType == "multipart/alternative" {
			return chooseAlternative(children), nil
		}
		var all []segment
		for _, segs := range children {
			all = append(all, segs...)
		}
		return all, nil
	}

	disp, _, _ := e.Header.ContentDisposition()
	filename, _ := (&gomail.AttachmentHeader{Header: e.Header}).Filename()
	isText := mediaType == "text/plain" || mediaType == "text/html"
	switch {
	case mediaType == "message/delivery-status" || mediaType == "message/global-delivery-status":
		p.dsn = true
		return nil, p.deliveryStatus(e.Body, c)
	case disp == "attachment", disp == "inline" && filename != "", !isText:
		return nil, p.attachment(e, mediaType, disp, filename, c)
	}
	room := p.limits.MaxTextBytes - p.textBytes
	raw, err := io.ReadAll(io.LimitReader(e.Body, room+1))
	if err != nil {
		return nil, p.readErr(c, err, mediaType)
	}
	if int64(len(raw)) > room {
		return nil, &LimitError{"text size", p.limits.MaxTextBytes}
	}
	p.textBytes += int64(len(raw))
	if mediaType == "text/html" {
		text, err := HTMLToText(bytes.NewReader(raw), 0)
		if err != nil {
			return nil, malformed("text/html: %v", err)
		}
		return []segment{{cleanText(text), true}}, nil
	}
	return []segment{{cleanText(string(raw)), false}}, nil
}

// chooseAlternative prefers the first alternative that is all text/plain,
// then the last one with any text (RFC 2046: the richest is last).
func chooseAlternative(children [][]segment) []segment {
	var best []segment
	for _, segs := range children {
		if len(segs) == 0 {
			continue
		}
		plain := true
		for _, s := range segs {
			plain = plain && !s.html
		}
		if plain && strings.TrimSpace(joinSegments(segs)) != "" {
			return segs
		}
		best = segs
	}
	return best
}

func joinSegments(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.text)
	}
	return b.String()
}

func (p *parser) attachment(e *message.Entity, mediaType, disp, filename string, c *countingReader) error {
	if len(p.attachments) >= p.limits.MaxAttachments {
		return &LimitError{"attachments", int64(p.limits.MaxAttachments)}
	}
	content, err := io.ReadAll(io.LimitReader(e.Body, p.limits.MaxAttachmentBytes+1))
	if err != nil {
		return p.readErr(c, err, mediaType)
	}
	if int64(len(content)) > p.limits.MaxAttachmentBytes {
		return &LimitError{"attachment size", p.limits.MaxAttachmentBytes}
	}
	filename = strings.TrimSpace(strings.Map(dropControl, filename))
	if filename == "" {
		filename = "attachment-" + strconv.Itoa(len(p.attachments)+1)
	}
	p.attachments = append(p.attachments, InboundAttachment{
		Filename:    filename,
		ContentType: mediaType,
		Inline:      disp == "inline" || disp == "" && e.Header.Get("Content-Id") != "",
		ContentID:   strings.Trim(strings.TrimSpace(e.Header.Get("Content-Id")), "<>"),
		Content:     content,
	})
	return nil
}

// deliveryStatus reads a message/delivery-status part (RFC 3464): a block
// of per-message fields, then one block per recipient, each with
// Final-Recipient (or Original-Recipient) and Action.
func (p *parser) deliveryStatus(body io.Reader, c *countingReader) error {
	raw, err := io.ReadAll(io.LimitReader(body, p.limits.MaxTextBytes))
	if err != nil {
		return p.readErr(c, err, "message/delivery-status")
	}
	br := bufio.NewReader(bytes.NewReader(raw))
	for i := 0; i < p.limits.MaxParts*10; i++ {
		// Blank lines between blocks are skipped; a block is a header.
		for {
			b, err := br.Peek(1)
			if err != nil || (b[0] != '\r' && b[0] != '\n') {
				break
			}
			_, _ = br.ReadByte()
		}
		if _, err := br.Peek(1); err != nil {
			return nil
		}
		h, err := textproto.ReadHeader(br)
		if err != nil {
			// A DSN's status part that does not parse still says it
			// is a bounce; its recipients are unknown.
			return nil
		}
		rcpt := h.Get("Final-Recipient")
		if rcpt == "" {
			rcpt = h.Get("Original-Recipient")
		}
		if rcpt == "" {
			continue
		}
		action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
		if action != "" && action != "failed" {
			continue // delayed, delivered, relayed, expanded
		}
		// "rfc822; someone@example.com"
		if _, addr, ok := strings.Cut(rcpt, ";"); ok {
			rcpt = addr
		}
		rcpt = strings.Trim(strings.TrimSpace(rcpt), "<>")
		if strings.Contains(rcpt, "@") && !containsFold(p.failed, rcpt) {
			p.failed = append(p.failed, rcpt)
		}
	}
	return nil
}

func (p *parser) headers(in *Inbound, h gomail.Header) error {
	from := mailboxes(h, "From")
	if len(from) == 0 {
		return malformed("no From address")
	}
	in.From = from[0]
	in.ReplyTo = mailboxes(h, "Reply-To")
	in.To = mailboxes(h, "To")
	in.Cc = mailboxes(h, "Cc")
	for _, v := range h.Values("Delivered-To") {
		if v = strings.Trim(strings.TrimSpace(v), "<>"); v != "" {
			in.DeliveredTo = append(in.DeliveredTo, v)
		}
	}
	subject, err := h.Subject()
	if err != nil {
		subject = h.Get("Subject")
	}
	in.Subject = strings.Join(strings.Fields(strings.Map(dropControl, subject)), " ")
	in.MessageID = firstOrEmpty(msgIDs(h, "Message-Id"))
	in.InReplyTo = msgIDs(h, "In-Reply-To")
	in.References = msgIDs(h, "References")
	if d, err := h.Date(); err == nil {
		in.Date = d
	}
	return nil
}

var (
	looseAddress = regexp.MustCompile(`[^\s<>"',;:()\[\]]+@[^\s<>"',;:()\[\]]+`)
	looseMsgID   = regexp.MustCompile(`<([^<>\s]+)>`)
)

// mailboxes parses an address list; when the list does not follow RFC
// 5322 (common in the wild), it falls back to anything that looks like an
// address.
func mailboxes(h gomail.Header, key string) []Mailbox {
	var out []Mailbox
	list, err := h.AddressList(key)
	if err == nil {
		for _, a := range list {
			if a.Address != "" {
				out = append(out, Mailbox{Name: strings.Map(dropControl, a.Name), Address: a.Address})
			}
		}
		return out
	}
	raw, _ := h.Text(key)
	for _, a := range looseAddress.FindAllString(raw, -1) {
		out = append(out, Mailbox{Address: a})
	}
	return out
}

func msgIDs(h gomail.Header, key string) []string {
	if ids, err := h.MsgIDList(key); err == nil {
		return ids
	}
	var out []string
	for _, m := range looseMsgID.FindAllStringSubmatch(h.Get(key), -1) {
		out = append(out, m[1])
	}
	return out
}

func firstOrEmpty(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// dropControl drops control characters (for one-line values).
func dropControl(r rune) rune {
	if unicode.IsControl(r) {
		return -1
	}
	return r
}

// cleanText makes a body's text safe to store and show: valid UTF-8,
// LF line ends, no control characters but tabs and line breaks.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) && r != '\uFEFF' {
			return r
		}
		return -1
	}, s)
}
