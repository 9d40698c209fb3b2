package schema

import (
	"context"
	"fmt"

	"entgo.io/ent"

	gen "github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/hook"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/macro"
	"github.com/switchboardhq/switchboard/internal/tags"
)

// Hooks of the Macro: a macro is checked when it is saved, so that its
// mistakes show to the admin writing it, not to the agent applying it (or
// the customer reading the reply).
func (Macro) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(checkMacro, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}

// checkMacro refuses a body with unknown or unclosed placeholders, an
// assignee who cannot take tickets, and a macro that would do nothing.
func checkMacro(next ent.Mutator) ent.Mutator {
	return hook.MacroFunc(func(ctx context.Context, m *gen.MacroMutation) (gen.Value, error) {
		if body, ok := m.Body(); ok {
			if err := macro.Check(body); err != nil {
				return nil, err
			}
		}
		if err := normalizeMacroTags(m); err != nil {
			return nil, err
		}
		if id, ok := m.AssignToID(); ok {
			if err := CheckAssignable(ctx, m.Client(), "assignToID", id); err != nil {
				return nil, err
			}
		}
		// A bulk update has no one macro to judge; none is exposed.
		if !m.Op().Is(ent.OpUpdate) {
			final, err := macroAfter(ctx, m)
			if err != nil {
				return nil, err
			}
			if final != nil && !MacroDoesSomething(final) {
				return nil, apierr.Invalid("body", "a macro needs a body or at least one change (status, priority, group, assignee or tags)")
			}
		}
		return next.Mutate(ctx, m)
	})
}

// normalizeMacroTags stores the macro's tags as the tag mutations would
// (trimmed, no repeats), refusing empty ones when saved, not when applied.
// Appended tags are checked only: the mutation cannot replace them.
func normalizeMacroTags(m *gen.MacroMutation) error {
	for field, f := range map[string]struct {
		get func() ([]string, bool)
		set func([]string)
	}{"addTags": {m.AddTags, m.SetAddTags}, "removeTags": {m.RemoveTags, m.SetRemoveTags}} {
		if v, ok := f.get(); ok {
			norm, err := tags.Normalize(field, v)
			if err != nil {
				return err
			}
			f.set(norm)
		}
	}
	for field, get := range map[string]func() ([]string, bool){"appendAddTags": m.AppendedAddTags, "appendRemoveTags": m.AppendedRemoveTags} {
		if v, ok := get(); ok {
			if _, err := tags.Normalize(field, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckAssignable refuses, as BAD_USER_INPUT on field, a user who cannot
// be given tickets by a macro: missing, not staff (the rule of every
// assignment, checkAssignee), or deactivated. Read as the system: whether
// an admin may see the user is not the question here. Macros are checked
// on save and again when applied (the assignee may have been deactivated
// in between).
func CheckAssignable(ctx context.Context, client *gen.Client, field string, id globalid.ID) error {
	u, err := person(ctx, client, field, id)
	switch {
	case err != nil:
		return err
	case !staff(u.Role):
		return apierr.Invalid(field, "%s must be an agent or an admin", field)
	case !u.Active:
		return apierr.Invalid(field, "%s is deactivated; choose an active agent or admin", field)
	}
	return nil
}

// MacroDoesSomething reports whether applying m writes anything.
func MacroDoesSomething(m *gen.Macro) bool {
	return m.Body != "" || m.SetStatus != nil || m.SetPriority != nil || m.MoveToGroupID != nil ||
		m.AssignToID != nil || len(m.AddTags) > 0 || len(m.RemoveTags) > 0
}

// macroAfter is the macro as the mutation would leave it (nil when an
// updated macro does not exist: the update itself reports that).
func macroAfter(ctx context.Context, m *gen.MacroMutation) (*gen.Macro, error) {
	out := &gen.Macro{}
	if m.Op().Is(ent.OpUpdateOne) {
		id, _ := m.ID()
		old, err := m.Client().Macro.Get(entprivacy.DecisionContext(ctx, entprivacy.Allow), id)
		if gen.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the macro: %w", err)
		}
		*out = *old
	}
	overlayMacro(out, m)
	return out, nil
}

// overlayMacro applies the mutation's sets and clears of the fields that
// make a macro do something.
func overlayMacro(out *gen.Macro, m *gen.MacroMutation) {
	if v, ok := m.Body(); ok {
		out.Body = v
	} else if m.BodyCleared() {
		out.Body = ""
	}
	if v, ok := m.SetStatus(); ok {
		out.SetStatus = &v
	} else if m.SetStatusCleared() {
		out.SetStatus = nil
	}
	if v, ok := m.SetPriority(); ok {
		out.SetPriority = &v
	} else if m.SetPriorityCleared() {
		out.SetPriority = nil
	}
	if v, ok := m.MoveToGroupID(); ok {
		out.MoveToGroupID = &v
	} else if m.MoveToGroupIDCleared() {
		out.MoveToGroupID = nil
	}
	if v, ok := m.AssignToID(); ok {
		out.AssignToID = &v
	} else if m.AssignToIDCleared() {
		out.AssignToID = nil
	}
	out.AddTags = overlayTags(out.AddTags, m.AddTags, m.AppendedAddTags, m.AddTagsCleared())
	out.RemoveTags = overlayTags(out.RemoveTags, m.RemoveTags, m.AppendedRemoveTags, m.RemoveTagsCleared())
}

func overlayTags(old []string, set, appended func() ([]string, bool), cleared bool) []string {
	if v, ok := set(); ok {
		old = v
	} else if cleared {
		old = nil
	}
	if v, ok := appended(); ok {
		old = append(append([]string(nil), old...), v...)
	}
	return old
}
