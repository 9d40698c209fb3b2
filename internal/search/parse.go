package search

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	entschema "github.com/switchboardhq/switchboard/ent/schema"
)

// Field is the key of a filter term (status:, tag:, ...); text terms have
// none.
type Field string

// The filters of the query language (docs/search.md).
const (
	FieldText      Field = ""
	FieldStatus    Field = "status"
	FieldPriority  Field = "priority"
	FieldAssignee  Field = "assignee"
	FieldGroup     Field = "group"
	FieldRequester Field = "requester"
	FieldTag       Field = "tag"
	FieldCreated   Field = "created"
	FieldUpdated   Field = "updated"
	FieldIs        Field = "is"
	FieldHas       Field = "has"
	FieldFilename  Field = "filename"
	FieldSort      Field = "sort"
)

// fieldNames lists the filters in the order error messages name them.
var fieldNames = []Field{FieldStatus, FieldPriority, FieldAssignee, FieldGroup, FieldRequester, FieldTag, FieldCreated, FieldUpdated, FieldIs, FieldHas, FieldFilename, FieldSort}

// Sort is the order of the results.
type Sort string

// The orders: relevance (the default; newest first when there are no
// words to rank by), newest and oldest in creation order (ticket number).
const (
	SortRelevance Sort = "relevance"
	SortNewest    Sort = "newest"
	SortOldest    Sort = "oldest"
)

// Op compares a date filter with its value.
type Op string

// The date comparisons. With a day (YYYY-MM-DD, UTC): > after the day, >=
// on or after it, < before it, <= on or before it, none: on that day. With
// an age (7d): < and none mean less than that long ago (within the last 7
// days), <= the same including the boundary, > and >= more than that long
// ago.
const (
	OpOn Op = ""
	OpGT Op = ">"
	OpGE Op = ">="
	OpLT Op = "<"
	OpLE Op = "<="
)

// Date is the value of created: or updated:, a day or an age.
type Date struct {
	// Day is midnight UTC of a YYYY-MM-DD value.
	Day time.Time
	// Age is set for a relative value (7d, 12h, 2w).
	Age time.Duration
}

// Term is one element of a query, with where it starts.
type Term struct {
	// Pos is the 1-based character position where the term starts (at
	// its "-" when negated).
	Pos     int
	Negated bool
	Field   Field
	// Text is the word or phrase of a text term.
	Text   string
	Phrase bool
	// Values of a filter: lower-cased keywords (open, me, none, breached,
	// attachment) or names, emails, tags and parts of file names as
	// written (emails lower-cased).
	Values []string
	// Op and Date are set for created: and updated:.
	Op   Op
	Date Date
}

// Query is a parsed search query.
type Query struct {
	Terms []Term
	Sort  Sort
}

// ParseError is a malformed query: where, and what was expected there.
type ParseError struct {
	// Pos is the 1-based character position of the problem.
	Pos int
	Msg string
}

func (e *ParseError) Error() string { return fmt.Sprintf("at %d: %s", e.Pos, e.Msg) }

var (
	statusValues   = []string{"new", "open", "pending", "solved", "closed"}
	priorityValues = []string{"low", "normal", "high", "urgent"}
	isValues       = []string{"unassigned", "breached"}
	hasValues      = []string{"attachment"}
	sortValues     = []string{string(SortRelevance), string(SortNewest), string(SortOldest)}
)

// maxAge bounds relative dates (about 100 years) so durations never overflow.
const maxAge = 100 * 366 * 24 * time.Hour

// Parse turns a query string into terms. Positions count characters
// (runes) from 1.
func Parse(input string) (*Query, error) {
	p := &parser{in: []rune(input)}
	q := &Query{Sort: SortRelevance}
	sortSeen := false
	for {
		p.skipSpace()
		if p.eof() {
			return q, nil
		}
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		if t.Field == FieldSort {
			if sortSeen {
				return nil, &ParseError{Pos: t.Pos, Msg: "expected at most one sort: (sort is already given)"}
			}
			sortSeen = true
			q.Sort = Sort(t.Values[0])
			continue
		}
		q.Terms = append(q.Terms, t)
	}
}

type parser struct {
	in  []rune
	pos int // index into in (0-based)
}

func (p *parser) eof() bool { return p.pos >= len(p.in) }

func (p *parser) skipSpace() {
	for !p.eof() && unicode.IsSpace(p.in[p.pos]) {
		p.pos++
	}
}

func (p *parser) atSpaceOrEnd() bool { return p.eof() || unicode.IsSpace(p.in[p.pos]) }

// errAt reports a problem at the 0-based index i.
func errAt(i int, format string, args ...any) error {
	return &ParseError{Pos: i + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) term() (Term, error) {
	t := Term{Pos: p.pos + 1}
	if p.in[p.pos] == '-' {
		t.Negated = true
		p.pos++
		if p.atSpaceOrEnd() {
			return t, errAt(p.pos, `expected a word, "phrase" or filter after "-"`)
		}
	}
	if p.in[p.pos] == '"' {
		text, err := p.quoted()
		if err != nil {
			return t, err
		}
		t.Text, t.Phrase = text, true
		return t, nil
	}
	// A filter is a known name made of letters followed by ':'.
	start := p.pos
	i := p.pos
	for i < len(p.in) && (unicode.IsLetter(p.in[i])) {
		i++
	}
	if i > start && i < len(p.in) && p.in[i] == ':' {
		name := Field(strings.ToLower(string(p.in[start:i])))
		if !knownField(name) {
			return t, errAt(start, "unknown filter %q; expected one of %s (put text with a colon in quotes)", string(p.in[start:i+1]), fieldList())
		}
		p.pos = i + 1
		t.Field = name
		if t.Negated && name == FieldSort {
			return t, errAt(t.Pos-1, `expected a word, "phrase" or filter after "-" (sort cannot be negated)`)
		}
		return t, p.filterValue(&t)
	}
	for !p.atSpaceOrEnd() {
		p.pos++
	}
	t.Text = string(p.in[start:p.pos])
	return t, nil
}

func knownField(f Field) bool {
	for _, n := range fieldNames {
		if n == f {
			return true
		}
	}
	return false
}

func fieldList() string {
	names := make([]string, len(fieldNames))
	for i, n := range fieldNames {
		names[i] = string(n) + ":"
	}
	return strings.Join(names, ", ")
}

// quoted reads a "..." string starting at the opening quote.
func (p *parser) quoted() (string, error) {
	open := p.pos
	p.pos++
	start := p.pos
	for !p.eof() && p.in[p.pos] != '"' {
		p.pos++
	}
	if p.eof() {
		return "", errAt(open, `expected a closing " for the quote opened here`)
	}
	text := string(p.in[start:p.pos])
	p.pos++
	if strings.TrimSpace(text) == "" {
		return "", errAt(open, "expected text between the quotes")
	}
	if !p.atSpaceOrEnd() {
		return "", errAt(p.pos, `expected a space after the closing "`)
	}
	return text, nil
}

// rawValue is one comma-separated item of a filter's value and where it starts.
type rawValue struct {
	pos  int // 0-based
	text string
}

// values reads a filter's value: a quoted string (one item) or a bare
// word split at commas.
func (p *parser) values() ([]rawValue, error) {
	if !p.eof() && p.in[p.pos] == '"' {
		start := p.pos + 1
		text, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return []rawValue{{pos: start, text: text}}, nil
	}
	var out []rawValue
	itemStart := p.pos
	for {
		if p.atSpaceOrEnd() || p.in[p.pos] == ',' {
			out = append(out, rawValue{pos: itemStart, text: string(p.in[itemStart:p.pos])})
			if p.atSpaceOrEnd() {
				return out, nil
			}
			p.pos++
			itemStart = p.pos
			continue
		}
		p.pos++
	}
}

func (p *parser) filterValue(t *Term) error {
	after := fmt.Sprintf("%q", string(t.Field)+":")
	switch t.Field {
	case FieldCreated, FieldUpdated:
		return p.dateValue(t)
	}
	items, err := p.values()
	if err != nil {
		return err
	}
	for _, it := range items {
		v := strings.TrimSpace(it.text)
		var expected string
		switch t.Field {
		case FieldStatus:
			v, expected = oneOf(v, statusValues, "a status")
		case FieldPriority:
			v, expected = oneOf(v, priorityValues, "a priority")
		case FieldIs:
			v, expected = oneOf(v, isValues, "a state")
		case FieldHas:
			v, expected = oneOf(v, hasValues, "what the ticket has")
		case FieldFilename:
			// As written: the database folds case (see filenameMatch).
			switch {
			case v == "":
				expected = "a file name or part of one (in quotes if it has spaces)"
			case len(v) > entschema.MaxFilenameLen:
				return errAt(it.pos, "expected a file name of at most %d bytes after %s (no file name is longer)", entschema.MaxFilenameLen, after)
			}
		case FieldSort:
			v, expected = oneOf(v, sortValues, "an order")
		case FieldAssignee, FieldRequester:
			v = strings.ToLower(v)
			if v != "me" && v != "none" && !strings.Contains(v, "@") || t.Field == FieldRequester && v == "none" {
				expected = "me, none or an email address"
				if t.Field == FieldRequester {
					expected = "me or an email address"
				}
			}
		case FieldGroup:
			if v == "" {
				expected = "a group name (in quotes if it has spaces) or none"
			}
		case FieldTag:
			if v == "" {
				expected = "a tag"
			}
		}
		if expected != "" {
			return errAt(it.pos, "expected %s after %s", expected, after)
		}
		t.Values = append(t.Values, v)
	}
	if (t.Field == FieldIs || t.Field == FieldHas || t.Field == FieldSort) && len(t.Values) > 1 {
		return errAt(items[1].pos-1, "expected one value after %s, not a list", after)
	}
	return nil
}

// oneOf matches v case-insensitively against allowed; on failure it
// returns what was expected.
func oneOf(v string, allowed []string, what string) (string, string) {
	v = strings.ToLower(v)
	for _, a := range allowed {
		if v == a {
			return v, ""
		}
	}
	return v, what + " (" + strings.Join(allowed, ", ") + ")"
}

func (p *parser) dateValue(t *Term) error {
	for _, op := range []Op{OpGE, OpLE, OpGT, OpLT} {
		if strings.HasPrefix(string(p.in[p.pos:]), string(op)) {
			t.Op = op
			p.pos += len(op)
			break
		}
	}
	start := p.pos
	for !p.atSpaceOrEnd() {
		p.pos++
	}
	v := string(p.in[start:p.pos])
	expected := func() error {
		return errAt(start, "expected a date (YYYY-MM-DD) or an age (7d, 12h, 2w) after %q", string(t.Field)+":"+string(t.Op))
	}
	if v == "" {
		return expected()
	}
	if day, err := time.Parse("2006-01-02", v); err == nil {
		t.Date.Day = day
		return nil
	}
	unit := map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[v[len(v)-1]|0x20]
	n, err := strconv.Atoi(v[:len(v)-1])
	if unit == 0 || err != nil || n < 1 || v[0] == '+' {
		return expected()
	}
	if time.Duration(n) > maxAge/unit {
		return errAt(start, "expected an age of at most 100 years after %q", string(t.Field)+":"+string(t.Op))
	}
	t.Date.Age = time.Duration(n) * unit
	return nil
}
