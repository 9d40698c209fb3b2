// Package inbox is a user's notifications as the API offers them: the
// inbox itself, newest first, its unread count, read marks and which kinds
// of notification the user wants. Notifications are written by
// internal/notify; everything here reads and writes them through the
// caller's context, so the privacy policy decides what is theirs.
package inbox

import (
	"context"
	"slices"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/notify"
	"github.com/switchboardhq/switchboard/internal/rowlock"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Service reads and marks inboxes.
type Service struct {
	client *ent.Client
	now    func() time.Time
}

// New returns the service.
func New(client *ent.Client) *Service { return &Service{client: client, now: time.Now} }

// Preference says whether the user is told of one kind of notification.
type Preference struct {
	Kind    notification.Kind
	Enabled bool
}

// List is a page of the viewer's inbox, newest first. An anonymous caller
// is refused (as by every method here) rather than shown an empty inbox,
// which would not say why.
func (s *Service) List(ctx context.Context, after *ent.Cursor, first *int, before *ent.Cursor, last *int, unreadOnly bool) (*ent.NotificationConnection, error) {
	if _, err := viewer.RequireUser(ctx); err != nil {
		return nil, err
	}
	q := s.client.Notification.Query()
	if unreadOnly {
		q.Where(notification.ReadAtIsNil())
	}
	return q.Paginate(ctx, after, first, before, last, ent.WithNotificationOrder(newestFirst))
}

// UnreadCount is how many of the viewer's notifications are unread.
func (s *Service) UnreadCount(ctx context.Context) (int, error) {
	if _, err := viewer.RequireUser(ctx); err != nil {
		return 0, err
	}
	return s.client.Notification.Query().Where(notification.ReadAtIsNil()).Count(ctx)
}

// MarkRead marks the viewer's unread notifications among ids (all of them
// with all) read now, and says how many it marked. IDs of notifications
// that are not the viewer's match nothing (the policy narrows the update),
// so they are neither marked nor told apart from unknown ones.
func (s *Service) MarkRead(ctx context.Context, ids []globalid.ID, all bool) (int, error) {
	if _, err := viewer.RequireUser(ctx); err != nil {
		return 0, err
	}
	if !all && ids == nil {
		return 0, apierr.Invalid("ids", "give the ids of the notifications to mark read, or all: true")
	}
	if err := notificationIDs(ids); err != nil {
		return 0, err
	}
	u := s.client.Notification.Update().Where(notification.ReadAtIsNil()).SetReadAt(s.now())
	if !all {
		if len(ids) == 0 {
			return 0, nil
		}
		u.Where(notification.IDIn(ids...))
	}
	return u.Save(ctx)
}

// notificationIDs refuses IDs of other types: those are a client's
// mistake worth telling (a ticket's ID for its notification's), unlike
// notifications that are not the viewer's, which just match nothing.
func notificationIDs(ids []globalid.ID) error {
	for _, id := range ids {
		if id.Prefix() != globalid.PrefixNotice {
			return apierr.Invalid("ids", "ids must be IDs of notifications")
		}
	}
	return nil
}

// Preferences lists every kind of notification with whether the viewer
// is told of it.
func (s *Service) Preferences(ctx context.Context) ([]*Preference, error) {
	v, err := viewer.RequireUser(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.client.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	return preferences(u.MutedNotifications), nil
}

// SetPreference turns one kind of notification on or off for the viewer
// and returns the preferences as they now are.
func (s *Service) SetPreference(ctx context.Context, kind notification.Kind, enabled bool) ([]*Preference, error) {
	v, err := viewer.RequireUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := notification.KindValidator(kind); err != nil {
		return nil, apierr.Invalid("kind", "unknown notification kind %q", kind)
	}
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// Read and written in one transaction, so that two changes at once
	// (two tabs) do not undo each other.
	// Locked, or two tabs muting two kinds at once both read the old list
	// and one change is lost.
	u, err := tx.User.Query().Where(user.ID(v.UserID), rowlock.ForUpdate).Only(ctx)
	if err != nil {
		return nil, err
	}
	muted := withMuted(u.MutedNotifications, string(kind), !enabled)
	if !slices.Equal(muted, u.MutedNotifications) {
		if u, err = tx.User.UpdateOneID(v.UserID).SetMutedNotifications(muted).Save(ctx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return preferences(u.MutedNotifications), nil
}

// withMuted is muted with kind in it (mute) or out of it, in the order of
// notify.Kinds, so that equal settings read the same.
func withMuted(muted []string, kind string, mute bool) []string {
	out := []string{}
	for _, k := range notify.Kinds {
		if k == kind && mute || k != kind && slices.Contains(muted, k) {
			out = append(out, k)
		}
	}
	return out
}

// preferences is one Preference per kind, in the schema's order.
func preferences(muted []string) []*Preference {
	out := make([]*Preference, 0, len(notify.Kinds))
	for _, k := range notify.Kinds {
		out = append(out, &Preference{Kind: notification.Kind(k), Enabled: !slices.Contains(muted, k)})
	}
	return out
}

// newestFirst is the order of an inbox: the reverse of the order the
// notifications' events were committed in.
var newestFirst = &ent.NotificationOrder{Direction: entgql.OrderDirectionDesc, Field: ent.NotificationOrderFieldEventCursor}
