package ent

// Written by hand, not by entc: the Notification schema skips event_cursor
// in GraphQL (entgql.Skip), which also skips generating its order field,
// yet inboxes are paginated in event order. This is what entgql generates
// for an order field, under a name it will not generate.

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"

	"github.com/switchboardhq/switchboard/ent/notification"
)

// NotificationOrderFieldEventCursor orders Notification by event_cursor:
// the order their events were committed in.
var NotificationOrderFieldEventCursor = &NotificationOrderField{
	Value: func(_m *Notification) (ent.Value, error) {
		return _m.EventCursor, nil
	},
	column: notification.FieldEventCursor,
	toTerm: notification.ByEventCursor,
	toCursor: func(_m *Notification) Cursor {
		return Cursor{ID: _m.ID, Value: _m.EventCursor}
	},
}

// NewestNotificationsFirst is the order of an inbox.
var NewestNotificationsFirst = &NotificationOrder{
	Direction: entgql.OrderDirectionDesc,
	Field:     NotificationOrderFieldEventCursor,
}
