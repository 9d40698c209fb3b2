package apierr_test

import (
	"errors"
	"fmt"
	"math"
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

func TestHTTPStatus(t *testing.T) {
	for code, want := range map[apierr.Code]int{
		apierr.QueryTooComplex:      400,
		apierr.PayloadTooLarge:      413,
		apierr.UnsupportedMediaType: 415,
		apierr.MethodNotAllowed:     405,
		apierr.RateLimited:          429,
		apierr.NotFound:             200,
	} {
		t.Run(string(code), func(t *testing.T) {
			if got := apierr.HTTPStatus(code); got != want {
				t.Fatalf("HTTPStatus(%s) = %d, want %d", code, got, want)
			}
		})
	}
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
