package cost_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

// windows are n records of every corpus trace, from record skip on (past the dynamic
// loader, which every recording starts with alike), decoded, by name.
func windows(t *testing.T, skip, n int) map[string]*traces.Decoded {
	t.Helper()
	es, err := corpus.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*traces.Decoded{}
	for _, e := range es {
		f, err := corpus.Open(e)
		if err != nil {
			t.Fatal(err)
		}
		recs := make([]traces.Record, skip+n)
		got := 0
		for got < len(recs) {
			k, err := f.Read(recs[got:])
			got += k
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		out[e.Name] = traces.NewDecoded(recs[min(skip, got):got])
	}
	return out
}

func opener(d *traces.Decoded) sim.Opener {
	return func() (traces.Reader, error) { return d.Open(), nil }
}

// run runs c and its baseline on d, and returns their counters.
func run(t *testing.T, reg *scheme.Registry, c sim.Config, d *traces.Decoded) (sim.Stats, sim.Stats) {
	t.Helper()
	res, err := sim.RunWith(c, opener(d), sim.Options{Registry: reg})
	if err != nil {
		t.Fatalf("%s: %v", c.Scheme, err)
	}
	base, err := sweep.RunBaseline(c, reg, opener(d))
	if err != nil {
		t.Fatalf("%s's baseline: %v", c.Scheme, err)
	}
	return res.Stats, base.Stats
}

// compare runs c and its baseline on d and prices them by the overhead rule.
func compare(t *testing.T, reg *scheme.Registry, m cost.Model, c sim.Config, d *traces.Decoded) (cost.Comparison, sim.Stats) {
	t.Helper()
	s, base := run(t, reg, c, d)
	return cost.Compare(m, s, base, c), s
}

// TestOverheadNeverNegative: a failure-free run of every registered scheme, on every
// corpus trace (10,000 records of each), at several intervals, with and without a
// cache, with first touches read from disk (the default) or zero-filled, has an overhead
// of 0 or more; none without a cache, whose checkpoints do nothing, has exactly 0.
func TestOverheadNeverNegative(t *testing.T) {
	reg := builtin.Registry()
	traceSet := windows(t, 300_000, 10_000)
	for _, info := range reg.All() {
		initials := []string{"image"}
		if info.Takes("initial") {
			initials = append(initials, "zero")
		}
		for name, d := range traceSet {
			for _, iv := range []int64{100, 1000, 10_000} {
				for _, cacheSize := range []uint64{0, 32 << 10} {
					for _, initial := range initials {
						c := sim.DefaultConfig()
						c.Scheme, c.Trace, c.Interval, c.CacheSize, c.Initial = info.Name, "corpus:"+name, iv, cacheSize, initial
						if err := c.ValidateIn(reg); err != nil {
							t.Fatalf("%s on %s: %v", info.Name, name, err)
						}
						s, base := run(t, reg, c, d)
						for _, m := range []cost.Model{cost.Default(), hwLike()} {
							cmp := cost.Compare(m, s, base, c)
							label := fmt.Sprintf("%s on %s, interval %d, cache %d, initial %s, trap %v ns", info.Name, name, iv, cacheSize, initial, m.TrapNs)
							if !(cmp.Overhead >= 0) {
								t.Errorf("%s: overhead %v (times %v over %v)", label, cmp.Overhead, cmp.Run.Total, cmp.Baseline.Total)
							}
							// With a cache, none's checkpoints flush it (--cache-flush invalidate),
							// which costs time; without one they do nothing.
							if info.Name == "none" && cacheSize == 0 && cmp.Overhead != 0 {
								t.Errorf("%s: overhead %v, want 0", label, cmp.Overhead)
							}
						}
					}
				}
			}
		}
	}
}

// hwLike is a model where paging is expensive and checkpoints cheap, so that accounting
// errors in paging would show.
func hwLike() cost.Model {
	m := cost.Default()
	m.TrapNs, m.MprotectNs, m.CopyBytesPerSec = 100, 0, 25.6e9
	return m
}

// TestBackgroundCopies: bitmap2's stall falls as --copy-rate rises, the model charges it
// less time, and its modeled time differs from bitmap's, which copies everything with
// the program stopped.
func TestBackgroundCopies(t *testing.T) {
	reg := builtin.Registry()
	d := windows(t, 300_000, 100_000)["stencil"]
	c := sim.DefaultConfig()
	c.Scheme, c.Trace, c.Interval = "bitmap", "corpus:stencil", 1000
	bitmap, _ := compare(t, reg, cost.Default(), c, d)
	c.Scheme = "bitmap2"
	var stall0 int64
	prevStall, prevTime := int64(0), 0.0
	between := false // some rate stalls less than rate 0 and more than 0
	for i, rate := range []string{"0", "1", "2", "4", "8", "64"} {
		c.Params = map[string]string{"copy-rate": rate}
		cmp, s := compare(t, reg, cost.Default(), c, d)
		t.Logf("copy-rate %s: stall %d bytes, background %d, time %v ns (copies %v, background %v); bitmap %v", rate,
			s.CheckpointStallBytes, s.BackgroundBytes, cmp.Run.Total, cmp.Run.Copies, cmp.Run.Background, bitmap.Run.Total)
		switch {
		case i == 0:
			stall0 = s.CheckpointStallBytes
			if cmp.Run.Total != bitmap.Run.Total || s.BackgroundBytes != 0 || stall0 == 0 {
				t.Errorf("copy-rate 0: time %v, bitmap's %v; background %d bytes, stall %d: want bitmap's time, no background, a stall",
					cmp.Run.Total, bitmap.Run.Total, s.BackgroundBytes, stall0)
			}
		case s.CheckpointStallBytes > prevStall || cmp.Run.Total > prevTime:
			t.Errorf("copy-rate %s: stall %d bytes and time %v, above the slower copier's %d and %v", rate, s.CheckpointStallBytes, cmp.Run.Total, prevStall, prevTime)
		case s.CheckpointStallBytes < prevStall && cmp.Run.Total >= prevTime:
			t.Errorf("copy-rate %s: the stall fell to %d bytes from %d, and the time did not (%v, %v)", rate, s.CheckpointStallBytes, prevStall, cmp.Run.Total, prevTime)
		case cmp.Run.Total == bitmap.Run.Total:
			t.Errorf("copy-rate %s: the same time as bitmap", rate)
		}
		if i > 0 && s.CheckpointStallBytes > 0 && s.CheckpointStallBytes < stall0 {
			between = true
		}
		prevStall, prevTime = s.CheckpointStallBytes, cmp.Run.Total
	}
	if !between {
		t.Error("no copy rate stalled less than rate 0 and more than none: the trace does not tell the rates apart")
	}
}

// TestCacheFlushCosts: invalidating the cache at checkpoints every 100 accesses costs
// more than a run without, for the misses it causes.
func TestCacheFlushCosts(t *testing.T) {
	reg := builtin.Registry()
	d := windows(t, 300_000, 100_000)["gzip"]
	c := sim.DefaultConfig()
	c.Scheme, c.Trace, c.Interval, c.CacheSize, c.CacheFlush = "none", "corpus:gzip", 100, 32<<10, "none"
	plain, ps := compare(t, reg, cost.Default(), c, d)
	if plain.Overhead != 0 {
		t.Errorf("none, its checkpoints leaving the cache alone: overhead %v, want 0", plain.Overhead)
	}
	c.CacheFlush = "invalidate"
	flushed, fs := compare(t, reg, cost.Default(), c, d)
	if fs.CacheMisses <= ps.CacheMisses {
		t.Fatalf("misses %d with invalidation, %d without", fs.CacheMisses, ps.CacheMisses)
	}
	if flushed.Run.Total <= plain.Run.Total || flushed.Run.CacheMisses <= plain.Run.CacheMisses || flushed.Overhead <= 0 {
		t.Errorf("with invalidation every 100 accesses: time %v (misses %v), overhead %v; without: %v (misses %v)",
			flushed.Run.Total, flushed.Run.CacheMisses, flushed.Overhead, plain.Run.Total, plain.Run.CacheMisses)
	}
}
