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
	acc := make([]traces.Record, 1<<14)
	for i := range acc {
		acc[i] = traces.Record{Addr: uint64(rng.IntN(1 << 24)), Size: 8, Kind: traces.Kind(rng.IntN(2))}
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
			k := i & (len(acc) - 1)
			s.Access(scheme.Run{Recs: acc[k : k+1], N: int64(k)})
			if i%10000 == 9999 {
				s.Checkpoint(0)
			}
		}
	})
}
