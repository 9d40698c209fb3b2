// Package clients runs the npm reference clients of clients/ (graphql-ws,
// subscriptions-transport-ws, graphql-sse, urql, Apollo Client with
// apollo-upload-client), the wallboard page and an upload page in
// Chromium against the real server; they are skipped
// unless node and `npm ci --prefix clients` are there (see package e2e).
package clients
