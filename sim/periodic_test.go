package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// TestStatsEverySumsToTotals checks, on several schemes with failures, a cache, a TLB and
// I/O records, that the intervals of --stats-every tile the run (each From the last To,
// every access in one) and that their deltas add up to the run's totals, the scheme's own
// counters included; that the peaks and end values of the last interval are the run's;
// and that the counts are those of the run without intervals; in runs of many accesses and
// one at a time (checked after every event).
func TestStatsEverySumsToTotals(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	var recs []traces.Record
	for i, rec := range randomTrace(rng, 5000, 2) {
		recs = append(recs, rec)
		switch {
		case rng.IntN(400) == 0:
			recs = append(recs, traces.Record{Kind: traces.Checkpoint})
		case rng.IntN(300) == 0:
			recs = append(recs, traces.Record{Kind: traces.Output, Size: 8})
		case i == 4999:
			recs = append(recs, traces.Record{Kind: traces.Checkpoint}) // after the last access
		}
	}
	for _, tc := range []struct {
		name  string
		every int64
		set   func(c *Config)
	}{
		{"dualmap failures", 700, func(c *Config) { c.Interval, c.FailAt, c.Verify = 300, []int64{700, 1234, 4000}, true }},
		{"dualmap crash volatile", 1000, func(c *Config) {
			c.Interval, c.MTBF, c.Seed, c.Failure, c.Memory = 250, 600, seed, FailureCrash, MemoryVolatile
		}},
		{"undo mtbf", 640, func(c *Config) { c.Scheme, c.Interval, c.MTBF, c.Seed = "undo", 250, 600, seed }},
		{"incremental cache tlb", 333, func(c *Config) {
			c.Scheme, c.Interval, c.FailAt, c.CacheSize, c.TLBEntries = "incremental", 400, []int64{999}, 2048, 16
		}},
		{"snaplog io hold", 512, func(c *Config) { c.Scheme, c.Interval, c.MTBF, c.Seed, c.IO = "snaplog", 200, 900, seed, IOHold }},
		{"remus per asid warmup", 450, func(c *Config) {
			c.Scheme, c.Interval, c.FailAt, c.Scope, c.Warmup = "remus", 300, []int64{1500}, ScopeASID, 200
		}},
		{"one interval", 100000, func(c *Config) { c.Interval, c.FailAt = 100, []int64{50} }},
	} {
		for _, check := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/check=%v", tc.name, check), func(t *testing.T) {
				cfg := DefaultConfig()
				tc.set(&cfg)
				plain := mustRun(t, cfg, recs, Options{})
				var ivs []IntervalStats
				res := mustRun(t, cfg, recs, Options{StatsEvery: tc.every, CheckEvery: check, OnStats: func(iv IntervalStats) error {
					ivs = append(ivs, iv)
					return nil
				}})
				if !reflect.DeepEqual(res.Stats, plain.Stats) {
					t.Fatalf("with intervals %+v\nwithout %+v", res.Stats, plain.Stats)
				}
				if len(ivs) == 0 {
					t.Fatal("no interval")
				}
				sum := map[string]int64{}
				from, ckpts, fails := cfg.Warmup, int64(0), int64(0)
				for i, iv := range ivs {
					if iv.From != from || iv.To <= iv.From && i < len(ivs)-1 || iv.To-iv.From > tc.every {
						t.Errorf("interval %d: accesses %d to %d, want from %d, at most %d", i, iv.From, iv.To, from, tc.every)
					}
					from = iv.To
					for _, f := range iv.Delta.Fields() {
						sum[f.Key] += f.Value
					}
					ckpts += iv.Checkpoints
					fails += iv.Failures
				}
				if from != cfg.Warmup+res.Stats.Refs {
					t.Errorf("the last interval ends at access %d, the run at %d", from, cfg.Warmup+res.Stats.Refs)
				}
				last := ivs[len(ivs)-1].Delta
				kinds := map[string]scheme.CounterKind{}
				for _, d := range CounterDefs() {
					kinds[d.Key] = d.Kind
				}
				info, _ := scheme.Default().Lookup(cfg.Scheme)
				for _, d := range info.OwnDefs() {
					kinds["scheme."+d.Key] = d.Kind
				}
				lastVals := map[string]int64{}
				for _, f := range last.Fields() {
					lastVals[f.Key] = f.Value
				}
				for _, f := range res.Stats.Fields() {
					got := sum[f.Key]
					if !kinds[f.Key].Sums() {
						got = lastVals[f.Key]
					}
					if got != f.Value {
						t.Errorf("%s: %d over the intervals, %d in the run (seed %d)", f.Key, got, f.Value, seed)
					}
				}
				if ckpts != res.Stats.Checkpoints || fails != res.Stats.Rollbacks+res.Stats.Crashes {
					t.Errorf("intervals mark %d checkpoints and %d failures, the run has %d and %d", ckpts, fails, res.Stats.Checkpoints, res.Stats.Rollbacks+res.Stats.Crashes)
				}
				if cfg.FailAt != nil && res.Stats.Rollbacks+res.Stats.Crashes == 0 {
					t.Error("no failure: the test tests less than it says")
				}
			})
		}
	}
}

// TestStatsEveryError checks that an error from OnStats ends the run with it.
func TestStatsEveryError(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(1, 2)), 1000, 1)
	boom := errors.New("disk full")
	n := 0
	_, err := RunWith(DefaultConfig(), sliceOpener(recs), Options{StatsEvery: 100, OnStats: func(IntervalStats) error {
		if n++; n == 3 {
			return boom
		}
		return nil
	}})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "access 300") || n != 3 {
		t.Fatalf("got %v after %d intervals, want %v at the third", err, n, boom)
	}
}
