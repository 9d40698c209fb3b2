package routing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/group"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/rowlock"
)

// Limits of a rule's lists (conditions and tags to add).
const (
	MaxRuleValues   = 100 // values in one list
	MaxRuleValueLen = 200 // characters of one value
)

// CheckRule refuses a rule that could never be what its author meant
// (an unknown channel, an empty word), and stores its values in the form
// they are matched in: words and domains lower-cased and trimmed, tags
// trimmed, no duplicates.
func CheckRule(m *ent.RoutingRuleMutation) error {
	if channels, ok := m.Channels(); ok {
		for _, c := range channels {
			if ticket.ChannelValidator(ticket.Channel(c)) != nil {
				return apierr.Invalid("channels", "%q is not a channel: WEB, EMAIL or API", c)
			}
		}
		m.SetChannels(clean(channels, strings.ToUpper))
	}
	lists := []struct {
		field string
		get   func() ([]string, bool)
		set   func([]string)
		norm  func(string) string
	}{
		{"words", m.Words, m.SetWords, strings.ToLower},
		{"emailDomains", m.EmailDomains, m.SetEmailDomains, func(d string) string { return strings.TrimPrefix(strings.ToLower(d), "@") }},
		{"tags", m.Tags, m.SetTags, nil},
		{"addTags", m.AddTags, m.SetAddTags, nil},
	}
	for _, l := range lists {
		values, ok := l.get()
		if !ok {
			continue
		}
		if len(values) > MaxRuleValues {
			return apierr.Invalid(l.field, "%s takes at most %d values", l.field, MaxRuleValues)
		}
		for _, v := range values {
			if strings.TrimSpace(v) == "" {
				return apierr.Invalid(l.field, "%s has an empty value", l.field)
			}
			if utf8.RuneCountInString(v) > MaxRuleValueLen {
				return apierr.Invalid(l.field, "a value of %s is longer than %d characters", l.field, MaxRuleValueLen)
			}
		}
		l.set(clean(values, l.norm))
	}
	if domains, ok := m.EmailDomains(); ok {
		for _, d := range domains {
			if strings.ContainsAny(d, "@ ") || !strings.Contains(d, ".") {
				return apierr.Invalid("emailDomains", "%q is not a domain such as example.com", d)
			}
		}
	}
	return nil
}

func clean(values []string, norm func(string) string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		v = strings.TrimSpace(v)
		if norm != nil {
			v = norm(v)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// SetDefaultGroup makes the group the default one, in place of any other.
// The privacy rules decide who may (admins).
func SetDefaultGroup(ctx context.Context, client *ent.Client, id globalid.ID) (*ent.Group, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	g, err := setDefault(ctx, tx, id)
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return g.Unwrap(), tx.Commit()
}

func setDefault(ctx context.Context, tx *ent.Tx, id globalid.ID) (*ent.Group, error) {
	// Every group is locked first (in ID order; a team has few), so that
	// two changes at once run one after the other and the second clears
	// what the first set: at most one default, always. (It takes no lock
	// of the event log, so it cannot deadlock with ticket changes.)
	if _, err := tx.Group.Query().Order(ent.Asc(group.FieldID)).Where(rowlock.ForNoKeyUpdate).
		IDs(entprivacy.DecisionContext(ctx, entprivacy.Allow)); err != nil {
		return nil, err
	}
	if err := tx.Group.Update().Where(group.IsDefault(true), group.IDNEQ(id)).SetIsDefault(false).Exec(ctx); err != nil {
		return nil, err
	}
	g, err := tx.Group.UpdateOneID(id).SetIsDefault(true).Save(ctx)
	if ent.IsNotFound(err) {
		return nil, apierr.Errorf(apierr.NotFound, "group not found")
	}
	return g, err
}

// EnsureDefaultGroup applies the default-group setting at start: when no
// group is the default yet, the group of that name becomes it (created if
// missing). An empty name changes nothing.
func EnsureDefaultGroup(ctx context.Context, client *ent.Client, name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil
	}
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	if ok, err := client.Group.Query().Where(group.IsDefault(true)).Exist(sys); err != nil || ok {
		return err
	}
	tx, err := client.Tx(sys)
	if err != nil {
		return err
	}
	g, err := tx.Group.Query().Where(group.Name(name)).Only(sys)
	if ent.IsNotFound(err) {
		g, err = tx.Group.Create().SetName(name).Save(sys)
	}
	if err == nil {
		_, err = setDefault(sys, tx, g.ID)
	}
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("setting the default group %q: %w", name, err)
	}
	return tx.Commit()
}

// DefaultGroup is the default group, or nil when none is set.
func DefaultGroup(ctx context.Context, client *ent.Client) (*ent.Group, error) {
	g, err := client.Group.Query().Where(group.IsDefault(true)).Order(ent.Asc(group.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return g, err
}
