package scheme

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/record"
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
					x.Add(Page{record.ASID(n % 3), n})
				}
				x.Clear()
				x.gen = math.MaxUint32 - 3
			}
			model := map[Page]int32{}
			for op := range 20000 {
				p := Page{record.ASID(rng.IntN(3)), uint64(rng.IntN(3 * pageRecent))}
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
	var dirty PageIndex // a set of pages
	for n := uint64(10); n <= 12; n++ {
		dirty.Add(Page{1, n})
	}
	fmt.Println(dirty.Len(), dirty.Find(Page{1, 11}))
	dirty.Clear() // at a checkpoint
	fmt.Println(dirty.Len(), dirty.Find(Page{1, 11}))
	// Output:
	// 3 1
	// 0 -1
}

// TestPageIndexBudget: with SetMax, Add refuses a new page once the index holds its budget
// (-1, false) and goes on finding the pages it holds; Clear keeps the budget; Check finds
// an index holding more than its budget.
func TestPageIndexBudget(t *testing.T) {
	type add struct {
		n     uint64
		id    int32
		added bool
	}
	for _, tt := range []struct {
		name string
		max  int
		adds []add
	}{
		{"no budget", 0, []add{{1, 0, true}, {2, 1, true}, {3, 2, true}}},
		{"up to the budget", 2, []add{{1, 0, true}, {2, 1, true}, {1, 0, false}}},
		{"a new page past it", 2, []add{{1, 0, true}, {2, 1, true}, {3, -1, false}, {2, 1, false}, {3, -1, false}}},
		{"after a refusal", 1, []add{{1, 0, true}, {2, -1, false}, {1, 0, false}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var x PageIndex
			x.SetMax(tt.max)
			for i := range 2 { // twice: before and after Clear
				for _, a := range tt.adds {
					if id, added := x.Add(Page{1, a.n}); id != a.id || added != a.added {
						t.Fatalf("pass %d: Add(page %d) = %d, %t; want %d, %t", i, a.n, id, added, a.id, a.added)
					}
					if err := x.Check(); err != nil {
						t.Fatal(err)
					}
				}
				if tt.max > 0 && x.Len() > tt.max {
					t.Fatalf("%d pages, budget %d", x.Len(), tt.max)
				}
				x.Clear()
			}
		})
	}
	var x PageIndex
	x.Add(Page{0, 1})
	x.Add(Page{0, 2})
	x.max = 1
	if err := x.Check(); err == nil || !strings.Contains(err.Error(), "budget") {
		t.Errorf("Check of 2 pages with a budget of 1: %v", err)
	}
}
