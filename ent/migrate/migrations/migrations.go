// Package migrations holds the versioned SQL migrations of the database,
// one directory per dialect (sqlite, postgres), each with the atlas.sum
// that pins their content. They are generated from ent/schema by
// `go run ./ent/migrate/migrations/diff NAME` and applied by the binary
// (internal/database): never edit an applied file, add a new one.
package migrations

import "embed"

// FS holds the dialect directories.
//
//go:embed sqlite postgres
var FS embed.FS
