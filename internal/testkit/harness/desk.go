package harness

import (
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// The admin of a Desk, and the password of the staff it invites.
const (
	DeskAdminEmail    = "admin@example.com"
	DeskAdminPassword = "amber canyon whistle"
	DeskPassword      = "copper fox meadow 77"
)

// UpdateTicketMutation changes ticket $id with input $in.
const UpdateTicketMutation = `mutation($id: ID!, $in: UpdateTicketInput!) { updateTicket(id: $id, input: $in) { id } }`

// Desk is a running server (with LiveEnv's settings) and its admin,
// admin@example.com, signed in.
type Desk struct {
	S     *Server
	Admin string
}

// NewDesk creates the admin on tg and starts the server with env over
// LiveEnv's settings.
func NewDesk(t *testing.T, tg dbtest.Target, env map[string]string) *Desk {
	t.Helper()
	CreateUser(t, tg, DeskAdminEmail, "Ada Admin", "admin", DeskAdminPassword)
	s := Start(t, tg, LiveEnv(env))
	return &Desk{S: s, Admin: Login(t, s, DeskAdminEmail, DeskAdminPassword)}
}

// Staff invites an agent or admin with DeskPassword and signs them in.
func (d *Desk) Staff(t *testing.T, email, name, role string) (token, id string) {
	t.Helper()
	r := d.S.Do(t, d.Admin, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"email": email, "name": name, "role": role, "password": DeskPassword}}).OK(t)
	return Login(t, d.S, email, DeskPassword), Str(r, "inviteUser", "id")
}

// Group creates a group with the members (user IDs).
func (d *Desk) Group(t *testing.T, name string, members ...string) string {
	t.Helper()
	r := d.S.Do(t, d.Admin, `mutation($name: String!, $m: [ID!]) { createGroup(input: {name: $name, memberIDs: $m}) { id } }`,
		map[string]any{"name": name, "m": members}).OK(t)
	return Str(r, "createGroup", "id")
}

// Ticket creates a ticket with the input as token, and returns its ID.
func (d *Desk) Ticket(t *testing.T, token string, input map[string]any) string {
	t.Helper()
	return Str(d.S.Do(t, token, CreateTicketMutation, map[string]any{"input": input}).OK(t), "createTicket", "id")
}

// Message adds a message (an internal note if internal) as token.
func (d *Desk) Message(t *testing.T, token, ticketID, body string, internal bool) {
	t.Helper()
	d.S.Do(t, token, AddMessageMutation, map[string]any{"id": ticketID, "body": body, "internal": internal}).OK(t)
}

// Update changes a ticket as token.
func (d *Desk) Update(t *testing.T, token, ticketID string, input map[string]any) {
	t.Helper()
	d.S.Do(t, token, UpdateTicketMutation, map[string]any{"id": ticketID, "in": input}).OK(t)
}

// WS opens a graphql-transport-ws connection signed in with token.
func (d *Desk) WS(t *testing.T, token string) *Stream {
	t.Helper()
	return ConnectStream(t, d.S, "graphql-transport-ws", token)
}
