// Package clients runs the npm reference clients of clients/ (graphql-ws,
// subscriptions-transport-ws, graphql-sse, urql, Apollo Client) and the
// wallboard page in Chromium against the real server; they are skipped
// unless node and `npm ci --prefix clients` are there (see package e2e).
package clients
