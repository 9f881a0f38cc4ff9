package coherence

import (
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/internal/testseed"
	"github.com/vmsim/vmsim/record"
)

// The directory's table agrees with a Go map under random sets, updates and removals,
// growing past its first size and shrinking to empty, and keeps its invariants.
func TestDirectory(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	d := newDirectory()
	want := map[cache.Line]entry{}
	span := uint64(1500)
	for i := range 60000 {
		if i == 40000 {
			span = 40 // fewer lines: most go, the table stays large and sparse
		}
		l := cache.Line{ASID: record.ASID(rng.IntN(3)), N: rng.Uint64N(span) << rng.IntN(20)}
		if rng.IntN(3) == 0 {
			d.set(l, entry{})
			delete(want, l)
		} else {
			e := entry{sharers: 1 + rng.Uint64N(1<<20)}
			d.set(l, e)
			want[l] = e
		}
		if got := d.get(l); got != want[l] {
			t.Fatalf("seed %d op %d: line %v: %+v, want %+v", seed, i, l, got, want[l])
		}
		if i%500 == 0 || i > 59900 {
			if err := d.check(); err != nil {
				t.Fatalf("seed %d op %d: %v", seed, i, err)
			}
			if d.n != len(want) {
				t.Fatalf("seed %d op %d: %d lines, want %d", seed, i, d.n, len(want))
			}
			for l, e := range want {
				if got := d.get(l); got != e {
					t.Fatalf("seed %d op %d: line %v: %+v, want %+v", seed, i, l, got, e)
				}
			}
		}
	}
	if len(d.slots) <= minSlots {
		t.Errorf("the table never grew: %d slots", len(d.slots))
	}
	d.clear()
	if err := d.check(); err != nil || d.n != 0 || d.get(cache.Line{}) != (entry{}) {
		t.Errorf("after clear: %v, %d lines", err, d.n)
	}
}
