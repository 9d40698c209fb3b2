package outbox

import (
	"context"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/outboxmessage"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// MaxListed bounds outboxMessages(first:); DefaultListed is what it
// lists without first (or with first: null).
const (
	MaxListed     = 100
	DefaultListed = 50
)

// List is the outbox as the viewer may see it (admins: all of it; the
// privacy rules hide it from everyone else), newest first.
func List(ctx context.Context, client *ent.Client, status *outboxmessage.Status, firstArg *int) ([]*ent.OutboxMessage, error) {
	first := DefaultListed
	if firstArg != nil {
		first = *firstArg
	}
	if first < 1 || first > MaxListed {
		return nil, apierr.Invalid("first", "first must be between 1 and %d", MaxListed)
	}
	q := client.OutboxMessage.Query().Order(ent.Desc(outboxmessage.FieldCreatedAt), ent.Desc(outboxmessage.FieldID)).Limit(first)
	if status != nil {
		q.Where(outboxmessage.StatusEQ(*status))
	}
	return q.All(ctx)
}

// Retry makes a failed or pending mail due now, its attempts counted
// afresh; its Message-ID stays, so a mail that did arrive before is the
// same mail to its recipient. A sent mail is CONFLICT.
func (o *Outbox) Retry(ctx context.Context, client *ent.Client, id globalid.ID) (*ent.OutboxMessage, error) {
	m, err := client.OutboxMessage.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apierr.Errorf(apierr.NotFound, "no mail with this ID")
	}
	if err != nil {
		return nil, err
	}
	if m.Status == outboxmessage.StatusSENT {
		return nil, apierr.Errorf(apierr.Conflict, "this mail was sent at %s", m.SentAt.UTC().Format(time.RFC3339))
	}
	m, err = client.OutboxMessage.UpdateOne(m).
		SetStatus(outboxmessage.StatusPENDING).SetAttempts(0).SetNextAttemptAt(time.Now()).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	o.Wake()
	return m, nil
}
