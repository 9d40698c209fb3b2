package live

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/tags"
)

// Filter narrows a subscription to one ticket, one group, or the tickets
// matching the list query's filter (Where).
type Filter struct {
	TicketID globalid.ID
	GroupID  globalid.ID
	Where    *ent.TicketWhereInput

	// key identifies the filter among the subscribers of an event, so
	// that each distinct filter is evaluated once per event; match is
	// Where compiled (nil: no Where).
	key   string
	match func(*ent.Ticket) truth
}

// compile checks the filter and prepares its evaluation for the SQL
// dialect the tickets live in (their LIKE and lower() differ).
func (f *Filter) compile(dialectName string) error {
	where, err := json.Marshal(f.Where)
	if err != nil {
		return err
	}
	f.key = string(f.TicketID) + "\x00" + string(f.GroupID) + "\x00" + string(where)
	if f.Where == nil {
		return nil
	}
	// The same refusals as tickets(where:), so that the live list is of
	// the same rows.
	if _, err := f.Where.P(); err != nil && err != ent.ErrEmptyTicketWhereInput {
		return apierr.Invalid("where", "where has an empty filter inside not, and or or")
	}
	m, err := compileWhere(reflect.ValueOf(f.Where).Elem(), dialectName, "where")
	if err != nil {
		return err
	}
	f.match = m
	return nil
}

// Matches reports whether the ticket t passes the filter, exactly as the
// SQL of tickets(where:) would have it (a NULL compared is no match).
func (f *Filter) Matches(t *ent.Ticket) bool {
	if t == nil {
		return false
	}
	if f.TicketID != "" && t.ID != f.TicketID {
		return false
	}
	if f.GroupID != "" && (t.GroupID == nil || *t.GroupID != f.GroupID) {
		return false
	}
	return f.match == nil || f.match(t) == yes
}

// CompileWhere returns the in-memory form of w, for the tickets of a
// database of the dialect (dialect.SQLite or dialect.Postgres): it agrees
// with w.P() run as SQL (TestWhereAgreesWithSQL). Filters on related rows
// (has…With) are refused, since those rows change without ticket events.
func CompileWhere(w *ent.TicketWhereInput, dialectName string) (func(*ent.Ticket) bool, error) {
	f := Filter{Where: w}
	if err := f.compile(dialectName); err != nil {
		return nil, err
	}
	return f.Matches, nil
}

// truth is SQL's three-valued logic: a comparison with NULL is unknown,
// NOT unknown is unknown, and only rows whose filter is yes are listed.
type truth int8

const (
	no truth = iota
	unknown
	yes
)

func not(t truth) truth { return yes - t }

func and(ms []func(*ent.Ticket) truth) func(*ent.Ticket) truth {
	return func(t *ent.Ticket) truth {
		out := yes
		for _, m := range ms {
			out = min(out, m(t))
			if out == no {
				return no
			}
		}
		return out
	}
}

func or(ms []func(*ent.Ticket) truth) func(*ent.Ticket) truth {
	return func(t *ent.Ticket) truth {
		out := no
		for _, m := range ms {
			out = max(out, m(t))
			if out == yes {
				return yes
			}
		}
		return out
	}
}

// operators are the suffixes entgql gives a field's predicates, longest
// first so that NotIn is not read as In.
var operators = []string{"ContainsFold", "EqualFold", "HasPrefix", "HasSuffix", "Contains", "NotNil", "NotIn", "IsNil", "NEQ", "GTE", "LTE", "GT", "LT", "In", ""}

var ticketType = reflect.TypeOf(ent.Ticket{})

// compileWhere compiles the fields of one TicketWhereInput (w, a struct),
// ANDed together as P() does.
func compileWhere(w reflect.Value, dialectName, path string) (func(*ent.Ticket) truth, error) {
	var ms []func(*ent.Ticket) truth
	for i := 0; i < w.NumField(); i++ {
		sf, v := w.Type().Field(i), w.Field(i)
		if v.IsZero() || v.Kind() == reflect.Slice && v.Len() == 0 {
			continue
		}
		name := strings.Split(sf.Tag.Get("json"), ",")[0]
		switch sf.Name {
		case "Predicates":
			return nil, fmt.Errorf("live filters take GraphQL input only")
		case "Not":
			m, err := compileWhere(v.Elem(), dialectName, path+".not")
			if err != nil {
				return nil, err
			}
			ms = append(ms, func(t *ent.Ticket) truth { return not(m(t)) })
			continue
		case "Or", "And":
			subs := make([]func(*ent.Ticket) truth, v.Len())
			for j := range subs {
				m, err := compileWhere(v.Index(j).Elem(), dialectName, fmt.Sprintf("%s.%s[%d]", path, name, j))
				if err != nil {
					return nil, err
				}
				subs[j] = m
			}
			if sf.Name == "Or" {
				ms = append(ms, or(subs))
			} else {
				ms = append(ms, and(subs))
			}
			continue
		case "HasRequester", "HasAssignee", "HasGroup":
			want := v.Elem().Bool()
			get := map[string]func(*ent.Ticket) bool{
				"HasRequester": func(t *ent.Ticket) bool { return t.RequesterID != "" },
				"HasAssignee":  func(t *ent.Ticket) bool { return t.AssigneeID != nil },
				"HasGroup":     func(t *ent.Ticket) bool { return t.GroupID != nil },
			}[sf.Name]
			ms = append(ms, func(t *ent.Ticket) truth { return of(get(t) == want) })
			continue
		case "HasTag":
			tag := v.Elem().String()
			ms = append(ms, func(t *ent.Ticket) truth { return of(tags.Has(t.Tags, tag)) })
			continue
		case "HasAnyTag":
			list := v.Elem().Interface().([]string)
			ms = append(ms, func(t *ent.Ticket) truth { return of(tags.HasAny(t.Tags, list)) })
			continue
		case "HasAllTags":
			list := v.Elem().Interface().([]string)
			ms = append(ms, func(t *ent.Ticket) truth { return of(tags.HasAll(t.Tags, list)) })
			continue
		}
		if strings.HasPrefix(sf.Name, "Has") {
			return nil, apierr.Invalid(path+"."+name, "live lists cannot filter on related rows (%s): those rows change without ticket events; filter on the ticket's own fields", name)
		}
		m, err := compilePredicate(sf.Name, v, dialectName)
		if err != nil {
			e := apierr.Wrap(apierr.BadUserInput, err, "%s cannot be followed live: %v", name, err)
			e.Field = path + "." + name
			return nil, e
		}
		ms = append(ms, m)
	}
	return and(ms), nil
}

func of(b bool) truth {
	if b {
		return yes
	}
	return no
}

// compilePredicate compiles one field predicate, such as SubjectContains
// or AssigneeIDIsNil, whose argument is arg.
func compilePredicate(name string, arg reflect.Value, dialectName string) (func(*ent.Ticket) truth, error) {
	var op, base string
	for _, o := range operators {
		if strings.HasSuffix(name, o) {
			if _, ok := ticketType.FieldByName(strings.TrimSuffix(name, o)); ok {
				op, base = o, strings.TrimSuffix(name, o)
				break
			}
		}
	}
	if base == "" {
		return nil, fmt.Errorf("unknown predicate %s", name)
	}
	field, _ := ticketType.FieldByName(base)
	get := func(t *ent.Ticket) (any, bool) {
		v := reflect.ValueOf(t).Elem().FieldByIndex(field.Index)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil, false
			}
			v = v.Elem()
		}
		return v.Interface(), true
	}
	switch op {
	case "IsNil", "NotNil":
		want := op == "NotNil"
		return func(t *ent.Ticket) truth { _, set := get(t); return of(set == want) }, nil
	case "In", "NotIn":
		vals := make([]any, arg.Len())
		for i := range vals {
			vals[i] = arg.Index(i).Interface()
		}
		in := op == "In"
		return func(t *ent.Ticket) truth {
			x, set := get(t)
			if !set {
				return unknown
			}
			for _, v := range vals {
				if compare(x, v) == 0 {
					return of(in)
				}
			}
			return of(!in)
		}, nil
	}
	want := arg.Elem().Interface()
	test, err := comparison(op, want, dialectName)
	if err != nil {
		return nil, err
	}
	return func(t *ent.Ticket) truth {
		x, set := get(t)
		if !set {
			return unknown
		}
		return of(test(x))
	}, nil
}

// comparison returns the test of a field's value against want.
func comparison(op string, want any, dialectName string) (func(x any) bool, error) {
	switch op {
	case "":
		return func(x any) bool { return compare(x, want) == 0 }, nil
	case "NEQ":
		return func(x any) bool { return compare(x, want) != 0 }, nil
	case "GT":
		return func(x any) bool { return compare(x, want) > 0 }, nil
	case "GTE":
		return func(x any) bool { return compare(x, want) >= 0 }, nil
	case "LT":
		return func(x any) bool { return compare(x, want) < 0 }, nil
	case "LTE":
		return func(x any) bool { return compare(x, want) <= 0 }, nil
	}
	w := text(want)
	// SQLite's LIKE ignores the case of ASCII letters, PostgreSQL's does
	// not; the fold predicates lower the argument as Go does, and the
	// column as the database does (SQLite: ASCII letters only).
	sqlite := dialectName == dialect.SQLite
	like := func(x, w string, test func(string, string) bool) bool {
		if sqlite {
			return test(asciiLower(x), asciiLower(w))
		}
		return test(x, w)
	}
	lowerColumn := strings.ToLower
	if sqlite {
		lowerColumn = asciiLower
	}
	switch op {
	case "Contains":
		return func(x any) bool { return like(text(x), w, strings.Contains) }, nil
	case "HasPrefix":
		return func(x any) bool { return like(text(x), w, strings.HasPrefix) }, nil
	case "HasSuffix":
		return func(x any) bool { return like(text(x), w, strings.HasSuffix) }, nil
	case "EqualFold":
		lw := strings.ToLower(w)
		if sqlite {
			return func(x any) bool { return asciiLower(text(x)) == lw }, nil
		}
		// ILIKE: case-insensitive on both sides.
		return func(x any) bool { return strings.EqualFold(text(x), w) }, nil
	case "ContainsFold":
		lw := strings.ToLower(w)
		if sqlite {
			// LOWER(column) LIKE lower(argument), LIKE folding ASCII again.
			return func(x any) bool { return strings.Contains(asciiLower(lowerColumn(text(x))), asciiLower(lw)) }, nil
		}
		return func(x any) bool { return strings.Contains(strings.ToLower(text(x)), lw) }, nil
	}
	return nil, fmt.Errorf("unknown operator %q", op)
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// text is a string-like value (string, ID, enum) as a string.
func text(v any) string { return reflect.ValueOf(v).String() }

// compare orders two values of a field: strings by their bytes (the
// C collation), numbers by value, times as instants.
func compare(a, b any) int {
	if ta, ok := a.(time.Time); ok {
		return ta.Compare(b.(time.Time))
	}
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	switch ra.Kind() {
	case reflect.String:
		return strings.Compare(ra.String(), rb.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, y := ra.Int(), rb.Int()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("live: cannot compare %T", a))
}
