package mail

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Tokens makes and checks the ticket tokens of reply addresses
// (support+<token>@example.com): the ticket's ID and an HMAC-SHA256 of it,
// so that the inbound side knows which ticket an answer is for and that
// the address was ours, not guessed. A token is lower case (MTAs may fold
// the local part) and has no separator other than '-'.
type Tokens struct{ key []byte }

// tokenMACLen is the bytes of the HMAC a token keeps: 80 bits.
const tokenMACLen = 10

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTokens returns Tokens keyed with key (at least 32 bytes).
func NewTokens(key []byte) (*Tokens, error) {
	if len(key) < 32 {
		return nil, errors.New("mail token key: at least 32 bytes")
	}
	return &Tokens{key: append([]byte(nil), key...)}, nil
}

func (t *Tokens) mac(ticketID globalid.ID) []byte {
	h := hmac.New(sha256.New, t.key)
	h.Write([]byte("switchboard reply token\x00"))
	h.Write([]byte(ticketID))
	return h.Sum(nil)[:tokenMACLen]
}

// Make returns the token of a ticket.
func (t *Tokens) Make(ticketID globalid.ID) string {
	return strings.ToLower(string(ticketID) + "-" + tokenEncoding.EncodeToString(t.mac(ticketID)))
}

// Verify returns the ticket a token was made for, or false when the token
// is malformed or its HMAC does not match. Case does not matter.
func (t *Tokens) Verify(token string) (globalid.ID, bool) {
	idPart, macPart, ok := strings.Cut(strings.ToUpper(token), "-")
	if !ok {
		return "", false
	}
	id := globalid.ID(idPart)
	if id.Validate() != nil || id.Prefix() != globalid.PrefixTicket {
		return "", false
	}
	// Compared as text: decoding would accept trailing characters.
	want := tokenEncoding.EncodeToString(t.mac(id))
	if !hmac.Equal([]byte(macPart), []byte(want)) {
		return "", false
	}
	return id, true
}

// ReplyAddress is address (support@example.com) with the ticket's token
// as its subaddress: support+<token>@example.com.
func (t *Tokens) ReplyAddress(address string, ticketID globalid.ID) string {
	at := strings.LastIndex(address, "@")
	if at < 0 {
		return address
	}
	local, _, _ := strings.Cut(address[:at], "+")
	return local + "+" + t.Make(ticketID) + address[at:]
}

// TicketOfAddress returns the ticket whose token the address's subaddress
// carries (support+<token>@example.com), or false.
func (t *Tokens) TicketOfAddress(address string) (globalid.ID, bool) {
	at := strings.LastIndex(address, "@")
	if at < 0 {
		return "", false
	}
	_, token, ok := strings.Cut(address[:at], "+")
	if !ok {
		return "", false
	}
	return t.Verify(token)
}

// Unsubscribe is the token of a one-click unsubscribe of a user from one
// kind of notification mail.
func (t *Tokens) Unsubscribe(userID globalid.ID, kind string) string {
	h := hmac.New(sha256.New, t.key)
	h.Write([]byte("switchboard unsubscribe\x00"))
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write([]byte(kind))
	return strings.ToLower(tokenEncoding.EncodeToString(h.Sum(nil)[:16]))
}

// VerifyUnsubscribe tells whether token is the unsubscribe token of the
// user and kind.
func (t *Tokens) VerifyUnsubscribe(userID globalid.ID, kind, token string) bool {
	return hmac.Equal([]byte(strings.ToLower(token)), []byte(t.Unsubscribe(userID, kind)))
}
