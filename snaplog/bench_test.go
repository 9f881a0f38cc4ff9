package snaplog_test

import (
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/snaplog"
	"github.com/vmsim/vmsim/traces"
)

var sink uint64

// BenchmarkAccess times Access (a snapshot every 10000 accesses, an input every 1000)
// against a bare loop over the same accesses.
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
	b.Run("snaplog", func(b *testing.B) {
		s, _ := snaplog.New(scheme.Machine{PageSize: 4096}, snaplog.Settings{Header: snaplog.DefaultHeader}, nil)
		for i := 0; b.Loop(); i++ {
			k := i & (len(acc) - 1)
			s.Access(scheme.Run{Recs: acc[k : k+1], N: int64(i)})
			if i%1000 == 999 {
				s.IO(traces.Record{Kind: traces.Input, Size: 64}, int64(i+1))
			}
			if i%10000 == 9999 {
				s.Checkpoint(0)
			}
		}
	})
}
