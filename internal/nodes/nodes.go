// Package nodes resolves global IDs to objects: the prefix of an ID names
// its table, and the lookup runs through ent, so the privacy rules decide
// what the viewer may see and a hidden object is NOT_FOUND like a missing one.
package nodes

import (
	"context"

	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/apitoken"
	"github.com/switchboardhq/switchboard/ent/attachment"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/macro"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/routingrule"
	"github.com/switchboardhq/switchboard/ent/savedview"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/ent/slapolicy"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

var tableOfPrefix = map[string]string{
	globalid.PrefixUser:       user.Table,
	globalid.PrefixGroup:      group.Table,
	globalid.PrefixTicket:     ticket.Table,
	globalid.PrefixMessage:    message.Table,
	globalid.PrefixSLAPolicy:  slapolicy.Table,
	globalid.PrefixSession:    session.Table,
	globalid.PrefixAPIToken:   apitoken.Table,
	globalid.PrefixRule:       routingrule.Table,
	globalid.PrefixNotice:     notification.Table,
	globalid.PrefixMacro:      macro.Table,
	globalid.PrefixView:       savedview.Table,
	globalid.PrefixAttachment: attachment.Table,
}

// NodeType resolves the table of a global ID from its prefix, for
// ent's Noder. An ID of a type that is not a node reads as not found.
func Type(_ context.Context, id globalid.ID) (string, error) {
	if t, ok := tableOfPrefix[id.Prefix()]; ok {
		return t, nil
	}
	return "", ErrNotFound
}

// ErrNotFound is the answer for an ID the viewer cannot see, whether it
// exists or not: the same code and message, so nothing leaks.
var ErrNotFound = apierr.Errorf(apierr.NotFound, "no object with this ID")

// Get returns the object with the ID as the viewer sees it.
func Get(ctx context.Context, client *ent.Client, id globalid.ID) (ent.Noder, error) {
	n, err := client.Noder(ctx, id, ent.WithNodeType(Type))
	if err != nil {
		if ent.IsNotFound(err) || apierr.CodeOf(err) == apierr.NotFound {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return n, nil
}

// MustSee checks that the object an input field refers to is of the type
// with the prefix and exists for the viewer; otherwise it is NOT_FOUND
// naming the field.
func MustSee(ctx context.Context, client *ent.Client, field, prefix string, id globalid.ID) error {
	err := error(ErrNotFound)
	if id.Prefix() == prefix {
		_, err = Get(ctx, client, id)
	}
	if err == ErrNotFound {
		return FieldNotFound(field)
	}
	return err
}

// FieldNotFound is the NOT_FOUND error of an input field whose ID names
// nothing the viewer may see.
func FieldNotFound(field string) error {
	return &apierr.Error{Code: apierr.NotFound, Field: field, Message: fmt.Sprintf("%s: no object with this ID", field)}
}
