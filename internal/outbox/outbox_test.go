package outbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/outboxmessage"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/mail"
	"github.com/switchboardhq/switchboard/internal/outbox"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/mailpit"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

const from = "Support <support@example.com>"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type desk struct {
	client   *ent.Client
	box      *outbox.Outbox
	tokens   *mail.Tokens
	tickets  *ticketing.Service
	sys      context.Context
	customer *ent.User
	asCust   context.Context
	asAgent  context.Context
}

func newDesk(t *testing.T, client *ent.Client) *desk {
	t.Helper()
	tokens, err := mail.NewTokens([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	box, err := outbox.New(outbox.Config{From: from, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{client: client, box: box, tokens: tokens, sys: viewer.SystemContext(context.Background())}
	d.tickets = ticketing.New(client, ticketing.Options{Outbox: box})
	d.customer, err = client.User.Create().SetEmail("carol@example.com").SetName("Carol").Save(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	agent, err := client.User.Create().SetEmail("ada@helpdesk.test").SetName("Ada").SetRole(user.RoleADMIN).Save(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	g, err := client.Group.Create().SetName("Support").AddMembers(agent).Save(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	d.asCust = viewer.NewContext(context.Background(), &viewer.Viewer{UserID: d.customer.ID, Role: viewer.Customer})
	d.asAgent = viewer.NewContext(context.Background(), &viewer.Viewer{UserID: agent.ID, Role: viewer.Admin, GroupIDs: []globalid.ID{g.ID}})
	return d
}

func (d *desk) open(t *testing.T, subject string) *ent.Ticket {
	t.Helper()
	tk, err := d.tickets.Create(d.asCust, ticketing.NewTicket{Subject: subject, Body: "it is broken"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (d *desk) reply(t *testing.T, id globalid.ID, body string, internal bool) {
	t.Helper()
	if _, err := d.tickets.Reply(d.asAgent, id, body, internal); err != nil {
		t.Fatal(err)
	}
}

func (d *desk) rows(t *testing.T) []*ent.OutboxMessage {
	t.Helper()
	rows, err := d.client.OutboxMessage.Query().Order(ent.Asc(outboxmessage.FieldCreatedAt), ent.Asc(outboxmessage.FieldID)).All(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func smtpOf(t *testing.T, mp *mailpit.Server) *mail.SMTP {
	t.Helper()
	s, err := mail.ParseSMTPURL(mp.SMTPURL(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func worker(d *desk, s outbox.Sender, o outbox.Options) *outbox.Worker {
	o.From = from
	if o.BackoffBase == 0 {
		o.BackoffBase, o.BackoffMax = time.Millisecond, time.Millisecond
	}
	return outbox.NewWorker(d.client, s, o, quiet)
}

// drain runs w until nothing is due.
func drain(t *testing.T, w *outbox.Worker) {
	t.Helper()
	for range 100 {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the outbox did not drain")
}

func brackets(id string) string { return "<" + id + ">" }

func TestReplyMailArrivesThreaded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, target dbtest.Target) {
		mp := mailpit.Start(t)
		d := newDesk(t, target.Open(t))
		tk := d.open(t, "Printer on fire")
		d.reply(t, tk.ID, "We are on it.", false)
		d.reply(t, tk.ID, "Internal: call facilities", true)
		d.reply(t, tk.ID, "Fixed, please check.", false)
		rows := d.rows(t)
		if len(rows) != 2 {
			t.Fatalf("outbox rows = %d, want 2 (an internal note writes none)", len(rows))
		}
		drain(t, worker(d, smtpOf(t, mp), outbox.Options{}))
		got := mp.WaitFor(2, 5*time.Second)
		if len(got) != 2 {
			t.Fatalf("mailpit has %d messages, want 2", len(got))
		}
		byID := map[string]mailpit.Message{}
		for _, s := range got {
			m := mp.Message(s.ID)
			byID[m.MessageID] = m
			if strings.Contains(m.Text, "Internal") {
				t.Errorf("an internal note left by mail: %q", m.Text)
			}
		}
		first, second := byID[rows[0].MessageID], byID[rows[1].MessageID]
		if first.ID == "" || second.ID == "" {
			t.Fatalf("Message-IDs of the rows %q %q not among those that arrived %v", rows[0].MessageID, rows[1].MessageID, byID)
		}
		root := "<ticket." + strings.ToLower(string(tk.ID)) + "@example.com>"
		for _, m := range []mailpit.Message{first, second} {
			if m.To[0].Address != "carol@example.com" || m.From.Address != "support@example.com" {
				t.Errorf("from %v to %v", m.From, m.To)
			}
			if want := "[#" + itoa(tk.Number) + "] Printer on fire"; m.Subject != want {
				t.Errorf("subject %q, want %q", m.Subject, want)
			}
			if m.Header("Auto-Submitted") != "auto-replied" || m.Header("Date") == "" {
				t.Errorf("Auto-Submitted %q, Date %q", m.Header("Auto-Submitted"), m.Header("Date"))
			}
			if m.HTML == "" || m.Text == "" {
				t.Errorf("want text and HTML parts")
			}
			if len(m.ReplyTo) != 1 {
				t.Fatalf("Reply-To %v", m.ReplyTo)
			}
			if id, ok := d.tokens.TicketOfAddress(m.ReplyTo[0].Address); !ok || id != tk.ID || !strings.HasPrefix(m.ReplyTo[0].Address, "support+") {
				t.Errorf("Reply-To %q does not carry the ticket's token", m.ReplyTo[0].Address)
			}
		}
		if !strings.Contains(first.Text, "We are on it.") || !strings.Contains(second.Text, "Fixed, please check.") {
			t.Errorf("bodies: %q / %q", first.Text, second.Text)
		}
		if refs := strings.Fields(first.Header("References")); len(refs) != 1 || refs[0] != root {
			t.Errorf("first References %v, want [%s]", refs, root)
		}
		refs := strings.Fields(second.Header("References"))
		if len(refs) != 2 || refs[0] != root || refs[1] != brackets(rows[0].MessageID) {
			t.Errorf("second References %v, want [%s %s]", refs, root, brackets(rows[0].MessageID))
		}
		if got := second.Header("In-Reply-To"); got != brackets(rows[0].MessageID) {
			t.Errorf("second In-Reply-To %q, want the first's Message-ID", got)
		}
		for _, r := range d.rows(t) {
			if r.Status != outboxmessage.StatusSENT || r.SentAt == nil || r.Attempts != 1 {
				t.Errorf("row %s: %s sent_at %v attempts %d", r.ID, r.Status, r.SentAt, r.Attempts)
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCustomerRepliesSendNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, target dbtest.Target) {
		d := newDesk(t, target.Open(t))
		tk := d.open(t, "Hello")
		if _, err := d.tickets.Reply(d.asCust, tk.ID, "more details", false); err != nil {
			t.Fatal(err)
		}
		if rows := d.rows(t); len(rows) != 0 {
			t.Fatalf("a customer's own reply wrote %d mails", len(rows))
		}
	})
}

func countByMessageID(ms []mailpit.Summary) map[string]int {
	n := map[string]int{}
	for _, m := range ms {
		n[m.MessageID]++
	}
	return n
}

func TestSMTPDownThenBackDeliversEachOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, target dbtest.Target) {
		mp := mailpit.New(t) // ports reserved, server down
		d := newDesk(t, target.Open(t))
		for i := range 5 {
			d.reply(t, d.open(t, "Ticket "+string(rune('A'+i))).ID, "answer", false)
		}
		w := worker(d, smtpOf(t, mp), outbox.Options{MaxAttempts: 5})
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, r := range d.rows(t) {
			if r.Status != outboxmessage.StatusPENDING || r.Attempts != 1 || r.LastError == "" || r.LeaseOwner != "" {
				t.Fatalf("after a failed delivery: %s attempts %d error %q lease %q", r.Status, r.Attempts, r.LastError, r.LeaseOwner)
			}
		}
		mp.Start()
		time.Sleep(5 * time.Millisecond) // the backoff
		drain(t, w)
		got := mp.WaitFor(5, 5*time.Second)
		counts := countByMessageID(got)
		if len(got) != 5 || len(counts) != 5 {
			t.Fatalf("mailpit has %d messages with %d Message-IDs, want 5 each once", len(got), len(counts))
		}
		for _, r := range d.rows(t) {
			if counts[r.MessageID] != 1 || r.Status != outboxmessage.StatusSENT || r.Attempts != 2 {
				t.Errorf("row %s: arrived %d times, %s after %d attempts", r.MessageID, counts[r.MessageID], r.Status, r.Attempts)
			}
		}
	})
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, target dbtest.Target) {
		mp := mailpit.New(t)
		d := newDesk(t, target.Open(t))
		d.reply(t, d.open(t, "x").ID, "answer", false)
		w := worker(d, smtpOf(t, mp), outbox.Options{MaxAttempts: 2})
		for range 2 {
			if _, err := w.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		r := d.rows(t)[0]
		if r.Status != outboxmessage.StatusFAILED || r.Attempts != 2 || r.LastError == "" {
			t.Fatalf("%s after %d attempts, error %q", r.Status, r.Attempts, r.LastError)
		}
	})
}

func TestKilledAfterSendIsRetriedWithSameMessageID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, target dbtest.Target) {
		mp := mailpit.Start(t)
		d := newDesk(t, target.Open(t))
		d.reply(t, d.open(t, "x").ID, "answer", false)
		lease := 300 * time.Millisecond
		dying := worker(d, smtpOf(t, mp), outbox.Options{Lease: lease, AfterSend: func(*ent.OutboxMessage) error { return errors.New("killed") }})
		if _, err := dying.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		other := worker(d, smtpOf(t, mp), outbox.Options{Lease: lease})
		if n, err := other.RunOnce(context.Background()); err != nil || n != 0 {
			t.Fatalf("another worker claimed %d mails while the lease held (err %v)", n, err)
		}
		time.Sleep(lease + 50*time.Millisecond)
		drain(t, other)
		got := mp.WaitFor(2, 5*time.Second)
		row := d.rows(t)[0]
		if len(got) != 2 || got[0].MessageID != row.MessageID || got[1].MessageID != row.MessageID {
			t.Fatalf("want the mail twice with the row's Message-ID %q, got %+v", row.MessageID, got)
		}
		if row.Status != outboxmessage.StatusSENT || row.Attempts != 2 {
			t.Fatalf("row %s after %d attempts", row.Status, row.Attempts)
		}
	})
}

// countingSender counts deliveries per Message-ID and forwards them.
type countingSender struct {
	next outbox.Sender
	mu   sync.Mutex
	n    map[string]int
}

func (c *countingSender) Send(ctx context.Context, m *mail.Message) error {
	c.mu.Lock()
	c.n[m.MessageID]++
	c.mu.Unlock()
	return c.next.Send(ctx, m)
}

func TestWorkersNeverBothSendAMail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, target dbtest.Target) {
		mp := mailpit.Start(t)
		d := newDesk(t, target.Open(t))
		const mails = 24
		tk := d.open(t, "many")
		for i := range mails {
			d.reply(t, tk.ID, "answer "+string(rune('a'+i)), false)
		}
		sender := &countingSender{next: smtpOf(t, mp), n: map[string]int{}}
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for range 3 {
			w := worker(d, sender, outbox.Options{Batch: 2})
			wg.Go(func() {
				for {
					n, err := w.RunOnce(context.Background())
					if err != nil {
						errs <- err
						return
					}
					if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got := mp.WaitFor(mails, 10*time.Second)
		counts := countByMessageID(got)
		if len(got) != mails || len(counts) != mails {
			t.Fatalf("mailpit has %d messages with %d Message-IDs, want %d each once", len(got), len(counts), mails)
		}
		for id, n := range sender.n {
			if n != 1 {
				t.Errorf("%s was sent %d times", id, n)
			}
		}
	})
}

var linkToken = regexp.MustCompile(`reset-password\?token=(sbr_[A-Za-z0-9_-]+)`)

func TestPasswordResetEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, target dbtest.Target) {
		mp := mailpit.Start(t)
		d := newDesk(t, target.Open(t))
		accounts := auth.New(d.client, auth.Options{SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: time.Hour})
		accounts.SetResetOptions(auth.ResetOptions{Outbox: d.box, LinkBase: "https://desk.example.com/reset-password?token="})
		ctx := context.Background()
		const old, next = "correct horse battery staple", "a much newer passphrase 42"
		if _, err := accounts.CreateUser(d.sys, auth.NewUser{Email: "dana@example.com", Name: "Dana", Password: old, Role: user.RoleCUSTOMER}); err != nil {
			t.Fatal(err)
		}
		session, _, err := accounts.Login(ctx, "dana@example.com", old, "test", false)
		if err != nil {
			t.Fatal(err)
		}
		if err := accounts.RequestPasswordReset(ctx, "nobody@example.com"); err != nil {
			t.Fatalf("unknown address: %v, want the same answer as a known one", err)
		}
		if n := len(d.rows(t)); n != 0 {
			t.Fatalf("an unknown address wrote %d mails", n)
		}
		if err := accounts.RequestPasswordReset(ctx, "Dana@Example.com"); err != nil {
			t.Fatal(err)
		}
		drain(t, worker(d, smtpOf(t, mp), outbox.Options{}))
		got := mp.WaitFor(1, 5*time.Second)
		if len(got) != 1 || got[0].To[0].Address != "dana@example.com" {
			t.Fatalf("mailpit: %+v, want one mail to dana (none to nobody@)", got)
		}
		m := mp.Message(got[0].ID)
		if m.Header("Auto-Submitted") != "auto-generated" {
			t.Errorf("Auto-Submitted %q", m.Header("Auto-Submitted"))
		}
		match := linkToken.FindStringSubmatch(m.Text)
		if match == nil {
			t.Fatalf("no reset link in %q", m.Text)
		}
		token := match[1]
		err = accounts.ResetPassword(ctx, token, "short")
		wantField(t, err, apierr.BadUserInput, "newPassword")
		wantField(t, accounts.ResetPassword(ctx, token+"x", next), apierr.BadUserInput, "token")
		if err := accounts.ResetPassword(ctx, token, next); err != nil {
			t.Fatal(err)
		}
		wantField(t, accounts.ResetPassword(ctx, token, next), apierr.BadUserInput, "token")
		if _, err := accounts.Authenticate(ctx, session); err == nil {
			t.Fatal("the session from before the reset still works")
		}
		if _, _, err := accounts.Login(ctx, "dana@example.com", old, "test", false); err == nil {
			t.Fatal("the old password still works")
		}
		if _, _, err := accounts.Login(ctx, "dana@example.com", next, "test", false); err != nil {
			t.Fatalf("login with the new password: %v", err)
		}
	})
}

func TestPasswordResetExpires(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, target dbtest.Target) {
		d := newDesk(t, target.Open(t))
		accounts := auth.New(d.client, auth.Options{SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: time.Hour})
		accounts.SetResetOptions(auth.ResetOptions{Outbox: d.box, TTL: time.Minute, LinkBase: "https://desk.example.com/reset-password?token="})
		ctx := context.Background()
		if err := accounts.RequestPasswordReset(ctx, "carol@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := d.client.PasswordReset.Update().SetUsedAt(time.Now()).Exec(d.sys); err != nil {
			t.Fatal(err)
		}
		rows := d.rows(t)
		match := linkToken.FindStringSubmatch(rows[0].TextBody)
		if match == nil {
			t.Fatalf("no link in %q", rows[0].TextBody)
		}
		wantField(t, accounts.ResetPassword(ctx, match[1], "a much newer passphrase 42"), apierr.BadUserInput, "token")
		for range 2 {
			_ = accounts.RequestPasswordReset(ctx, "carol@example.com")
		}
		var e *apierr.Error
		if err := accounts.RequestPasswordReset(ctx, "carol@example.com"); !errors.As(err, &e) || e.Code != apierr.RateLimited {
			t.Fatalf("the 4th request within the hour: %v, want RATE_LIMITED", err)
		}
	})
}

func wantField(t *testing.T, err error, code apierr.Code, field string) {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) || e.Code != code || e.Field != field {
		t.Fatalf("err = %v, want %s on %s", err, code, field)
	}
}
