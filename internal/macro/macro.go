// Package macro holds the rules of macro texts: which placeholders a body
// may use ({{requester.name}}, {{ticket.number}}, …), checking a body when
// a macro is saved, and filling one in when it is applied.
//
// Filling is a single pass over the macro's body: the values put in are
// never scanned again, so a requester named "{{agent.name}}" is written as
// those very characters (no template injection).
package macro

import (
	"regexp"
	"strings"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

// The placeholders a body may use.
const (
	RequesterName  = "requester.name"
	RequesterEmail = "requester.email"
	TicketNumber   = "ticket.number"
	TicketSubject  = "ticket.subject"
	AgentName      = "agent.name"
	GroupName      = "group.name"
)

// Known lists the placeholders in the order the documentation gives them.
var Known = []string{RequesterName, RequesterEmail, TicketNumber, TicketSubject, AgentName, GroupName}

// placeholder matches {{name}}, with spaces allowed inside the braces.
// Braces are excluded from the name, so that "{{ a {{b}}" matches only
// "{{b}}" and leaves the first "{{" unclosed.
var placeholder = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Values are what the placeholders of one application stand for, by name.
type Values map[string]string

// Check refuses a body with an unknown placeholder or an unclosed "{{",
// as BAD_USER_INPUT on the field body naming it and listing the known
// placeholders, so that a mistake shows when the macro is saved rather
// than in a customer's inbox.
func Check(body string) error {
	for _, m := range placeholder.FindAllStringSubmatch(body, -1) {
		if !isKnown(m[1]) {
			return apierr.Invalid("body", "body uses the unknown placeholder %s; known placeholders: %s", m[0], knownList())
		}
	}
	rest := placeholder.ReplaceAllString(body, "")
	if i := strings.Index(rest, "{{"); i >= 0 {
		return apierr.Invalid("body", "body has a %q that is not closed by }} (near %q); known placeholders: %s", "{{", excerpt(rest[i:]), knownList())
	}
	return nil
}

// Fill replaces each placeholder of body with its value, in one pass.
// An unknown placeholder (from before a check existed) stays as written.
func Fill(body string, values Values) string {
	return placeholder.ReplaceAllStringFunc(body, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		if v, ok := values[name]; ok && isKnown(name) {
			return v
		}
		return m
	})
}

func isKnown(name string) bool {
	for _, k := range Known {
		if k == name {
			return true
		}
	}
	return false
}

func knownList() string {
	out := make([]string, len(Known))
	for i, k := range Known {
		out[i] = "{{" + k + "}}"
	}
	return strings.Join(out, ", ")
}

// excerpt is the start of s, short enough for an error message.
func excerpt(s string) string {
	const max = 30
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
