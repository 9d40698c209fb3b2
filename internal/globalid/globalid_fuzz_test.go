package globalid_test

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// FuzzUnmarshalGQL: an ID from a client is either refused with
// BAD_USER_INPUT or well formed, and then marshals back to itself.
func FuzzUnmarshalGQL(f *testing.F) {
	for _, seed := range []string{string(globalid.New("TK")), "TK01ARZ3NDEKTSV4RRFFQ69G5FAV", "", "TK", "TK01ARZ3NDEKTSV4RRFFQ69G5FA", "TK8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "\xff\xfe"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var id globalid.ID
		if err := id.UnmarshalGQL(s); err != nil {
			if apierr.CodeOf(err) != apierr.BadUserInput {
				t.Fatalf("refusal of %q is %v", s, err)
			}
			return
		}
		if id.Validate() != nil || string(id) != s || len(id.Prefix()) == 0 {
			t.Fatalf("accepted %q as %q", s, id)
		}
		var out bytes.Buffer
		id.MarshalGQL(&out)
		if out.String() != strconv.Quote(s) {
			t.Fatalf("%q marshals as %s", s, out.String())
		}
	})
}
