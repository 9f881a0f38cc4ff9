package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/vmsim/vmsim/traces"
)

// failureSchedule is the failures room's schedule: it yields the access numbers after
// which failures strike, in order, each once: the union of a fixed list (--fail-at) and an
// exponential process (--mtbf).
//
// Invariant: fixed is sorted, without repeats, every number >= 1; rng != nil iff mtbf > 0
// iff nextR > 0; due is the least of fixed[0] and nextR (math.MaxInt64 for neither). (With
// the run: due is not before the access performed last; see runner.checkJoins.)
type failureSchedule struct {
	fixed []int64 // sorted, unique, not yet fired
	mtbf  float64
	rng   *rand.Rand
	nextR int64 // next exponential arrival, or 0 when there is no process
	// due is the next failure point: the loop ends a run of accesses there.
	due int64
}

func newFailureSchedule(at []int64, mtbf float64, seed uint64) *failureSchedule {
	f := &failureSchedule{fixed: slices.Compact(slices.Sorted(slices.Values(at))), mtbf: mtbf}
	if mtbf > 0 {
		f.rng = rand.New(rand.NewPCG(seed, 0x6661696c75726573))
		f.nextR = f.gap()
	}
	f.due = f.next()
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

// fire consumes the failure at point i. Precondition: due == i.
func (f *failureSchedule) fire(i int64) {
	if len(f.fixed) > 0 && f.fixed[0] == i {
		f.fixed = f.fixed[1:]
	}
	for f.nextR > 0 && f.nextR <= i {
		f.nextR += f.gap()
	}
	f.due = f.next()
}

// unreached returns the fixed failure points that were never reached.
func (f *failureSchedule) unreached() []int64 { return f.fixed }

// Check verifies the invariants from scratch.
func (f *failureSchedule) Check() error {
	for i, at := range f.fixed {
		if at < 1 || i > 0 && at <= f.fixed[i-1] {
			return fmt.Errorf("failure points %v out of order", f.fixed)
		}
	}
	if (f.rng != nil) != (f.mtbf > 0) || (f.mtbf > 0) != (f.nextR > 0) {
		return fmt.Errorf("--mtbf %v with a generator %v and the next arrival at %d", f.mtbf, f.rng != nil, f.nextR)
	}
	if f.due != f.next() {
		return fmt.Errorf("the next failure due after access %d, want %d", f.due, f.next())
	}
	return nil
}

// fail strikes domain d just after the current access and the I/O records made since
// (a fail record after them): recovery, then the replay of the accesses it undid and of
// the I/O records among them. The cache (every core's) loses the lines of every domain
// recovered: their data is newer than the checkpoint.
func (r *runner) fail(d *domain) error {
	refs := r.n.refs
	if r.check {
		r.checkNow("failure", refs)
	}
	crash := r.cfg.Failure == FailureCrash
	if crash {
		r.n.crashes++
	}
	var affected []*domain
	if crash && r.cfg.Memory == MemoryVolatile {
		if r.mem != nil {
			r.mem.discard(nil)
		}
		r.scheme.Crash()
		affected = r.doms.list
	} else {
		if r.mem != nil {
			r.mem.discard(func(a traces.ASID) bool { return r.doms.of(a) != d })
		}
		r.scheme.Rollback(d.schemeID)
		r.n.rollbacks++
		affected = []*domain{d}
	}
	if r.mem != nil && r.mem.tlb != nil && r.mem.flushes {
		r.mem.dropTLB(r.doms.set(affected))
	}
	for _, a := range affected {
		a.held = a.held[:0] // uncommitted: the replay queues them again
	}
	if r.ver != nil {
		for _, a := range affected {
			r.ver.golden.rollback(a.id)
		}
		r.ver.afterRecovery(refs)
	}
	if r.check {
		r.checkNow("recovery", refs)
	}
	return r.replay(affected, refs, r.io.after(refs))
}
