package routing

import (
	"entgo.io/contrib/entgql"

	"github.com/switchboardhq/switchboard/ent"
)

// OrderOrDefault is the order rules are listed in: the one asked for, or
// the order they are tried in.
func OrderOrDefault(o *ent.RoutingRuleOrder) *ent.RoutingRuleOrder {
	if o != nil {
		return o
	}
	return &ent.RoutingRuleOrder{Field: ent.RoutingRuleOrderFieldPosition, Direction: entgql.OrderDirectionAsc}
}
