package main

// Code generation, in dependency order: ent and schema/ent.graphql from
// ent/schema, then the GraphQL executor from schema/*.graphql (gqlgen, run
// by graph/codegen: see there why).
//go:generate go run ./ent/entc.go
//go:generate go run ./graph/codegen
