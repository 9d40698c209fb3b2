package securitytest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/switchboardhq/switchboard/graph"
)

// idPosition is one place of the schema that takes an ID: an argument of
// a root field, or a field of an input object under it.
type idPosition struct {
	op    ast.Operation
	field *ast.FieldDefinition
	// path is the argument's name, then input fields' names.
	path []string
	// filter marks positions inside a *WhereInput: they narrow what the
	// caller may see anyway, so they may succeed, but never reveal.
	filter bool
}

func (p idPosition) String() string {
	return fmt.Sprintf("%s.%s(%s)", p.op, p.field.Name, strings.Join(p.path, "."))
}

// idPositions walks the schema's root fields and finds every ID argument,
// including ID fields of input objects (each input type once per
// argument, which also stops the where-inputs' recursion).
func idPositions(schema *ast.Schema) []idPosition {
	var out []idPosition
	for _, root := range []struct {
		op  ast.Operation
		def *ast.Definition
	}{{ast.Query, schema.Query}, {ast.Mutation, schema.Mutation}, {ast.Subscription, schema.Subscription}} {
		if root.def == nil {
			continue
		}
		for _, f := range root.def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			for _, arg := range f.Arguments {
				seen := map[string]bool{}
				var walk func(t *ast.Type, path []string, filter bool)
				walk = func(t *ast.Type, path []string, filter bool) {
					name := t.Name()
					if name == "ID" {
						out = append(out, idPosition{op: root.op, field: f, path: slices.Clone(path), filter: filter})
						return
					}
					def := schema.Types[name]
					if def == nil || def.Kind != ast.InputObject || seen[name] {
						return
					}
					seen[name] = true
					for _, in := range def.Fields {
						walk(in.Type, append(path, in.Name), filter || strings.HasSuffix(name, "WhereInput"))
					}
				}
				walk(arg.Type, []string{arg.Name}, false)
			}
		}
	}
	return out
}

// minimal returns a valid value of a required type (nil for optional).
func minimal(schema *ast.Schema, t *ast.Type, id string) any {
	if !t.NonNull {
		return nil
	}
	if t.Elem != nil {
		return []any{minimal(schema, t.Elem, id)}
	}
	switch t.NamedType {
	case "ID":
		return id
	case "String":
		return "probe"
	case "Int", "Float":
		return 1
	case "Boolean":
		return false
	case "Time":
		return "2030-01-01T00:00:00Z"
	}
	def := schema.Types[t.NamedType]
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		obj := map[string]any{}
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				obj[f.Name] = minimal(schema, f.Type, id)
			}
		}
		return obj
	}
	return nil
}

// valueAt returns a value of t with id at path (below t) and every other
// required place filled.
func valueAt(schema *ast.Schema, t *ast.Type, path []string, id string) any {
	if t.Elem != nil {
		return []any{valueAt(schema, t.Elem, path, id)}
	}
	if len(path) == 0 {
		return id
	}
	def := schema.Types[t.NamedType]
	obj, _ := minimal(schema, ast.NonNullNamedType(t.NamedType, nil), id).(map[string]any)
	f := def.Fields.ForName(path[0])
	obj[path[0]] = valueAt(schema, f.Type, path[1:], id)
	return obj
}

// selection is what to ask of a field's result: the IDs it returns, so
// that a leak shows.
func selection(schema *ast.Schema, t *ast.Type) string {
	def := schema.Types[t.Name()]
	switch {
	case def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum:
		return ""
	case def.Fields.ForName("edges") != nil:
		return "{ __typename edges { node { id } } }"
	case def.Fields.ForName("id") != nil:
		return "{ __typename id }"
	}
	return "{ __typename }"
}

// operation builds the operation that sends id at p.
func operation(schema *ast.Schema, p idPosition, id string) (string, map[string]any) {
	vars := map[string]any{}
	var decls, args []string
	for i, arg := range p.field.Arguments {
		var v any
		if arg.Name == p.path[0] {
			v = valueAt(schema, arg.Type, p.path[1:], id)
		} else if arg.Type.NonNull && arg.DefaultValue == nil {
			v = minimal(schema, arg.Type, id)
		} else {
			continue
		}
		name := fmt.Sprintf("a%d", i)
		vars[name] = v
		decls = append(decls, "$"+name+": "+arg.Type.String())
		args = append(args, arg.Name+": $"+name)
	}
	q := string(p.op)
	if len(decls) > 0 {
		q += "(" + strings.Join(decls, ", ") + ")"
	}
	q += " { " + p.field.Name
	if len(args) > 0 {
		q += "(" + strings.Join(args, ", ") + ")"
	}
	return q + " " + selection(schema, p.field.Type) + " }", vars
}

// firstEvent runs a subscription over an event stream and returns its
// first result (or the refusal).
func (s *server) firstEvent(t *testing.T, token, query string, vars map[string]any) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/query", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("event stream: %v", err)
	}
	defer res.Body.Close()
	out := response{Status: res.StatusCode}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && data != "" {
			out.Raw = data
			_ = json.Unmarshal([]byte(data), &out)
			return out
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			out.Raw += sc.Text()
		}
	}
	_ = json.Unmarshal([]byte(out.Raw), &out)
	if out.Raw == "" {
		// Nothing within the deadline: a subscription that sends
		// nothing about another user's object has revealed nothing.
		out.Raw = "{}"
	}
	return out
}

func TestForeignIDs(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	positions := idPositions(schema)
	t.Run("WalkFindsTheKnownArguments", func(t *testing.T) {
		var names []string
		for _, p := range positions {
			names = append(names, p.String())
		}
		for _, want := range []string{"query.node(id)", "query.nodes(ids)", "mutation.updateTicket(id)", "mutation.addMessage(ticketID)",
			"mutation.revokeSession(id)", "mutation.revokeAPIToken(id)", "mutation.updateUser(id)", "subscription.ticketEvents(ticketID)"} {
			if !slices.Contains(names, want) {
				t.Errorf("the schema walk missed %s (found %d positions)", want, len(positions))
			}
		}
	})

	s := startServer(t, nil)
	mallory, _ := s.signup(t, "mallory")
	victim, victimID := s.signup(t, "victim")
	const secret = "victim's confidential subject"
	d := s.do(t, victim, `mutation($i: CreateTicketInput!) { createTicket(input: $i) { id messages { edges { node { id } } } } }`,
		map[string]any{"i": map[string]any{"subject": secret, "body": "first message"}}).OK(t)
	ticketID := d["createTicket"].(map[string]any)["id"].(string)
	messageID := d["createTicket"].(map[string]any)["messages"].(map[string]any)["edges"].([]any)[0].(map[string]any)["node"].(map[string]any)["id"].(string)
	// An agent's API token and session are other users' objects too (the
	// agent's own user is not: customers see who answers them).
	s.createUser(t, "agent@example.com", "agent")
	agent := s.do(t, "", `mutation { login(email: "agent@example.com", password: "`+password+`") { token user { id } } }`, nil).OK(t)["login"].(map[string]any)
	agentToken := agent["token"].(string)
	d = s.do(t, agentToken, `mutation { createAPIToken(input: {name: "ci"}) { token apiToken { id } } }`, nil).OK(t)
	apiToken := d["createAPIToken"].(map[string]any)["token"].(string)
	tokenID := d["createAPIToken"].(map[string]any)["apiToken"].(map[string]any)["id"].(string)
	d = s.do(t, victim, `{ mySessions { id } }`, nil).OK(t)
	sessionID := d["mySessions"].([]any)[0].(map[string]any)["id"].(string)
	d = s.do(t, agentToken, `{ mySessions { id } }`, nil).OK(t)
	agentSessionID := d["mySessions"].([]any)[0].(map[string]any)["id"].(string)
	foreign := map[string]string{"ticket": ticketID, "message": messageID, "user": victimID, "session": sessionID,
		"agent's session": agentSessionID, "agent's API token": tokenID}
	leaks := []string{secret, ticketID, messageID, victimID, sessionID, tokenID, agentSessionID}

	refusals := map[string]bool{"NOT_FOUND": true, "FORBIDDEN": true, "BAD_USER_INPUT": true}
	checked := 0
	for _, p := range positions {
		t.Run(p.String(), func(t *testing.T) {
			if p.op == ast.Subscription && p.filter {
				// ticketEvents(where:) takes the input of tickets(where:),
				// whose every ID position is checked as a query; here each
				// would hold a subscription open for the wait of firstEvent.
				t.Skip("the same filter input is checked through tickets(where:)")
			}
			for kind, id := range foreign {
				q, vars := operation(schema, p, id)
				var r response
				if p.op == ast.Subscription {
					r = s.firstEvent(t, mallory, q, vars)
				} else {
					r = s.do(t, mallory, q, vars)
				}
				checked++
				for _, leak := range leaks {
					if strings.Contains(r.Raw, leak) {
						t.Fatalf("%s (victim's %s) leaks %q: %s\n%s", p, kind, leak, r.Raw, q)
					}
				}
				if r.Status >= 500 {
					t.Fatalf("%s (victim's %s): status %d: %s", p, kind, r.Status, r.Raw)
				}
				if p.filter || r.Raw == "{}" {
					continue
				}
				if !refusals[r.FirstCode()] || !empty(r.Data[p.field.Name]) {
					t.Fatalf("%s with the victim's %s: not refused (code %q): %s\n%s %v", p, kind, r.FirstCode(), r.Raw, q, vars)
				}
			}
		})
	}
	t.Logf("%d ID positions, %d requests with another user's IDs", len(positions), checked)

	t.Run("VictimUntouched", func(t *testing.T) {
		d := s.do(t, victim, `query($id: ID!) { node(id: $id) { ... on Ticket { subject } } me { id } }`, map[string]any{"id": ticketID}).OK(t)
		if d["node"].(map[string]any)["subject"] != secret {
			t.Fatalf("the victim's ticket changed: %v", d)
		}
		// The agent's API token and session still work.
		s.do(t, apiToken, `{ me { id } }`, nil).OK(t)
		s.do(t, agentToken, `{ me { id } }`, nil).OK(t)
		s.stillServes(t)
	})
}

// empty reports a field's result that shows nothing: null, or a list of
// nulls.
func empty(v any) bool {
	if l, ok := v.([]any); ok {
		for _, e := range l {
			if e != nil {
				return false
			}
		}
		return true
	}
	return v == nil
}
