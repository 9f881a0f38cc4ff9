package scheme

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// TestPageIndexModel drives PageIndex with random Add, Find and Clear calls over a few
// address spaces and checks every answer against a map, with Check after each call. Pages
// are drawn from more than pageRecent numbers, so the cache evicts; one run starts its
// cache generation just below the wrap, so that Clear wraps it.
func TestPageIndexModel(t *testing.T) {
	for _, tt := range []struct {
		name string
		seed uint64
		wrap bool
	}{
		{"seed=1", 1, false},
		{"seed=2", 2, false},
		{"seed=3", 3, false},
		{"seed=4/wrap", 4, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 11))
			var x PageIndex
			if tt.wrap {
				// Cache entries of generation 1, made stale by Clear, then a generation
				// as if Clear had been called nearly 2^32 times since.
				for n := range uint64(pageRecent) {
					x.Add(Page{traces.ASID(n % 3), n})
				}
				x.Clear()
				x.gen = math.MaxUint32 - 3
			}
			model := map[Page]int32{}
			for op := range 20000 {
				p := Page{traces.ASID(rng.IntN(3)), uint64(rng.IntN(3 * pageRecent))}
				switch r := rng.IntN(100); {
				case r < 1:
					x.Clear()
					clear(model)
				case r < 50:
					id, added := x.Add(p)
					want, had := model[p]
					if !had {
						want = int32(len(model))
						model[p] = want
					}
					if id != want || added == had {
						t.Fatalf("seed %d, op %d: Add(%+v) = %d, %t; want %d, %t", tt.seed, op, p, id, added, want, !had)
					}
				default:
					want, had := model[p]
					if !had {
						want = -1
					}
					if id := x.Find(p); id != want {
						t.Fatalf("seed %d, op %d: Find(%+v) = %d, want %d", tt.seed, op, p, id, want)
					}
				}
				if x.Len() != len(model) {
					t.Fatalf("seed %d, op %d: Len() = %d, want %d", tt.seed, op, x.Len(), len(model))
				}
				if err := x.Check(); err != nil {
					t.Fatalf("seed %d, op %d: %v", tt.seed, op, err)
				}
			}
			for p, id := range model {
				if got := x.Key(id); got != p {
					t.Errorf("seed %d: Key(%d) = %+v, want %+v", tt.seed, id, got, p)
				}
			}
			if tt.wrap && x.gen > 1000 {
				t.Errorf("seed %d: the cache generation never wrapped (%d)", tt.seed, x.gen)
			}
		})
	}
}

func ExamplePageIndex_Clear() {
	var dirty PageIndex // a set of pages, as a scheme's dirty set
	MarkPages(&dirty, 1, 10, 12)
	fmt.Println(dirty.Len(), dirty.Find(Page{1, 11}))
	dirty.Clear() // at a checkpoint
	fmt.Println(dirty.Len(), dirty.Find(Page{1, 11}))
	// Output:
	// 3 1
	// 0 -1
}
