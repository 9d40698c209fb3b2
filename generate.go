package main

// Code generation, in dependency order: ent and schema/ent.graphql from
// ent/schema, then the GraphQL executor from schema/*.graphql.
//go:generate go run ./ent/entc.go
//go:generate go tool gqlgen generate --config gqlgen.yml
