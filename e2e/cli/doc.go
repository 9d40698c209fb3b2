// Package cli holds the end-to-end tests of the commands (user, seed,
// export and import, migrate, keys) and of confidential fields at rest
// (see package e2e).
package cli
