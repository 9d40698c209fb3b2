package routing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/group"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/routingrule"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/rowlock"
)

type firstMessageKey struct{}

// WithFirstMessage tells routing the text of the ticket's first message,
// which is written after the ticket (rules match words of it).
func WithFirstMessage(ctx context.Context, body string) context.Context {
	return context.WithValue(ctx, firstMessageKey{}, body)
}

type fallbackGroupKey struct{}

// WithFallbackGroup names the group a new ticket goes to when no rule
// places it, instead of the default group: the group of the address a
// mail came to (internal/inbound).
func WithFallbackGroup(ctx context.Context, groupID globalid.ID) context.Context {
	return context.WithValue(ctx, fallbackGroupKey{}, groupID)
}

// Online lists the staff with a live connection (agents-online presence).
type Online func(ctx context.Context) ([]globalid.ID, error)

type onlineKey struct{}

// WithOnline tells round-robin who is online. Without it, or when it
// fails (Redis lost), groups that assign among online agents assign among
// all their available agents: a ticket is better with someone than with
// nobody.
func WithOnline(ctx context.Context, online Online) context.Context {
	return context.WithValue(ctx, onlineKey{}, online)
}

// Route places the ticket that m creates, inside its transaction: tickets
// created without a group take the first enabled rule that matches (by
// position), or else the fallback group (WithFallbackGroup), or else the
// default group; then, when nobody is assigned and
// the rule or the group asks for it, an agent of the group by round-robin.
func Route(ctx context.Context, tx *ent.Tx, m *ent.TicketMutation) error {
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	var rule *ent.RoutingRule
	if _, ok := m.GroupID(); !ok {
		var err error
		if rule, err = firstMatch(ctx, tx, m); err != nil {
			return err
		}
		if rule != nil {
			apply(m, rule)
		}
	}
	if _, ok := m.GroupID(); !ok {
		if id, ok := ctx.Value(fallbackGroupKey{}).(globalid.ID); ok && id != "" {
			m.SetGroupID(id)
		}
	}
	if _, ok := m.GroupID(); !ok {
		def, err := tx.Group.Query().Where(group.IsDefault(true)).Order(ent.Asc(group.FieldID)).First(sys)
		switch {
		case ent.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("reading the default group: %w", err)
		default:
			m.SetGroupID(def.ID)
		}
	}
	gid, ok := m.GroupID()
	if _, assigned := m.AssigneeID(); !ok || assigned {
		return nil
	}
	return assign(ctx, tx, m, gid, rule != nil && rule.RoundRobin)
}

// firstMatch returns the first enabled rule whose conditions the new ticket
// meets, or nil.
func firstMatch(ctx context.Context, tx *ent.Tx, m *ent.TicketMutation) (*ent.RoutingRule, error) {
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	rules, err := tx.RoutingRule.Query().Where(routingrule.Enabled(true)).
		Order(ent.Asc(routingrule.FieldPosition), ent.Asc(routingrule.FieldID)).All(sys)
	if err != nil || len(rules) == 0 {
		return nil, err
	}
	var t Ticket
	t.Tags, _ = m.Tags()
	t.Channel, _ = m.Channel()
	t.Priority, _ = m.Priority()
	subject, _ := m.Subject()
	body, _ := ctx.Value(firstMessageKey{}).(string)
	t.Text = subject + "\n" + body
	if id, ok := m.RequesterID(); ok {
		email, err := tx.User.Query().Where(user.ID(id)).Select(user.FieldEmail).String(sys)
		if err != nil && !ent.IsNotFound(err) {
			return nil, fmt.Errorf("reading the requester: %w", err)
		}
		t.Email = email
	}
	for _, r := range rules {
		if Matches(r, t) {
			return r, nil
		}
	}
	return nil, nil
}

// apply carries out a rule's actions on the new ticket.
func apply(m *ent.TicketMutation, r *ent.RoutingRule) {
	m.SetRoutingRuleID(r.ID)
	if r.GroupID != nil {
		m.SetGroupID(*r.GroupID)
	}
	if r.SetPriority != nil {
		m.SetPriority(*r.SetPriority)
	}
	if len(r.AddTags) > 0 {
		tags, _ := m.Tags()
		for _, tag := range r.AddTags {
			if !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
		m.SetTags(tags)
	}
}

// Ticket is what rules look at in a new ticket.
type Ticket struct {
	Channel  ticket.Channel
	Priority priority.Priority
	Tags     []string
	// Text is the subject and the first message.
	Text string
	// Email is the requester's address.
	Email string
}

// Matches reports whether t meets every condition r sets (within one
// condition, any of its values).
func Matches(r *ent.RoutingRule, t Ticket) bool {
	switch {
	case len(r.Channels) > 0 && !slices.Contains(r.Channels, string(t.Channel)):
		return false
	case len(r.Priorities) > 0 && !slices.Contains(r.Priorities, t.Priority):
		return false
	case len(r.Tags) > 0 && !slices.ContainsFunc(r.Tags, func(tag string) bool { return slices.Contains(t.Tags, tag) }):
		return false
	case len(r.EmailDomains) > 0 && !slices.ContainsFunc(r.EmailDomains, func(d string) bool { return inDomain(t.Email, d) }):
		return false
	case len(r.Words) > 0 && !slices.ContainsFunc(r.Words, func(w string) bool { return containsWord(t.Text, w) }):
		return false
	}
	return true
}

// inDomain reports whether the address is at the domain or one of its
// subdomains.
func inDomain(email, domain string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	host := strings.ToLower(email[at+1:])
	domain = strings.ToLower(strings.TrimPrefix(domain, "@"))
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// containsWord reports whether the word or phrase w occurs in text as
// whole words, ignoring case: "refund" matches "Refund please" but not
// "refunded".
func containsWord(text, w string) bool {
	text, w = strings.ToLower(text), strings.ToLower(strings.TrimSpace(w))
	if w == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(text[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if !wordRune(before) && !wordRune(after) {
			return true
		}
		i = start + 1
	}
}

// wordRune reports whether r belongs to a word (utf8.RuneError, for the
// ends of the text, does not).
func wordRune(r rune) bool { return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// lockGroup reads the group, locking its row until the transaction ends
// (PostgreSQL; SQLite's write transaction already holds the database), so
// that concurrent creations in one group count open tickets one after the
// other and never assign by a stale count. NO KEY UPDATE: strong enough
// to serialise round-robin, yet it lets other transactions take the
// foreign-key lock on the group (a ticket moved into it, a macro), which
// FOR UPDATE would block into a deadlock with the event log's lock.
func lockGroup(ctx context.Context, tx *ent.Tx, id globalid.ID) (*ent.Group, error) {
	return tx.Group.Query().Where(group.ID(id), rowlock.ForNoKeyUpdate).Only(entprivacy.DecisionContext(ctx, entprivacy.Allow))
}
