package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/internal/testseed"
	"github.com/vmsim/vmsim/traces"
)

// TestGoldenCached: the golden model's probe of its cache of recent pages, which the
// verifier's hook calls before mem, answers as mem does whenever it answers (hit): the
// page's stamps, or nil for a page not in the model; and it answers for a page just found.
// Seeded random writes and lookups over pages of three address spaces, enough to evict
// entries of the 1,024-entry cache.
func TestGoldenCached(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	const perPage = 64
	g := newGolden(perPage, func(traces.ASID) int { return 0 })
	hits := 0
	for step := range 20000 {
		asid, block := traces.ASID(rng.IntN(3)), uint64(rng.IntN(4096*perPage))
		if rng.IntN(3) == 0 {
			g.write(asid, block, uint64(step+1))
			continue
		}
		mem, hit := g.cached(asid, block)
		want := g.mem(asid, block)
		if hit {
			hits++
			if len(mem) != len(want) || len(mem) > 0 && &mem[0] != &want[0] {
				t.Fatalf("seed %d, step %d: cached(%d, %#x) = %v (len %d), mem says %v (len %d)", seed, step, asid, block, mem != nil, len(mem), want != nil, len(want))
			}
		}
		if mem, hit := g.cached(asid, block); !hit || len(mem) != len(want) {
			t.Fatalf("seed %d, step %d: cached(%d, %#x) just after mem: hit %t", seed, step, asid, block, hit)
		}
	}
	if hits == 0 {
		t.Fatalf("seed %d: no hit", seed)
	}
	if err := g.Check(); err != nil {
		t.Fatal(err)
	}
}
