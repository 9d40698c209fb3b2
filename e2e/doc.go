// Package e2e holds the end-to-end tests of Switchboard: the real
// program, run in-process on a random port (internal/testkit/harness),
// against a fresh SQLite database and, when TEST_DATABASE_URL is set, a
// fresh PostgreSQL schema (TEST_REDIS_URL adds Redis), talked to as
// clients do. The tests are split by area into packages, which `go test`
// runs in parallel:
//
//   - e2e: the GraphQL API — accounts, tickets, input errors, queues,
//     search, persisted queries, rate limits, and the access matrix
//     (go test ./e2e/ -run TestAccessMatrix -update-access-matrix
//     rewrites ACCESS.md at the repository's root; the package comes
//     before the flag, which go test does not know);
//   - e2e/live: live updates — the event log, subscriptions over
//     websockets and server-sent events, presence, live lists, macros and
//     tags as they are seen live;
//   - e2e/ops: running it — several instances, Redis and database
//     outages, slow clients, shutdown, the hot-read cache, metrics and
//     tracing;
//   - e2e/cli: the commands — user, seed, export/import, migrate, keys,
//     and confidential fields at rest;
//   - e2e/clients: the npm reference clients (clients/) and the
//     wallboard page in Chromium.
package e2e
