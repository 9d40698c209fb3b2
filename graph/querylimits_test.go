package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

func TestConnectionComplexity(t *testing.T) {
	es := NewSchema(&Resolver{}, 20)
	cost := func(t *testing.T, query string) int {
		t.Helper()
		doc, errs := gqlparser.LoadQueryWithRules(es.Schema(), query, rules.NewDefaultRules())
		if errs != nil {
			t.Fatal(errs)
		}
		return complexity.Calculate(context.Background(), es, doc.Operations[0], nil)
	}
	t.Run("FirstMultipliesChildren", func(t *testing.T) {
		// tickets: 1 + first * (edges 1 + node 1 + id 1).
		if got := cost(t, `{ tickets(first: 100) { edges { node { id } } } }`); got != 1+100*3 {
			t.Fatalf("complexity = %d, want %d", got, 1+100*3)
		}
	})
	t.Run("LastMultipliesChildren", func(t *testing.T) {
		if got := cost(t, `{ tickets(last: 7) { edges { node { id } } } }`); got != 1+7*3 {
			t.Fatalf("complexity = %d, want %d", got, 1+7*3)
		}
	})
	t.Run("DefaultPageSizeWithoutFirst", func(t *testing.T) {
		if got := cost(t, `{ tickets { edges { node { id } } } }`); got != 1+20*3 {
			t.Fatalf("complexity = %d, want %d", got, 1+20*3)
		}
	})
	t.Run("NestedConnectionsMultiply", func(t *testing.T) {
		// messages: 1 + 10 * 3 = 31 per ticket; ticket node = 1 + 31.
		want := 1 + 100*(1+1+(1+10*3))
		if got := cost(t, `{ tickets(first: 100) { edges { node { messages(first: 10) { edges { node { id } } } } } } }`); got != want {
			t.Fatalf("complexity = %d, want %d", got, want)
		}
	})
	t.Run("HugeFirstSaturates", func(t *testing.T) {
		if got := cost(t, `{ tickets(first: 2147483647) { edges { node { messages(first: 2147483647) { edges { node { messages: id } } } } } } }`); got < 1<<40 {
			t.Fatalf("complexity = %d, want a huge number", got)
		}
	})
	t.Run("EveryConnectionFieldIsCovered", func(t *testing.T) {
		for _, def := range es.Schema().Types {
			for _, f := range def.Fields {
				if !strings.HasSuffix(f.Type.Name(), "Connection") || f.Arguments.ForName("first") == nil || strings.HasPrefix(def.Name, "__") {
					continue
				}
				if _, ok := es.Complexity(context.Background(), def.Name, f.Name, 5, map[string]any{"first": 3}); !ok {
					t.Errorf("%s.%s has no complexity function", def.Name, f.Name)
				}
			}
		}
	})
}

func TestCountTokens(t *testing.T) {
	if n := CountTokens(`{ me { id name } }`, 100); n != 7 {
		t.Fatalf("tokens = %d, want 7", n)
	}
	if n := CountTokens(strings.Repeat("a ", 1000000), 11); n != 11 {
		t.Fatalf("counting stops at the limit: %d", n)
	}
	if n := CountTokens(`{ "unterminated`, 100); n != 1 {
		t.Fatalf("tokens before a lexing fault = %d", n)
	}
}

// limitsServer serves the real schema (without resolvers that touch a
// database) behind the limits.
func limitsServer(t *testing.T, limits QueryLimits) *httptest.Server {
	gql := handler.New(NewSchema(&Resolver{}, 0))
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetErrorPresenter(WithoutSuggestions(ErrorPresenter(nil)))
	gql.Use(Complexity())
	gql.Use(limits)
	gql.AroundResponses(OperationDeadline(time.Minute))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, hint := WithResponseHint(r.Context())
		if r.Method == http.MethodGet {
			ctx = WithSafeMethod(ctx)
		}
		rec := httptest.NewRecorder()
		gql.ServeHTTP(rec, r.WithContext(ctx))
		status := rec.Code
		if s, _ := hint.Status(); s != 0 && status == http.StatusOK {
			status = s
		}
		w.WriteHeader(status)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func postQuery(t *testing.T, url, query string, operationName ...string) (int, string, string) {
	t.Helper()
	req := map[string]any{"query": query}
	if len(operationName) > 0 {
		req["operationName"] = operationName[0]
	}
	body, _ := json.Marshal(req)
	res, err := http.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	if len(out.Errors) == 0 {
		return res.StatusCode, "", ""
	}
	code, _ := out.Errors[0].Extensions["code"].(string)
	return res.StatusCode, code, out.Errors[0].Message
}

func TestQueryLimits(t *testing.T) {
	limits := QueryLimits{MaxDepth: 7, MaxComplexity: 500, MaxAliases: 3, MaxFields: 20, MaxDirectivesPerField: 1, MaxTokens: 200, MaxOperations: 2}
	srv := limitsServer(t, limits)
	refused := func(t *testing.T, query, wantCode, wantMention string, operationName ...string) {
		t.Helper()
		status, code, msg := postQuery(t, srv.URL, query, operationName...)
		if code != wantCode || !strings.Contains(msg, wantMention) {
			t.Fatalf("got %d %s %q, want %s mentioning %s", status, code, msg, wantCode, wantMention)
		}
		if wantCode == "QUERY_TOO_COMPLEX" && status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", status)
		}
	}
	t.Run("WithinLimitsRuns", func(t *testing.T) {
		if status, code, msg := postQuery(t, srv.URL, `{ __typename a: __typename }`); status != 200 || code != "" {
			t.Fatalf("%d %s %s", status, code, msg)
		}
	})
	t.Run("ErrTooDeep", func(t *testing.T) {
		refused(t, `{ me { groups { members { groups { members { groups { members { id } } } } } } } }`, "QUERY_TOO_COMPLEX", "MAX_QUERY_DEPTH")
	})
	t.Run("ErrTooDeepThroughFragments", func(t *testing.T) {
		refused(t, `query { me { ...A } } fragment A on User { groups { members { groups { members { groups { members { id } } } } } } }`, "QUERY_TOO_COMPLEX", "MAX_QUERY_DEPTH")
	})
	t.Run("ErrTooManyAliases", func(t *testing.T) {
		refused(t, `{ a: __typename b: __typename c: __typename d: __typename }`, "QUERY_TOO_COMPLEX", "MAX_QUERY_ALIASES")
	})
	t.Run("ErrTooManyRepeatedFields", func(t *testing.T) {
		refused(t, `{ `+strings.Repeat("__typename ", 21)+`}`, "QUERY_TOO_COMPLEX", "MAX_QUERY_FIELDS")
	})
	t.Run("ErrFragmentExplosion", func(t *testing.T) {
		// Each fragment spreads the previous twice: 2^8 fields from a
		// short document, measured without expanding it.
		q := `{ ...F8 } fragment F0 on Query { __typename }`
		for i := 1; i <= 8; i++ {
			q += " fragment F" + string(rune('0'+i)) + " on Query { ...F" + string(rune('0'+i-1)) + " ...F" + string(rune('0'+i-1)) + " }"
		}
		refused(t, q, "QUERY_TOO_COMPLEX", "MAX_QUERY_FIELDS")
	})
	t.Run("ErrRepeatedDirectives", func(t *testing.T) {
		refused(t, `{ __typename @include(if: true) @skip(if: false) }`, "QUERY_TOO_COMPLEX", "MAX_DIRECTIVES_PER_FIELD")
		// Repeating one directive is refused by validation already.
		refused(t, `{ __typename @include(if: true) @include(if: true) }`, "BAD_USER_INPUT", "can only be used once")
	})
	t.Run("ErrTooComplex", func(t *testing.T) {
		refused(t, `{ tickets(first: 100) { edges { node { messages(first: 10) { edges { node { id } } } } } } }`, "QUERY_TOO_COMPLEX", "MAX_QUERY_COMPLEXITY")
	})
	t.Run("ErrTooManyTokens", func(t *testing.T) {
		refused(t, `{ __typename }`+strings.Repeat(" #\n", 10)+strings.Repeat(" query Q { __typename }", 50), "QUERY_TOO_COMPLEX", "MAX_QUERY_TOKENS")
	})
	t.Run("ErrTooManyOperations", func(t *testing.T) {
		refused(t, `query A { __typename } query B { __typename } query C { __typename }`, "QUERY_TOO_COMPLEX", "OPERATIONS_PER_REQUEST", "A")
	})
	t.Run("ErrIntrospectionOff", func(t *testing.T) {
		refused(t, `{ __schema { queryType { name } } }`, "FORBIDDEN", "introspection is disabled")
		refused(t, `{ __type(name: "Ticket") { name } }`, "FORBIDDEN", "introspection is disabled")
	})
	t.Run("ErrNoSuggestions", func(t *testing.T) {
		status, code, msg := postQuery(t, srv.URL, `{ ticketz { id } }`)
		if code != "BAD_USER_INPUT" || strings.Contains(msg, "Did you mean") || status == 200 {
			t.Fatalf("%d %s %q", status, code, msg)
		}
	})
	t.Run("ErrMutationOverGET", func(t *testing.T) {
		res, err := http.Get(srv.URL + "?query=" + "mutation%7Blogout%7D")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		_ = json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode != http.StatusMethodNotAllowed || len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != "METHOD_NOT_ALLOWED" {
			t.Fatalf("mutation over GET: %d %+v", res.StatusCode, out)
		}
	})
}

func TestWithoutSuggestions(t *testing.T) {
	for in, want := range map[string]string{
		`Cannot query field "ticketz" on type "Query". Did you mean "tickets"?`:                  `Cannot query field "ticketz" on type "Query".`,
		`Unknown argument "frist" on field "Query.tickets". Did you mean "first" or "last"?`:     `Unknown argument "frist" on field "Query.tickets".`,
		`Value "OPN" does not exist in "TicketStatus" enum. Did you mean the enum value "OPEN"?`: `Value "OPN" does not exist in "TicketStatus" enum.`,
	} {
		if got := suggestion.ReplaceAllString(in, ""); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

// BenchmarkQueryLimits measures what the limits add to an operation: the
// token count before parsing and the measure of the validated operation.
func BenchmarkQueryLimits(b *testing.B) {
	es := NewSchema(&Resolver{}, 0)
	query := `query Tickets($first: Int) { tickets(first: $first) { totalCount edges { cursor node { id number subject status priority
		requester { id name email } assignee { id name } messages(first: 5) { edges { node { id body author { name } } } } } } } }`
	doc, errs := gqlparser.LoadQueryWithRules(es.Schema(), query, rules.NewDefaultRules())
	if errs != nil {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		if CountTokens(query, DefaultQueryLimits.MaxTokens+1) > DefaultQueryLimits.MaxTokens {
			b.Fatal("over the token limit")
		}
		if m := measureOperation(doc, doc.Operations[0]); m.depth > DefaultQueryLimits.MaxDepth {
			b.Fatal("too deep")
		}
	}
}
