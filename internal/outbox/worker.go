package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/outboxmessage"
	"github.com/switchboardhq/switchboard/internal/mail"
	"github.com/switchboardhq/switchboard/internal/rowlock"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Sender delivers one mail: it returns nil once the server accepted it
// (SMTP 250). *mail.SMTP is the real one.
type Sender interface {
	Send(ctx context.Context, m *mail.Message) error
}

// Options are the worker's settings.
type Options struct {
	// From is the From header of every mail.
	From string
	// MaxAttempts is how many deliveries are tried before a mail is
	// FAILED.
	MaxAttempts int
	// BackoffBase is the wait after the first failure, doubled after each
	// further one up to BackoffMax.
	BackoffBase, BackoffMax time.Duration
	// Lease is how long a worker holds a mail it claimed: a worker that
	// dies while sending leaves the mail to others after it. Longer than
	// the SMTP timeout.
	Lease time.Duration
	// PollInterval is how often the outbox is read without a Notify.
	PollInterval time.Duration
	// Batch is the most mails claimed at once.
	Batch int
	// Sent and Failed, when set, are told of each mail sent, and of each
	// failed attempt (final: the mail is FAILED), for metrics.
	Sent   func(kind string)
	Failed func(kind string, final bool)
	// AfterSend, for tests only, runs after the server accepted a mail
	// and before the worker marks it sent; an error makes the worker
	// abandon the mail there, as a process killed at that point would.
	AfterSend func(m *ent.OutboxMessage) error
}

// DefaultOptions are the settings' defaults.
func DefaultOptions() Options {
	return Options{MaxAttempts: 10, BackoffBase: 30 * time.Second, BackoffMax: time.Hour, Lease: 5 * time.Minute, PollInterval: 5 * time.Second, Batch: 20}
}

// Worker delivers the outbox's due mails.
type Worker struct {
	client *ent.Client
	sender Sender
	opts   Options
	log    *slog.Logger
	owner  string
	wake   chan struct{}
	now    func() time.Time
}

// NewWorker returns a worker delivering through sender.
func NewWorker(client *ent.Client, sender Sender, opts Options, log *slog.Logger) *Worker {
	d := DefaultOptions()
	if opts.MaxAttempts < 1 {
		opts.MaxAttempts = d.MaxAttempts
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = d.BackoffBase
	}
	if opts.BackoffMax < opts.BackoffBase {
		opts.BackoffMax = opts.BackoffBase
	}
	if opts.Lease <= 0 {
		opts.Lease = d.Lease
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = d.PollInterval
	}
	if opts.Batch < 1 {
		opts.Batch = d.Batch
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Worker{client: client, sender: sender, opts: opts, log: log, owner: hex.EncodeToString(b), wake: make(chan struct{}, 1), now: time.Now}
}

// Owner is the worker's lease owner id.
func (w *Worker) Owner() string { return w.owner }

// Notify wakes the worker: mails were committed.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; a mail being sent when it does is given
// back (its lease released) so that the next worker sends it at once.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.opts.PollInterval)
	defer t.Stop()
	for {
		for {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.log.Warn("outbox: delivering mail", "err", err)
			}
			if n < w.opts.Batch || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.wake:
		}
	}
}

// RunOnce claims the due mails (at most Batch) and delivers them; it
// returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	rows, err := w.claim(ctx)
	if err != nil {
		return 0, err
	}
	for _, m := range rows {
		if ctx.Err() != nil {
			w.release(m)
			continue
		}
		w.deliver(ctx, m)
	}
	return len(rows), nil
}

// claim leases the due mails to this worker. On PostgreSQL the candidates
// are locked with SKIP LOCKED, so that workers never claim the same rows
// nor wait for each other; on both engines a row is claimed by an update
// conditional on its lease being free, so that two workers can never both
// hold it.
func (w *Worker) claim(ctx context.Context) ([]*ent.OutboxMessage, error) {
	sys := viewer.SystemContext(ctx)
	tx, err := w.client.Tx(sys)
	if err != nil {
		return nil, err
	}
	now := w.now()
	free := outboxmessage.Or(outboxmessage.LeaseUntilIsNil(), outboxmessage.LeaseUntilLT(now))
	due := []*ent.OutboxMessage{}
	candidates, err := tx.OutboxMessage.Query().
		Where(outboxmessage.StatusEQ(outboxmessage.StatusPENDING), outboxmessage.NextAttemptAtLTE(now), free, rowlock.ForUpdateSkipLocked).
		Order(ent.Asc(outboxmessage.FieldNextAttemptAt), ent.Asc(outboxmessage.FieldID)).
		Limit(w.opts.Batch).All(sys)
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	until := now.Add(w.opts.Lease)
	for _, c := range candidates {
		n, err := tx.OutboxMessage.Update().
			Where(outboxmessage.ID(c.ID), outboxmessage.StatusEQ(outboxmessage.StatusPENDING), free).
			SetLeaseOwner(w.owner).SetLeaseUntil(until).AddAttempts(1).Save(sys)
		if err != nil {
			_ = tx.Rollback()
			return nil, err
		}
		if n == 1 {
			c.LeaseOwner, c.LeaseUntil, c.Attempts = w.owner, &until, c.Attempts+1
			due = append(due, c)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return due, nil
}

// deliver sends one claimed mail and records the outcome.
func (w *Worker) deliver(ctx context.Context, m *ent.OutboxMessage) {
	msg := &mail.Message{
		MessageID: m.MessageID, From: w.opts.From, To: m.Recipient, ReplyTo: m.ReplyTo,
		Subject: m.Subject, InReplyTo: m.InReplyTo, AutoSubmitted: m.AutoSubmitted, ListUnsubscribe: m.ListUnsubscribe,
		Date: m.CreatedAt, Text: m.TextBody, HTML: m.HTMLBody,
	}
	if m.References != "" {
		msg.References = strings.Fields(m.References)
	}
	err := w.sender.Send(ctx, msg)
	// What follows is recorded even when ctx ended meanwhile: the server
	// may have accepted the mail.
	rec, cancel := context.WithTimeout(viewer.SystemContext(context.WithoutCancel(ctx)), 10*time.Second)
	defer cancel()
	if err == nil {
		if w.opts.AfterSend != nil {
			if herr := w.opts.AfterSend(m); herr != nil {
				return // as if the process died here: the lease runs out
			}
		}
		if uerr := w.mine(rec, m).SetStatus(outboxmessage.StatusSENT).SetSentAt(w.now()).
			ClearLeaseOwner().ClearLeaseUntil().SetLastError("").Exec(rec); uerr != nil {
			w.log.Error("outbox: a mail was sent but could not be marked sent: it will be sent again, with the same Message-ID, when its lease runs out",
				"id", m.ID, "message_id", m.MessageID, "err", uerr)
			return
		}
		if w.opts.Sent != nil {
			w.opts.Sent(string(m.Kind))
		}
		return
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		w.release(m) // shutting down: not the mail's fault
		return
	}
	final := m.Attempts >= w.opts.MaxAttempts
	u := w.mine(rec, m).SetLastError(truncate(err.Error(), 2000)).ClearLeaseOwner().ClearLeaseUntil()
	if final {
		u.SetStatus(outboxmessage.StatusFAILED)
		w.log.Warn("outbox: giving up on a mail", "id", m.ID, "to", m.Recipient, "attempts", m.Attempts, "err", err)
	} else {
		u.SetNextAttemptAt(w.now().Add(w.backoff(m.Attempts)))
		w.log.Info("outbox: a mail was not delivered, will retry", "id", m.ID, "attempts", m.Attempts, "err", err)
	}
	if uerr := u.Exec(rec); uerr != nil {
		w.log.Error("outbox: recording a failed delivery", "id", m.ID, "err", uerr)
	}
	if w.opts.Failed != nil {
		w.opts.Failed(string(m.Kind), final)
	}
}

// mine updates m only while this worker still holds its lease.
func (w *Worker) mine(ctx context.Context, m *ent.OutboxMessage) *ent.OutboxMessageUpdate {
	return w.client.OutboxMessage.Update().Where(outboxmessage.ID(m.ID), outboxmessage.LeaseOwner(w.owner))
}

// release gives a claimed mail back, not counting the attempt.
func (w *Worker) release(m *ent.OutboxMessage) {
	ctx, cancel := context.WithTimeout(viewer.SystemContext(context.Background()), 10*time.Second)
	defer cancel()
	if err := w.mine(ctx, m).ClearLeaseOwner().ClearLeaseUntil().AddAttempts(-1).Exec(ctx); err != nil {
		w.log.Warn("outbox: releasing a mail", "id", m.ID, "err", err)
	}
}

// backoff is the wait after the n-th failed attempt.
func (w *Worker) backoff(n int) time.Duration {
	d := w.opts.BackoffBase
	for i := 1; i < n && d < w.opts.BackoffMax; i++ {
		d *= 2
	}
	return min(d, w.opts.BackoffMax)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
