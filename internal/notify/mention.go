package notify

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/predicate"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// mentionPattern finds @handle where @ starts a word (so an address such
// as ann@example.com is no mention). A handle is letters, digits and . _ -.
var mentionPattern = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_@.])@([\p{L}\p{N}][\p{L}\p{N}._-]*)`)

// Handles returns the @handles written in text, lower-cased, once each.
func Handles(text string) []string {
	var out []string
	for _, m := range mentionPattern.FindAllStringSubmatch(text, -1) {
		h := strings.ToLower(strings.TrimRight(m[1], ".-_"))
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// Handle is what to write after @ to mention u: the local part of their
// email address.
func Handle(u *ent.User) string {
	local, _, _ := strings.Cut(u.Email, "@")
	return strings.ToLower(local)
}

// matchesName reports whether h names u by handle, first name or whole
// name without spaces.
func matchesName(u *ent.User, h string) bool {
	fields := strings.Fields(u.Name)
	return Handle(u) == h || (len(fields) > 0 && strings.ToLower(fields[0]) == h) ||
		strings.ToLower(strings.Join(fields, "")) == h
}

// resolveMentions finds whom the @handles of an internal note name among
// the staff who may see the ticket. A handle that is exactly someone's
// handle names them; otherwise a first or whole name must be unique, or
// the note is refused with the candidates listed. A handle that names
// nobody who may see the ticket is plain text.
func resolveMentions(ctx context.Context, tx *ent.Tx, t *ent.Ticket, body string) ([]globalid.ID, error) {
	handles := Handles(body)
	if len(handles) == 0 {
		return nil, nil
	}
	staff, err := StaffWhoMaySee(ctx, tx.Client(), t)
	if err != nil {
		return nil, err
	}
	var out []globalid.ID
	for _, h := range handles {
		var exact, byName []*ent.User
		for _, u := range staff {
			switch {
			case Handle(u) == h:
				exact = append(exact, u)
			case matchesName(u, h):
				byName = append(byName, u)
			}
		}
		found := exact
		if len(found) == 0 {
			found = byName
		}
		switch len(found) {
		case 0:
		case 1:
			out = append(out, found[0].ID)
		default:
			names := make([]string, len(found))
			for i, u := range found {
				names[i] = fmt.Sprintf("@%s (%s)", Handle(u), u.Name)
			}
			return nil, apierr.Invalid("body", "@%s could be %s: write one of these", h, strings.Join(names, ", "))
		}
	}
	return out, nil
}

// StaffWhoMaySee are the active agents and admins who may read the ticket
// (admins, its assignee, the members of its group), by name.
func StaffWhoMaySee(ctx context.Context, client *ent.Client, t *ent.Ticket) ([]*ent.User, error) {
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	reach := []predicate.User{user.RoleEQ(user.RoleADMIN)}
	if t.AssigneeID != nil {
		reach = append(reach, user.ID(*t.AssigneeID))
	}
	if t.GroupID != nil {
		reach = append(reach, user.HasGroupsWith(group.ID(*t.GroupID)))
	}
	users, err := client.User.Query().
		Where(user.Active(true), user.RoleIn(user.RoleAGENT, user.RoleADMIN), user.Or(reach...)).
		Order(ent.Asc(user.FieldName), ent.Asc(user.FieldID)).All(sys)
	if err != nil {
		return nil, fmt.Errorf("reading who may see the ticket: %w", err)
	}
	return users, nil
}

// Candidates are the staff an internal note on t can mention whose name,
// handle or email starts with prefix (any case), at most first of them.
func Candidates(ctx context.Context, client *ent.Client, t *ent.Ticket, prefix string, first int) ([]*ent.User, error) {
	staff, err := StaffWhoMaySee(ctx, client, t)
	if err != nil {
		return nil, err
	}
	prefix = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(prefix), "@"))
	var out []*ent.User
	for _, u := range staff {
		if len(out) == first {
			break
		}
		if startsAnyWord(u.Name, prefix) || strings.HasPrefix(Handle(u), prefix) || strings.HasPrefix(u.Email, prefix) {
			out = append(out, u)
		}
	}
	return out, nil
}

func startsAnyWord(name, prefix string) bool {
	for _, w := range strings.Fields(strings.ToLower(name)) {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return strings.HasPrefix(strings.ToLower(name), prefix)
}
