// Package live holds the end-to-end tests of live updates: the event
// log, subscriptions over both websocket protocols and server-sent
// events, revalidation, presence, live lists, notifications, and macros
// and tags as subscribers see them (see package e2e).
package live
