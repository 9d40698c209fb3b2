package demo

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/macro"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// seedTeam makes the groups (Billing, Technical, Sales; Technical is the
// default group), the routing rules that place the demo topics, and one
// macro per group. Billing assigns new tickets round-robin; Technical
// among the agents online; Sales leaves it to the rule that places there.
func seedTeam(sys context.Context, client *ent.Client) ([]*ent.Group, error) {
	specs := []struct {
		name   string
		assign group.AutoAssign
	}{
		{"Billing", group.AutoAssignALL_AGENTS},
		{"Technical", group.AutoAssignONLINE_AGENTS},
		{"Sales", group.AutoAssignOFF},
	}
	groups := make([]*ent.Group, len(specs))
	for i, g := range specs {
		var err error
		groups[i], err = client.Group.Create().SetName(g.name).SetDescription(g.name + " questions").
			SetAutoAssign(g.assign).SetIsDefault(g.name == "Technical").Save(sys)
		if err != nil {
			return nil, fmt.Errorf("creating group: %w", err)
		}
	}
	billing, technical, sales := groups[0], groups[1], groups[2]
	urgent := priority.Urgent
	rules := []*ent.RoutingRuleCreate{
		client.RoutingRule.Create().SetName("Money questions go to Billing").SetPosition(10).
			SetWords([]string{"invoice", "invoices", "refund", "charged", "card", "vat"}).
			SetGroupID(billing.ID).SetAddTags([]string{"billing"}),
		client.RoutingRule.Create().SetName("Buying questions go to Sales, round-robin").SetPosition(20).
			SetWords([]string{"quote", "upgrade", "discount", "trial", "seats", "plan"}).
			SetGroupID(sales.ID).SetAddTags([]string{"sales"}).SetRoundRobin(true),
		client.RoutingRule.Create().SetName("Outages by API are urgent").SetPosition(30).
			SetChannels([]string{"API"}).SetWords([]string{"502", "crashes", "timeout", "times out"}).
			SetGroupID(technical.ID).SetSetPriority(urgent),
	}
	for _, r := range rules {
		if err := r.Exec(sys); err != nil {
			return nil, fmt.Errorf("creating routing rule: %w", err)
		}
	}
	macros := []*ent.MacroCreate{
		client.Macro.Create().SetName("Refund issued").SetGroupID(billing.ID).
			SetBody("Hi {{requester.name}},\n\nwe have issued the refund for ticket #{{ticket.number}}; it shows on your statement within 5 business days.\n\n{{agent.name}}, Billing").
			SetSetStatus(macro.SetStatusPENDING).SetAddTags([]string{"refunded"}),
		client.Macro.Create().SetName("Ask for a screenshot").SetGroupID(technical.ID).
			SetBody("Hi {{requester.name}}, could you send us a screenshot of what you see, and the time it happened?").
			SetSetStatus(macro.SetStatusPENDING),
		client.Macro.Create().SetName("Hand over to an account executive").SetGroupID(sales.ID).
			SetBody("Qualified lead: {{ticket.subject}}. Please call within a day.").SetInternal(true).
			SetSetPriority(priority.High).SetAddTags([]string{"lead"}),
	}
	for _, m := range macros {
		if err := m.Exec(sys); err != nil {
			return nil, fmt.Errorf("creating macro: %w", err)
		}
	}
	return groups, nil
}
