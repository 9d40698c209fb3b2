// Package clock tells the time a change happens at: the wall clock,
// except under a context made by At, which carries a time of its own.
//
// It exists for the demo data (internal/demo), which writes weeks of
// history — tickets opened in the past, answered and solved later —
// through the normal write path, so that the ent hooks still number the
// tickets, route them, set their SLA due times and write their events.
// Every place that stamps a ticket or message change with a time reads it
// through Now(ctx): the TimeMixin's hook (created_at, updated_at, see
// ent/schema/mixin.go), the SLA and status hooks (due times, solved_at,
// ent/schema/hooks.go) and internal/ticketing (first response, a reply's
// updated_at). What records when a row was written rather than when the
// change happened keeps the wall clock: the event log (its retention and
// the live lag are about writing), notifications, sessions.
//
// Nothing that serves requests sets it: a request's changes happen now.
package clock

import (
	"context"
	"time"
)

type key struct{}

// At returns a context whose changes happen at t.
func At(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, key{}, t)
}

// Now is the time of a change made under ctx: the time of At, else the
// wall clock.
func Now(ctx context.Context) time.Time {
	if t, ok := Set(ctx); ok {
		return t
	}
	return time.Now()
}

// Set returns the time of At, and whether ctx has one.
func Set(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(key{}).(time.Time)
	return t, ok
}
