package tlb

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/internal/reftlb"
)

func TestGeometry(t *testing.T) {
	for _, tt := range []struct {
		name string
		g    Geometry
		ok   bool
	}{
		{"none", Geometry{}, true},
		{"64 entries 4-way", Geometry{64, 4}, true},
		{"fully associative", Geometry{48, 48}, true},
		{"ways do not divide", Geometry{64, 3}, false},
		{"sets not a power of two", Geometry{48, 4}, false},
		{"negative", Geometry{-1, 1}, false},
		{"no ways", Geometry{64, 0}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.g.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate(%+v) = %v, want ok=%v", tt.g, err, tt.ok)
			}
		})
	}
}

// TestAgainstReference runs random lookups, checkpoint tags and flushes through the TLB
// and the naive model.
func TestAgainstReference(t *testing.T) {
	geoms := []Geometry{{1, 1}, {4, 1}, {16, 4}, {64, 4}, {48, 48}}
	for trial := range 30 {
		seed := uint64(trial)
		rng := rand.New(rand.NewPCG(seed, 5))
		g := geoms[trial%len(geoms)]
		tl, ref := New(g), reftlb.New(g.Entries, g.Ways)
		var tag uint64
		for i := range 5000 {
			switch x := rng.IntN(1000); {
			case x < 5:
				tl.Flush(nil)
				ref.Flush()
			case x < 15:
				tag++
			default:
				asid, vpn, w := uint32(rng.IntN(2)), uint64(rng.IntN(100)), rng.IntN(3) == 0
				tl.Lookup(asid, vpn, tag, w)
				ref.Lookup(asid, vpn, tag, w)
			}
			if tl.C.Misses != ref.Misses || tl.C.Stale != ref.Stale {
				t.Fatalf("seed %d geometry %+v step %d: misses %d stale %d, reference %d %d", seed, g, i, tl.C.Misses, tl.C.Stale, ref.Misses, ref.Stale)
			}
		}
		if err := tl.Check(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func TestFlushKeepsOtherSpaces(t *testing.T) {
	tl := New(Geometry{16, 4})
	tl.Lookup(1, 10, 0, false)
	tl.Lookup(2, 10, 0, false)
	tl.Flush(func(a uint32) bool { return a == 1 })
	if !tl.Lookup(1, 10, 0, false) || tl.Lookup(2, 10, 0, false) {
		t.Error("the flush dropped the wrong entries")
	}
	if tl.C.Flushes != 1 {
		t.Errorf("flushes %d, want 1", tl.C.Flushes)
	}
}

func ExampleTLB() {
	tl := New(Geometry{Entries: 64, Ways: 4})
	tl.Lookup(0, 7, 0, true) // a miss: fills the entry with tag 0
	tl.Lookup(0, 7, 0, true) // a hit
	// A checkpoint with tagging: the domain's number becomes 1.
	tl.Lookup(0, 7, 1, false) // a read hits
	tl.Lookup(0, 7, 1, true)  // a write through the old entry walks again
	fmt.Printf("refs %d, misses %d (%d stale)\n", tl.C.Refs, tl.C.Misses, tl.C.Stale)
	// Output: refs 4, misses 2 (1 stale)
}

func BenchmarkTLB(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	pages := make([]uint64, 1<<16)
	for i := range pages {
		pages[i] = uint64(rng.IntN(256))
	}
	b.Run("baseline", func(b *testing.B) {
		tags := make([]uint64, 64)
		var hits int
		for range b.N {
			for _, p := range pages {
				if tags[p&63] == p {
					hits++
				}
				tags[p&63] = p
			}
		}
		b.ReportMetric(float64(len(pages))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mlookups/s")
	})
	b.Run("64x4", func(b *testing.B) {
		tl := New(Geometry{64, 4})
		for range b.N {
			for i, p := range pages {
				tl.Lookup(0, p, 0, i&3 == 0)
			}
		}
		b.ReportMetric(float64(len(pages))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mlookups/s")
	})
}
