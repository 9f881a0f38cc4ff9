package memctl

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestEachRun checks eachRun's runs against the bits eachBit visits, on named bitmaps and
// random ones.
func TestEachRun(t *testing.T) {
	runsOf := func(bm []uint64) [][2]uint64 {
		var runs [][2]uint64
		eachRun(bm, func(lo, hi uint64) { runs = append(runs, [2]uint64{lo, hi}) })
		return runs
	}
	for _, tt := range []struct {
		name string
		bm   []uint64
		want [][2]uint64
	}{
		{"empty", []uint64{0, 0}, nil},
		{"one bit", []uint64{1 << 5}, [][2]uint64{{5, 6}}},
		{"full word", []uint64{^uint64(0)}, [][2]uint64{{0, 64}}},
		{"across words", []uint64{1 << 63, 1, 0}, [][2]uint64{{63, 65}}},
		{"three full words", []uint64{^uint64(0), ^uint64(0), ^uint64(0)}, [][2]uint64{{0, 192}}},
		{"gaps", []uint64{0b1011_0110}, [][2]uint64{{1, 3}, {4, 6}, {7, 8}}},
		{"top bit then gap", []uint64{1 << 63, 2}, [][2]uint64{{63, 64}, {65, 66}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := runsOf(tt.bm); !slices.Equal(got, tt.want) {
				t.Errorf("eachRun(%b) = %v, want %v", tt.bm, got, tt.want)
			}
		})
	}
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		bm := make([]uint64, 1+rng.IntN(4))
		for i := range bm {
			switch rng.IntN(4) {
			case 0:
				bm[i] = ^uint64(0)
			case 1:
			default:
				bm[i] = rng.Uint64() & rng.Uint64()
			}
		}
		var bitsSeen, fromRuns []uint64
		eachBit(bm, func(i uint64) { bitsSeen = append(bitsSeen, i) })
		prevHi := uint64(0)
		for k, r := range runsOf(bm) {
			if r[0] >= r[1] || k > 0 && r[0] <= prevHi {
				t.Fatalf("seed %d: bitmap %x: run %v after %d is empty or not maximal", seed, bm, r, prevHi)
			}
			prevHi = r[1]
			for i := r[0]; i < r[1]; i++ {
				fromRuns = append(fromRuns, i)
			}
		}
		if !slices.Equal(bitsSeen, fromRuns) {
			t.Fatalf("seed %d: bitmap %x: runs cover %v, bits are %v", seed, bm, fromRuns, bitsSeen)
		}
	}
}
