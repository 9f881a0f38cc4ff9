package coord

import (
	"math"
	"math/rand/v2"
	"slices"
)

// failures yields the accesses after which failures strike, each once, and the failing
// core of each: the union of Config.FailAt and, with Config.MTBF > 0, an exponential
// process of that mean (gaps rounded up to whole accesses, at least 1), drawn from a PCG
// seeded (Seed, "failures"); the failing core is Config.FailCore, or drawn uniformly
// from a PCG seeded (Seed, "failcore"), one draw a failure in order.
//
// Invariant: fixed is sorted, without repeats; next > 0 iff rng != nil; due is the least
// of fixed[0] and next (math.MaxInt64 for neither).
type failures struct {
	fixed []int64
	mtbf  float64
	rng   *rand.Rand
	next  int64
	due   int64
	core  int
	cores *rand.Rand
	n     int
}

func newFailures(c Config) *failures {
	f := &failures{fixed: slices.Compact(slices.Sorted(slices.Values(c.FailAt))), mtbf: c.MTBF, core: c.FailCore, n: c.Cores}
	if c.MTBF > 0 {
		f.rng = rand.New(rand.NewPCG(c.Seed, 0x6661696c75726573)) // "failures"
		f.next = f.gap()
	}
	if c.FailCore == AnyCore {
		f.cores = rand.New(rand.NewPCG(c.Seed, 0x6661696c636f7265)) // "failcore"
	}
	f.due = f.soonest()
	return f
}

func (f *failures) gap() int64 { return int64(max(1, math.Ceil(f.rng.ExpFloat64()*f.mtbf))) }

func (f *failures) soonest() int64 {
	n := int64(math.MaxInt64)
	if len(f.fixed) > 0 {
		n = f.fixed[0]
	}
	if f.next > 0 {
		n = min(n, f.next)
	}
	return n
}

// fire consumes the failure after access i and returns its core. Precondition: due == i.
func (f *failures) fire(i int64) int {
	if len(f.fixed) > 0 && f.fixed[0] == i {
		f.fixed = f.fixed[1:]
	}
	for f.next > 0 && f.next <= i {
		f.next += f.gap()
	}
	f.due = f.soonest()
	if f.cores != nil {
		return f.cores.IntN(f.n)
	}
	return f.core
}
