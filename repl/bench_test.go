package repl_test

import (
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/repl"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

func benchAccesses() []traces.Record {
	rng := rand.New(rand.NewPCG(1, 1))
	out := make([]traces.Record, 1<<14)
	for i := range out {
		out[i] = traces.Record{Addr: uint64(rng.IntN(1 << 24)), Size: 8, Kind: traces.Kind(rng.IntN(2))}
	}
	return out
}

var sink uint64

// BenchmarkAccess times each scheme's Access (with a checkpoint every 10000 accesses)
// against a bare loop over the same accesses.
func BenchmarkAccess(b *testing.B) {
	acc := benchAccesses()
	b.Run("baseline", func(b *testing.B) {
		var s uint64
		for i := 0; b.Loop(); i++ {
			a := acc[i&(len(acc)-1)]
			s += a.Addr >> 12
		}
		sink = s
	})
	m := scheme.Machine{PageSize: 4096, Granule: 64, RequestCheckpoint: func(scheme.Domain) {}}
	cl, _ := repl.NewCacheline(m, 1<<14, nil)
	for _, tt := range []struct {
		name string
		s    scheme.Scheme
	}{{"remus", repl.NewRemus(m, nil)}, {"cacheline", cl}} {
		b.Run(tt.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				k := i & (len(acc) - 1)
				tt.s.Access(scheme.Run{Recs: acc[k : k+1], N: int64(i)})
				if i%10000 == 9999 {
					tt.s.Checkpoint(0)
				}
			}
		})
	}
}
