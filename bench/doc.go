// Package bench holds load benchmarks that run the real switchboard binary
// as a subprocess and drive it over HTTP and websockets, so that the
// server's own memory (VmRSS) and latency are measured apart from the
// client's. See BENCHMARKS.md at the repository root for the commands and
// the recorded numbers. Nothing here runs in a plain `go test ./...` except
// the small unit tests of the measuring helpers.
package bench
