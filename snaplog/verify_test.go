package snaplog_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/snaplog"
)

// TestVerifyUnderFailures runs snaplog with --verify and many failures (by MTBF, small
// against the interval, and by --fail-at), transient and crashes of volatile memory, with
// and without caches, both scopes, both --io modes, on traces with inputs and outputs.
func TestVerifyUnderFailures(t *testing.T) {
	n := 0
	for _, cacheSize := range []uint64{0, 1024, 4096} {
		for _, scope := range []string{"system", "asid"} {
			for _, crash := range []bool{false, true} {
				for _, byMTBF := range []bool{false, true} {
					n++
					seed := uint64(n)
					cfg := sim.DefaultConfig()
					cfg.Scheme, cfg.Verify, cfg.Interval, cfg.Seed, cfg.Scope = "snaplog", true, 150, seed, sim.Scope(scope)
					cfg.CacheSize, cfg.CacheWays = cacheSize, 2
					cfg.IO = []sim.IOMode{"none", "hold"}[n%2]
					cfg.Params = map[string]string{"log-header": []string{"16", "0", "40"}[n%3]}
					if byMTBF {
						cfg.MTBF = 60
					} else {
						cfg.FailAt = []int64{1, 149, 150, 151, 600, 601, 1999, 2000, 2500}
					}
					if crash {
						cfg.Failure, cfg.Memory = "crash", "volatile"
					}
					name := fmt.Sprintf("cache=%d %s crash=%v mtbf=%v", cacheSize, scope, crash, byMTBF)
					t.Run(name, func(t *testing.T) {
						recs := randomTrace(rand.New(rand.NewPCG(seed, 21)), 2500, 3, 30, 10)
						s := mustRun(t, cfg, recs, sim.Options{CheckEvery: n%3 == 0})
						if s.VerifyChecks == 0 || s.Rollbacks+s.Crashes < 5 || own(t, s, "recovery_log_entries") == 0 {
							t.Fatalf("nothing verified: %d checks, %d rollbacks, %d crashes, %d log entries replayed",
								s.VerifyChecks, s.Rollbacks, s.Crashes, own(t, s, "recovery_log_entries"))
						}
						if own(t, s, "recovery_replay_accesses") != s.ReplayedRefs {
							t.Fatalf("replayed %d accesses, the driver %d", own(t, s, "recovery_replay_accesses"), s.ReplayedRefs)
						}
					})
				}
			}
		}
	}
}

func TestVerifyOnRealTrace(t *testing.T) {
	recs := withInputs(rand.New(rand.NewPCG(9, 9)), gccHead(t, 200000), 300)
	for _, crash := range []bool{false, true} {
		for _, cacheSize := range []uint64{0, 32 << 10} {
			cfg := sim.DefaultConfig()
			cfg.Scheme, cfg.Verify, cfg.Interval, cfg.MTBF, cfg.Seed = "snaplog", true, 10000, 30000, 1
			cfg.CacheSize, cfg.CacheWays = cacheSize, 8
			if crash {
				cfg.Failure, cfg.Memory = "crash", "volatile"
			}
			if s := mustRun(t, cfg, recs, sim.Options{}); s.VerifyChecks == 0 || s.Rollbacks+s.Crashes == 0 {
				t.Errorf("crash=%v cache=%d: nothing verified", crash, cacheSize)
			}
		}
	}
}

// dropping is a backup link that loses every third page sent.
type dropping struct {
	*snaplog.MemBackup
	n int
}

func (d *dropping) Send(dom scheme.Domain, p snaplog.Page, data []uint64) {
	if d.n++; d.n%3 != 0 {
		d.MemBackup.Send(dom, p, data)
	}
}

func TestVerifierCatchesDroppingLink(t *testing.T) {
	for _, crash := range []bool{false, true} {
		for _, scope := range []string{"system", "asid"} {
			t.Run(fmt.Sprintf("crash=%v %s", crash, scope), func(t *testing.T) {
				info := snaplog.Info()
				info.New = func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
					return snaplog.New(m, snaplog.Settings{Header: 16}, &dropping{MemBackup: snaplog.NewMemBackup(m.PageSize, int(m.PageSize/m.VerifyBlock))})
				}
				cfg := sim.DefaultConfig()
				cfg.Scheme, cfg.Verify, cfg.Interval, cfg.FailAt, cfg.Scope = "snaplog", true, 100, []int64{1234, 2500}, sim.Scope(scope)
				if crash {
					cfg.Failure, cfg.Memory = "crash", "volatile"
				}
				res, err := sim.RunWith(cfg, opener(randomTrace(rand.New(rand.NewPCG(3, 3)), 3000, 2, 16, 10)), sim.Options{Scheme: &info})
				if err != nil {
					t.Fatal(err)
				}
				if res.Stats.VerifyMismatches == 0 {
					t.Error("a link losing a third of the snapshot pages passed verification")
				}
			})
		}
	}
}

// TestMaxPages: beyond --max-pages the run stops with scheme.ErrTooManyPages.
func TestMaxPages(t *testing.T) {
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Interval, cfg.MaxPages = "snaplog", 100, 8
	_, err := sim.Run(cfg, opener(randomTrace(rand.New(rand.NewPCG(4, 4)), 1000, 1, 40, 0)))
	if !errors.Is(err, scheme.ErrTooManyPages) || !errors.Is(err, sim.ErrUsage) {
		t.Fatalf("40 pages under --max-pages 8: %v", err)
	}
}
