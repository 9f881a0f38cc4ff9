package repl_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/repl"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

// TestVerifyUnderFailures runs both schemes with --verify and many failures: by MTBF
// (small against the interval) and by --fail-at, transient and crashes of volatile memory,
// without a cache and behind small caches, with one domain and one per address space, and
// (cacheline) with logs small enough to force checkpoints and overflow.
func TestVerifyUnderFailures(t *testing.T) {
	type cacheCfg struct {
		size uint64
		ways int
		line uint64
	}
	caches := []cacheCfg{{0, 0, 0}, {512, 2, 32}, {2048, 4, 64}}
	n := 0
	for _, name := range []string{"remus", "cacheline"} {
		for ci, c := range caches {
			for _, scope := range []string{"system", "asid"} {
				for _, crash := range []bool{false, true} {
					for _, byList := range []bool{false, true} {
						n++
						seed := uint64(n)
						cfg := sim.DefaultConfig()
						cfg.Scheme, cfg.Verify, cfg.Interval, cfg.Seed, cfg.Scope = name, true, 200, seed, sim.Scope(scope)
						if byList {
							cfg.FailAt = []int64{1, 2, 150, 199, 200, 201, 777, 1500, 2999}
						} else {
							cfg.MTBF = 90
						}
						if crash {
							cfg.Failure, cfg.Memory = "crash", "volatile"
						}
						if c.size > 0 {
							cfg.CacheSize, cfg.CacheWays, cfg.CacheLine = c.size, c.ways, c.line
							cfg.VerifyBlock = min(cfg.VerifyBlock, c.line)
							cfg.CacheFlush = []sim.CacheFlush{"invalidate", "clean"}[n%2]
						}
						if name == "cacheline" {
							if c.size == 0 { // behind a cache the line is the cache's
								cfg.Granule = []uint64{64, 128}[n%2]
							}
							cfg.Params = map[string]string{"log-entries": []string{"5", "40", "16384"}[(n+ci)%3]}
						}
						t.Run(fmt.Sprintf("%s cache=%d %s crash=%v list=%v", name, c.size, scope, crash, byList), func(t *testing.T) {
							recs := randomTrace(rand.New(rand.NewPCG(seed, 9)), 3000, 3, 24)
							s := mustRun(t, cfg, recs, sim.Options{CheckEvery: n%4 == 0})
							if s.VerifyChecks == 0 || s.Rollbacks+s.Crashes == 0 {
								t.Fatalf("nothing verified: %d checks, %d rollbacks, %d crashes", s.VerifyChecks, s.Rollbacks, s.Crashes)
							}
						})
					}
				}
			}
		}
	}
}

func TestVerifyOnRealTrace(t *testing.T) {
	recs := gccHead(t, 200000)
	for _, name := range []string{"remus", "cacheline"} {
		for _, crash := range []bool{false, true} {
			cfg := sim.DefaultConfig()
			cfg.Scheme, cfg.Verify, cfg.Interval, cfg.MTBF, cfg.Seed = name, true, 10000, 30000, 1
			if crash {
				cfg.Failure, cfg.Memory = "crash", "volatile"
			}
			if name == "cacheline" {
				cfg.CacheSize, cfg.CacheWays = 32<<10, 8
			}
			if s := mustRun(t, cfg, recs, sim.Options{}); s.VerifyChecks == 0 || s.Rollbacks+s.Crashes == 0 {
				t.Errorf("%s crash=%v: nothing verified", name, crash)
			}
		}
	}
}

// lossy is a backup that loses every third unit sent: recovery from it must go wrong.
type lossy struct {
	*repl.MemBackup
	n int
}

func (l *lossy) Send(d scheme.Domain, u repl.Unit, data []uint64) {
	if l.n++; l.n%3 != 0 {
		l.MemBackup.Send(d, u, data)
	}
}

// TestVerifierCatchesLossyBackup: a backup that drops units makes recoveries restore stale
// data, which the verifier must report, for both schemes and both kinds of failure.
func TestVerifierCatchesLossyBackup(t *testing.T) {
	for _, name := range []string{"remus", "cacheline"} {
		for _, crash := range []bool{false, true} {
			info, _ := scheme.Lookup(name)
			info.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
				if name == "remus" {
					return repl.NewRemus(m, &lossy{MemBackup: repl.NewMemBackup(m.PageSize, int(m.PageSize/m.VerifyBlock))}), nil
				}
				return repl.NewCacheline(m, 1000, &lossy{MemBackup: repl.NewMemBackup(m.Granule, int(m.Granule/m.VerifyBlock))})
			}
			cfg := sim.DefaultConfig()
			cfg.Scheme, cfg.Verify, cfg.Interval, cfg.FailAt = name, true, 100, []int64{1234, 2500}
			if crash {
				cfg.Failure, cfg.Memory = "crash", "volatile"
			}
			recs := randomTrace(rand.New(rand.NewPCG(2, 2)), 3000, 1, 16)
			res, err := sim.RunWith(cfg, opener(recs), sim.Options{Scheme: &info})
			if err != nil {
				t.Fatal(err)
			}
			if res.Stats.VerifyMismatches == 0 {
				t.Errorf("%s crash=%v: a backup losing a third of what it receives passed verification", name, crash)
			}
		}
	}
}
