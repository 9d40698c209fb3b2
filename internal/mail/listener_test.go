package mail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// recorder is the test's Deliverer: it records every call, and answers
// with err.
type recorder struct {
	mu    sync.Mutex
	calls []delivery
	err   error
}

type delivery struct {
	env Envelope
	msg *Inbound
}

func (r *recorder) Deliver(ctx context.Context, env Envelope, msg *Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, delivery{env, msg})
	return r.err
}

func (r *recorder) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.calls...)
}

func startListener(t *testing.T, opts ListenerOptions, d Deliverer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	l := NewListener(opts, d, func(addr string) bool {
		addr = strings.ToLower(addr)
		return addr == "support@example.com" || strings.HasPrefix(addr, "support+") && strings.HasSuffix(addr, "@example.com")
	})
	done := make(chan error, 1)
	go func() { done <- l.Serve(ln) }()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// send speaks SMTP with net/smtp's client and returns the first error's
// SMTP code (0: 250 to everything).
func send(t *testing.T, addr, from string, to []string, data string) (int, string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	code := func(err error) (int, string) {
		var te *textproto.Error
		if errors.As(err, &te) {
			return te.Code, te.Msg
		}
		t.Fatalf("not an SMTP answer: %v", err)
		return 0, ""
	}
	if err := c.Hello("mx.example.net"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from); err != nil {
		return code(err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return code(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return code(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		return code(err)
	}
	if err := w.Close(); err != nil {
		return code(err)
	}
	_ = c.Quit()
	return 0, ""
}

func testMail(t *testing.T, name string) string {
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(raw), "\n", "\r\n")
}

func TestListenerAccepts(t *testing.T) {
	rec := &recorder{}
	addr := startListener(t, DefaultListenerOptions(), rec)
	if code, msg := send(t, addr, "ann@example.com", []string{"support@example.com", "Support@example.com"}, testMail(t, "plain.eml")); code != 0 {
		t.Fatalf("answer %d %s, want 250", code, msg)
	}
	calls := rec.deliveries()
	if len(calls) != 1 {
		t.Fatalf("Deliver called %d times, want once", len(calls))
	}
	env, msg := calls[0].env, calls[0].msg
	if env.MailFrom != "ann@example.com" || len(env.RcptTo) != 1 || env.RcptTo[0] != "support@example.com" || !strings.HasPrefix(env.RemoteAddr, "127.0.0.1:") {
		t.Errorf("Envelope = %+v", env)
	}
	if msg.From.Address != "ann@example.com" || msg.Subject != "Printer on floor 2 is jammed" || !strings.Contains(msg.Visible, "jammed since this morning") || msg.Automatic != "" {
		t.Errorf("parsed mail = %+v", msg)
	}
}

func TestListenerNullSenderIsAutomatic(t *testing.T) {
	rec := &recorder{}
	addr := startListener(t, DefaultListenerOptions(), rec)
	if code, msg := send(t, addr, "", []string{"support@example.com"}, testMail(t, "plain.eml")); code != 0 {
		t.Fatalf("answer %d %s, want 250", code, msg)
	}
	if calls := rec.deliveries(); len(calls) != 1 || calls[0].msg.Automatic == "" {
		t.Errorf("a mail from <> must be delivered as automatic: %+v", calls)
	}
}

func TestListenerRefusesUnknownRecipient(t *testing.T) {
	rec := &recorder{}
	addr := startListener(t, DefaultListenerOptions(), rec)
	if code, msg := send(t, addr, "ann@example.com", []string{"nobody@example.com"}, testMail(t, "plain.eml")); code != 550 || !strings.HasPrefix(msg, "5.1.1") {
		t.Errorf("answer %d %s, want 550 5.1.1", code, msg)
	}
	if n := len(rec.deliveries()); n != 0 {
		t.Errorf("Deliver called %d times", n)
	}
}

func TestListenerRefusesTooLarge(t *testing.T) {
	rec := &recorder{}
	opts := DefaultListenerOptions()
	opts.MaxMessageBytes = 2000
	addr := startListener(t, opts, rec)
	big := testMail(t, "plain.eml") + strings.Repeat("more text that makes it too long\r\n", 100)
	if code, msg := send(t, addr, "ann@example.com", []string{"support@example.com"}, big); code != 552 || !strings.HasPrefix(msg, "5.3.4") {
		t.Errorf("answer %d %s, want 552 5.3.4", code, msg)
	}
	// Past a parse limit (one attachment allowed, two sent): 552 too.
	opts = DefaultListenerOptions()
	opts.Limits.MaxAttachments = 1
	addr = startListener(t, opts, rec)
	if code, msg := send(t, addr, "dana@example.com", []string{"support@example.com"}, testMail(t, "attachments.eml")); code != 552 || !strings.HasPrefix(msg, "5.3.4") {
		t.Errorf("two attachments: answer %d %s, want 552 5.3.4", code, msg)
	}
	if n := len(rec.deliveries()); n != 0 {
		t.Errorf("Deliver called %d times", n)
	}
}

func TestListenerRefusesMalformed(t *testing.T) {
	rec := &recorder{}
	addr := startListener(t, DefaultListenerOptions(), rec)
	if code, msg := send(t, addr, "ivan@example.com", []string{"support@example.com"}, testMail(t, "malformed.eml")); code != 554 || !strings.HasPrefix(msg, "5.6.0") {
		t.Errorf("answer %d %s, want 554 5.6.0", code, msg)
	}
	if n := len(rec.deliveries()); n != 0 {
		t.Errorf("Deliver called %d times", n)
	}
}

func TestListenerDeliverFails(t *testing.T) {
	rec := &recorder{err: errors.New("database is down")}
	addr := startListener(t, DefaultListenerOptions(), rec)
	if code, msg := send(t, addr, "ann@example.com", []string{"support@example.com"}, testMail(t, "plain.eml")); code != 451 || !strings.HasPrefix(msg, "4.3.0") {
		t.Errorf("temporary: answer %d %s, want 451 4.3.0", code, msg)
	}
	rec.mu.Lock()
	rec.err = &PermanentError{Reason: "replies to this ticket come from its requester or followers only", Err: errors.New("sender mismatch")}
	rec.mu.Unlock()
	code, msg := send(t, addr, "ann@example.com", []string{"support+t.x@example.com"}, testMail(t, "plain.eml"))
	if code != 550 || !strings.HasPrefix(msg, "5.7.1") || !strings.Contains(msg, "requester or followers") || strings.Contains(msg, "mismatch") {
		t.Errorf("permanent: answer %d %s, want 550 5.7.1 with the reason only", code, msg)
	}
	if n := len(rec.deliveries()); n != 2 {
		t.Errorf("Deliver called %d times, want 2", n)
	}
}

// A Deliverer that blocks: the listener does not answer before it
// returns (250 only after the commit), and Close cancels its context.
type blocking struct {
	entered chan struct{}
	release chan error
}

func (b *blocking) Deliver(ctx context.Context, env Envelope, msg *Inbound) error {
	close(b.entered)
	select {
	case err := <-b.release:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestListenerAnswersAfterDeliver(t *testing.T) {
	b := &blocking{entered: make(chan struct{}), release: make(chan error)}
	addr := startListener(t, DefaultListenerOptions(), b)
	answered := make(chan int, 1)
	go func() {
		code, _ := send(t, addr, "ann@example.com", []string{"support@example.com"}, testMail(t, "plain.eml"))
		answered <- code
	}()
	<-b.entered
	select {
	case code := <-answered:
		t.Fatalf("answered %d before Deliver returned", code)
	case <-time.After(100 * time.Millisecond):
	}
	b.release <- nil
	if code := <-answered; code != 0 {
		t.Errorf("answer %d, want 250", code)
	}
}

func TestListenerLMTP(t *testing.T) {
	rec := &recorder{}
	opts := DefaultListenerOptions()
	opts.LMTP = true
	addr := startListener(t, opts, rec)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := gosmtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.SendMail("ann@example.com", []string{"support@example.com"}, strings.NewReader(testMail(t, "plain.eml"))); err != nil {
		t.Fatalf("LMTP: %v", err)
	}
	if calls := rec.deliveries(); len(calls) != 1 || calls[0].msg.MessageID != "CAF1234@mail.example.com" {
		t.Errorf("Deliver calls: %+v", calls)
	}
	err = c.SendMail("ann@example.com", []string{"nobody@example.com"}, strings.NewReader(testMail(t, "plain.eml")))
	var se *gosmtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("unknown recipient over LMTP: %v, want 550", err)
	}
}
