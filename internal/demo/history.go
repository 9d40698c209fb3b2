package demo

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/ticketing"
)

// History is how far back the demo's tickets go: four weeks, so that the
// lists, the search by dates and the SLA numbers have a past to show.
const History = 28 * 24 * time.Hour

// fate is how far a demo ticket got by the time of seeding.
type fate int

const (
	// resolved: answered, then solved (and closed a few days later, if
	// that day has come).
	resolved fate = iota
	// waiting: answered, still open or pending.
	waiting
	// unanswered: nobody has answered yet, so it is still new.
	unanswered
)

// plan is the life of one demo ticket, before it is written.
type plan struct {
	// age is how long before its writing the ticket was opened.
	age      time.Duration
	priority priority.Priority
	fate     fate
	// firstResponse is when the first public answer came, after opening
	// (answered fates only).
	firstResponse time.Duration
	// resolvedAfter is when it was solved, after opening (resolved only).
	resolvedAfter time.Duration
}

// targets are the SLA targets the demo's policies set, by priority.
func targets(p priority.Priority) (firstResponse, resolution time.Duration) {
	for _, t := range ticketing.DefaultSLATargets {
		if t.Priority == p {
			return time.Duration(t.FirstResponseMinutes) * time.Minute, time.Duration(t.ResolutionMinutes) * time.Minute
		}
	}
	panic("demo: no SLA target for " + p.String())
}

// between is a duration drawn evenly from [lo, hi).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

// planHistory plans n tickets opened over the last History, oldest first
// (so that ticket numbers grow with time), as a helpdesk's queue looks on
// an ordinary day: most old tickets resolved, some answered late, a
// backlog of waiting tickets past their SLA (breached), and a few whose
// first response or resolution falls due within the next hour (due soon,
// wallboard.DefaultOptions's window), counted from the moment each
// ticket is written. For any n >= 3 at least one ticket is due soon, one
// breached and one resolved; for n >= 7 they spread over more than three
// weeks (the oldest of the evenly spread ones is more than 22 days old,
// and a ticket due soon less than one).
func planHistory(rng *rand.Rand, n int) []plan {
	plans := make([]plan, 0, n)
	dueSoon := max(1, n/25)
	overdue := max(1, n/20)
	if n < dueSoon+overdue+1 {
		dueSoon, overdue = min(dueSoon, n), max(0, min(overdue, n-dueSoon))
	}
	anyPriority := func() priority.Priority { return priority.All()[rng.IntN(4)] }

	// Due soon: within 15 to 50 minutes of being written, which leaves a
	// newcomer time to find them on the wallboard (then they breach, as
	// SLA clocks do). Alternately a first response (a ticket nobody has
	// answered, of a priority whose target is an hour or more) and a
	// resolution (answered in time, not yet solved).
	for i := range dueSoon {
		p := plan{priority: anyPriority()}
		left := between(rng, 15*time.Minute, 50*time.Minute)
		if i%2 == 0 {
			p.priority = []priority.Priority{priority.Low, priority.Normal, priority.High}[rng.IntN(3)]
			fr, _ := targets(p.priority)
			p.fate, p.age = unanswered, fr-left
		} else {
			fr, res := targets(p.priority)
			p.fate, p.age = waiting, res-left
			p.firstResponse = between(rng, fr/5, fr*4/5)
		}
		plans = append(plans, p)
	}
	// Breached: a backlog still waiting past its resolution target, and
	// a third of it never answered at all.
	for i := range overdue {
		p := plan{priority: anyPriority()}
		fr, res := targets(p.priority)
		if i%3 == 2 {
			p.fate, p.age = unanswered, between(rng, fr+time.Hour, max(fr+2*time.Hour, 3*24*time.Hour))
		} else {
			p.fate, p.age = waiting, between(rng, res+2*time.Hour, History)
			p.firstResponse = between(rng, fr/5, fr*3/2)
		}
		plans = append(plans, p)
	}
	// The rest, spread evenly over History (each in its own slice of
	// it): the older, the likelier resolved.
	rest := n - len(plans)
	for i := range rest {
		p := plan{priority: anyPriority(), age: History * time.Duration(rest-1-i) / time.Duration(rest)}
		p.age += between(rng, 10*time.Minute, History/time.Duration(rest))
		fr, res := targets(p.priority)
		roll := rng.IntN(100)
		switch {
		case i == 0:
			p.fate = resolved // the oldest: at least one resolved
		case p.age < 24*time.Hour:
			p.fate = []fate{resolved, waiting, unanswered}[min(2, roll/35)]
		case p.age < 7*24*time.Hour:
			p.fate = []fate{resolved, waiting, unanswered}[min(2, roll/70+roll/95)]
		default:
			p.fate = []fate{resolved, waiting}[roll/95]
		}
		if p.fate != unanswered {
			// Mostly within the target, sometimes late; never after now.
			p.firstResponse = min(between(rng, fr/5, fr*3/2), p.age/3)
		}
		if p.fate == resolved {
			// Most within the target, some late; before now.
			p.resolvedAfter = min(between(rng, res/10, res*5/4), p.age*9/10)
			p.resolvedAfter = max(p.resolvedAfter, p.firstResponse+time.Minute)
		}
		plans = append(plans, p)
	}
	slices.SortStableFunc(plans, func(a, b plan) int { return cmp.Compare(b.age, a.age) })
	return plans
}
