package routing

import (
	"context"
	"fmt"
	"slices"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/group"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// OpenStatuses are the statuses that count towards an agent's load.
var OpenStatuses = []ticket.Status{ticket.StatusNEW, ticket.StatusOPEN, ticket.StatusPENDING}

// assign gives the new ticket to the available member of its group with
// the fewest open tickets (ties: the earliest ID, so that the order is the
// same on every instance), when the group assigns automatically or the
// rule that placed it asks to (forced; then among all available members
// if the group's own setting is OFF). Available: an active agent or
// admin who is not away, and online when the group says so.
func assign(ctx context.Context, tx *ent.Tx, m *ent.TicketMutation, gid globalid.ID, forced bool) error {
	g, err := lockGroup(ctx, tx, gid)
	if ent.IsNotFound(err) {
		return nil // the create fails on the foreign key, with its own error
	}
	if err != nil {
		return fmt.Errorf("locking the group for round-robin: %w", err)
	}
	mode := g.AutoAssign
	if mode == group.AutoAssignOFF {
		if !forced {
			return nil
		}
		mode = group.AutoAssignALL_AGENTS
	}
	pick, err := leastLoaded(ctx, tx, g, mode == group.AutoAssignONLINE_AGENTS)
	if err != nil || pick == "" {
		return err
	}
	m.SetAssigneeID(pick)
	return nil
}

// Candidates are the members of the group round-robin may choose, by ID.
func Candidates(ctx context.Context, tx *ent.Tx, g *ent.Group, onlineOnly bool) ([]globalid.ID, error) {
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	ids, err := tx.Group.QueryMembers(g).
		Where(user.Active(true), user.Away(false), user.RoleIn(user.RoleAGENT, user.RoleADMIN)).
		Order(ent.Asc(user.FieldID)).IDs(sys)
	if err != nil {
		return nil, fmt.Errorf("reading the group's agents: %w", err)
	}
	if !onlineOnly || len(ids) == 0 {
		return ids, nil
	}
	online, _ := ctx.Value(onlineKey{}).(Online)
	if online == nil {
		return ids, nil
	}
	present, err := online(ctx)
	if err != nil {
		return ids, nil //nolint:nilerr // presence lost: assign among all (see WithOnline)
	}
	return slices.DeleteFunc(ids, func(id globalid.ID) bool { return !slices.Contains(present, id) }), nil
}

// leastLoaded returns the candidate with the fewest open tickets, or ""
// when there is none.
func leastLoaded(ctx context.Context, tx *ent.Tx, g *ent.Group, onlineOnly bool) (globalid.ID, error) {
	ids, err := Candidates(ctx, tx, g, onlineOnly)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	var loads []struct {
		AssigneeID globalid.ID `json:"assignee_id"`
		Count      int         `json:"count"`
	}
	err = tx.Ticket.Query().Where(ticket.AssigneeIDIn(ids...), ticket.StatusIn(OpenStatuses...)).
		GroupBy(ticket.FieldAssigneeID).Aggregate(ent.Count()).Scan(sys, &loads)
	if err != nil {
		return "", fmt.Errorf("counting open tickets: %w", err)
	}
	load := make(map[globalid.ID]int, len(loads))
	for _, l := range loads {
		load[l.AssigneeID] = l.Count
	}
	best := ids[0]
	for _, id := range ids[1:] {
		if load[id] < load[best] {
			best = id
		}
	}
	return best, nil
}
