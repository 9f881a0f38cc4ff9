package sim

import (
	"fmt"
	"reflect"
)

// IntervalStats are the counts of one interval of a run with Options.StatsEvery: the
// accesses numbered From+1 to To, and every record and event after access From and up to
// access To (a checkpoint or failure after access To falls in the interval; the last
// interval also holds the records after the run's last access).
type IntervalStats struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Checkpoints and Failures are the checkpoints taken and the failures recovered
	// (rollbacks and crashes) in the interval: Delta's, set apart to mark them.
	Checkpoints int64 `json:"checkpoints"`
	Failures    int64 `json:"failures"`
	// Delta is every counter's change over the interval (Stats.Sub): for the totals the
	// difference, for the peaks and end values (kind "peak" or "end") their value at the
	// interval's end. The totals of a run's intervals add up to the run's.
	Delta Stats `json:"delta"`
	// Total is every counter so far, from the run's start (after --warmup) to To: the
	// run's Stats had it ended at To.
	Total Stats `json:"-"`
}

// periodic is the per-interval statistics room (Options.StatsEvery): it hands the counts
// of every interval of every accesses to a callback.
//
// Invariant: every == 0 (off), or every > 0, next == last.To+every, and the intervals
// start after the warm-up (last.To >= cfg.Warmup).
type periodic struct {
	every int64
	next  int64 // the access after which the next interval ends
	fn    func(IntervalStats) error
	last  IntervalStats // the last interval handed out (its To and Total)
}

// newPeriodic returns the room for intervals of every accesses (0: off) handed to fn, the
// first starting after access warmup.
func newPeriodic(every, warmup int64, fn func(IntervalStats) error) periodic {
	if every <= 0 || fn == nil {
		return periodic{}
	}
	return periodic{every: every, next: warmup + every, fn: fn, last: IntervalStats{To: warmup}}
}

// on reports whether the run hands out intervals.
func (p *periodic) on() bool { return p.every > 0 }

// emit hands out the interval ending now, at access to, whose counts from the run's start
// (after the warm-up) are total.
func (p *periodic) emit(to int64, total Stats) error {
	iv := IntervalStats{From: p.last.To, To: to, Delta: total.Sub(p.last.Total), Total: total}
	iv.Checkpoints = iv.Delta.Checkpoints
	iv.Failures = iv.Delta.Rollbacks + iv.Delta.Crashes
	p.last = iv
	p.next = to + p.every
	if err := p.fn(iv); err != nil {
		return fmt.Errorf("the statistics of the interval to access %d: %w", to, err)
	}
	return nil
}

// finish hands out the last interval, if the run went on after the last one handed out
// (accesses, or records after them that changed a total), with the run's counts.
func (p *periodic) finish(refs int64, total Stats) error {
	if !p.on() || refs == p.last.To && !changed(total.Sub(p.last.Total)) {
		return nil
	}
	return p.emit(refs, total)
}

// changed reports whether a total of d, a Stats.Sub, is not zero.
func changed(d Stats) bool {
	v := reflect.ValueOf(d)
	counterDefs, counterPaths := statsCounterTables()
	for i, def := range counterDefs {
		if def.Kind.Sums() && v.FieldByIndex(counterPaths[i]).Int() != 0 {
			return true
		}
	}
	for i := range d.Scheme.Keys() {
		if d.Scheme.kept&(1<<i) == 0 && d.Scheme.vals[i] != 0 {
			return true
		}
	}
	return false
}

// Check verifies the invariants from scratch.
func (p *periodic) Check() error {
	if p.every < 0 || p.every > 0 && p.next != p.last.To+p.every {
		return fmt.Errorf("intervals of %d accesses, the next ending at access %d after one ending at access %d", p.every, p.next, p.last.To)
	}
	return nil
}

// snapshot returns the counts so far, after the warm-up.
func (r *runner) snapshot() Stats {
	st := r.collect()
	if r.n.warm != nil {
		st = st.Sub(*r.n.warm)
	}
	return st
}
