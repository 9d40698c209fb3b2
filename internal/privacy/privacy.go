// Package privacy holds the row-level access rules of the design's access
// table, as ent privacy policies that the schemas in ent/schema attach. They
// run on every query and mutation, whatever the entry point (GraphQL,
// node(id:), nested edges, CLI), so no other code decides who sees a row.
// Rows a viewer may not read are filtered out, so they read as "not found".
package privacy

import (
	"context"

	"entgo.io/ent/entql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/attachment"
	"github.com/switchboardhq/switchboard/ent/follow"
	"github.com/switchboardhq/switchboard/ent/mention"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/predicate"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/savedview"
	"github.com/switchboardhq/switchboard/ent/slapolicy"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// allowSystem lets the system viewer (CLI, imports, background work) do anything.
var allowSystem = entprivacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if viewer.FromContext(ctx).IsSystem() {
		return entprivacy.Allow
	}
	return entprivacy.Skip
})

// allowAdmin lets admins do anything the system may, but through requests.
var allowAdmin = entprivacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if viewer.FromContext(ctx).IsAdmin() {
		return entprivacy.Allow
	}
	return entprivacy.Skip
})

// denyAnonymous refuses callers that are not signed in.
var denyAnonymous = entprivacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if _, err := viewer.Require(ctx); err != nil {
		return err
	}
	return entprivacy.Skip
})

// denyReadOnly refuses every change to READ-scoped API tokens: a token's
// scope can only narrow its owner's rights.
var denyReadOnly = entprivacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
	if v := viewer.FromContext(ctx); v != nil && v.ReadOnly {
		return apierr.Errorf(apierr.Forbidden, "this API token can only read")
	}
	return entprivacy.Skip
})

// ticketReach is the set of tickets a customer or agent may see.
func ticketReach(v *viewer.Viewer) predicate.Ticket {
	if v.IsCustomer() {
		return ticket.RequesterID(v.UserID)
	}
	reach := []predicate.Ticket{ticket.AssigneeID(v.UserID)}
	if len(v.GroupIDs) > 0 {
		reach = append(reach, ticket.GroupIDIn(v.GroupIDs...))
	}
	return ticket.Or(reach...)
}

// InReach is ticketReach decided in memory for a ticket already loaded, and
// MessageInReach adds the rule on internal notes: live updates check every
// subscriber of an event this way instead of with a query each. They must
// agree with the policies (TestInMemoryReachAgreesWithQueries).
func InReach(v *viewer.Viewer, t *ent.Ticket) bool {
	switch {
	case v == nil || t == nil:
		return false
	case v.IsSystem(), v.IsAdmin():
		return true
	case v.IsCustomer():
		return t.RequesterID == v.UserID
	case v.IsAgent():
		return t.AssigneeID != nil && *t.AssigneeID == v.UserID || t.GroupID != nil && v.InGroup(*t.GroupID)
	}
	return false
}

// MessageInReach reports whether v may read a message (internal or not) of
// the ticket t.
func MessageInReach(v *viewer.Viewer, t *ent.Ticket, internal bool) bool {
	return InReach(v, t) && !(internal && v.IsCustomer())
}

// TicketPolicy: customers reach their own tickets, agents the tickets of
// their groups and those assigned to them, admins all.
func TicketPolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{
			allowSystem, allowAdmin, denyAnonymous,
			entprivacy.TicketQueryRuleFunc(func(ctx context.Context, q *ent.TicketQuery) error {
				q.Where(ticketReach(viewer.FromContext(ctx)))
				return entprivacy.Allow
			}),
		},
		Mutation: entprivacy.MutationPolicy{
			allowSystem, denyReadOnly, allowAdmin, denyAnonymous,
			entprivacy.TicketMutationRuleFunc(ticketMutation),
		},
	}
}

func ticketMutation(ctx context.Context, m *ent.TicketMutation) error {
	v := viewer.FromContext(ctx)
	switch {
	case m.Op().Is(ent.OpCreate) && v.IsCustomer():
		if req, _ := m.RequesterID(); req != v.UserID {
			return apierr.Errorf(apierr.Forbidden, "customers open tickets only for themselves")
		}
		if p, _ := m.Priority(); p != priority.Normal {
			return apierr.Errorf(apierr.Forbidden, "customers cannot set the priority")
		}
		if _, ok := m.AssigneeID(); ok {
			return apierr.Errorf(apierr.Forbidden, "customers cannot assign tickets")
		}
		if _, ok := m.GroupID(); ok {
			return apierr.Errorf(apierr.Forbidden, "customers cannot choose the group")
		}
		return entprivacy.Allow
	case m.Op().Is(ent.OpCreate) && v.IsAgent():
		if g, ok := m.GroupID(); ok && !v.InGroup(g) {
			return apierr.Errorf(apierr.Forbidden, "agents open tickets only in their own groups")
		}
		return entprivacy.Allow
	case m.Op().Is(ent.OpUpdate | ent.OpUpdateOne):
		if v.IsCustomer() {
			if err := customerTicketChange(m); err != nil {
				return err
			}
		}
		m.Where(ticketReach(v))
		return entprivacy.Allow
	}
	return entprivacy.Denyf("tickets cannot be deleted")
}

// customerTicketChange allows customers only to solve or reopen.
func customerTicketChange(m *ent.TicketMutation) error {
	for _, f := range m.Fields() {
		switch f {
		case ticket.FieldUpdatedAt, ticket.FieldSolvedAt:
		case ticket.FieldStatus:
			if s, _ := m.Status(); s != ticket.StatusSOLVED && s != ticket.StatusOPEN {
				return apierr.Errorf(apierr.Forbidden, "customers can only solve or reopen their tickets")
			}
		default:
			return apierr.Errorf(apierr.Forbidden, "customers cannot change %s", f)
		}
	}
	if _, ok := m.AppendedTags(); ok || len(m.AddedFields()) > 0 {
		return apierr.Errorf(apierr.Forbidden, "customers cannot change tags")
	}
	for _, f := range m.ClearedFields() {
		if f != ticket.FieldSolvedAt {
			return apierr.Errorf(apierr.Forbidden, "customers cannot change %s", f)
		}
	}
	if len(m.AddedEdges()) > 0 || len(m.ClearedEdges()) > 0 {
		return apierr.Errorf(apierr.Forbidden, "customers cannot reassign tickets")
	}
	return nil
}

// MessagePolicy: messages inherit their ticket's reach; internal notes do
// not exist for customers. Messages are never edited or deleted.
func MessagePolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{
			allowSystem, allowAdmin, denyAnonymous,
			entprivacy.MessageQueryRuleFunc(func(ctx context.Context, q *ent.MessageQuery) error {
				v := viewer.FromContext(ctx)
				q.Where(message.HasTicketWith(ticketReach(v)))
				if v.IsCustomer() {
					q.Where(message.Internal(false))
				}
				return entprivacy.Allow
			}),
		},
		Mutation: entprivacy.MutationPolicy{
			allowSystem, denyReadOnly, denyAnonymous,
			entprivacy.MessageMutationRuleFunc(messageMutation),
		},
	}
}

// AttachmentPolicy: an attached file is read by exactly those who read its
// message (so a note's files never reach customers); a pending upload only
// by its uploader, admins included: it is not shared until attached. People upload as themselves; attaching an upload to a
// message, and deleting, are the system's doing (internal/ticketing and
// internal/attachments check whose upload it is first).
func AttachmentPolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{
			allowSystem, denyAnonymous,
			entprivacy.AttachmentQueryRuleFunc(func(ctx context.Context, q *ent.AttachmentQuery) error {
				v := viewer.FromContext(ctx)
				// A pending upload is not shared yet, not even with admins.
				if v.IsAdmin() {
					q.Where(attachment.Or(attachment.MessageIDNotNil(), attachment.UploaderID(v.UserID)))
					return entprivacy.Allow
				}
				visible := []predicate.Message{message.HasTicketWith(ticketReach(v))}
				if v.IsCustomer() {
					visible = append(visible, message.Internal(false))
				}
				q.Where(attachment.Or(
					attachment.And(attachment.MessageIDIsNil(), attachment.UploaderID(v.UserID)),
					attachment.HasMessageWith(visible...),
				))
				return entprivacy.Allow
			}),
		},
		Mutation: entprivacy.MutationPolicy{
			allowSystem, denyReadOnly, denyAnonymous,
			entprivacy.AttachmentMutationRuleFunc(func(ctx context.Context, m *ent.AttachmentMutation) error {
				if !m.Op().Is(ent.OpCreate) {
					return entprivacy.Denyf("attachments are attached and deleted by the system")
				}
				if uploader, _ := m.UploaderID(); uploader != viewer.FromContext(ctx).UserID {
					return apierr.Errorf(apierr.Forbidden, "files are uploaded as yourself")
				}
				if _, attached := m.MessageID(); attached {
					return apierr.Errorf(apierr.Forbidden, "an upload is attached when its message is written")
				}
				return entprivacy.Allow
			}),
		},
	}
}

type lockedTicketKey struct{}

// WithLockedTicket tells the message rule the ticket of the message about
// to be written, as its transaction read it with the row locked (as the
// system, so every row is there): the rule then decides reach on it in
// memory. Only the transaction that locked t may pass it on.
func WithLockedTicket(ctx context.Context, t *ent.Ticket) context.Context {
	return context.WithValue(ctx, lockedTicketKey{}, t)
}

func messageMutation(ctx context.Context, m *ent.MessageMutation) error {
	v := viewer.FromContext(ctx)
	if !m.Op().Is(ent.OpCreate) {
		return entprivacy.Denyf("messages cannot be changed")
	}
	if author, _ := m.AuthorID(); author != v.UserID {
		return apierr.Errorf(apierr.Forbidden, "messages are written as yourself")
	}
	if internal, _ := m.Internal(); internal && !v.IsStaff() {
		return apierr.Errorf(apierr.Forbidden, "only agents write internal notes")
	}
	// The ticket must be one the viewer reaches: decided in memory when
	// the writing transaction holds the ticket locked (a reply), else with
	// a query under the viewer's own ticket policy. Either way a foreign
	// ticket reads as missing.
	tid, _ := m.TicketID()
	if t, _ := ctx.Value(lockedTicketKey{}).(*ent.Ticket); t != nil && t.ID == tid {
		if !InReach(v, t) {
			return apierr.Errorf(apierr.NotFound, "ticket not found")
		}
		return entprivacy.Allow
	}
	ok, err := m.Client().Ticket.Query().Where(ticket.ID(tid)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apierr.Errorf(apierr.NotFound, "ticket not found")
	}
	return entprivacy.Allow
}

// UserPolicy: customers see themselves and staff (whose names appear on
// their tickets), never other customers; staff see everyone. Only admins and
// the system manage users.
func UserPolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{
			allowSystem, allowAdmin, denyAnonymous,
			entprivacy.UserQueryRuleFunc(func(ctx context.Context, q *ent.UserQuery) error {
				v := viewer.FromContext(ctx)
				if v.IsCustomer() {
					q.Where(user.Or(user.ID(v.UserID), user.RoleIn(user.RoleAGENT, user.RoleADMIN)))
				}
				return entprivacy.Allow
			}),
		},
		Mutation: entprivacy.MutationPolicy{
			allowSystem, denyReadOnly, allowAdmin, denyAnonymous,
			entprivacy.UserMutationRuleFunc(ownProfile),
			entprivacy.AlwaysDenyRule(),
		},
	}
}

// ownProfile lets people change their own name, phone, away mark and
// which kinds of notification they are told of, nothing else.
func ownProfile(ctx context.Context, m *ent.UserMutation) error {
	id, ok := m.ID()
	if !m.Op().Is(ent.OpUpdateOne) || !ok || id != viewer.FromContext(ctx).UserID {
		return entprivacy.Skip
	}
	for _, f := range m.Fields() {
		if f != user.FieldName && f != user.FieldPhone && f != user.FieldUpdatedAt && f != user.FieldAway && f != user.FieldMutedNotifications {
			return apierr.Errorf(apierr.Forbidden, "you cannot change your own %s", f)
		}
	}
	for _, f := range m.ClearedFields() {
		if f != user.FieldPhone {
			return apierr.Errorf(apierr.Forbidden, "you cannot change your own %s", f)
		}
	}
	if len(m.AddedEdges())+len(m.RemovedEdges())+len(m.ClearedEdges()) > 0 {
		return apierr.Errorf(apierr.Forbidden, "you cannot change your own group memberships")
	}
	return entprivacy.Allow
}

// GroupPolicy: every signed-in viewer reads groups; admins manage them.
func GroupPolicy() ent.Policy {
	return entprivacy.Policy{
		Query:    entprivacy.QueryPolicy{allowSystem, denyAnonymous, entprivacy.AlwaysAllowRule()},
		Mutation: entprivacy.MutationPolicy{allowSystem, denyReadOnly, allowAdmin, denyAnonymous, entprivacy.AlwaysDenyRule()},
	}
}

// SLAPolicyPolicy: staff read SLA policies; admins manage them.
func SLAPolicyPolicy() ent.Policy {
	// Hidden rather than refused, so a policy reads as "not found".
	staffOnly := entprivacy.SLAPolicyQueryRuleFunc(func(ctx context.Context, q *ent.SLAPolicyQuery) error {
		if !viewer.FromContext(ctx).IsStaff() {
			q.Where(slapolicy.IDIn())
		}
		return entprivacy.Allow
	})
	return entprivacy.Policy{
		Query:    entprivacy.QueryPolicy{allowSystem, denyAnonymous, staffOnly},
		Mutation: entprivacy.MutationPolicy{allowSystem, denyReadOnly, allowAdmin, denyAnonymous, entprivacy.AlwaysDenyRule()},
	}
}

// ownRows limits sessions and API tokens to the viewer's own.
var ownRows = entprivacy.FilterFunc(func(ctx context.Context, f entprivacy.Filter) error {
	uf, ok := f.(interface{ WhereUserID(p entql.StringP) })
	if !ok {
		return entprivacy.Denyf("unexpected filter %T", f)
	}
	uf.WhereUserID(entql.StringEQ(string(viewer.FromContext(ctx).UserID)))
	return entprivacy.Allow
})

// SessionPolicy: sessions are started by the auth package as the system
// (at login); their owner reads and revokes them.
func SessionPolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{allowSystem, allowAdmin, denyAnonymous, ownRows},
		Mutation: entprivacy.MutationPolicy{
			allowSystem, denyReadOnly, allowAdmin, denyAnonymous,
			entprivacy.OnMutationOperation(ownRows, ent.OpUpdate|ent.OpUpdateOne),
			entprivacy.AlwaysDenyRule(),
		},
	}
}

// APITokenPolicy: agents and admins create tokens for themselves, read and
// revoke their own. Customers have no tokens.
func APITokenPolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{allowSystem, allowAdmin, denyAnonymous, ownRows},
		Mutation: entprivacy.MutationPolicy{
			allowSystem, denyReadOnly, denyAnonymous,
			entprivacy.APITokenMutationRuleFunc(func(ctx context.Context, m *ent.APITokenMutation) error {
				v := viewer.FromContext(ctx)
				if !m.Op().Is(ent.OpCreate) {
					return entprivacy.Skip
				}
				if v.TokenID != "" {
					return apierr.Errorf(apierr.Forbidden, "API tokens cannot create API tokens")
				}
				if owner, _ := m.UserID(); owner != v.UserID || !v.IsStaff() {
					return apierr.Errorf(apierr.Forbidden, "agents and admins create API tokens for themselves")
				}
				return entprivacy.Allow
			}),
			allowAdmin,
			entprivacy.OnMutationOperation(ownRows, ent.OpUpdate|ent.OpUpdateOne),
			entprivacy.AlwaysDenyRule(),
		},
	}
}

// SystemOnlyPolicy is for internal bookkeeping (the event log, sequences).
func SystemOnlyPolicy() ent.Policy {
	return entprivacy.Policy{
		Query:    entprivacy.QueryPolicy{allowSystem, entprivacy.AlwaysDenyRule()},
		Mutation: entprivacy.MutationPolicy{allowSystem, entprivacy.AlwaysDenyRule()},
	}
}

// AdminOnlyPolicy: admins and the system read and change the rows, nobody
// else sees them.
func AdminOnlyPolicy() ent.Policy {
	return entprivacy.Policy{
		Query:    entprivacy.QueryPolicy{allowSystem, allowAdmin, denyAnonymous, hideAll},
		Mutation: entprivacy.MutationPolicy{allowSystem, denyAnonymous, denyReadOnly, allowAdmin, entprivacy.AlwaysDenyRule()},
	}
}

// reachOf is ticketReach, or nothing to add for those who reach every
// ticket (admins, the system).
func reachOf(v *viewer.Viewer) []predicate.Ticket {
	if v.IsSystem() || v.IsAdmin() {
		return nil
	}
	return []predicate.Ticket{ticketReach(v)}
}

// hideAll makes every row of a query read as not found.
var hideAll = entprivacy.FilterFunc(func(ctx context.Context, f entprivacy.Filter) error {
	idf, ok := f.(interface{ WhereID(p entql.StringP) })
	if !ok {
		return entprivacy.Denyf("unexpected filter %T", f)
	}
	idf.WhereID(entql.StringEQ(""))
	return entprivacy.Allow
})

// StaffReadAdminWritePolicy is for the team's configuration (routing
// rules, macros): agents and admins read it, admins change it, customers
// do not know it exists.
func StaffReadAdminWritePolicy() ent.Policy {
	staffOnly := entprivacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx).IsStaff() {
			return entprivacy.Allow
		}
		return entprivacy.Skip
	})
	return entprivacy.Policy{
		Query:    entprivacy.QueryPolicy{allowSystem, denyAnonymous, staffOnly, hideAll},
		Mutation: entprivacy.MutationPolicy{allowSystem, denyReadOnly, allowAdmin, denyAnonymous, entprivacy.AlwaysDenyRule()},
	}
}

// NotificationPolicy: an inbox is its owner's alone (admins included), and
// shows only notifications of tickets its owner may read now: someone who
// left a group no longer sees what its tickets' notifications said. They
// are written by the system (internal/notify); their owner marks them read.
func NotificationPolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{
			allowSystem, denyAnonymous,
			entprivacy.NotificationQueryRuleFunc(func(ctx context.Context, q *ent.NotificationQuery) error {
				v := viewer.FromContext(ctx)
				q.Where(notification.RecipientID(v.UserID))
				if reach := reachOf(v); reach != nil {
					q.Where(notification.HasTicketWith(reach...))
				}
				return entprivacy.Allow
			}),
		},
		Mutation: entprivacy.MutationPolicy{
			allowSystem, denyReadOnly, denyAnonymous,
			entprivacy.NotificationMutationRuleFunc(func(ctx context.Context, m *ent.NotificationMutation) error {
				if !m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
					return entprivacy.Denyf("notifications are written by the system")
				}
				for _, f := range append(m.Fields(), m.ClearedFields()...) {
					if f != notification.FieldReadAt {
						return apierr.Errorf(apierr.Forbidden, "only the read mark of a notification changes")
					}
				}
				v := viewer.FromContext(ctx)
				m.Where(notification.RecipientID(v.UserID))
				if reach := reachOf(v); reach != nil {
					m.Where(notification.HasTicketWith(reach...))
				}
				return entprivacy.Allow
			}),
		},
	}
}

// FollowPolicy: customers see and make their own follows; staff see who
// follows the tickets they reach, and follow or unfollow as themselves.
func FollowPolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{
			allowSystem, denyAnonymous,
			entprivacy.FollowQueryRuleFunc(func(ctx context.Context, q *ent.FollowQuery) error {
				v := viewer.FromContext(ctx)
				if v.IsCustomer() {
					q.Where(follow.UserID(v.UserID))
				}
				if reach := reachOf(v); reach != nil {
					q.Where(follow.HasTicketWith(reach...))
				}
				return entprivacy.Allow
			}),
		},
		Mutation: entprivacy.MutationPolicy{
			allowSystem, denyReadOnly, denyAnonymous,
			entprivacy.FollowMutationRuleFunc(func(ctx context.Context, m *ent.FollowMutation) error {
				v := viewer.FromContext(ctx)
				switch {
				case m.Op().Is(ent.OpCreate):
					if u, _ := m.UserID(); u != v.UserID {
						return apierr.Errorf(apierr.Forbidden, "you follow tickets as yourself")
					}
					tid, _ := m.TicketID()
					ok, err := m.Client().Ticket.Query().Where(ticket.ID(tid)).Exist(ctx)
					if err != nil {
						return err
					}
					if !ok {
						return apierr.Errorf(apierr.NotFound, "ticket not found")
					}
					return entprivacy.Allow
				case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
					m.Where(follow.UserID(v.UserID))
					return entprivacy.Allow
				}
				return entprivacy.Denyf("follows are not changed, only made or removed")
			}),
		},
	}
}

// MentionPolicy: mentions are of internal notes, so staff who reach the
// ticket read them and customers never; the system records them.
func MentionPolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{
			allowSystem, denyAnonymous,
			entprivacy.MentionQueryRuleFunc(func(ctx context.Context, q *ent.MentionQuery) error {
				v := viewer.FromContext(ctx)
				if !v.IsStaff() {
					q.Where(mention.IDIn())
					return entprivacy.Allow
				}
				if reach := reachOf(v); reach != nil {
					q.Where(mention.HasTicketWith(reach...))
				}
				return entprivacy.Allow
			}),
		},
		Mutation: entprivacy.MutationPolicy{allowSystem, entprivacy.AlwaysDenyRule()},
	}
}

// SavedViewPolicy: staff keep their own views and read those shared with
// their groups; admins read and manage all. Customers have none.
func SavedViewPolicy() ent.Policy {
	return entprivacy.Policy{
		Query: entprivacy.QueryPolicy{
			allowSystem, allowAdmin, denyAnonymous,
			entprivacy.SavedViewQueryRuleFunc(func(ctx context.Context, q *ent.SavedViewQuery) error {
				v := viewer.FromContext(ctx)
				own := []predicate.SavedView{savedview.OwnerID(v.UserID)}
				if v.IsStaff() && len(v.GroupIDs) > 0 {
					own = append(own, savedview.GroupIDIn(v.GroupIDs...))
				}
				q.Where(savedview.Or(own...))
				return entprivacy.Allow
			}),
		},
		Mutation: entprivacy.MutationPolicy{
			allowSystem, denyReadOnly, denyAnonymous,
			entprivacy.SavedViewMutationRuleFunc(func(ctx context.Context, m *ent.SavedViewMutation) error {
				v := viewer.FromContext(ctx)
				if !v.IsStaff() {
					return apierr.Errorf(apierr.Forbidden, "saved views are for agents and admins")
				}
				if g, ok := m.GroupID(); ok && !v.IsAdmin() && !v.InGroup(g) {
					return apierr.Invalid("groupID", "views are shared only with your own groups")
				}
				if m.Op().Is(ent.OpCreate) {
					if o, _ := m.OwnerID(); o != v.UserID {
						return apierr.Errorf(apierr.Forbidden, "views are saved as yourself")
					}
					return entprivacy.Allow
				}
				if !v.IsAdmin() {
					m.Where(savedview.OwnerID(v.UserID))
				}
				return entprivacy.Allow
			}),
		},
	}
}
