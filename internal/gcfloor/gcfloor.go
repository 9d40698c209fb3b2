// Package gcfloor paces Go's garbage collector with a heap floor: the heap
// may grow by at least Floor bytes between collections, and by the usual
// GOGC=100 (as much again as the live heap) once that is more.
//
// With the runtime's default pacing a server whose live heap is small
// collects very often: a page of 50 tickets allocates about 1 MB, the live
// heap of a quiet instance is some 15 MB, so at a few hundred pages a second
// the collector runs dozens of times a second and takes a fifth of the
// server's CPU (BENCHMARKS.md). A floor of tens of MB costs that much memory
// once, per process, and nothing per connection: an instance with a large
// live heap (many subscribers) is paced exactly as before.
//
// The floor is kept by re-setting the GC percentage after every collection
// from the live heap it found (runtime/metrics), the technique of "GC
// tuners". An operator's GOGC in the environment turns it off, and
// GOMEMLIMIT keeps working on top of it: the runtime collects when the
// limit is reached, whatever the percentage.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// DefaultFloor is the default of SWITCHBOARD_GC_HEAP_FLOOR.
const DefaultFloor = 64 << 20

// Percentages the tuner sets stay within these: the runtime's default, and
// a bound for a nearly empty heap (where the floor alone would ask for an
// absurd percentage and the runtime's own minimum heap applies anyway).
const (
	minPercent = 100
	maxPercent = 10000
)

// Tuner keeps the floor while it runs; stop it with Stop.
type Tuner struct {
	floor   uint64
	stopped atomic.Bool
	percent atomic.Int64
	sample  []metrics.Sample
}

// Start paces the collector with floor bytes of heap growth at least, and
// returns nil (leaving the runtime alone) when floor is 0 or GOGC is set.
func Start(floor int64) *Tuner {
	if floor <= 0 || os.Getenv("GOGC") != "" {
		return nil
	}
	t := &Tuner{floor: uint64(floor), sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.adjust()
	t.arm()
	return t
}

// Percent is the GC percentage set last (for tests and metrics).
func (t *Tuner) Percent() int {
	return int(t.percent.Load())
}

// Stop ends the tuning and restores the runtime's default percentage.
func (t *Tuner) Stop() {
	if t == nil || t.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(minPercent)
}

// sentinel is garbage the moment it is made: its cleanup runs after the
// next collection, which is when the live heap is known anew.
type sentinel struct{ _ *int }

func (t *Tuner) arm() {
	s := &sentinel{}
	runtime.AddCleanup(s, func(t *Tuner) {
		if t.stopped.Load() {
			return
		}
		t.adjust()
		t.arm()
	}, t)
}

// adjust sets the percentage that lets the heap grow by the floor above
// the live heap, or by the live heap itself once that is larger.
func (t *Tuner) adjust() {
	metrics.Read(t.sample)
	live := uint64(0)
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	p := int64(maxPercent)
	if live > 0 {
		// In floating point: the ratio is clamped below, and no integer
		// conversion can overflow on the way.
		p = int64(max(minPercent, min(maxPercent, float64(t.floor)*100/float64(live))))
	}
	if t.percent.Swap(p) != p && !t.stopped.Load() {
		debug.SetGCPercent(int(p))
	}
}
