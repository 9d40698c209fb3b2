package views

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/savedview"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Input is a view as saved: graph's SavedViewInput converts to it.
type Input struct {
	Name    string
	Where   *ent.TicketWhereInput
	OrderBy []*ent.TicketOrder
	GroupID *globalid.ID
}

// stored is an Input checked and encoded for the database.
type stored struct {
	filter, order []byte
}

// encode checks in and returns what is stored. The name is the ent
// validator's (1 to 100 characters), reported naming name.
func encode(in Input) (stored, error) {
	where, err := checkWhere(in.Where)
	if err != nil {
		return stored{}, err
	}
	if err := checkOrder(in.OrderBy); err != nil {
		return stored{}, err
	}
	filter, err := encodeWhere(where)
	if err != nil {
		return stored{}, err
	}
	order, err := encodeOrder(in.OrderBy)
	return stored{filter: filter, order: order}, err
}

// Create saves a view as the viewer (the policy refuses customers, and
// groups the viewer is not in).
func Create(ctx context.Context, client *ent.Client, in Input) (*ent.SavedView, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	s, err := encode(in)
	if err != nil {
		return nil, err
	}
	return client.SavedView.Create().SetOwnerID(v.UserID).SetName(in.Name).SetNillableGroupID(in.GroupID).
		SetTicketFilter(s.filter).SetTicketOrder(s.order).Save(ctx)
}

// Update replaces a view with in; the policy lets owners (and admins)
// change it, so anyone else finds no such view.
func Update(ctx context.Context, client *ent.Client, id globalid.ID, in Input) (*ent.SavedView, error) {
	s, err := encode(in)
	if err != nil {
		return nil, err
	}
	u := client.SavedView.UpdateOneID(id).SetName(in.Name).SetTicketFilter(s.filter).SetTicketOrder(s.order)
	if in.GroupID != nil {
		u.SetGroupID(*in.GroupID)
	} else {
		u.ClearGroupID()
	}
	return u.Save(ctx)
}

// Delete deletes a view as Update changes one.
func Delete(ctx context.Context, client *ent.Client, id globalid.ID) (globalid.ID, error) {
	if err := client.SavedView.DeleteOneID(id).Exec(ctx); err != nil {
		return "", err
	}
	return id, nil
}

// List returns the views the viewer may read (the policy decides), by name.
func List(ctx context.Context, client *ent.Client) ([]*ent.SavedView, error) {
	return client.SavedView.Query().Order(ent.Asc(savedview.FieldName), ent.Asc(savedview.FieldID)).All(ctx)
}

// Tickets runs a view's filter and order as tickets(where:, orderBy:)
// under ctx: the viewer's own rights, whoever saved the view.
func Tickets(ctx context.Context, client *ent.Client, view *ent.SavedView, after *ent.Cursor, first *int, before *ent.Cursor, last *int) (*ent.TicketConnection, error) {
	where, err := decodeWhere(view.TicketFilter)
	if err != nil {
		return nil, err
	}
	order, err := decodeOrder(view.TicketOrder)
	if err != nil {
		return nil, err
	}
	return client.Ticket.Query().Paginate(ctx, after, first, before, last, ent.WithTicketOrder(order), ent.WithTicketFilter(where.Filter))
}
