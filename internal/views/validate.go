package views

import (
	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/apierr"
)

// checkWhere refuses, at save time, a filter that tickets(where:) would
// refuse when the view is opened: an empty and/or/not/has…With. It returns
// the filter to store: none for {}. (encoding/json leaves out empty lists,
// statusIn: [], but so does ent: an empty list filters nothing either way.)
func checkWhere(w *ent.TicketWhereInput) (*ent.TicketWhereInput, error) {
	if w == nil {
		return nil, nil
	}
	// ent wraps the error of an empty nested input; only {} itself is bare.
	if _, err := w.P(); err == ent.ErrEmptyTicketWhereInput { //nolint:errorlint
		return nil, nil // {} filters nothing, as in tickets(where: {})
	} else if err != nil {
		return nil, apierr.Invalid("where", "a filter (where, not, and, or, has…With) must not be empty: leave it out instead")
	}
	return w, nil
}

// checkOrder refuses an order tickets(orderBy:) would refuse when the view
// is opened: a field twice, or a direction other than ASC and DESC.
func checkOrder(order []*ent.TicketOrder) error {
	seen := map[string]bool{}
	for _, o := range order {
		if o == nil || o.Field == nil {
			return apierr.Invalid("orderBy", "every orderBy term needs a field")
		}
		if err := o.Direction.Validate(); err != nil {
			return apierr.Invalid("orderBy", "orderBy direction must be ASC or DESC")
		}
		if seen[o.Field.String()] {
			return apierr.Invalid("orderBy", "orderBy names %s twice", o.Field.String())
		}
		seen[o.Field.String()] = true
	}
	return nil
}
