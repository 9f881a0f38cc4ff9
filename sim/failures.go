package sim

import (
	"math"
	"math/rand/v2"
	"slices"
)

// failureSchedule yields the access numbers after which failures strike, in order, each
// once: the union of a fixed list (--fail-at) and an exponential process (--mtbf).
type failureSchedule struct {
	fixed []int64 // sorted, unique, not yet fired
	mtbf  float64
	rng   *rand.Rand
	nextR int64 // next exponential arrival, or 0 when there is no process
}

func newFailureSchedule(at []int64, mtbf float64, seed uint64) *failureSchedule {
	f := &failureSchedule{fixed: slices.Compact(slices.Sorted(slices.Values(at))), mtbf: mtbf}
	if mtbf > 0 {
		f.rng = rand.New(rand.NewPCG(seed, 0x6661696c75726573))
		f.nextR = f.gap()
	}
	return f
}

// gap draws an exponential inter-arrival time, rounded up to a whole access.
func (f *failureSchedule) gap() int64 {
	return int64(max(1, math.Ceil(f.rng.ExpFloat64()*f.mtbf)))
}

// next returns the next failure point, or math.MaxInt64 when there is none.
func (f *failureSchedule) next() int64 {
	n := int64(math.MaxInt64)
	if len(f.fixed) > 0 {
		n = f.fixed[0]
	}
	if f.nextR > 0 {
		n = min(n, f.nextR)
	}
	return n
}

// fire consumes the failure at point i. Precondition: next() == i.
func (f *failureSchedule) fire(i int64) {
	if len(f.fixed) > 0 && f.fixed[0] == i {
		f.fixed = f.fixed[1:]
	}
	for f.nextR > 0 && f.nextR <= i {
		f.nextR += f.gap()
	}
}

// unreached returns the fixed failure points that were never reached.
func (f *failureSchedule) unreached() []int64 { return f.fixed }
