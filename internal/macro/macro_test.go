package macro_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/macro"
)

func TestCheck(t *testing.T) {
	for _, body := range []string{
		"",
		"Hello {{requester.name}}, ticket #{{ticket.number}} ({{ticket.subject}})",
		"{{ requester.email }} {{agent.name}} {{group.name}}",
		"{{\trequester.name\n}}",
		"single { braces } and }} alone are text",
	} {
		if err := macro.Check(body); err != nil {
			t.Errorf("Check(%q) = %v, want nil", body, err)
		}
	}
	for _, tc := range []struct{ body, names string }{
		{"Hi {{requester.phone}}", "{{requester.phone}}"},
		{"Hi {{}}", "{{}}"},
		{"Hi {{ Requester.Name }}", "{{ Requester.Name }}"},
		{"Hi {{requester.name", `"{{"`},
		{"Hi {{ a {{requester.name}}", `"{{"`},
	} {
		err := macro.Check(tc.body)
		var e *apierr.Error
		if !errors.As(err, &e) || e.Code != apierr.BadUserInput || e.Field != "body" {
			t.Fatalf("Check(%q) = %v, want BAD_USER_INPUT on body", tc.body, err)
		}
		if !strings.Contains(e.Message, tc.names) || !strings.Contains(e.Message, "{{requester.name}}, {{requester.email}}") {
			t.Errorf("Check(%q) message %q: want it to name %s and list the known placeholders", tc.body, e.Message, tc.names)
		}
	}
}

func TestFill(t *testing.T) {
	values := macro.Values{
		macro.RequesterName: "Ann", macro.RequesterEmail: "ann@example.com",
		macro.TicketNumber: "42", macro.TicketSubject: "Printer", macro.AgentName: "Alice", macro.GroupName: "",
	}
	got := macro.Fill("Hi {{ requester.name }} <{{requester.email}}>, #{{ticket.number}} {{ticket.subject}} — {{agent.name}}{{group.name}}.", values)
	if want := "Hi Ann <ann@example.com>, #42 Printer — Alice."; got != want {
		t.Fatalf("Fill = %q, want %q", got, want)
	}
	t.Run("ValuesAreNeverExpanded", func(t *testing.T) {
		v := macro.Values{macro.RequesterName: "{{agent.name}}", macro.AgentName: "Alice", macro.TicketSubject: "{{ticket.subject}}{{"}
		got := macro.Fill("Dear {{requester.name}}, re {{ticket.subject}} — {{agent.name}}", v)
		if want := "Dear {{agent.name}}, re {{ticket.subject}}{{ — Alice"; got != want {
			t.Fatalf("Fill = %q, want %q", got, want)
		}
	})
	t.Run("UnknownStaysLiteral", func(t *testing.T) {
		if got := macro.Fill("{{nope}} {{agent.name}}", macro.Values{macro.AgentName: "A"}); got != "{{nope}} A" {
			t.Fatalf("Fill = %q", got)
		}
	})
}
