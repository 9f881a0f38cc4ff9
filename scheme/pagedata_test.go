package scheme

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vmsim/vmsim/record"
)

// TestPageDataModel drives PageData with random Load, Store, Page, Get, Read and Clear
// calls and checks every result against a map of blocks, with Check after each call.
func TestPageDataModel(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			const blocks = 8
			d := NewPageData(512, 64) // 8 blocks a page
			model := map[Page][]uint64{}
			read := func(asid record.ASID, b uint64) uint64 {
				if m := model[Page{asid, b / blocks}]; m != nil {
					return m[b%blocks]
				}
				return 0
			}
			for step := range 3000 {
				asid := record.ASID(rng.IntN(3))
				first := uint64(rng.IntN(40 * blocks))
				if rng.IntN(4) == 0 {
					first += uint64(rng.Uint32()) << 8 // far pages, to grow the index
				}
				n := 1 + rng.IntN(3*blocks)
				switch op := rng.IntN(20); {
				case op < 8: // Store
					src := make([]uint64, n)
					for i := range src {
						src[i] = rng.Uint64()
						b := first + uint64(i)
						p := Page{asid, b / blocks}
						if model[p] == nil {
							model[p] = make([]uint64, blocks)
						}
						model[p][b%blocks] = src[i]
					}
					d.Store(asid, first, src)
				case op < 16: // Load
					dst := make([]uint64, n)
					for i := range dst {
						dst[i] = 12345 // Load must overwrite
					}
					d.Load(asid, first, dst)
					for i, got := range dst {
						if want := read(asid, first+uint64(i)); got != want {
							t.Fatalf("seed %d step %d: Load(%d, %d) block %d = %d, want %d", seed, step, asid, first, i, got, want)
						}
					}
				case op < 18: // Get, Image and Read of one page
					p := Page{asid, first / blocks}
					got, view := d.Get(p), d.Image(asid, p.N, false)
					buf := make([]uint64, blocks)
					d.Read(p, buf)
					want := model[p]
					if (got == nil) != (want == nil) || !slices.Equal(got, want) || !slices.Equal(view, want) {
						t.Fatalf("seed %d step %d: Get(%+v) = %v, Image %v, want %v", seed, step, p, got, view, want)
					}
					if want == nil {
						want = make([]uint64, blocks)
					}
					if !slices.Equal(buf, want) {
						t.Fatalf("seed %d step %d: Read(%+v) = %v, want %v", seed, step, p, buf, want)
					}
				case op < 19: // Page creates
					p := Page{asid, first / blocks}
					if model[p] == nil {
						model[p] = make([]uint64, blocks)
					}
					if got := d.Page(p); !slices.Equal(got, model[p]) {
						t.Fatalf("seed %d step %d: Page(%+v) = %v, want %v", seed, step, p, got, model[p])
					}
				default:
					if rng.IntN(10) == 0 {
						d.Clear()
						clear(model)
					}
				}
				if err := d.Check(); err != nil {
					t.Fatalf("seed %d step %d: %v", seed, step, err)
				}
				if d.Len() != len(model) {
					t.Fatalf("seed %d step %d: Len = %d, want %d", seed, step, d.Len(), len(model))
				}
			}
			seen := 0
			var prev []uint64
			d.All(func(p Page, st []uint64) {
				seen++
				if !slices.Equal(st, model[p]) {
					t.Fatalf("seed %d: All gives %+v = %v, want %v", seed, p, st, model[p])
				}
				if prev != nil && &prev[0] == &st[0] {
					t.Fatalf("seed %d: two pages share stamps", seed)
				}
				prev = st
			})
			if seen != len(model) {
				t.Fatalf("seed %d: All gave %d pages, want %d", seed, seen, len(model))
			}
		})
	}
}

func ExamplePageData() {
	d := NewPageData(4096, 64)     // 64 stamps a page
	d.Store(1, 63, []uint64{7, 8}) // the last block of page 0 and the first of page 1
	dst := make([]uint64, 3)
	d.Load(1, 62, dst)
	fmt.Println(dst, d.Len(), d.Get(Page{ASID: 2, N: 0}) == nil)
	// Output: [0 7 8] 2 true
}

func ExamplePageIndex() {
	var x PageIndex
	a, _ := x.Add(Page{ASID: 1, N: 0x400})
	b, added := x.Add(Page{ASID: 2, N: 0x400}) // another address space: another page
	again, addedAgain := x.Add(Page{ASID: 1, N: 0x400})
	fmt.Println(a, b, added, again, addedAgain, x.Find(Page{ASID: 3, N: 0}), x.Len(), x.Key(1))
	// Output: 0 1 true 0 false -1 2 {2 1024}
}
