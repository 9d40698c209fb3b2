package search

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func day(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Term
		sort     Sort
	}{
		{"Empty", "", nil, SortRelevance},
		{"OnlySpaces", " \t\n ", nil, SortRelevance},
		{"Words", "printer  fire", []Term{{Pos: 1, Text: "printer"}, {Pos: 10, Text: "fire"}}, SortRelevance},
		{"Phrase", `"office printer" x`, []Term{{Pos: 1, Text: "office printer", Phrase: true}, {Pos: 18, Text: "x"}}, SortRelevance},
		{"NegatedWordAndPhrase", `-refund -"late fee"`, []Term{{Pos: 1, Negated: true, Text: "refund"}, {Pos: 9, Negated: true, Text: "late fee", Phrase: true}}, SortRelevance},
		{"WordWithPunctuationAndDigitsColon", "e-mail 10:30", []Term{{Pos: 1, Text: "e-mail"}, {Pos: 8, Text: "10:30"}}, SortRelevance},
		{"UnicodeWordsCountCharacters", "café status:open", []Term{{Pos: 1, Text: "café"}, {Pos: 6, Field: FieldStatus, Values: []string{"open"}}}, SortRelevance},
		{"Status", "status:open", []Term{{Pos: 1, Field: FieldStatus, Values: []string{"open"}}}, SortRelevance},
		{"StatusListCaseInsensitive", "Status:OPEN,Pending", []Term{{Pos: 1, Field: FieldStatus, Values: []string{"open", "pending"}}}, SortRelevance},
		{"NegatedStatus", "-status:closed", []Term{{Pos: 1, Negated: true, Field: FieldStatus, Values: []string{"closed"}}}, SortRelevance},
		{"Priority", "priority:high,urgent", []Term{{Pos: 1, Field: FieldPriority, Values: []string{"high", "urgent"}}}, SortRelevance},
		{"AssigneeMeNoneEmail", "assignee:me,none,Ann@X.org", []Term{{Pos: 1, Field: FieldAssignee, Values: []string{"me", "none", "ann@x.org"}}}, SortRelevance},
		{"GroupQuoted", `group:"Billing EU"`, []Term{{Pos: 1, Field: FieldGroup, Values: []string{"Billing EU"}}}, SortRelevance},
		{"GroupList", `group:Billing,Sales`, []Term{{Pos: 1, Field: FieldGroup, Values: []string{"Billing", "Sales"}}}, SortRelevance},
		{"Requester", "requester:me requester:bob@example.com", []Term{{Pos: 1, Field: FieldRequester, Values: []string{"me"}}, {Pos: 14, Field: FieldRequester, Values: []string{"bob@example.com"}}}, SortRelevance},
		{"Tag", "tag:refund,VIP", []Term{{Pos: 1, Field: FieldTag, Values: []string{"refund", "VIP"}}}, SortRelevance},
		{"CreatedAfterDay", "created:>2026-01-01", []Term{{Pos: 1, Field: FieldCreated, Op: OpGT, Date: Date{Day: day("2026-01-01")}}}, SortRelevance},
		{"CreatedOnOrBefore", "created:<=2026-02-28", []Term{{Pos: 1, Field: FieldCreated, Op: OpLE, Date: Date{Day: day("2026-02-28")}}}, SortRelevance},
		{"CreatedOnDay", "created:2026-03-01", []Term{{Pos: 1, Field: FieldCreated, Date: Date{Day: day("2026-03-01")}}}, SortRelevance},
		{"UpdatedWithinDays", "updated:<7d", []Term{{Pos: 1, Field: FieldUpdated, Op: OpLT, Date: Date{Age: 7 * 24 * time.Hour}}}, SortRelevance},
		{"UpdatedHoursWeeks", "updated:>=12h created:>2W", []Term{
			{Pos: 1, Field: FieldUpdated, Op: OpGE, Date: Date{Age: 12 * time.Hour}},
			{Pos: 15, Field: FieldCreated, Op: OpGT, Date: Date{Age: 14 * 24 * time.Hour}}}, SortRelevance},
		{"IsUnassignedBreached", "is:unassigned -is:breached", []Term{{Pos: 1, Field: FieldIs, Values: []string{"unassigned"}}, {Pos: 15, Negated: true, Field: FieldIs, Values: []string{"breached"}}}, SortRelevance},
		{"HasAttachment", "has:attachment -HAS:Attachment", []Term{{Pos: 1, Field: FieldHas, Values: []string{"attachment"}}, {Pos: 16, Negated: true, Field: FieldHas, Values: []string{"attachment"}}}, SortRelevance},
		{"FilenameAsWritten", "filename:Report_%", []Term{{Pos: 1, Field: FieldFilename, Values: []string{"Report_%"}}}, SortRelevance},
		{"FilenameQuoted", `-filename:"annual report" x`, []Term{{Pos: 1, Negated: true, Field: FieldFilename, Values: []string{"annual report"}}, {Pos: 27, Text: "x"}}, SortRelevance},
		{"FilenameList", "filename:pdf,Scan", []Term{{Pos: 1, Field: FieldFilename, Values: []string{"pdf", "Scan"}}}, SortRelevance},
		{"FilenameQuotedComma", `filename:"a,b"`, []Term{{Pos: 1, Field: FieldFilename, Values: []string{"a,b"}}}, SortRelevance},
		{"FilenameLongest", "filename:" + strings.Repeat("é", 127) + "x", []Term{{Pos: 1, Field: FieldFilename, Values: []string{strings.Repeat("é", 127) + "x"}}}, SortRelevance},
		{"SortNewest", "printer sort:newest", []Term{{Pos: 1, Text: "printer"}}, SortNewest},
		{"SortOldest", "sort:OLDEST", nil, SortOldest},
		{"SortRelevance", "sort:relevance", nil, SortRelevance},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(q.Terms, tc.want) || q.Sort != tc.sort {
				t.Fatalf("Parse(%q)\n got %+v sort %s\nwant %+v sort %s", tc.in, q.Terms, q.Sort, tc.want, tc.sort)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		pos      int
		msg      string
	}{
		{"ErrDateMissing", "status:open created:>", 22, `expected a date (YYYY-MM-DD) or an age (7d, 12h, 2w) after "created:>"`},
		{"ErrDateMalformed", "created:2026-13-01", 9, `expected a date (YYYY-MM-DD) or an age (7d, 12h, 2w) after "created:"`},
		{"ErrAgeUnit", "updated:<7y", 10, `expected a date`},
		{"ErrAgeNegative", "updated:-7d", 9, `expected a date`},
		{"ErrAgeZero", "updated:0d", 9, `expected a date`},
		{"ErrAgePlusSign", "updated:+7d", 9, `expected a date`},
		{"ErrAgeTooLarge", "updated:<99999999w", 10, `at most 100 years`},
		{"ErrUnknownFilter", "printer stauts:open", 9, `unknown filter "stauts:"; expected one of status:, priority:`},
		{"ErrUnknownFilterNegated", "-foo:bar", 2, `unknown filter "foo:"`},
		{"ErrStatusValue", "status:opened", 8, `expected a status (new, open, pending, solved, closed) after "status:"`},
		{"ErrStatusEmpty", "status:", 8, `expected a status`},
		{"ErrStatusListItem", "status:open,,closed", 13, `expected a status`},
		{"ErrStatusTrailingComma", "status:open,", 13, `expected a status`},
		{"ErrPriorityValue", "priority:hi", 10, `expected a priority (low, normal, high, urgent) after "priority:"`},
		{"ErrAssigneeValue", "assignee:bob", 10, `expected me, none or an email address after "assignee:"`},
		{"ErrRequesterNone", "requester:none", 11, `expected me or an email address after "requester:"`},
		{"ErrGroupEmpty", "group:", 7, `expected a group name`},
		{"ErrTagEmpty", "tag: refund", 5, `expected a tag`},
		{"ErrIsValue", "is:open", 4, `expected a state (unassigned, breached) after "is:"`},
		{"ErrIsList", "is:unassigned,breached", 14, `expected one value after "is:"`},
		{"ErrHasValue", "has:file", 5, `expected what the ticket has (attachment) after "has:"`},
		{"ErrHasEmpty", "x has:", 7, `expected what the ticket has (attachment) after "has:"`},
		{"ErrHasList", "has:attachment,attachment", 15, `expected one value after "has:"`},
		{"ErrFilenameEmpty", "printer filename:", 18, `expected a file name or part of one (in quotes if it has spaces) after "filename:"`},
		{"ErrFilenameEmptyBeforeSpace", "filename: report", 10, `expected a file name or part of one`},
		{"ErrFilenameListItem", "filename:a,,b", 12, `expected a file name or part of one`},
		{"ErrFilenameEmptyQuotes", `filename:""`, 10, `expected text between the quotes`},
		{"ErrFilenameTooLong", "x filename:" + strings.Repeat("a", 256), 12, `expected a file name of at most 255 bytes after "filename:"`},
		{"ErrFilenameTooLongInBytes", `filename:"` + strings.Repeat("é", 128) + `"`, 11, `at most 255 bytes`},
		{"ErrSortValue", "sort:best", 6, `expected an order (relevance, newest, oldest) after "sort:"`},
		{"ErrSortTwice", "sort:newest x sort:oldest", 15, `expected at most one sort:`},
		{"ErrSortNegated", "-sort:newest", 1, `sort cannot be negated`},
		{"ErrLoneMinus", "printer - fire", 10, `expected a word, "phrase" or filter after "-"`},
		{"ErrMinusAtEnd", "printer -", 10, `expected a word`},
		{"ErrUnclosedQuote", `printer "on fire`, 9, `expected a closing " for the quote opened here`},
		{"ErrUnclosedQuotedValue", `group:"Billing`, 7, `expected a closing "`},
		{"ErrEmptyQuotes", `a "  " b`, 3, `expected text between the quotes`},
		{"ErrTextAfterQuote", `"on fire"now`, 10, `expected a space after the closing "`},
		{"ErrPositionCountsCharacters", `café ünïcode status:x`, 21, `expected a status`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a ParseError", tc.in, err)
			}
			if pe.Pos != tc.pos || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("Parse(%q) = %q, want at %d: …%s…", tc.in, err, tc.pos, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "at ") {
				t.Fatalf("error %q does not start with its position", err)
			}
		})
	}
}

func TestDateRange(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	d := Date{Day: day("2026-03-01")}
	week := Date{Age: 7 * 24 * time.Hour}
	weekAgo := now.Add(-7 * 24 * time.Hour)
	for _, tc := range []struct {
		name     string
		op       Op
		date     Date
		from, to time.Time
	}{
		{"DayOn", OpOn, d, day("2026-03-01"), day("2026-03-02")},
		{"DayAfter", OpGT, d, day("2026-03-02"), time.Time{}},
		{"DayOnOrAfter", OpGE, d, day("2026-03-01"), time.Time{}},
		{"DayBefore", OpLT, d, time.Time{}, day("2026-03-01")},
		{"DayOnOrBefore", OpLE, d, time.Time{}, day("2026-03-02")},
		{"AgeWithin", OpLT, week, weekAgo.Add(time.Nanosecond), time.Time{}},
		{"AgeBare", OpOn, week, weekAgo.Add(time.Nanosecond), time.Time{}},
		{"AgeWithinInclusive", OpLE, week, weekAgo, time.Time{}},
		{"AgeOlder", OpGT, week, time.Time{}, weekAgo},
		{"AgeOlderInclusive", OpGE, week, time.Time{}, weekAgo.Add(time.Nanosecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to := dateRange(tc.op, tc.date, now)
			if !from.Equal(tc.from) || !to.Equal(tc.to) {
				t.Fatalf("dateRange = [%v, %v), want [%v, %v)", from, to, tc.from, tc.to)
			}
		})
	}
}

// FuzzParse: any input parses or fails with a position inside it (or just
// past its end), never panics, and a parsed query's terms start inside it.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "printer", `"office printer" -refund`, "status:open,pending priority:high", `group:"Billing EU"`,
		"created:>2026-01-01 updated:<7d", "is:breached -is:unassigned sort:newest", "assignee:me requester:a@b.c tag:x",
		"-", `"`, "status:", "created:>", "sort:newest sort:oldest", "café:x", "updated:<99999999999999999999d",
		"has:attachment -filename:report", `filename:"annual report",%_`, "filename:", "has:x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n := utf8.RuneCountInString(in)
		q, err := Parse(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, not a ParseError", in, err)
			}
			if pe.Pos < 1 || pe.Pos > n+1 {
				t.Fatalf("Parse(%q): position %d outside 1..%d", in, pe.Pos, n+1)
			}
			return
		}
		for _, term := range q.Terms {
			if term.Pos < 1 || term.Pos > n {
				t.Fatalf("Parse(%q): term at %d outside 1..%d", in, term.Pos, n)
			}
			if term.Field == FieldText && term.Text == "" {
				t.Fatalf("Parse(%q): empty text term", in)
			}
			if term.Field != FieldText && term.Field != FieldCreated && term.Field != FieldUpdated && len(term.Values) == 0 {
				t.Fatalf("Parse(%q): filter without values", in)
			}
		}
	})
}
