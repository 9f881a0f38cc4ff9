package memctl_test

import (
	"fmt"
	"testing"

	"github.com/vmsim/vmsim/memctl"
	"github.com/vmsim/vmsim/sim"
)

// verifyCase is one configuration run under --verify with injected failures.
type verifyCase struct {
	name        string
	cacheSize   uint64
	ways        int
	line        uint64
	flush       string
	granule     uint64
	verifyBlock uint64
	scope       string
	crash       bool // --failure crash --memory volatile (shadow-remote only)
	nvCrash     bool // --failure crash with non-volatile memory: a rollback
	mtbf        float64
	failAt      []int64
	copyRate    string
}

func verifyCases() []verifyCase {
	return []verifyCase{
		{name: "no cache, mtbf", granule: 64, verifyBlock: 64, scope: "system", mtbf: 90},
		{name: "no cache, granule 8, per asid", granule: 8, verifyBlock: 8, scope: "asid", mtbf: 70},
		{name: "no cache, granule 256, blocks of 16, fail-at", granule: 256, verifyBlock: 16, scope: "system", failAt: []int64{1, 2, 150, 151, 299, 300, 301, 1777, 2999}},
		{name: "cache 512 direct-mapped, invalidate", cacheSize: 512, ways: 1, line: 64, flush: "invalidate", granule: 64, verifyBlock: 64, scope: "system", mtbf: 80},
		{name: "cache 1K 2-way line 32 granule 64, clean, per asid", cacheSize: 1024, ways: 2, line: 32, flush: "clean", granule: 64, verifyBlock: 32, scope: "asid", mtbf: 60},
		{name: "cache 2K 4-way, granule 16, per asid, fail-at", cacheSize: 2048, ways: 4, line: 64, flush: "invalidate", granule: 16, verifyBlock: 16, scope: "asid", failAt: []int64{10, 11, 400, 1234, 1235, 2500}},
		{name: "no cache, crash of non-volatile memory", granule: 64, verifyBlock: 64, scope: "asid", nvCrash: true, mtbf: 100},
		{name: "bitmap2 slow copier", granule: 64, verifyBlock: 64, scope: "system", mtbf: 50, copyRate: "1"},
		{name: "bitmap2 no copier, cache", cacheSize: 1024, ways: 4, line: 64, flush: "invalidate", granule: 64, verifyBlock: 64, scope: "asid", mtbf: 50, copyRate: "0"},
		{name: "bitmap2 fast copier", granule: 32, verifyBlock: 8, scope: "system", mtbf: 50, copyRate: "512"},
		{name: "volatile crash, no cache", granule: 64, verifyBlock: 64, scope: "system", crash: true, mtbf: 90},
		{name: "volatile crash, cache, per asid", cacheSize: 1024, ways: 2, line: 64, flush: "invalidate", granule: 128, verifyBlock: 64, scope: "asid", crash: true, mtbf: 70},
	}
}

func (vc verifyCase) config(s memctl.Strategy, seed uint64) sim.Config {
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Verify, cfg.Seed = s.String(), true, seed
	cfg.Interval = 150
	cfg.Granule, cfg.VerifyBlock, cfg.Scope = vc.granule, vc.verifyBlock, sim.Scope(vc.scope)
	cfg.MTBF, cfg.FailAt = vc.mtbf, vc.failAt
	if vc.cacheSize > 0 {
		cfg.CacheSize, cfg.CacheWays, cfg.CacheLine, cfg.CacheFlush = vc.cacheSize, vc.ways, vc.line, sim.CacheFlush(vc.flush)
	}
	if vc.crash {
		cfg.Failure, cfg.Memory = "crash", "volatile"
	}
	if vc.nvCrash {
		cfg.Failure = "crash"
	}
	if vc.copyRate != "" && s == memctl.Bitmap2 {
		cfg.Params = map[string]string{"copy-rate": vc.copyRate}
	}
	return cfg
}

// TestVerifyUnderFailures runs every strategy under --verify with many failures (the MTBF
// below the interval, and --fail-at lists), with and without caches, both scopes, and
// crashes of volatile memory where the strategy survives them: nothing may mismatch.
func TestVerifyUnderFailures(t *testing.T) {
	for _, vc := range verifyCases() {
		t.Run(vc.name, func(t *testing.T) {
			for _, s := range memctl.Strategies() {
				if vc.crash && !s.Info().RecoversCrash || vc.copyRate != "" && s != memctl.Bitmap2 {
					continue
				}
				for seed := uint64(1); seed <= 2; seed++ {
					recs := refTrace(seed*7, 3000, 1+int(seed))
					cfg := vc.config(s, seed)
					res, err := sim.RunWith(cfg, sliceOpener(recs), sim.Options{CheckEvery: seed == 1})
					if err != nil {
						t.Fatalf("%s seed %d: %v", s, seed, err)
					}
					st := res.Stats
					if st.VerifyMismatches != 0 || st.VerifyChecks == 0 || st.Rollbacks+st.Crashes == 0 {
						t.Fatalf("%s seed %d: %d mismatches of %d checks, %d rollbacks, %d crashes; first: %s",
							s, seed, st.VerifyMismatches, st.VerifyChecks, st.Rollbacks, st.Crashes, res.FirstMismatch)
					}
				}
			}
		})
	}
}

// TestVerifierCatchesBrokenStrategies injects a fault into each strategy (every third data
// operation moves nothing, the counts unchanged): verification must find mismatches.
func TestVerifierCatchesBrokenStrategies(t *testing.T) {
	for _, s := range memctl.Strategies() {
		for _, cached := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s cache=%v", s, cached), func(t *testing.T) {
				vc := verifyCase{granule: 64, verifyBlock: 64, scope: "system", mtbf: 120}
				if cached {
					vc.cacheSize, vc.ways, vc.line, vc.flush = 1024, 2, 64, "invalidate"
				}
				if s == memctl.ShadowRemote {
					vc.crash = cached
				}
				cfg := vc.config(s, 3)
				res, err := sim.RunWith(cfg, sliceOpener(refTrace(5, 3000, 1)), sim.Options{Scheme: memctl.BrokenInfo(s)})
				if err != nil {
					t.Fatal(err)
				}
				if res.Stats.VerifyMismatches == 0 {
					t.Fatalf("broken %s passed verification (%d checks, %d rollbacks, %d crashes)",
						s, res.Stats.VerifyChecks, res.Stats.Rollbacks, res.Stats.Crashes)
				}
			})
		}
	}
}

// TestRefusedFailures: the driver refuses a crash of volatile memory for the strategies
// that keep their checkpoint in that memory, and a verify block larger than the granule.
func TestRefusedSettings(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    memctl.Strategy
		edit func(*sim.Config)
	}{
		{"shadow crash volatile", memctl.Shadow, func(c *sim.Config) { c.Failure, c.Memory, c.MTBF = "crash", "volatile", 100 }},
		{"undo crash volatile", memctl.Undo, func(c *sim.Config) { c.Failure, c.Memory, c.MTBF = "crash", "volatile", 100 }},
		{"blockstate crash volatile", memctl.BlockState, func(c *sim.Config) { c.Failure, c.Memory, c.MTBF = "crash", "volatile", 100 }},
		{"verify block above granule", memctl.Bitmap, func(c *sim.Config) { c.Verify, c.Granule, c.VerifyBlock = true, 16, 64 }},
		{"bad copy rate", memctl.Bitmap2, func(c *sim.Config) { c.Params = map[string]string{"copy-rate": "-3"} }},
		{"copy rate on another strategy", memctl.Bitmap, func(c *sim.Config) { c.Params = map[string]string{"copy-rate": "3"} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sim.DefaultConfig()
			cfg.Scheme, cfg.Interval = tt.s.String(), 100
			tt.edit(&cfg)
			if _, err := sim.Run(cfg, sliceOpener(refTrace(1, 500, 1))); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestVerifyOnRealTrace: the first 200k records of gcc, every strategy, failures every
// 3000 accesses on average, with and without a 32K cache.
func TestVerifyOnRealTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	recs := realHead(t, 200_000)
	for _, s := range memctl.Strategies() {
		for _, cache := range []uint64{0, 32 << 10} {
			cfg := sim.DefaultConfig()
			cfg.Scheme, cfg.Verify, cfg.Interval, cfg.MTBF, cfg.Seed, cfg.CacheSize = s.String(), true, 10000, 3000, 1, cache
			if s == memctl.ShadowRemote && cache > 0 {
				cfg.Failure, cfg.Memory = "crash", "volatile"
			}
			res, err := sim.Run(cfg, sliceOpener(recs))
			if err != nil {
				t.Fatal(err)
			}
			st := res.Stats
			if st.VerifyMismatches != 0 || st.VerifyChecks == 0 || st.Rollbacks+st.Crashes == 0 {
				t.Errorf("%s cache %d: %d mismatches of %d checks; first: %s", s, cache, st.VerifyMismatches, st.VerifyChecks, res.FirstMismatch)
			}
		}
	}
}
