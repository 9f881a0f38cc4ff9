package coord_test

import (
	"fmt"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/coord"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/traces"
)

// Two threads share a counter, a third works alone; the lone thread's core fails. Global
// rolls every core back; rebound only the failed one.
func Example() {
	var recs []record.Record
	for i := range 300 {
		recs = append(recs,
			record.Record{ASID: 1, Thread: 1, Kind: record.Modify, Addr: 0x1000, Size: 8},
			record.Record{ASID: 1, Thread: 2, Kind: record.Modify, Addr: 0x1000, Size: 8},
			record.Record{ASID: 1, Thread: 3, Kind: record.Write, Addr: 0x8000 + uint64(i%64)*8, Size: 8})
	}
	for _, s := range coord.Schemes {
		cfg := coord.Config{
			Scheme: s, Cores: 3, Cache: cache.Geometry{Size: 32 << 10, Ways: 8, Line: 64},
			Policy: schedule.RoundRobin, Quantum: 1 << 20,
			Interval: 200, FailAt: []int64{500}, FailCore: 2,
			Verify: true, VerifyBlock: 8,
		}
		st, err := coord.Run(cfg, traces.NewSliceReader(recs), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		base, err := coord.Run(cfg.Baseline(), traces.NewSliceReader(recs), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: checkpoints %d (cores %.1f each), rollbacks %d (cores %d, accesses lost %d), dependence edges %d, reads verified %d, orphans %d, overhead %.0f%%\n",
			s, st.Checkpoints, float64(st.CoresPerCheckpoint)/float64(st.Checkpoints), st.Rollbacks, st.CoresPerRollback,
			st.LostAccesses, st.DependenceEdges, st.VerifyChecks, st.Orphans, 100*coord.Overhead(st, base))
	}
	// Output:
	// global: checkpoints 4 (cores 3.0 each), rollbacks 1 (cores 3, accesses lost 100), dependence edges 0, reads verified 667, orphans 0, overhead 30%
	// rebound: checkpoints 2 (cores 1.5 each), rollbacks 1 (cores 1, accesses lost 166), dependence edges 4, reads verified 600, orphans 0, overhead 2%
}
