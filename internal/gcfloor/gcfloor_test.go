package gcfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestTuner(t *testing.T) {
	t.Run("SmallHeapGrowsByTheFloor", func(t *testing.T) {
		t.Setenv("GOGC", "")
		tu := Start(256 << 20)
		defer tu.Stop()
		runtime.GC()
		waitFor(t, func() bool { return tu.Percent() > minPercent })
		// The percentage in force is the tuner's: reading it back sets it
		// to the same value.
		if got := debug.SetGCPercent(tu.Percent()); got != tu.Percent() {
			t.Errorf("GC percent in force %d, tuner says %d", got, tu.Percent())
		}
	})
	t.Run("FollowsTheLiveHeapAfterEachCollection", func(t *testing.T) {
		t.Setenv("GOGC", "")
		tu := Start(32 << 20)
		defer tu.Stop()
		runtime.GC()
		waitFor(t, func() bool { return tu.Percent() > minPercent })
		live := make([][]byte, 96)
		for i := range live {
			live[i] = make([]byte, 1<<20)
		}
		// 96 MB live: growing by as much again is more than the floor.
		waitFor(t, func() bool { return tu.Percent() == minPercent })
		runtime.KeepAlive(live)
		waitFor(t, func() bool { return tu.Percent() > minPercent })
	})
	t.Run("StopRestoresTheDefault", func(t *testing.T) {
		t.Setenv("GOGC", "")
		tu := Start(256 << 20)
		tu.Stop()
		runtime.GC()
		if got := debug.SetGCPercent(minPercent); got != minPercent {
			t.Errorf("after Stop the GC percent is %d, want %d", got, minPercent)
		}
	})
	t.Run("OperatorsGOGCWins", func(t *testing.T) {
		t.Setenv("GOGC", "150")
		if tu := Start(256 << 20); tu != nil {
			tu.Stop()
			t.Fatal("Start tuned the collector although GOGC is set")
		}
	})
	t.Run("ZeroFloorIsOff", func(t *testing.T) {
		t.Setenv("GOGC", "")
		if tu := Start(0); tu != nil {
			tu.Stop()
			t.Fatal("Start tuned the collector with a floor of 0")
		}
	})
}

// waitFor waits for the cleanup that runs after a collection.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
		runtime.GC()
	}
	t.Fatal("the tuner did not adjust after a collection")
}
