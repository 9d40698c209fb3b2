package mail

import (
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// FuzzTicketOfAddress: no address names a ticket unless it carries the
// exact token of that ticket: a changed, cut or made-up token never
// verifies, and what verifies is the ticket the token was made for.
func FuzzTicketOfAddress(f *testing.F) {
	tokens, err := NewTokens([]byte(strings.Repeat("k", 32)))
	if err != nil {
		f.Fatal(err)
	}
	id := globalid.ID("TK01M8YMPAYGDZ9389FC50G8Z14X")
	good := tokens.ReplyAddress("support@example.com", id)
	for _, seed := range []string{good, strings.ToUpper(good), "support@example.com", "support+@example.com",
		"support+tk01m8ympaygdz9389fc50g8z14x-@example.com", "support+tk01m8ympaygdz9389fc50g8z14x-aaaaaaaaaaaaaaaa@example.com",
		"a+b+c@d", "+@", "@", "", "support+" + strings.Repeat("x", 300) + "@example.com"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		got, ok := tokens.TicketOfAddress(addr)
		if !ok {
			return
		}
		at := strings.LastIndex(addr, "@")
		_, token, _ := strings.Cut(addr[:at], "+")
		if !strings.EqualFold(token, tokens.Make(got)) {
			t.Fatalf("%q verified as %s, but its token is not %s's", addr, got, got)
		}
	})
}
