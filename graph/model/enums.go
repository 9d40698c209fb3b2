package model

import (
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/outboxmessage"
	"github.com/switchboardhq/switchboard/internal/notify"
)

// MarshalNotificationKind writes a notification kind as its enum name.
func MarshalNotificationKind(k notification.Kind) graphql.Marshaler {
	return graphql.MarshalString(string(k))
}

// UnmarshalNotificationKind reads a NotificationKind. ent's own
// unmarshaler answers a value that is no kind with a plain error (INTERNAL);
// here it is a *Malformed, so BAD_USER_INPUT naming the argument.
func UnmarshalNotificationKind(v any) (notification.Kind, error) {
	s, ok := v.(string)
	if !ok || notification.KindValidator(notification.Kind(s)) != nil {
		return "", &Malformed{Want: "one of " + strings.Join(notify.Kinds, ", ")}
	}
	return notification.Kind(s), nil
}

// MarshalOutboxStatus writes an outbox status as its enum name.
func MarshalOutboxStatus(s outboxmessage.Status) graphql.Marshaler {
	return graphql.MarshalString(string(s))
}

// UnmarshalOutboxStatus reads an OutboxStatus (BAD_USER_INPUT when it is
// none, as UnmarshalNotificationKind).
func UnmarshalOutboxStatus(v any) (outboxmessage.Status, error) {
	s, ok := v.(string)
	if !ok || outboxmessage.StatusValidator(outboxmessage.Status(s)) != nil {
		return "", &Malformed{Want: "one of PENDING, SENT, FAILED"}
	}
	return outboxmessage.Status(s), nil
}

// MarshalOutboxKind writes an outbox kind as its enum name.
func MarshalOutboxKind(k outboxmessage.Kind) graphql.Marshaler {
	return graphql.MarshalString(string(k))
}

// UnmarshalOutboxKind reads an OutboxKind (never an argument today; kept
// with its marshaler so that the enum binds as the others).
func UnmarshalOutboxKind(v any) (outboxmessage.Kind, error) {
	s, ok := v.(string)
	if !ok || outboxmessage.KindValidator(outboxmessage.Kind(s)) != nil {
		return "", &Malformed{Want: "an outbox kind"}
	}
	return outboxmessage.Kind(s), nil
}
