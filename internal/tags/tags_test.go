package tags_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/tags"
)

func TestNormalize(t *testing.T) {
	got, err := tags.Normalize("tags", []string{" vip", "vip ", "printer", "VIP"})
	if err != nil || fmt.Sprint(got) != "[vip printer VIP]" {
		t.Fatalf("Normalize = %v, %v", got, err)
	}
	for _, bad := range [][]string{{"ok", " "}, {strings.Repeat("t", tags.MaxLen+1)}} {
		if _, err := tags.Normalize("addTags", bad); apierr.CodeOf(err) != apierr.BadUserInput {
			t.Errorf("Normalize(%q) = %v, want BAD_USER_INPUT", bad, err)
		}
	}
}
