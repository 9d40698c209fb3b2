package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// The malformed-input sweep: every argument of every root query, mutation
// and subscription, read from the served schema (so a field added later is
// swept without touching this file), gets malformed values of its type,
// sent through variables as admin, agent and customer. Whatever the answer,
// it must be the client's fault: never INTERNAL, never UNAVAILABLE, never
// an HTTP 5xx.

// introType is the part of an introspected type the sweep reads.
type introType struct {
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	InputFields []introValue `json:"inputFields"`
	EnumValues  []struct {
		Name string `json:"name"`
	} `json:"enumValues"`
}

type introValue struct {
	Name         string    `json:"name"`
	Type         *introRef `json:"type"`
	DefaultValue *string   `json:"defaultValue"`
}

type introRef struct {
	Kind   string    `json:"kind"`
	Name   string    `json:"name"`
	OfType *introRef `json:"ofType"`
}

type introField struct {
	Name string       `json:"name"`
	Args []introValue `json:"args"`
	Type *introRef    `json:"type"`
}

// String is the type as written in a variable definition.
func (r *introRef) String() string {
	switch r.Kind {
	case "NON_NULL":
		return r.OfType.String() + "!"
	case "LIST":
		return "[" + r.OfType.String() + "]"
	}
	return r.Name
}

func (r *introRef) named() *introRef {
	for r.OfType != nil {
		r = r.OfType
	}
	return r
}

const introspectRef = `kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`

type sweepSchema struct {
	types map[string]introType
	roots map[string][]introField // "query", "mutation", "subscription"
}

func introspectForSweep(t *testing.T, s *harness.Server) sweepSchema {
	t.Helper()
	field := `fields { name type { ` + introspectRef + ` } args { name defaultValue type { ` + introspectRef + ` } } }`
	q := `{ __schema {
		queryType { ` + field + ` } mutationType { ` + field + ` } subscriptionType { ` + field + ` }
		types { kind name enumValues { name } inputFields { name defaultValue type { ` + introspectRef + ` } } } } }`
	data := s.Do(t, "", q, nil).OK(t)
	raw, _ := json.Marshal(data["__schema"])
	var parsed struct {
		Query        struct{ Fields []introField } `json:"queryType"`
		Mutation     struct{ Fields []introField } `json:"mutationType"`
		Subscription struct{ Fields []introField } `json:"subscriptionType"`
		Types        []introType                   `json:"types"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil {
		t.Fatal(err)
	}
	sc := sweepSchema{types: map[string]introType{}, roots: map[string][]introField{
		"query": parsed.Query.Fields, "mutation": parsed.Mutation.Fields, "subscription": parsed.Subscription.Fields,
	}}
	for _, ty := range parsed.Types {
		sc.types[ty.Name] = ty
	}
	if len(sc.roots["query"]) == 0 || len(sc.roots["mutation"]) == 0 || len(sc.roots["subscription"]) == 0 {
		t.Fatalf("introspection found no root fields: %s", raw)
	}
	return sc
}

// sweepWorld holds real objects, for fillers and IDs of the wrong type.
type sweepWorld struct {
	s                         *harness.Server
	tokens                    map[string]string
	ticket, group, user, sla  string
	cursor                    string
	overlong                  string
	wrongTypeIDs, cursorJunks []any
}

// malformedCase is one root field called with one argument malformed.
type malformedCase struct {
	op, field, label string
	args             []introValue
	vars             map[string]any
	ret              *introRef
}

func (c malformedCase) document(sc sweepSchema) string {
	var defs, uses []string
	for _, a := range c.args {
		if _, ok := c.vars[a.Name]; !ok {
			continue
		}
		defs = append(defs, "$"+a.Name+": "+a.Type.String())
		uses = append(uses, a.Name+": $"+a.Name)
	}
	doc := c.op
	if len(defs) > 0 {
		doc += "(" + strings.Join(defs, ", ") + ")"
	}
	doc += " { " + c.field
	if len(uses) > 0 {
		doc += "(" + strings.Join(uses, ", ") + ")"
	}
	if k := sc.types[c.ret.named().Name].Kind; k == "OBJECT" || k == "INTERFACE" || k == "UNION" {
		doc += " { __typename }"
	}
	return doc + " }"
}

// filler is a well-formed value of the type, for the arguments not under
// test: real IDs (guessed from the name), the first enum value, input
// objects with their required fields.
func (w *sweepWorld) filler(sc sweepSchema, name string, r *introRef, depth int) any {
	switch r.Kind {
	case "NON_NULL":
		return w.filler(sc, name, r.OfType, depth)
	case "LIST":
		return []any{w.filler(sc, name, r.OfType, depth)}
	}
	ty := sc.types[r.Name]
	switch ty.Kind {
	case "ENUM":
		return ty.EnumValues[0].Name
	case "INPUT_OBJECT":
		obj := map[string]any{}
		if depth > 3 {
			return obj
		}
		for _, f := range ty.InputFields {
			if f.Type.Kind == "NON_NULL" && f.DefaultValue == nil {
				obj[f.Name] = w.filler(sc, f.Name, f.Type, depth+1)
			}
		}
		return obj
	}
	lower := strings.ToLower(name)
	switch r.Name {
	case "ID":
		switch {
		case strings.Contains(lower, "group"):
			return w.group
		case strings.Contains(lower, "member"), strings.Contains(lower, "user"), strings.Contains(lower, "requester"), strings.Contains(lower, "assignee"):
			return w.user
		}
		return w.ticket
	case "Int":
		return 1
	case "Float":
		return 1.0
	case "Boolean":
		return false
	case "Time":
		return "2026-01-01T00:00:00Z"
	case "Cursor":
		return w.cursor
	}
	if strings.Contains(lower, "email") {
		return "filler@example.com"
	}
	return "filler value"
}

// labeled is a malformed value and what it is.
type labeled struct {
	label string
	v     any
}

// malformed lists malformed values of the type. shallow gives fewer per
// type, for the fields of input objects (filters have hundreds of them).
func (w *sweepWorld) malformed(sc sweepSchema, name string, r *introRef, depth int) []labeled {
	shallow := depth > 0
	switch r.Kind {
	case "NON_NULL":
		out := []labeled{{"null for non-null", nil}}
		for _, m := range w.malformed(sc, name, r.OfType, depth) {
			if m.v != nil {
				out = append(out, m)
			}
		}
		return out
	case "LIST":
		var out []labeled
		if r.OfType.Kind == "NON_NULL" {
			out = append(out, labeled{"list with a null", []any{nil}})
		}
		many := make([]any, 1000)
		for i := range many {
			many[i] = w.filler(sc, name, r.OfType, depth)
		}
		out = append(out, labeled{"1000 elements", many})
		for _, m := range w.malformed(sc, name, r.OfType, depth) {
			if m.v != nil {
				out = append(out, labeled{"[" + m.label + "]", []any{m.v}})
			}
		}
		return out
	}
	ty := sc.types[r.Name]
	switch ty.Kind {
	case "ENUM":
		out := []labeled{{"unknown enum value", "EXPLODED"}, {"enum as number", 1}}
		if !shallow {
			out = append(out, labeled{"empty enum", ""}, labeled{"lower-case enum", strings.ToLower(ty.EnumValues[0].Name)})
		}
		return out
	case "INPUT_OBJECT":
		out := []labeled{{"string for an object", "not an object"}, {"unknown input field", map[string]any{"noSuchField": 1}}}
		if depth >= 2 {
			return out
		}
		if deep, ok := w.nested(sc, ty, 200); ok {
			out = append(out, labeled{"200 levels of nesting", deep})
		}
		// Filters have hundreds of fields of a few types: there each field
		// gets one malformed value of its type, taken in turn, so that
		// every value is still tried on some field of its type.
		turn := map[string]int{}
		for _, f := range ty.InputFields {
			values := w.malformed(sc, f.Name, f.Type, depth+1)
			if len(ty.InputFields) > 20 {
				values = values[turn[f.Type.String()]%len(values):][:1]
				turn[f.Type.String()]++
			}
			for _, m := range values {
				obj := w.filler(sc, name, r, depth).(map[string]any)
				obj[f.Name] = m.v
				out = append(out, labeled{f.Name + ": " + m.label, obj})
			}
		}
		return out
	}
	switch r.Name {
	case "ID":
		out := []labeled{{"garbage ID", "garbage"}, {"numeric ID", "42"}, {"overlong ID", w.overlong}}
		for _, id := range w.wrongTypeIDs {
			out = append(out, labeled{"ID of another type", id})
		}
		if !shallow {
			out = append(out, labeled{"empty ID", ""}, labeled{"ID with a NUL", "TK\x00"}, labeled{"ID as number", 42})
		}
		return out
	case "Cursor":
		out := []labeled{{"overlong cursor", w.overlong}}
		for _, c := range w.cursorJunks {
			out = append(out, labeled{fmt.Sprintf("malformed cursor %.40q", c), c})
		}
		return out
	case "Int":
		out := []labeled{{"negative", -1}, {"huge int", int64(1) << 62}, {"beyond int64", json.Number("99999999999999999999999")}}
		if !shallow {
			out = append(out, labeled{"beyond int32", int64(1) << 31}, labeled{"fraction", 1.5}, labeled{"int as string", "1"}, labeled{"min int64", int64(-1) << 63})
		}
		return out
	case "Float":
		return []labeled{{"negative float", -1.5}, {"huge float", 1e308}, {"float as string", "x"}}
	case "Boolean":
		return []labeled{{"boolean as string", "yes"}}
	case "Time":
		out := []labeled{{"not a time", "not a time"}, {"year 9999", "9999-12-31T23:59:59Z"}}
		if !shallow {
			out = append(out, labeled{"year 1", "0001-01-01T00:00:00Z"}, labeled{"month 13", "2026-13-45T00:00:00Z"}, labeled{"time as number", -1})
		}
		return out
	}
	out := []labeled{{"overlong string", w.overlong}, {"string with a NUL", "a\x00b"}}
	if !shallow {
		out = append(out, labeled{"empty string", ""}, labeled{"blank string", "   "}, labeled{"string as number", 1})
	}
	return out
}

// nested builds an input object nested levels deep through a field that
// holds the same type (and:, not:, hasTicketsWith: …), if it has one.
func (w *sweepWorld) nested(sc sweepSchema, ty introType, levels int) (any, bool) {
	for _, f := range ty.InputFields {
		named := f.Type.named()
		if named.Name != ty.Name {
			continue
		}
		list := f.Type.Kind == "LIST" || (f.Type.Kind == "NON_NULL" && f.Type.OfType.Kind == "LIST")
		var v any = map[string]any{}
		for range levels {
			if list {
				v = map[string]any{f.Name: []any{v}}
			} else {
				v = map[string]any{f.Name: v}
			}
		}
		return v, true
	}
	return nil, false
}

func (w *sweepWorld) cases(sc sweepSchema) []malformedCase {
	var out []malformedCase
	for _, op := range []string{"query", "mutation", "subscription"} {
		for _, f := range sc.roots[op] {
			for i, a := range f.Args {
				for _, m := range w.malformed(sc, a.Name, a.Type, 0) {
					vars := map[string]any{}
					for j, other := range f.Args {
						if j != i && other.Type.Kind == "NON_NULL" && other.DefaultValue == nil {
							vars[other.Name] = w.filler(sc, other.Name, other.Type, 0)
						}
					}
					vars[a.Name] = m.v
					c := malformedCase{op: op, field: f.Name, label: a.Name + ": " + m.label, args: f.Args, vars: vars, ret: f.Type}
					out = append(out, c)
					// A cursor's value is compared with the order's column:
					// malformed cursors are also tried with each order.
					if a.Type.named().Name != "Cursor" {
						continue
					}
					for _, order := range f.Args {
						if order.Name != "orderBy" {
							continue
						}
						for _, field := range w.orderFields(sc, order.Type) {
							o := c
							o.vars = map[string]any{"orderBy": field}
							for k, v := range c.vars {
								o.vars[k] = v
							}
							o.label += fmt.Sprintf(", orderBy %v", field)
							out = append(out, o)
						}
					}
				}
			}
		}
	}
	return out
}

// orderFields lists an orderBy argument's values, one per order field.
func (w *sweepWorld) orderFields(sc sweepSchema, r *introRef) []any {
	order := sc.types[r.named().Name]
	var out []any
	for _, f := range order.InputFields {
		if f.Name != "field" {
			continue
		}
		for _, v := range sc.types[f.Type.named().Name].EnumValues {
			var o any = map[string]any{"field": v.Name}
			if r.Kind == "LIST" || (r.Kind == "NON_NULL" && r.OfType.Kind == "LIST") {
				o = []any{o}
			}
			out = append(out, o)
		}
	}
	return out
}

func setupSweep(t *testing.T, tg dbtest.Target) *sweepWorld {
	t.Helper()
	harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
	s := harness.Start(t, tg, nil)
	w := &sweepWorld{s: s, tokens: map[string]string{}, overlong: strings.Repeat("x", 70000)}
	w.tokens["admin"] = harness.Login(t, s, "admin@example.com", "amber canyon whistle")
	agent := harness.Str(s.Do(t, w.tokens["admin"], `mutation { inviteUser(input: {email: "agent@example.com", name: "Agent", role: AGENT, password: "copper fox meadow 77"}) { id } }`, nil).OK(t), "inviteUser", "id")
	w.tokens["agent"] = harness.Login(t, s, "agent@example.com", "copper fox meadow 77")
	w.tokens["customer"], w.user = harness.Signup(t, s, "customer@example.com", "Customer")
	w.group = harness.Str(s.Do(t, w.tokens["admin"], `mutation($m: [ID!]) { createGroup(input: {name: "Support", memberIDs: $m}) { id } }`, map[string]any{"m": []string{agent}}).OK(t), "createGroup", "id")
	w.sla = harness.Str(s.Do(t, w.tokens["admin"], `mutation { createSLAPolicy(input: {priority: NORMAL, firstResponseMinutes: 60, resolutionMinutes: 480}) { id } }`, nil).OK(t), "createSLAPolicy", "id")
	w.ticket = harness.Str(s.Do(t, w.tokens["admin"], harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Printer on fire", "body": "It is burning", "requesterID": w.user, "groupID": w.group}}).OK(t), "createTicket", "id")
	w.cursor = harness.Str(s.Do(t, w.tokens["admin"], `{ tickets(first: 1) { edges { cursor } } }`, nil).OK(t), "tickets", "edges", 0, "cursor")
	w.wrongTypeIDs = []any{w.ticket, w.group, w.user, w.sla}
	w.cursorJunks = []any{"", "!!!", "gqFp", "kqFpAQ", "AAAA", "gaFp", "____", w.cursor[:len(w.cursor)/2], w.cursor + "AA", "Cursor as number is wrong"}
	for _, v := range []any{
		map[string]any{"i": 42}, map[string]any{"i": "garbage"}, map[string]any{"i": nil}, map[string]any{"i": w.group},
		map[string]any{"i": w.ticket, "v": "garbage"}, map[string]any{"i": w.ticket, "v": map[string]any{"x": 1}},
		map[string]any{"i": w.ticket, "v": 1e300}, map[string]any{"i": w.ticket, "v": []any{1, "x"}},
		[]any{1, 2}, "just a string", int64(-1), map[string]any{"i": w.ticket, "v": strings.Repeat("é", 1000)},
	} {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		w.cursorJunks = append(w.cursorJunks, base64.RawStdEncoding.EncodeToString(b))
	}
	return w
}

// faultOf says what is wrong with an answer to malformed input: a server
// fault (INTERNAL, UNAVAILABLE, 5xx); "" when the answer is the client's.
func faultOf(status int, errs []harness.GQLError) string {
	if status >= 500 {
		return fmt.Sprintf("HTTP %d %s", status, jsonOf(errs))
	}
	for _, e := range errs {
		if c := e.Extensions["code"]; c == "INTERNAL" || c == "UNAVAILABLE" || c == nil {
			return fmt.Sprintf("%v: %s", c, e.Message)
		}
	}
	return ""
}

func TestMalformedInputIsNeverAServerFault(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		w := setupSweep(t, tg)
		sc := introspectForSweep(t, w.s)
		cases := w.cases(sc)
		t.Logf("%d malformed calls per caller", len(cases))
		for _, role := range []string{"admin", "agent", "customer"} {
			t.Run("as "+role, func(t *testing.T) {
				var (
					mu     sync.Mutex
					faults = map[string][]string{}
					next   = make(chan malformedCase)
					wg     sync.WaitGroup
				)
				for range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for c := range next {
							fault := w.call(sc, c, w.tokens[role])
							if fault != "" {
								mu.Lock()
								key := c.op + " " + c.field
								faults[key] = append(faults[key], c.label+" → "+fault)
								mu.Unlock()
							}
						}
					}()
				}
				for _, c := range cases {
					next <- c
				}
				close(next)
				wg.Wait()
				keys := make([]string, 0, len(faults))
				for k := range faults {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					sort.Strings(faults[k])
					t.Errorf("%s: %d malformed calls answered as a server fault:\n  %s", k, len(faults[k]), strings.Join(faults[k], "\n  "))
				}
			})
		}
	})
}

// call runs one case and returns its fault ("" when none). Subscriptions
// run over server-sent events; one still open after a moment accepted its
// arguments, which is no fault.
func (w *sweepWorld) call(sc sweepSchema, c malformedCase, token string) string {
	body, err := json.Marshal(map[string]any{"query": c.document(sc), "variables": c.vars})
	if err != nil {
		return "cannot encode: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.op == "subscription" {
		ctx, cancel = context.WithTimeout(ctx, time.Second)
		defer cancel()
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if c.op == "subscription" {
		req.Header.Set("Accept", "text/event-stream")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		if c.op == "subscription" && ctx.Err() != nil {
			return ""
		}
		return "request failed: " + err.Error()
	}
	defer res.Body.Close()
	var r harness.Response
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Sprintf("HTTP %d, body not JSON: %.200s", res.StatusCode, raw)
		}
		return faultOf(res.StatusCode, r.Errors)
	}
	sc2 := bufio.NewScanner(res.Body)
	sc2.Buffer(make([]byte, 1<<20), 1<<20)
	for sc2.Scan() {
		if line, ok := strings.CutPrefix(sc2.Text(), "data: "); ok && line != "" {
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return "event stream data not JSON: " + line
			}
			return faultOf(res.StatusCode, r.Errors)
		}
	}
	return ""
}
