package views

import (
	"encoding/json"
	"fmt"
	"strings"

	"entgo.io/contrib/entgql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// The filter is stored as encoding/json writes ent.TicketWhereInput (its
// tags are the GraphQL names), which reads back into the same input. The
// order cannot be: ent.TicketOrderField holds functions, so each term is
// stored by its enum value (FIRST_RESPONSE_DUE_AT) instead.

// storedOrder is one order term as stored.
type storedOrder struct {
	Field     string                `json:"field"`
	Direction entgql.OrderDirection `json:"direction"`
}

// encodeWhere is the stored form of a filter; nil for none.
func encodeWhere(w *ent.TicketWhereInput) (json.RawMessage, error) {
	if w == nil {
		return nil, nil
	}
	return json.Marshal(w)
}

// decodeWhere reads a stored filter; nil for none.
func decodeWhere(raw json.RawMessage) (*ent.TicketWhereInput, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var w ent.TicketWhereInput
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("views: stored filter: %w", err)
	}
	return &w, nil
}

// encodeOrder is the stored form of an order; nil for none.
func encodeOrder(order []*ent.TicketOrder) (json.RawMessage, error) {
	if len(order) == 0 {
		return nil, nil
	}
	out := make([]storedOrder, len(order))
	for i, o := range order {
		out[i] = storedOrder{Field: o.Field.String(), Direction: o.Direction}
	}
	return json.Marshal(out)
}

// decodeOrder reads a stored order; nil for none.
func decodeOrder(raw json.RawMessage) ([]*ent.TicketOrder, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var stored []storedOrder
	if err := json.Unmarshal(raw, &stored); err != nil {
		return nil, fmt.Errorf("views: stored order: %w", err)
	}
	out := make([]*ent.TicketOrder, len(stored))
	for i, s := range stored {
		var f ent.TicketOrderField
		if err := f.UnmarshalGQL(s.Field); err != nil {
			return nil, fmt.Errorf("views: stored order: %w", err)
		}
		out[i] = &ent.TicketOrder{Field: &f, Direction: s.Direction}
	}
	return out, nil
}

// Shown is a stored filter or order as GraphQL input (SavedView.where and
// orderBy), so that a client can pass it back to tickets(): the same JSON
// but for priorities, which ent stores as numbers and GraphQL names.
func Shown(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("views: stored value: %w", err)
	}
	return namePriorities(v, false), nil
}

// namePriorities replaces the numbers under priority keys (priority,
// priorityIn, priorityGT, …) with the enum's names, anywhere in v.
func namePriorities(v any, isPriority bool) any {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			v[k] = namePriorities(sub, strings.HasPrefix(k, "priority"))
		}
	case []any:
		for i, sub := range v {
			v[i] = namePriorities(sub, isPriority)
		}
	case float64:
		if isPriority {
			return priority.Priority(int(v)).String()
		}
	}
	return v
}
