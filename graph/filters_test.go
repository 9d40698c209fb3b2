package graph

import "testing"

func TestForbiddenKey(t *testing.T) {
	for name, tc := range map[string]struct {
		where any
		want  string
	}{
		"PlainFilterAllowed":          {map[string]any{"status": "OPEN", "subjectContains": "x"}, ""},
		"ErrStaffOnlyField":           {map[string]any{"firstResponseDueAtGT": "2020-01-01"}, "firstResponseDueAtGT"},
		"ErrNestedInOr":               {map[string]any{"or": []any{map[string]any{"status": "NEW"}, map[string]any{"resolutionDueAtIsNil": true}}}, "resolutionDueAtIsNil"},
		"ErrContactDataThroughAnEdge": {map[string]any{"hasAssigneeWith": []any{map[string]any{"emailHasPrefix": "a"}}}, "emailHasPrefix"},
		"ErrInternalNotesThroughEdge": {map[string]any{"not": map[string]any{"hasMessagesWith": []any{map[string]any{"internal": true}}}}, "hasMessagesWith"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := forbiddenKey(tc.where); got != tc.want {
				t.Fatalf("forbiddenKey = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStaffOnlyFields(t *testing.T) {
	got := StaffOnlyFields("Ticket")
	if !got["firstResponseDueAt"] || !got["resolutionDueAt"] || !got["routingRule"] || !got["routingRuleID"] || got["status"] || len(got) != 4 {
		t.Fatalf("Ticket's @staffOnly fields = %v", got)
	}
}

func TestForbiddenOrder(t *testing.T) {
	for name, tc := range map[string]struct {
		order any
		want  string
	}{
		"PlainOrderAllowed":    {map[string]any{"field": "PRIORITY", "direction": "DESC"}, ""},
		"ErrStaffOnlyField":    {map[string]any{"field": "FIRST_RESPONSE_DUE_AT"}, "FIRST_RESPONSE_DUE_AT"},
		"ErrLaterInAList":      {[]any{map[string]any{"field": "STATUS"}, map[string]any{"field": "RESOLUTION_DUE_AT", "direction": "ASC"}}, "RESOLUTION_DUE_AT"},
		"MalformedLeftToTypes": {"FIRST", ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := forbiddenOrder(tc.order); got != tc.want {
				t.Fatalf("forbiddenOrder = %q, want %q", got, tc.want)
			}
		})
	}
}
