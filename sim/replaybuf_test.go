package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vmsim/vmsim/internal/testseed"
	"github.com/vmsim/vmsim/traces"
)

// TestReplayBufferAddRun: addRun leaves the buffer as add called on each access would,
// across the limit's resets and with I/O records between runs.
func TestReplayBufferAddRun(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, limit := range []int{1, 2, 3, 7, 64} {
		one, many := newReplayBuffer(limit), newReplayBuffer(limit)
		one.base, many.base, one.ioFrom, many.ioFrom = 0, 0, 0, 0
		var idx int64
		for step := 0; step < 200; step++ {
			if rng.IntN(5) == 0 && idx > 0 {
				io := traces.Record{Kind: traces.Output, Addr: 1}
				one.addIO(io, idx)
				many.addIO(io, idx)
				continue
			}
			run := make([]traces.Record, 1+rng.IntN(3*limit))
			for i := range run {
				run[i] = traces.Record{Kind: traces.Read, Addr: rng.Uint64N(1 << 20), Size: 1}
			}
			for i := range run {
				one.add(run[i], idx+int64(i)+1)
			}
			many.addRun(run, idx)
			idx += int64(len(run))
			if !slices.Equal(one.recs, many.recs) || one.base != many.base || one.ioFrom != many.ioFrom {
				t.Fatalf("seed %d, limit %d, step %d: addRun gave %v (base %d, I/O from %d), add %v (base %d, I/O from %d)",
					seed, limit, step, many.recs, many.base, many.ioFrom, one.recs, one.base, one.ioFrom)
			}
		}
	}
}
