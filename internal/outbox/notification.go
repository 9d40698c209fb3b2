package outbox

import (
	"context"
	"net/url"
	"slices"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/outboxmessage"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/inbox"
	"github.com/switchboardhq/switchboard/internal/notify"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// NotificationData is what the NOTIFICATION templates get.
type NotificationData struct {
	RecipientName string
	// Reason says why, in words ("You were mentioned").
	Reason       string
	TicketNumber int
	Subject      string
	// Body is the message's, when the notification is about one (the
	// recipient may read it: internal/notify checked).
	Body        string
	ActorName   string
	Unsubscribe string
}

// reasons are the words of each kind of notification.
var reasons = map[notification.Kind]string{
	notification.KindMENTIONED:           "You were mentioned",
	notification.KindASSIGNED:            "A ticket was assigned to you",
	notification.KindMESSAGE_ON_ASSIGNED: "A new message on your ticket",
	notification.KindFOLLOWED_REPLY:      "A reply on a ticket you follow",
	notification.KindUNASSIGNED_IN_GROUP: "A ticket came to your group with nobody assigned",
}

// UnsubscribePath is where the one-click unsubscribe links of
// notification mails point (internal/httpserver serves it).
const UnsubscribePath = "/mail/unsubscribe"

// Notifications is the notify.Mailer that mails each notification to its
// recipient, when staff and not online (online tells who is; when it
// cannot, everyone is mailed: a mail too many beats a notification
// missed), with a one-click unsubscribe from that kind.
func (o *Outbox) Notifications(online func(context.Context) ([]globalid.ID, error)) notify.Mailer {
	return func(sys context.Context, tx *ent.Tx, t *ent.Ticket, recipients map[globalid.ID]notification.Kind, msg *ent.Message, actor *globalid.ID) error {
		var here []globalid.ID
		if online != nil {
			here, _ = online(sys)
		}
		ids := make([]globalid.ID, 0, len(recipients))
		for id := range recipients {
			if !slices.Contains(here, id) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		// Staff only: customers hear of replies by the reply mails
		// themselves (TICKET_REPLY).
		users, err := tx.User.Query().Where(user.IDIn(ids...), user.Active(true), user.EmailBouncedAtIsNil(), user.RoleIn(user.RoleAGENT, user.RoleADMIN)).All(sys)
		if err != nil {
			return err
		}
		actorName := ""
		if actor != nil {
			if a, err := tx.User.Get(sys, *actor); err == nil {
				actorName = a.Name
			}
		}
		for _, u := range users {
			kind := recipients[u.ID]
			link := o.publicURL + UnsubscribePath + "?" + url.Values{"u": {string(u.ID)}, "k": {string(kind)}, "t": {o.tokens.Unsubscribe(u.ID, string(kind))}}.Encode()
			data := NotificationData{RecipientName: u.Name, Reason: reasons[kind], TicketNumber: t.Number, Subject: t.Subject, ActorName: actorName, Unsubscribe: link}
			if msg != nil {
				data.Body = msg.Body
			}
			r, err := o.templates.Render(entschema.OutboxKindNotification, data)
			if err != nil {
				return err
			}
			create := tx.OutboxMessage.Create().
				SetKind(outboxmessage.KindNOTIFICATION).
				SetRecipient(u.Email).
				SetMessageID(o.newMessageID(entschema.OutboxKindNotification)).
				SetTicketID(t.ID).
				SetReferences(o.rootID(t.ID)).
				SetAutoSubmitted("auto-generated").
				SetListUnsubscribe(link).
				SetSubject(r.Subject).SetTextBody(r.Text).SetHTMLBody(r.HTML)
			if msg != nil {
				create.SetTicketMessageID(msg.ID)
			}
			if err := create.Exec(sys); err != nil {
				return err
			}
		}
		return nil
	}
}

// Unsubscribe turns kind off for the user whose unsubscribe token it is
// (the one-click link of a notification mail); a wrong token is
// NOT_FOUND, like a user who does not exist.
func (o *Outbox) Unsubscribe(ctx context.Context, client *ent.Client, userID, kind, token string) error {
	if err := o.CheckUnsubscribe(userID, kind, token); err != nil {
		return err
	}
	id := globalid.ID(userID)
	u, err := client.User.Get(viewer.SystemContext(ctx), id)
	if ent.IsNotFound(err) {
		return apierr.Errorf(apierr.NotFound, "this unsubscribe link is not valid")
	}
	if err != nil {
		return err
	}
	as := viewer.NewContext(ctx, &viewer.Viewer{UserID: u.ID, Role: viewer.Role(u.Role)})
	_, err = inbox.New(client).SetPreference(as, notification.Kind(kind), false)
	return err
}

// CheckUnsubscribe tells whether the link's parts are a valid unsubscribe
// token (NOT_FOUND when not).
func (o *Outbox) CheckUnsubscribe(userID, kind, token string) error {
	id := globalid.ID(userID)
	if id.Validate() != nil || notification.KindValidator(notification.Kind(kind)) != nil || !o.tokens.VerifyUnsubscribe(id, kind, token) {
		return apierr.Errorf(apierr.NotFound, "this unsubscribe link is not valid")
	}
	return nil
}
