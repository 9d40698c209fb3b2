package apierr_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"math"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

func TestCodeOf(t *testing.T) {
	t.Run("WrappedErrorKeepsItsCode", func(t *testing.T) {
		err := fmt.Errorf("creating ticket: %w", apierr.Invalid("subject", "subject is required"))
		if got := apierr.CodeOf(err); got != apierr.BadUserInput {
			t.Fatalf("CodeOf = %s, want BAD_USER_INPUT", got)
		}
		var e *apierr.Error
		if !errors.As(err, &e) || e.Field != "subject" {
			t.Fatalf("field lost: %+v", e)
		}
	})
	t.Run("UnknownErrorIsInternal", func(t *testing.T) {
		if got := apierr.CodeOf(errors.New("disk on fire")); got != apierr.Internal {
			t.Fatalf("CodeOf = %s, want INTERNAL", got)
		}
	})
}

// wantStatus is the table of docs/errors.md, written out: every code must
// be here, so that a new code gets a status on purpose.
var wantStatus = map[apierr.Code]int{
	apierr.Unauthenticated:        401,
	apierr.Forbidden:              403,
	apierr.NotFound:               404,
	apierr.BadUserInput:           400,
	apierr.Conflict:               200,
	apierr.RateLimited:            429,
	apierr.PersistedQueryNotFound: 200,
	apierr.CursorExpired:          200,
	apierr.Unavailable:            503,
	apierr.QueryTooComplex:        400,
	apierr.PayloadTooLarge:        413,
	apierr.UnsupportedMediaType:   415,
	apierr.MethodNotAllowed:       405,
	apierr.Timeout:                504,
	apierr.Internal:               500,
}

func TestHTTPStatus(t *testing.T) {
	for _, code := range apierr.Codes {
		t.Run(string(code), func(t *testing.T) {
			want, ok := wantStatus[code]
			if !ok {
				t.Fatalf("%s has no status in this test's table (nor, likely, in docs/errors.md)", code)
			}
			if got := apierr.HTTPStatus(code); got != want {
				t.Fatalf("HTTPStatus(%s) = %d, want %d", code, got, want)
			}
		})
	}
	t.Run("UnknownCodeIsPartOfAResponse", func(t *testing.T) {
		if got := apierr.HTTPStatus("NO_SUCH_CODE"); got != 200 {
			t.Fatalf("HTTPStatus(NO_SUCH_CODE) = %d, want 200", got)
		}
	})
}

// TestCodesListsEveryCode reads the Code constants of apierr.go, so that
// Codes (which the status tests walk) cannot miss one.
func TestCodesListsEveryCode(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "apierr.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[apierr.Code]bool{}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, v := range vs.Values {
				lit := v.(*ast.BasicLit)
				declared[apierr.Code(strings.Trim(lit.Value, `"`))] = true
			}
		}
	}
	listed := map[apierr.Code]bool{}
	for _, c := range apierr.Codes {
		listed[c] = true
	}
	if len(declared) == 0 || !maps.Equal(declared, listed) {
		t.Fatalf("the Code constants %v differ from Codes %v", slices.Sorted(maps.Keys(declared)), apierr.Codes)
	}
}

// TestDocsTable checks docs/errors.md against the table: one row per
// code, with its HTTP status.
func TestDocsTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| (\\d{3})")
	documented := map[apierr.Code]int{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		status, _ := strconv.Atoi(m[2])
		documented[apierr.Code(m[1])] = status
	}
	for _, code := range apierr.Codes {
		if got, ok := documented[code]; !ok || got != apierr.HTTPStatus(code) {
			t.Errorf("docs/errors.md gives %s the status %d (documented: %v), the table %d", code, got, ok, apierr.HTTPStatus(code))
		}
	}
	if len(documented) != len(apierr.Codes) {
		t.Errorf("docs/errors.md documents %d codes, there are %d", len(documented), len(apierr.Codes))
	}
}

func TestWrap(t *testing.T) {
	cause := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	err := fmt.Errorf("loading the board: %w", apierr.Wrap(apierr.Unavailable, cause, "the database is unavailable"))
	t.Run("ErrorsIsSeesTheCause", func(t *testing.T) {
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("errors.Is(%v, ECONNREFUSED) = false", err)
		}
	})
	t.Run("ErrorsAsFindsBothTheErrorAndItsCause", func(t *testing.T) {
		var e *apierr.Error
		var op *net.OpError
		if !errors.As(err, &e) || !errors.As(err, &op) || op != cause {
			t.Fatalf("errors.As through %v: %+v, %+v", err, e, op)
		}
		if apierr.CodeOf(err) != apierr.Unavailable {
			t.Fatalf("CodeOf = %s", apierr.CodeOf(err))
		}
	})
	t.Run("LogsGetTheCauseClientsTheMessage", func(t *testing.T) {
		var e *apierr.Error
		errors.As(err, &e)
		if e.Message != "the database is unavailable" {
			t.Fatalf("message %q carries more than the client is told", e.Message)
		}
		if !strings.Contains(e.Error(), "connection refused") {
			t.Fatalf("Error() %q lost the cause", e.Error())
		}
	})
	t.Run("MessageEndingWithItsCauseIsNotRepeated", func(t *testing.T) {
		cause := errors.New(`malformed ID "x"`)
		if got := apierr.Wrap(apierr.BadUserInput, cause, "%v", cause).Error(); got != `malformed ID "x"` {
			t.Fatalf("Error() = %q", got)
		}
	})
	t.Run("OuterCodeWins", func(t *testing.T) {
		err := apierr.Wrap(apierr.Forbidden, apierr.Errorf(apierr.NotFound, "no such group"), "not yours")
		if apierr.CodeOf(err) != apierr.Forbidden {
			t.Fatalf("CodeOf = %s, want the outer FORBIDDEN", apierr.CodeOf(err))
		}
	})
	t.Run("WithoutCauseUnwrapsToNil", func(t *testing.T) {
		e := apierr.Errorf(apierr.Conflict, "taken")
		if e.Unwrap() != nil || e.Error() != "taken" {
			t.Fatalf("Unwrap %v, Error %q", e.Unwrap(), e.Error())
		}
	})
}

func TestTooMany(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration
		want  string
		secs  int
	}{
		{"WholeSecondsStay", 3 * time.Second, "3s", 3},
		{"FractionRoundsUp", 2*time.Second + time.Millisecond, "3s", 3},
		{"NanosecondOverRoundsUp", time.Second + time.Nanosecond, "2s", 2},
		{"ZeroIsAtLeastOneSecond", 0, "1s", 1},
		{"SubSecondIsOneSecond", 10 * time.Millisecond, "1s", 1},
		{"NegativeIsOneSecond", -time.Minute, "1s", 1},
		{"MinutesUseDurationFormat", 90*time.Second + 1, "1m31s", 91},
		{"HugeDoesNotOverflow", time.Duration(math.MaxInt64), "2562047h47m16s", 9223372036},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := apierr.TooMany(tc.after, "too many failed attempts")
			if want := "too many failed attempts; try again in " + tc.want; e.Message != want {
				t.Fatalf("message %q, want %q", e.Message, want)
			}
			if e.Code != apierr.RateLimited || e.RetryAfter != tc.after || apierr.RetrySeconds(e.RetryAfter) != tc.secs {
				t.Fatalf("got %+v, RetrySeconds %d, want %d", e, apierr.RetrySeconds(e.RetryAfter), tc.secs)
			}
		})
	}
}
