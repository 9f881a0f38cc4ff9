package coord

import (
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/internal/testseed"
	"github.com/vmsim/vmsim/record"
)

// The line table against a Go map, on seeded random inserts, updates and removals of
// lines of few and many distinct numbers and address spaces (so that it grows and its
// probe runs wrap around).
func TestLineTable(t *testing.T) {
	seed := testseed.Seed(t)
	for _, tt := range []struct {
		name  string
		lines uint64
		asids uint32
		ops   int
	}{
		{"few lines", 100, 1, 20_000},
		{"many lines, grows", 20_000, 3, 100_000},
		{"lines apart by powers of two", 1 << 40, 2, 50_000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, tt.lines))
			tab := newLineTable()
			ref := map[cache.Line]lineMeta{}
			for op := range tt.ops {
				n := rng.Uint64N(tt.lines)
				if tt.lines == 1<<40 {
					n = 1 << rng.IntN(40)
				}
				l := cache.Line{ASID: record.ASID(rng.Uint32N(tt.asids)), N: n}
				switch rng.IntN(4) {
				case 0:
					tab.remove(l)
					delete(ref, l)
				case 1:
					got, want := tab.lookup(l), ref[l]
					if _, ok := ref[l]; (got != nil) != ok || ok && *got != want {
						t.Fatalf("seed %d, op %d: line %v: %v, want %v (%v)", seed, op, l, got, want, ok)
					}
				default:
					m := tab.ref(l, lineMeta{lw: writer{core: -1}})
					if _, ok := ref[l]; !ok {
						ref[l] = lineMeta{lw: writer{core: -1}}
					}
					if *m != ref[l] {
						t.Fatalf("seed %d, op %d: line %v: %v, want %v", seed, op, l, *m, ref[l])
					}
					m.logged = rng.Uint64()
					ref[l] = *m
				}
				if op%4096 == 0 {
					if err := tab.check(); err != nil {
						t.Fatalf("seed %d, op %d: %v", seed, op, err)
					}
				}
			}
			if err := tab.check(); err != nil {
				t.Fatal(err)
			}
			if tab.len() != len(ref) {
				t.Fatalf("%d lines, want %d", tab.len(), len(ref))
			}
			for l, m := range tab.all() {
				if ref[l] != m {
					t.Errorf("line %v: %v, want %v", l, m, ref[l])
				}
			}
		})
	}
}
