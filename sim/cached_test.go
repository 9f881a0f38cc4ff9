package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/scheme"
)

// runLengths is a scheme that notes the length of every run it is handed.
type runLengths struct {
	scheme.Scheme
	calls, longest int
	accesses       int64
}

func (s *runLengths) Access(run scheme.Run) int {
	s.calls++
	s.longest = max(s.longest, len(run.Recs))
	n := s.Scheme.Access(run)
	s.accesses += int64(n)
	return n
}

// TestCachedRunsInOneCall: behind a cache model modeled for its counts (a scheme of the
// CPU), with a TLB too, and under --verify, the scheme gets a run of accesses in one call,
// as without the models, not one call an access; a memory-level scheme behind the cache
// gets exactly its fills and write-backs, one a call. The counts are those of the general
// loop (TestFastPathMatchesSlowPath checks every scheme).
func TestCachedRunsInOneCall(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(3, 3)), 20000, 1)
	for _, tt := range []struct {
		name   string
		scheme string
		tlb    bool
		verify bool
	}{
		{"dualmap behind a cache", "dualmap", false, false},
		{"none behind a cache and a TLB", "none", true, false},
		{"dualmap behind a cache, verified", "dualmap", false, true},
		{"bitmap at the memory", "bitmap", false, false},
		{"undo at the memory, a TLB", "undo", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Scheme, cfg.Interval, cfg.Verify = tt.scheme, 1000, tt.verify
			cfg.CacheSize, cfg.CacheWays, cfg.CacheLine = 4096, 8, 64
			if tt.tlb {
				cfg.TLBEntries = 16
			}
			var s *runLengths
			res := mustRun(t, cfg, recs, Options{wrap: func(in scheme.Scheme) scheme.Scheme {
				s = &runLengths{Scheme: in}
				return s
			}})
			slow := mustRun(t, cfg, recs, Options{slow: true})
			if res.Stats != slow.Stats {
				t.Fatalf("in runs %+v\none at a time %+v", res.Stats, slow.Stats)
			}
			st := res.Stats
			if info, _ := scheme.Lookup(tt.scheme); info.Level == scheme.LevelMemory {
				if want := st.CacheMisses + st.CacheWritebacks; s.accesses != want || s.longest != 1 {
					t.Errorf("the scheme got %d accesses in %d calls (the longest run %d), want the %d fills and write-backs one a call", s.accesses, s.calls, s.longest, want)
				}
				return
			}
			if s.accesses != st.Refs || s.calls > int(st.Refs/100) {
				t.Errorf("the scheme got %d accesses in %d calls (the longest run %d): want the %d accesses in runs", s.accesses, s.calls, s.longest, st.Refs)
			}
		})
	}
}
