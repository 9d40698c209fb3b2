// Package tags is the one rule of what a tag is, shared by the tag
// mutations (internal/ticketing) and macros, which are checked on save
// (ent/schema): trimmed, not empty, at most MaxLen characters, no repeats.
package tags

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

// Limits of tags. They are not ent validators: the ticket's tags field
// takes any list, so that a ticket over a limit set later can still be
// changed (internal/ticketing lets a change through that does not grow
// it), and lists are checked where they are named.
const (
	MaxLen       = 100 // characters of one tag
	MaxPerList   = 100 // tags one list (a mutation's, a macro's) may name
	MaxPerTicket = 100 // tags one ticket may have
)

// Normalize trims tags, refuses empty or overlong ones and drops repeats
// (keeping the first), as BAD_USER_INPUT on field.
func Normalize(field string, tags []string) ([]string, error) {
	if len(tags) > MaxPerList {
		return nil, apierr.Invalid(field, "%s takes at most %d tags", field, MaxPerList)
	}
	out := make([]string, 0, len(tags))
	for _, tag := range tags {
		tag = strings.TrimSpace(tag)
		switch {
		case tag == "":
			return nil, apierr.Invalid(field, "%s must not contain an empty tag", field)
		case utf8.RuneCountInString(tag) > MaxLen:
			return nil, apierr.Invalid(field, "a tag in %s is longer than %d characters", field, MaxLen)
		case !slices.Contains(out, tag):
			out = append(out, tag)
		}
	}
	return out, nil
}
