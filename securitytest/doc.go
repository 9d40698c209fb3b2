// Package securitytest attacks the real server: it builds the switchboard
// binary, starts it on a random port (in development and in production
// mode) and sends what an attacker would — alias and field overloads,
// batches, deep and circular queries, huge pages, mutations over GET,
// cross-site POSTs and websockets, oversized and malformed bodies, and
// every ID argument of the schema with another user's objects — checking
// that each is refused with the right status and code and that the server
// keeps serving. It has only tests; run it with go test ./securitytest.
package securitytest
