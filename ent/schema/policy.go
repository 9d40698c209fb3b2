package schema

import (
	"entgo.io/ent"

	"github.com/switchboardhq/switchboard/internal/privacy"
)

// Who may read and change each entity: the rules live in internal/privacy.

// Policy of the User.
func (User) Policy() ent.Policy { return privacy.UserPolicy() }

// Policy of the Group.
func (Group) Policy() ent.Policy { return privacy.GroupPolicy() }

// Policy of the Ticket.
func (Ticket) Policy() ent.Policy { return privacy.TicketPolicy() }

// Policy of the Attachment.
func (Attachment) Policy() ent.Policy { return privacy.AttachmentPolicy() }

// Policy of the Message.
func (Message) Policy() ent.Policy { return privacy.MessagePolicy() }

// Policy of the SLAPolicy.
func (SLAPolicy) Policy() ent.Policy { return privacy.SLAPolicyPolicy() }

// Policy of the Session.
func (Session) Policy() ent.Policy { return privacy.SessionPolicy() }

// Policy of the APIToken.
func (APIToken) Policy() ent.Policy { return privacy.APITokenPolicy() }

// Policy of the Event.
func (Event) Policy() ent.Policy { return privacy.SystemOnlyPolicy() }

// Policy of the Sequence.
func (Sequence) Policy() ent.Policy { return privacy.SystemOnlyPolicy() }

// Policy of the RoutingRule.
func (RoutingRule) Policy() ent.Policy { return privacy.StaffReadAdminWritePolicy() }

// Policy of the Macro.
func (Macro) Policy() ent.Policy { return privacy.StaffReadAdminWritePolicy() }

// Policy of the Notification.
func (Notification) Policy() ent.Policy { return privacy.NotificationPolicy() }

// Policy of the Follow.
func (Follow) Policy() ent.Policy { return privacy.FollowPolicy() }

// Policy of the Mention.
func (Mention) Policy() ent.Policy { return privacy.MentionPolicy() }

// Policy of the SavedView.
func (SavedView) Policy() ent.Policy { return privacy.SavedViewPolicy() }

// Policy of the OutboxMessage: admins read (and retry) it, the system
// writes it.
func (OutboxMessage) Policy() ent.Policy { return privacy.AdminOnlyPolicy() }

// Policy of the PasswordReset.
func (PasswordReset) Policy() ent.Policy { return privacy.SystemOnlyPolicy() }
