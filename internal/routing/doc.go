// Package routing decides where a new ticket goes: its group (the first
// routing rule that matches, else the default group) and, when the group
// or the rule asks for it, an agent by round-robin. It runs inside the
// ticket's creating transaction, from the ticket hook in ent/schema, so
// that every way of opening a ticket is routed and the TICKET_CREATED
// event records the result.
package routing
