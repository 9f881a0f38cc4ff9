package incremental_test

import (
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/incremental"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

var sink uint64

// BenchmarkAccess times Access (a checkpoint every 10000 accesses, merges every 8, a
// mirror) against a bare loop over the same accesses.
func BenchmarkAccess(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	acc := make([]scheme.Access, 1<<14)
	for i := range acc {
		acc[i] = scheme.Access{Addr: uint64(rng.IntN(1 << 24)), Size: 8, Kind: traces.Kind(rng.IntN(2)), N: int64(i + 1)}
	}
	b.Run("baseline", func(b *testing.B) {
		var s uint64
		for i := 0; b.Loop(); i++ {
			s += acc[i&(len(acc)-1)].Addr >> 12
		}
		sink = s
	})
	b.Run("incremental", func(b *testing.B) {
		s, _ := incremental.New(scheme.Machine{PageSize: 4096}, incremental.Settings{MergeEvery: 8, MirrorCache: 1 << 20, MirrorFlushEvery: 100000}, nil)
		for i := 0; b.Loop(); i++ {
			s.Access(acc[i&(len(acc)-1)])
			if i%10000 == 9999 {
				s.Checkpoint(0)
			}
		}
	})
}
