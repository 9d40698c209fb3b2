// Package harness is test support, never imported by the product: what
// the end-to-end tests (e2e/), securitytest/ and bench/ share to run
// Switchboard as its users do and talk to it as a client would.
//
//   - Servers: Start runs `switchboard serve` in-process (internal/cli, as
//     the binary runs it) on a random port of 127.0.0.1; StartProcess runs
//     it as a process of its own (this test binary, re-executed), so that
//     it can get a real SIGTERM or be killed; Build and StartBinary build
//     and run the real binary (internal/serverproc). Databases come from
//     internal/database/dbtest: a fresh SQLite file always, a fresh
//     PostgreSQL schema when TEST_DATABASE_URL is set; TargetEnv is the
//     settings of a server on one.
//   - Commands: RunCLI runs any command in-process; CreateUser makes an
//     account with `switchboard user create`.
//   - GraphQL over HTTP: (*Server).Do and Post for the test's goroutine
//     (they fail the test), Client for other goroutines and load
//     generators (they return errors); Login and Signup; Path, Str and Num
//     dig into decoded JSON.
//   - Live updates: WS is a client of both websocket protocols that sees
//     frames and close codes exactly; Stream reads one on a goroutine of
//     its own so that waits have deadlines; SSE and ReadSSE are the
//     event-stream transport.
//
// A test binary that imports this package serves as StartProcess's
// server: started with SWITCHBOARD_HARNESS_SERVE=1 in its environment, it
// runs `switchboard serve` instead of its tests (see init in process.go).
package harness
