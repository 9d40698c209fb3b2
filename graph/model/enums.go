package model

import (
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent/notification"
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
