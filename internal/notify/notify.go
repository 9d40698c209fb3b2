// Package notify decides who is told of a change, and records it in the
// change's own transaction (from the event hooks in ent/schema): the
// notifications of each recipient's inbox, the @mentions of internal notes,
// and who follows a ticket. A notification goes only to someone who may
// read the ticket (and the note) at that moment, never to the person who
// made the change, and not of a kind they turned off; the privacy policy
// hides it again from anyone who later loses access.
package notify

import (
	"context"
	"fmt"
	"slices"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/follow"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/notification"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/privacy"
	"github.com/switchboardhq/switchboard/internal/rowlock"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Event types a Cause can have (the event log's, see ent/schema).
const (
	TicketCreated = "TICKET_CREATED"
	MessageAdded  = "MESSAGE_ADDED"
)

// Cause is a change about to be logged as an event.
type Cause struct {
	// Type is the event's type.
	Type string
	// Before is the ticket before the change (nil when created), After
	// after it.
	Before, After *ent.Ticket
	// Message is the message added, for MESSAGE_ADDED.
	Message *ent.Message
	// Actor made the change ("" for the system).
	Actor globalid.ID
}

// Plan is what an event will record besides itself.
type Plan struct {
	cause    Cause
	kinds    map[globalid.ID]notification.Kind
	follows  []globalid.ID
	mentions []globalid.ID
	// following are the ticket's followers when they were read (public
	// replies), so that those already following are not written again.
	following []globalid.ID
}

// Kinds are why someone is told, in the order a notification of several
// causes takes its kind from (one per recipient and event). ent/schema
// makes them the values of Notification.kind.
var Kinds = []string{
	"MENTIONED",           // @name in an internal note
	"ASSIGNED",            // a ticket was assigned to me
	"MESSAGE_ON_ASSIGNED", // a reply or note on a ticket assigned to me
	"FOLLOWED_REPLY",      // a reply on a ticket I follow (for staff: a customer's)
	"UNASSIGNED_IN_GROUP", // a ticket came to my group with nobody assigned
}

// Mailer writes, in tx, the mails of notifications: recipients by kind,
// about ticket t and, when the event is one, message msg (internal/outbox
// mails those who are not online).
type Mailer func(ctx context.Context, tx *ent.Tx, t *ent.Ticket, recipients map[globalid.ID]notification.Kind, msg *ent.Message, actor *globalid.ID) error

type mailerKey struct{}

// WithMailer makes the notifications written under ctx mailed by m too.
func WithMailer(ctx context.Context, m Mailer) context.Context {
	return context.WithValue(ctx, mailerKey{}, m)
}

type openingKey struct{}

// Opening marks the writing of a ticket's first message: the ticket's own
// event has told everyone concerned already.
func Opening(ctx context.Context) context.Context { return context.WithValue(ctx, openingKey{}, true) }

func rank(k notification.Kind) int { return slices.Index(Kinds, string(k)) }

// Prepare decides, inside the change's transaction, whom the change
// notifies, who follows the ticket because of it, and whom an internal note
// mentions. An ambiguous @name is refused (BAD_USER_INPUT on body), which
// rolls the change back.
func Prepare(ctx context.Context, tx *ent.Tx, c Cause) (*Plan, error) {
	if c.Message != nil && c.Before == nil {
		c.Before = c.After // a message changes nothing of the ticket's reach
	}
	p := &Plan{cause: c, kinds: map[globalid.ID]notification.Kind{}}
	t := c.After
	if t == nil {
		return p, nil
	}
	opening := ctx.Value(openingKey{}) != nil
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	if c.Message != nil && c.Message.Internal {
		mentioned, err := resolveMentions(ctx, tx, t, c.Message.Body)
		if err != nil {
			return nil, err
		}
		// Writing one's own name mentions nobody.
		p.mentions = slices.DeleteFunc(mentioned, func(id globalid.ID) bool { return id == c.Actor })
		for _, id := range mentioned {
			p.propose(id, notification.KindMENTIONED)
		}
	}
	assigned := t.AssigneeID != nil && (c.Before == nil || c.Before.AssigneeID == nil || *c.Before.AssigneeID != *t.AssigneeID)
	if assigned {
		p.propose(*t.AssigneeID, notification.KindASSIGNED)
	}
	if c.Message != nil && t.AssigneeID != nil && !opening {
		p.propose(*t.AssigneeID, notification.KindMESSAGE_ON_ASSIGNED)
	}
	if c.Message != nil && !c.Message.Internal && !opening {
		followers, err := tx.Follow.Query().Where(follow.TicketID(t.ID)).Select(follow.FieldUserID).Strings(sys)
		if err != nil {
			return nil, fmt.Errorf("reading the ticket's followers: %w", err)
		}
		for _, id := range followers {
			p.propose(globalid.ID(id), notification.KindFOLLOWED_REPLY)
			p.following = append(p.following, globalid.ID(id))
		}
	}
	arrived := t.GroupID != nil && (c.Before == nil || c.Before.GroupID == nil || *c.Before.GroupID != *t.GroupID)
	if arrived && t.AssigneeID == nil {
		members, err := tx.User.Query().
			Where(user.HasGroupsWith(group.ID(*t.GroupID), group.NotifyUnassigned(true))).IDs(sys)
		if err != nil {
			return nil, fmt.Errorf("reading the group's members: %w", err)
		}
		for _, id := range members {
			p.propose(id, notification.KindUNASSIGNED_IN_GROUP)
		}
	}
	// Follows: the requester follows their ticket; staff follow what they
	// are assigned, reply on or are mentioned in.
	if c.Type == TicketCreated {
		p.follows = append(p.follows, t.RequesterID)
	}
	if assigned {
		p.follows = append(p.follows, *t.AssigneeID)
	}
	if c.Message != nil && viewer.FromContext(ctx).IsStaff() && c.Message.AuthorID == viewer.FromContext(ctx).UserID {
		p.follows = append(p.follows, c.Message.AuthorID)
	}
	p.follows = append(p.follows, p.mentions...)
	return p, p.screen(ctx, tx)
}

func (p *Plan) propose(id globalid.ID, k notification.Kind) {
	if id == "" || id == p.cause.Actor {
		return
	}
	if old, ok := p.kinds[id]; !ok || rank(k) < rank(old) {
		p.kinds[id] = k
	}
}

// screen drops the notifications their recipients may not read, did not
// want, or that make no sense for them (a staff follower hears of
// customers' replies, a customer of staff's; inactive users of nothing).
func (p *Plan) screen(ctx context.Context, tx *ent.Tx) error {
	if len(p.kinds) == 0 {
		return nil
	}
	ids := make([]globalid.ID, 0, len(p.kinds))
	for id := range p.kinds {
		ids = append(ids, id)
	}
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	users, err := tx.User.Query().Where(user.IDIn(ids...)).
		WithGroups(func(q *ent.GroupQuery) { q.Select(group.FieldID) }).All(sys)
	if err != nil {
		return fmt.Errorf("reading the recipients: %w", err)
	}
	authorIsStaff := viewer.FromContext(ctx).IsStaff()
	kept := map[globalid.ID]notification.Kind{}
	for _, u := range users {
		k := p.kinds[u.ID]
		v := Viewer(u)
		switch {
		case !u.Active, slices.Contains(u.MutedNotifications, string(k)):
		case k == notification.KindFOLLOWED_REPLY && v.IsStaff() == authorIsStaff:
		case p.cause.Message != nil && !privacy.MessageInReach(v, p.cause.After, p.cause.Message.Internal):
		case !privacy.InReach(v, p.cause.After):
		default:
			kept[u.ID] = k
		}
	}
	p.kinds = kept
	return nil
}

// Viewer is the viewer a user would be, for deciding what they may read.
// u must have been loaded with its groups.
func Viewer(u *ent.User) *viewer.Viewer {
	v := &viewer.Viewer{UserID: u.ID, Role: viewer.Role(u.Role)}
	for _, g := range u.Edges.Groups {
		v.GroupIDs = append(v.GroupIDs, g.ID)
	}
	return v
}

// Recipients are the users the event notifies, sorted.
func (p *Plan) Recipients() []globalid.ID {
	ids := make([]globalid.ID, 0, len(p.kinds))
	for id := range p.kinds {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Write records the plan once its event has its cursor.
func (p *Plan) Write(ctx context.Context, tx *ent.Tx, cursor int64) error {
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	t := p.cause.After
	if t == nil {
		return nil
	}
	var msgID *globalid.ID
	if p.cause.Message != nil {
		msgID = &p.cause.Message.ID
	}
	var actor *globalid.ID
	if p.cause.Actor != "" {
		actor = &p.cause.Actor
	}
	if ids := p.Recipients(); len(ids) > 0 {
		creates := make([]*ent.NotificationCreate, len(ids))
		for i, id := range ids {
			creates[i] = tx.Notification.Create().SetRecipientID(id).SetKind(p.kinds[id]).
				SetTicketID(t.ID).SetNillableMessageID(msgID).SetNillableActorID(actor).SetEventCursor(cursor)
		}
		if err := tx.Notification.CreateBulk(creates...).Exec(sys); err != nil {
			return fmt.Errorf("writing notifications: %w", err)
		}
		if m, ok := ctx.Value(mailerKey{}).(Mailer); ok && m != nil {
			if err := m(sys, tx, t, p.kinds, p.cause.Message, actor); err != nil {
				return fmt.Errorf("writing notification mails: %w", err)
			}
		}
	}
	if len(p.mentions) > 0 {
		creates := make([]*ent.MentionCreate, len(p.mentions))
		for i, id := range p.mentions {
			creates[i] = tx.Mention.Create().SetMessageID(*msgID).SetUserID(id).SetTicketID(t.ID)
		}
		if err := tx.Mention.CreateBulk(creates...).Exec(sys); err != nil {
			return fmt.Errorf("writing mentions: %w", err)
		}
	}
	// A reply by someone who already follows (the usual case) writes no
	// follow: one statement less on every reply.
	follows := slices.DeleteFunc(p.follows, func(id globalid.ID) bool { return slices.Contains(p.following, id) })
	return Follow(sys, tx, t.ID, follows...)
}

// Follow makes the users follow the ticket; those who already do stay as
// they are.
func Follow(ctx context.Context, tx *ent.Tx, ticketID globalid.ID, users ...globalid.ID) error {
	slices.Sort(users)
	users = slices.Compact(users)
	if len(users) == 0 {
		return nil
	}
	creates := make([]*ent.FollowCreate, len(users))
	for i, id := range users {
		creates[i] = tx.Follow.Create().SetUserID(id).SetTicketID(ticketID)
	}
	err := tx.Follow.CreateBulk(creates...).
		OnConflictColumns(follow.FieldTicketID, follow.FieldUserID).DoNothing().Exec(ctx)
	if err != nil {
		return fmt.Errorf("recording followers: %w", err)
	}
	return nil
}

// lockTicket takes the ticket's row lock (PostgreSQL; SQLite's write
// transaction holds the database) before a follow is written outside a
// change of the ticket: every change of a ticket locks its row first, then
// records followers, so a follow that took the rows in the other order
// would deadlock with it. The same lock as ent/schema LockTicket.
func lockTicket(ctx context.Context, tx *ent.Tx, id globalid.ID) error {
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	_, err := tx.Ticket.Query().Where(ticket.ID(id), rowlock.ForUpdate).Only(sys)
	return err
}
