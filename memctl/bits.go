package memctl

import "math/bits"

// A page's bitmaps hold one bit per granule: bit i%64 of word i/64 is granule i. A page's
// stamps hold upg (stamps per granule) consecutive stamps per granule, granule after
// granule.

// eachRun calls f(lo, hi) for every maximal run of set bits lo..hi-1 of bm, in order.
func eachRun(bm []uint64, f func(lo, hi uint64)) {
	var lo, hi uint64 // the run so far; empty when lo == hi
	for w, x := range bm {
		for x != 0 {
			b := uint64(bits.TrailingZeros64(x))
			n := uint64(bits.TrailingZeros64(^(x >> b))) // ones from bit b
			start := uint64(w)*64 + b
			if lo != hi && start == hi {
				hi += n
			} else {
				if lo != hi {
					f(lo, hi)
				}
				lo, hi = start, start+n
			}
			if b+n == 64 {
				break
			}
			x &^= 1<<(b+n) - 1
		}
	}
	if lo != hi {
		f(lo, hi)
	}
}

// eachBit calls f for every set bit of bm, in granule order.
func eachBit(bm []uint64, f func(i uint64)) {
	for w, x := range bm {
		for x != 0 {
			b := uint64(bits.TrailingZeros64(x))
			x &= x - 1
			f(uint64(w)*64 + b)
		}
	}
}

func popcount(bm []uint64) (n int64) {
	for _, x := range bm {
		n += int64(bits.OnesCount64(x))
	}
	return n
}

// copyGranules copies the stamps of the granules set in bm from src to dst (upg stamps
// per granule), a run of consecutive granules at a time.
func copyGranules(dst, src, bm []uint64, upg uint64) {
	eachRun(bm, func(lo, hi uint64) { copy(dst[lo*upg:hi*upg], src[lo*upg:hi*upg]) })
}

// swapUnits exchanges the stamps of a and b, of equal length.
func swapUnits(a, b []uint64) {
	for i := range a {
		a[i], b[i] = b[i], a[i]
	}
}
