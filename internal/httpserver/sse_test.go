package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEventStreamNegotiation(t *testing.T) {
	const urql = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
	for _, c := range []struct {
		name, accept        string
		accepted, preferred bool
	}{
		{"URQLDefaultPrefersJSON", urql, true, false},
		{"EventStreamOnly", "text/event-stream", true, true},
		{"EventStreamListedFirst", "text/event-stream, application/json", true, true},
		{"HigherQForEventStream", "application/json;q=0.5, text/event-stream", true, true},
		{"HigherQForJSON", "text/event-stream;q=0.5, application/json", true, false},
		{"WildcardCountsAsJSON", "*/*, text/event-stream", true, false},
		{"QZeroRefusesEventStream", "text/event-stream;q=0, application/json", false, false},
		{"BadQIsIgnored", "text/event-stream;q=high", false, false},
		{"NoEventStream", "application/json", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			accepted, preferred := acceptsEventStream([]string{c.accept})
			if accepted != c.accepted || preferred != c.preferred {
				t.Fatalf("acceptsEventStream(%q) = %v, %v; want %v, %v", c.accept, accepted, preferred, c.accepted, c.preferred)
			}
		})
	}

	es := eventStream{maxTokens: 1000}
	post := func(accept, body string) *http.Request {
		r := httptest.NewRequest("POST", "/query", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", accept)
		return r
	}
	for _, c := range []struct {
		name, accept, body string
		stream             bool
	}{
		{"URQLQueryIsJSON", urql, `{"query":"{ me { id } }"}`, false},
		{"URQLMutationIsJSON", urql, `{"query":"mutation { logout }"}`, false},
		{"URQLSubscriptionIsAStream", urql, `{"query":"subscription { ticketEvents { cursor } }"}`, true},
		{"NamedSubscriptionOfSeveral", urql, `{"query":"query A { me { id } } subscription B { ticketEvents { cursor } }","operationName":"B"}`, true},
		{"NamedQueryOfSeveral", urql, `{"query":"query A { me { id } } subscription B { ticketEvents { cursor } }","operationName":"A"}`, false},
		{"UnparsableIsJSON", urql, `{"query":"subscription {"}`, false},
		{"PreferredStreamForAQuery", "text/event-stream", `{"query":"{ me { id } }"}`, true},
		{"SubscriptionWithoutEventStreamIsNot", "application/json", `{"query":"subscription { ticketEvents { cursor } }"}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := es.Supports(post(c.accept, c.body)); got != c.stream {
				t.Fatalf("event stream for %s with Accept %q: %v, want %v", c.body, c.accept, got, c.stream)
			}
		})
	}
}
