package ticketing

import (
	"context"
	"strconv"

	"github.com/switchboardhq/switchboard/ent"
	entmacro "github.com/switchboardhq/switchboard/ent/macro"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/macro"
	"github.com/switchboardhq/switchboard/internal/nodes"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// UsableMacros lists, by name, the macros that may be applied to a ticket
// the viewer can read: those of no group and those of the ticket's group.
// The macro privacy rules decide who sees any (staff).
func (s *Service) UsableMacros(ctx context.Context, ticketID globalid.ID) ([]*ent.Macro, error) {
	t, err := s.readableTicket(ctx, s.client, ticketID)
	if err != nil {
		return nil, err
	}
	usable := entmacro.GroupIDIsNil()
	if t.GroupID != nil {
		usable = entmacro.Or(usable, entmacro.GroupID(*t.GroupID))
	}
	return s.client.Macro.Query().Where(usable).Order(ent.Asc(entmacro.FieldName)).All(ctx)
}

// UpdateMacro changes a macro. entgql's generated Mutate appends the
// input's addTags instead of its appendAddTags (ent/contrib#639, as for
// tickets in Update), so appending is done here.
func (s *Service) UpdateMacro(ctx context.Context, id globalid.ID, in ent.UpdateMacroInput) (*ent.Macro, error) {
	appendAdd, appendRemove := in.AppendAddTags, in.AppendRemoveTags
	in.AppendAddTags, in.AppendRemoveTags = nil, nil
	update := s.client.Macro.UpdateOneID(id).SetInput(in)
	if len(appendAdd) > 0 {
		update.AppendAddTags(appendAdd)
	}
	if len(appendRemove) > 0 {
		update.AppendRemoveTags(appendRemove)
	}
	return update.Save(ctx)
}

// ApplyMacro applies a macro to a ticket in one transaction: the reply or
// note first (as Reply writes it: the same status and first-response
// rules, its MESSAGE_ADDED event), then the macro's field changes with the
// reply's bookkeeping in one update (one TICKET_UPDATED or TICKET_ASSIGNED
// event). Any refusal rolls the whole back, the reply included.
func (s *Service) ApplyMacro(ctx context.Context, ticketID, macroID globalid.ID) (*ent.Ticket, error) {
	ctx = s.mailing(ctx)
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsStaff() {
		return nil, apierr.Errorf(apierr.Forbidden, "only agents and admins apply macros")
	}
	var t *ent.Ticket
	err = s.withTx(ctx, func(tx *ent.Tx) error {
		var err error
		t, err = s.applyMacro(ctx, tx, v, ticketID, macroID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t.Unwrap(), nil
}

func (s *Service) applyMacro(ctx context.Context, tx *ent.Tx, v *viewer.Viewer, ticketID, macroID globalid.ID) (*ent.Ticket, error) {
	// Locked before anything is written, for the reason reply gives.
	if _, err := entschema.LockTicket(ctx, tx, ticketID); err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	t, err := s.readableTicket(ctx, tx.Client(), ticketID)
	if err != nil {
		return nil, err
	}
	m, err := usableMacro(ctx, tx, t, macroID)
	if err != nil {
		return nil, err
	}
	update, err := s.macroReply(ctx, tx, v, t, m)
	if err != nil {
		return nil, err
	}
	if update == nil {
		update = tx.Ticket.UpdateOneID(t.ID)
	}
	if err := macroChanges(ctx, tx, update, t, m); err != nil {
		return nil, err
	}
	// An update with nothing in it writes no event (recordTicketEvent
	// finds no change), so it is saved either way.
	return update.Save(ctx)
}

// readableTicket reads a ticket as the viewer: NOT_FOUND naming ticketID
// when it is out of their reach.
func (s *Service) readableTicket(ctx context.Context, client *ent.Client, id globalid.ID) (*ent.Ticket, error) {
	if id.Prefix() != globalid.PrefixTicket {
		return nil, nodes.FieldNotFound("ticketID")
	}
	t, err := client.Ticket.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nodes.FieldNotFound("ticketID")
	}
	return t, err
}

// usableMacro reads the macro as the viewer and refuses one of another
// group than the ticket's.
func usableMacro(ctx context.Context, tx *ent.Tx, t *ent.Ticket, id globalid.ID) (*ent.Macro, error) {
	if id.Prefix() != globalid.PrefixMacro {
		return nil, nodes.FieldNotFound("macroID")
	}
	m, err := tx.Macro.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nodes.FieldNotFound("macroID")
	}
	if err != nil {
		return nil, err
	}
	if m.GroupID != nil && (t.GroupID == nil || *t.GroupID != *m.GroupID) {
		return nil, apierr.Invalid("macroID", "macro %q is for the tickets of another group", m.Name)
	}
	return m, nil
}

// macroReply writes the macro's body, filled in, as a reply or note, and
// returns the reply's bookkeeping change (nil: none, or no body).
func (s *Service) macroReply(ctx context.Context, tx *ent.Tx, v *viewer.Viewer, t *ent.Ticket, m *ent.Macro) (*ent.TicketUpdateOne, error) {
	if m.Body == "" {
		return nil, nil
	}
	values, err := placeholderValues(ctx, tx, v, t)
	if err != nil {
		return nil, err
	}
	_, bookkeeping, err := s.reply(ctx, tx, t.ID, macro.Fill(m.Body, values), m.Internal, nil)
	return bookkeeping, err
}

// placeholderValues are the values of the placeholders for the ticket as
// it is when the macro is applied (its group before any move), read as the
// system: the agent sees the ticket, and the names are part of it.
func placeholderValues(ctx context.Context, tx *ent.Tx, v *viewer.Viewer, t *ent.Ticket) (macro.Values, error) {
	sys := viewer.SystemContext(ctx)
	requester, err := tx.User.Get(sys, t.RequesterID)
	if err != nil {
		return nil, err
	}
	agent, err := tx.User.Get(sys, v.UserID)
	if err != nil {
		return nil, err
	}
	group := ""
	if t.GroupID != nil {
		g, err := tx.Group.Get(sys, *t.GroupID)
		if err != nil {
			return nil, err
		}
		group = g.Name
	}
	return macro.Values{
		macro.RequesterName: requester.Name, macro.RequesterEmail: requester.Email,
		macro.TicketNumber: strconv.Itoa(t.Number), macro.TicketSubject: t.Subject,
		macro.AgentName: agent.Name, macro.GroupName: group,
	}, nil
}

// macroChanges adds the macro's field changes to update. The assignee is
// checked again: they may have been deactivated since the macro was saved.
func macroChanges(ctx context.Context, tx *ent.Tx, update *ent.TicketUpdateOne, t *ent.Ticket, m *ent.Macro) error {
	if m.SetStatus != nil {
		update.SetStatus(ticket.Status(*m.SetStatus))
	}
	if m.SetPriority != nil {
		update.SetPriority(*m.SetPriority)
	}
	if m.MoveToGroupID != nil {
		update.SetGroupID(*m.MoveToGroupID)
	}
	if m.AssignToID != nil {
		if err := entschema.CheckAssignable(ctx, tx.Client(), "assignToID", *m.AssignToID); err != nil {
			return err
		}
		update.SetAssigneeID(*m.AssignToID)
	}
	if len(m.AddTags) == 0 && len(m.RemoveTags) == 0 {
		return nil
	}
	tags, err := applyTagChange(t.Tags, m.AddTags, m.RemoveTags, "addTags")
	if err != nil {
		return err
	}
	update.SetTags(tags)
	return nil
}
