package apierr_test

import (
	"errors"
	"fmt"
	"testing"

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
