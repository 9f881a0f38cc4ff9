package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/internal/testseed"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/traces"
)

// TestCountWrites: perform's count of a run's writes, eight records at a time, is the
// number of records whose Kind.Writes, for every run length around its unrolling (0 to
// 40) and every kind.
func TestCountWrites(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 9))
	for n := range 41 {
		recs := make([]traces.Record, n)
		var want int64
		for i := range recs {
			recs[i].Kind = traces.Kind(rng.IntN(int(record.NumKinds)))
			if recs[i].Kind.Writes() {
				want++
			}
		}
		if got := countWrites(recs); got != want {
			t.Errorf("seed %d, %d records: %d writes, want %d", seed, n, got, want)
		}
	}
}
