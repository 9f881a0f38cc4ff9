package incremental_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/incremental"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

// TestVerifyUnderFailures runs incremental with --verify and many failures (by MTBF and by
// --fail-at), transient and crashes of volatile memory, with and without a cache, both
// scopes, with merges by count and by size, and with a mirror.
func TestVerifyUnderFailures(t *testing.T) {
	params := []map[string]string{
		{},
		{"merge-every": "1"},
		{"merge-every": "0", "merge-chain-bytes": "12K", "mirror-cache": "8K", "mirror-flush-every": "77"},
		{"merge-every": "3", "mirror-cache": "1M", "mirror-flush-every": "0"},
	}
	n := 0
	for pi, p := range params {
		for _, cacheSize := range []uint64{0, 1024} {
			for _, scope := range []string{"system", "asid"} {
				for _, crash := range []bool{false, true} {
					n++
					seed := uint64(n)
					cfg := sim.DefaultConfig()
					cfg.Scheme, cfg.Verify, cfg.Interval, cfg.Seed, cfg.Scope, cfg.Params = "incremental", true, 150, seed, sim.Scope(scope), p
					cfg.CacheSize, cfg.CacheWays = cacheSize, 2
					if n%2 == 0 {
						cfg.MTBF = 70
					} else {
						cfg.FailAt = []int64{1, 149, 150, 151, 600, 1999, 2000}
					}
					if crash {
						cfg.Failure, cfg.Memory = "crash", "volatile"
					}
					t.Run(fmt.Sprintf("params%d cache=%d %s crash=%v", pi, cacheSize, scope, crash), func(t *testing.T) {
						recs := randomTrace(rand.New(rand.NewPCG(seed, 21)), 2500, 3, 30)
						s := mustRun(t, cfg, recs, sim.Options{CheckEvery: n%3 == 0})
						if s.VerifyChecks == 0 || s.Rollbacks+s.Crashes == 0 {
							t.Fatalf("nothing verified: %+v", s)
						}
					})
				}
			}
		}
	}
}

func TestVerifyOnRealTrace(t *testing.T) {
	recs := gccHead(t, 200000)
	for _, crash := range []bool{false, true} {
		cfg := sim.DefaultConfig()
		cfg.Scheme, cfg.Verify, cfg.Interval, cfg.MTBF, cfg.Seed = "incremental", true, 10000, 30000, 1
		cfg.Params = map[string]string{"merge-every": "3", "mirror-cache": "128K"}
		if crash {
			cfg.Failure, cfg.Memory = "crash", "volatile"
		}
		if s := mustRun(t, cfg, recs, sim.Options{}); s.VerifyChecks == 0 || s.Rollbacks+s.Crashes == 0 {
			t.Errorf("crash=%v: nothing verified", crash)
		}
	}
}

// dropping is a store that loses every third page written.
type dropping struct {
	*incremental.Store
	n int
}

func (d *dropping) Send(dom scheme.Domain, p incremental.Page, data []uint64) {
	if d.n++; d.n%3 != 0 {
		d.Store.Send(dom, p, data)
	}
}

func TestVerifierCatchesDroppingStore(t *testing.T) {
	for _, crash := range []bool{false, true} {
		info := incremental.Info()
		info.New = func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
			return incremental.New(m, incremental.Settings{MergeEvery: 2}, &dropping{Store: incremental.NewStore(m.PageSize, int(m.PageSize/m.VerifyBlock), 0, 0)})
		}
		cfg := sim.DefaultConfig()
		cfg.Scheme, cfg.Verify, cfg.Interval, cfg.FailAt = "incremental", true, 100, []int64{1234, 2500}
		if crash {
			cfg.Failure, cfg.Memory = "crash", "volatile"
		}
		res, err := sim.RunWith(cfg, opener(randomTrace(rand.New(rand.NewPCG(3, 3)), 3000, 1, 16)), sim.Options{Scheme: &info})
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.VerifyMismatches == 0 {
			t.Errorf("crash=%v: a store losing a third of its pages passed verification", crash)
		}
	}
}
